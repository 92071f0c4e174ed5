"""The public transparency summary: per provider and month, aggregate figures only.

No member is named and no case is referred to; a figure resting on fewer than
``TRANSPARENCY_MIN_CELL`` cases (or decided deadlines, or measured times) is withheld, because a
count that small can point at one rights holder's claim. Providers are named: they are the
companies whose performance the summary exists to show.

The figures come from ``claims.dashboards.figures`` over every case; the summary covers the
last ``TRANSPARENCY_MONTHS`` complete months and is cached for ``TRANSPARENCY_CACHE_SECONDS``.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import get_language

from claims.dashboards.figures import DashboardFilters, DashboardScope, Headline, dashboard_figures_for_scope
from claims.models import Case
from members.models import Organisation

from .months import Month

TRANSPARENCY_MONTHS = 12
CACHE_KEY = "reports:transparency:v1:{last}:{min_cell}"

# The figures of one provider-month, in the order the page and the JSON show them.
FIELDS = (
    "cases_received",
    "acknowledgement_on_time_rate",
    "response_on_time_rate",
    "sincere_on_time_rate",
    "median_hours_to_acknowledge_business",
    "median_hours_to_acknowledge_calendar",
    "median_hours_to_respond_business",
    "median_hours_to_respond_calendar",
    "breaches",
    "escalations",
)
FIELD_KINDS = {
    name: "percent" if name.endswith("_rate") else "hours" if name.startswith("median_") else "count"
    for name in FIELDS
}


@dataclass(frozen=True)
class PublicMonth:
    """One provider-month as the public sees it.

    A value of ``None`` is no figure (nothing to count yet), or a withheld one if its name is in
    ``withheld``.
    """

    month: Month
    values: dict[str, int | Decimal | None]
    withheld: tuple[str, ...]

    @property
    def cells(self) -> list[dict]:
        """Return the figures in ``FIELDS`` order with their kind and whether each is withheld."""
        return [
            {"value": self.values[name], "kind": FIELD_KINDS[name], "withheld": name in self.withheld}
            for name in FIELDS
        ]


@dataclass(frozen=True)
class PublicProvider:
    slug: str
    name_ja: str
    name_en: str
    months: list[PublicMonth]

    @property
    def display_name(self) -> str:
        return self.name_ja if (get_language() or "ja").startswith("ja") else self.name_en


@dataclass(frozen=True)
class TransparencySummary:
    months: list[Month]
    providers: list[PublicProvider]
    min_cell: int
    generated_at: datetime

    def as_json(self) -> dict:
        """Return the summary as the public JSON document (numbers, never member data)."""

        def number(value):
            return float(value) if isinstance(value, Decimal) else value

        return {
            "generated_at": self.generated_at.isoformat(),
            "months": [str(month) for month in self.months],
            "min_cell": self.min_cell,
            "month_basis": "the month (Asia/Tokyo) in which the cases were submitted",
            "withheld_rule": (
                f"a figure resting on fewer than {self.min_cell} cases, decided deadlines or measured "
                "times is null and its name is listed in 'withheld'"
            ),
            "providers": [
                {
                    "slug": provider.slug,
                    "name_ja": provider.name_ja,
                    "name_en": provider.name_en,
                    "months": [
                        {
                            "month": str(item.month),
                            **{name: number(item.values[name]) for name in FIELDS},
                            "withheld": list(item.withheld),
                        }
                        for item in provider.months
                    ],
                }
                for provider in self.providers
            ],
        }

    def etag(self) -> str:
        body = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":")).encode()
        return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def public_month(*, month: Month, headline: Headline, min_cell: int) -> PublicMonth:
    """Return the public figures of one provider-month, withholding every small cell.

    A count of 1 to ``min_cell - 1`` is withheld (zero says nothing about anyone); a rate is
    withheld when fewer than ``min_cell`` deadlines were decided, a median when fewer than
    ``min_cell`` times were measured; and when the month's cases themselves are that few,
    every figure of the month is withheld, so no other cell can be used to recover them.
    """
    values: dict[str, int | Decimal | None] = {}
    withheld: list[str] = []

    def count(name, value):
        small = 0 < value < min_cell
        values[name] = None if small else value
        if small:
            withheld.append(name)

    def share(name, rate):
        small = rate.denominator < min_cell
        values[name] = None if small else rate.percent
        if small and rate.denominator:
            withheld.append(name)

    def median(name, stats):
        small = stats.count < min_cell
        values[name] = None if small else stats.median_hours
        if small and stats.count:
            withheld.append(name)

    count("cases_received", headline.cases_submitted)
    share("acknowledgement_on_time_rate", headline.acknowledged_on_time)
    share("response_on_time_rate", headline.responded_on_time)
    share("sincere_on_time_rate", headline.sincere_on_time)
    median("median_hours_to_acknowledge_business", headline.acknowledge_business)
    median("median_hours_to_acknowledge_calendar", headline.acknowledge_calendar)
    median("median_hours_to_respond_business", headline.respond_business)
    median("median_hours_to_respond_calendar", headline.respond_calendar)
    count("breaches", headline.breaches)
    count("escalations", headline.escalations)
    if "cases_received" in withheld:
        values = dict.fromkeys(FIELDS)
        withheld = list(FIELDS)
    return PublicMonth(month=month, values=values, withheld=tuple(withheld))


def transparency_months(*, now: datetime) -> list[Month]:
    """Return the complete months the summary covers, oldest first."""
    last = Month.of(now).previous()
    return [last.back(offset) for offset in reversed(range(TRANSPARENCY_MONTHS))]


def _providers_with_cases():
    sent = Case.objects.filter(respondent=OuterRef("pk"), submitted_at__isnull=False)
    return Organisation.objects.providers().filter(Exists(sent)).order_by("name_en", "pk")


def _summary_compute(*, months: list[Month], min_cell: int, now: datetime) -> TransparencySummary:
    providers = []
    for provider in _providers_with_cases():
        public_months = []
        for month in months:
            filters = DashboardFilters(
                month_from=month.first_day, month_to=month.first_day, provider_id=provider.pk
            )
            figures = dashboard_figures_for_scope(
                scope=DashboardScope.everything(), filters=filters, now=now, member_breakdown=False
            )
            public_months.append(public_month(month=month, headline=figures.headline, min_cell=min_cell))
        providers.append(
            PublicProvider(
                slug=provider.slug, name_ja=provider.name_ja, name_en=provider.name_en, months=public_months
            )
        )
    return TransparencySummary(months=months, providers=providers, min_cell=min_cell, generated_at=now)


def transparency_summary(
    *, now: datetime | None = None, use_cache: bool = True, refresh: bool = False
) -> TransparencySummary:
    """Return the public summary, from the cache while it is fresh.

    ``refresh`` computes it anew and puts it in the cache (the beat task does, before the cached
    one expires, so that no visitor waits for the computation).
    """
    now = now or timezone.now()
    months = transparency_months(now=now)
    min_cell = settings.TRANSPARENCY_MIN_CELL
    key = CACHE_KEY.format(last=months[-1], min_cell=min_cell)
    if use_cache and not refresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    summary = _summary_compute(months=months, min_cell=min_cell, now=now)
    if use_cache:
        cache.set(key, summary, settings.TRANSPARENCY_CACHE_SECONDS)
    return summary
