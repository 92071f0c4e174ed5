"""Which provider-months a user may open a report for. Another organisation's report is a 404.

- The association reads every provider's report, over every case.
- A provider reads its own report only.
- A member reads a report for each provider it has filed cases with, and the figures in it
  count only its own cases (the dashboards' figures are scoped the same way), so it can show
  how a provider treats it without learning anything about other members.
"""

from dataclasses import dataclass

from django.db.models import Min, QuerySet
from django.http import Http404
from django.utils import timezone

from claims.dashboards.figures import dashboard_scope_for
from claims.dashboards.models import DashboardRollup
from members.models import Organisation

from .months import Month, months_between


@dataclass(frozen=True)
class ReportRef:
    """One report a user may open: a provider and a month."""

    provider: Organisation
    month: Month
    first_month: Month  # the provider's first month the user sees a case in (where a trend starts)


def _first_months(*, user) -> dict[int, Month]:
    """Return, per provider the user may report on, the first month the user has figures for.

    Read from the dashboards' monthly roll-up (a few hundred rows, ~2 ms at a million cases,
    where a MIN over the cases themselves takes ~0.3-0.5 s), restricted to the user's scope
    exactly as the dashboards restrict it: the association's and a provider's rows total every
    member, a member's rows are its own. A case appears here once the roll-up has been
    refreshed, as it does in every figure.
    """
    if not user.is_authenticated or user.organisation_id is None:
        return {}
    scope = dashboard_scope_for(user=user)
    if scope.kind == "member":
        rows = DashboardRollup.objects.filter(claimant_id=scope.organisation_id)
    else:
        rows = DashboardRollup.objects.filter(claimant__isnull=True)
    if scope.kind == "provider":
        rows = rows.filter(respondent_id=scope.organisation_id)
    firsts = rows.order_by().values("respondent_id").annotate(first=Min("month"))
    months = {row["respondent_id"]: Month(row["first"].year, row["first"].month) for row in firsts}
    if scope.kind == "provider" and not months:
        # A provider always has its own report, even before its first case.
        months[user.organisation_id] = Month.of(timezone.now())
    return months


def report_providers_for(*, user) -> QuerySet[Organisation]:
    """Return the providers the user may open a report for."""
    return Organisation.objects.providers().filter(pk__in=list(_first_months(user=user)))


def report_refs_for(*, user, now=None) -> list[ReportRef]:
    """Return every report the user may open, by provider name and then newest month first."""
    current = Month.of(now or timezone.now())
    firsts = _first_months(user=user)
    providers = Organisation.objects.providers().filter(pk__in=list(firsts)).order_by("name_en", "pk")
    refs = []
    for provider in providers:
        for month in reversed(months_between(min(firsts[provider.pk], current), current)):
            refs.append(ReportRef(provider=provider, month=month, first_month=firsts[provider.pk]))
    return refs


def report_get_for_user(*, user, provider: str, month: str, now=None) -> ReportRef:
    """Return the report of the provider (slug) and month ("2026-10"), or raise Http404.

    A provider the user may not report on, a month before the provider's first case or after
    the current month, and a malformed month are all the same 404.
    """
    try:
        wanted = Month.parse(month)
    except ValueError:
        raise Http404("No such report.") from None
    organisation = Organisation.objects.providers().filter(slug=provider).first()
    if organisation is None:
        raise Http404("No such report.")
    first = _first_months(user=user).get(organisation.pk)
    current = Month.of(now or timezone.now())
    if first is None or not (min(first, current) <= wanted <= current):
        raise Http404("No such report.")
    return ReportRef(provider=organisation, month=wanted, first_month=first)


def report_ref_for_everyone(*, provider: Organisation, month: Month) -> ReportRef:
    """Return the report over every case (the association's view) without a user: for commands."""
    first = DashboardRollup.objects.filter(claimant__isnull=True, respondent=provider).aggregate(
        first=Min("month")
    )["first"]
    return ReportRef(
        provider=provider, month=month, first_month=Month(first.year, first.month) if first else month
    )
