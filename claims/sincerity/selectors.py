"""Reads of sincerity: responses awaiting a verdict, what a viewer may follow, the sincere on-time rate."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404

from claims.models import Case, Response, Sincerity
from claims.selectors import case_get_for_user, cases_visible_to
from claims.sla.models import Clock, ClockKind, ClockStatus
from members.models import OrganisationKind

# The clocks the sincere on-time rate counts: the provider's substantive answers.
RATE_CLOCKS = (ClockKind.RESPONSE, ClockKind.RE_RESPONSE)


def response_get_for_user(*, user, reference: str, response_id: int) -> Response:
    """Return a response of a case the user may see, or raise Http404."""
    case = case_get_for_user(user=user, reference=reference)
    try:
        return case.responses.select_related("case").get(pk=response_id)
    except Response.DoesNotExist:
        raise Http404("No such response.") from None


def responses_awaiting_adjudication(*, user) -> QuerySet[Response]:
    """Return the challenged responses of the cases the user may see, longest waiting first."""
    return (
        Response.objects.filter(sincerity=Sincerity.CHALLENGED, case__in=cases_visible_to(user=user))
        .select_related("case", "case__claimant", "case__respondent", "author", "similar_to__case")
        .order_by("disputed_at", "id")
    )


def responded_case_visible_to(*, user, case: Case) -> bool:
    """Return whether the user may see a case that has a response, without a query.

    A case with a response has been submitted, so ``cases_visible_to`` reduces to: the
    association sees it, the claimant's and the respondent's organisations see it. Used to
    link a templated response to its earlier twin only for those who may follow the link.
    """
    organisation = getattr(user, "organisation", None)
    if not user.is_authenticated or organisation is None:
        return False
    if organisation.kind == OrganisationKind.ASSOCIATION:
        return True
    if organisation.kind == OrganisationKind.MEMBER:
        return case.claimant_id == organisation.pk
    if organisation.kind == OrganisationKind.PROVIDER:
        return case.respondent_id == organisation.pk
    return False


def similar_response_link(*, user, response: Response) -> tuple[str, int] | None:
    """Return (case reference, response id) of the response this one resembles, if the user may see it.

    Reads ``response.similar_to.case``: select it with the responses.
    """
    if response.similar_to_id is None:
        return None
    similar_case = response.similar_to.case
    if not responded_case_visible_to(user=user, case=similar_case):
        return None
    return similar_case.reference, response.similar_to_id


def responses_with_similar_links(*, responses, user) -> list[Response]:
    """Return the responses, each with ``similar_link`` (reference, response id) if the user may follow it."""
    if isinstance(responses, QuerySet):
        responses = responses.select_related("similar_to__case", "adjudicated_by")
    rows = list(responses)
    for response in rows:
        response.similar_link = similar_response_link(user=user, response=response)
    return rows


@dataclass(frozen=True)
class SincereOnTimeRate:
    """A provider's sincere on-time rate over its decided response and re-response clocks.

    ``decided``: clocks met, or breached (met late, stopped after the breach, or still running
    past due). ``sincere_on_time``: met, never breached and not judged insincere.
    """

    decided: int
    sincere_on_time: int
    late: int  # breached, whether met late or not met at all
    judged_insincere: int  # met on time but judged insincere by the association

    @property
    def rate(self) -> float | None:
        return self.sincere_on_time / self.decided if self.decided else None

    @property
    def percent(self) -> int | None:
        return None if self.decided == 0 else round(100 * self.sincere_on_time / self.decided)


def sincere_on_time_clocks(*, start: datetime | None = None, end: datetime | None = None) -> QuerySet[Clock]:
    """Return the response and re-response clocks decided in [start, end).

    A clock is decided when it breached (``breached_at``) or, never breached, when it was met
    (``stopped_at``). Clocks still running within their target, and clocks stopped unmet
    without a breach (withdrawn, escalated), are not decided and count neither way.
    """
    clocks = Clock.objects.filter(kind__in=RATE_CLOCKS).filter(
        Q(breached_at__isnull=False) | Q(status=ClockStatus.MET)
    )
    if start is not None or end is not None:
        clocks = clocks.annotate(decided_at=Coalesce("breached_at", "stopped_at"))
        if start is not None:
            clocks = clocks.filter(decided_at__gte=start)
        if end is not None:
            clocks = clocks.filter(decided_at__lt=end)
    return clocks


SINCERE_ON_TIME = Q(status=ClockStatus.MET, breached_at__isnull=True, judged_insincere=False)


def provider_sincere_on_time_rate(
    *, provider, start: datetime | None = None, end: datetime | None = None
) -> SincereOnTimeRate:
    """Return the provider's sincere on-time rate, counted in SQL in one query.

    The definition every figure uses: of the response and re-response clocks decided in the
    period, the share met on time (never breached) whose response was not judged insincere.
    A challenged response not yet adjudicated counts as sincere until the association decides.
    """
    counts = (
        sincere_on_time_clocks(start=start, end=end)
        .filter(case__respondent=provider)
        .aggregate(
            decided=Count("id"),
            sincere_on_time=Count("id", filter=SINCERE_ON_TIME),
            late=Count("id", filter=Q(breached_at__isnull=False)),
            judged_insincere=Count("id", filter=Q(breached_at__isnull=True, judged_insincere=True)),
        )
    )
    return SincereOnTimeRate(**counts)
