"""The dashboard figures: one selector that every page, export and report reads.

Public API (keep stable; the monthly report and the transparency page call it)::

    dashboard_figures(*, user, filters: DashboardFilters | None = None, now: datetime | None = None)
        -> DashboardFigures
    dashboard_figures_for_scope(*, scope: DashboardScope, filters: DashboardFilters | None = None,
        now: datetime | None = None, member_breakdown: bool | None = None) -> DashboardFigures
    dashboard_scope_for(*, user) -> DashboardScope      # raises PermissionDenied without an organisation

``dashboard_figures`` scopes to the user's organisation: the association sees every case and
may filter by member and provider; a member sees only the cases it filed (its ``member_id``
filter is forced to itself); a provider sees only the cases addressed to it (its
``provider_id`` is forced to itself). The per-member breakdown is the association's alone.
``dashboard_figures_for_scope`` is for callers without a user (the public transparency page:
``scope=DashboardScope.everything()``, ``member_breakdown=False``).

Definitions (DESIGN.md, "SLA timers" and "Sincerity"):

* **Month** is the month, in Asia/Tokyo, in which the case was submitted: every figure of a
  month is about the cases filed that month (a cohort), so a month's figures settle as its
  cases are answered. The period filter selects these months.
* A clock is **decided** once it was met, or breached (whether or not it was met later).
  Clocks stopped unbreached (the case was withdrawn or escalated in time) and clocks still
  running before their due time count in no rate.
* **On time** = met and never breached. **On-time acknowledgement rate** = acknowledgement
  clocks on time / decided. **On-time response rate** = response and re-response clocks on time
  / decided. **Sincere on-time rate** = response and re-response clocks on time and not judged
  insincere / decided.
* **Time to acknowledge / to respond** is measured on the acknowledgement clock and on the
  (first) response clock that were met, met late included: calendar time is wall time from
  the start to the meeting minus the time the clock was paused; business time is the
  association calendar's business time within the running periods (``Clock.elapsed_*``,
  stored when the clock is met). Median and 90th percentile come from the roll-up's
  histogram, interpolated linearly inside a bucket (buckets are at most 10 % wide for times
  up to 90 days; see ``rollup.HISTOGRAM_EDGES``), and are given in hours.
* **Breaches** = acknowledgement, response and re-response clocks breached (met late
  included); the claimant's review clock only reminds and is not counted. **Escalations** =
  cases escalated (by the association, an SLA breach or a second dispute).
* **Open cases by age** are counted now, from the cases themselves (not the roll-up), by the
  calendar days since submission; the period filter does not apply to them.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.dashboards.models import DashboardRollup
from claims.dashboards.rollup import (
    COUNT_FIELDS,
    histogram_percentile,
    histograms_sum,
    histograms_unpack,
    month_after,
    rollups_refreshed_at,
)
from claims.models import CLOSED_STATES, Case, CaseState
from members.models import Organisation, OrganisationKind

ScopeKind = Literal["association", "member", "provider"]
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class DashboardFilters:
    """What the figures cover beyond the user's scope; ``None`` or ``""`` means no restriction.

    ``month_from`` and ``month_to`` are the first days of the first and the last month of the
    period (inclusive, months in Asia/Tokyo).
    """

    month_from: date | None = None
    month_to: date | None = None
    provider_id: int | None = None
    member_id: int | None = None
    kind: str = ""
    priority: str = ""


@dataclass(frozen=True)
class DashboardScope:
    """Whose cases the figures cover: every case, one member's filed cases or one provider's received ones."""

    kind: ScopeKind
    organisation_id: int | None = None

    @classmethod
    def everything(cls) -> "DashboardScope":
        return cls("association")

    @classmethod
    def member(cls, organisation_id: int) -> "DashboardScope":
        return cls("member", organisation_id)

    @classmethod
    def provider(cls, organisation_id: int) -> "DashboardScope":
        return cls("provider", organisation_id)

    def restrict(self, filters: DashboardFilters) -> DashboardFilters:
        """Return the filters with this scope's own organisation forced in."""
        if self.kind == "member":
            return _replace(filters, member_id=self.organisation_id)
        if self.kind == "provider":
            # The per-member view is the association's: a provider sees its cases as a whole.
            return _replace(filters, provider_id=self.organisation_id, member_id=None)
        return filters


def _replace(filters: DashboardFilters, **changes) -> DashboardFilters:
    return replace(filters, **changes)


@dataclass(frozen=True)
class Rate:
    """A share: ``numerator`` of ``denominator``; ``percent`` is None when nothing was decided."""

    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(self.numerator) * 100 / Decimal(self.denominator)).quantize(
            ONE_DECIMAL, ROUND_HALF_UP
        )


@dataclass(frozen=True)
class DurationStats:
    """Median and 90th percentile (hours, one decimal) of ``count`` measured times; None without any."""

    count: int
    median_hours: Decimal | None
    p90_hours: Decimal | None


@dataclass(frozen=True)
class Headline:
    cases_submitted: int
    open_cases: int
    acknowledged_on_time: Rate
    responded_on_time: Rate
    sincere_on_time: Rate
    acknowledge_business: DurationStats
    acknowledge_calendar: DurationStats
    respond_business: DurationStats
    respond_calendar: DurationStats
    breaches: int
    escalations: int


ColumnKind = Literal["text", "month", "int", "percent", "hours", "number"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # translated when the figures were built
    kind: ColumnKind = "int"


@dataclass(frozen=True)
class FigureTable:
    """One table of the dashboard, exactly as the page shows it and the exports write it.

    ``rows`` hold plain values: str, int, ``date`` (a month's first day), ``Decimal`` (a
    percentage or hours, one decimal) or None (no figure). ``cell_text`` writes each the same
    way on the page and in the exports.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]

    def column_values(self, key: str) -> list:
        index = [column.key for column in self.columns].index(key)
        return [row[index] for row in self.rows]

    def text_rows(self) -> list[list[tuple[str, "Column"]]]:
        """Return each row's cells as (text, column), the text written as the exports write it."""
        return [
            [(cell_text(value), column) for value, column in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]


def cell_text(value) -> str:
    """Return a table cell as text: the page and the CSV export both write it so; None is empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    return str(value)


@dataclass(frozen=True)
class DashboardFigures:
    scope: DashboardScope
    filters: DashboardFilters  # as applied, after the scope forced its own organisation
    as_of: datetime | None  # when the roll-up was last refreshed; None before the first refresh
    now: datetime
    headline: Headline
    tables: dict[str, FigureTable] = field(default_factory=dict)  # in page order

    def table(self, name: str) -> FigureTable:
        return self.tables[name]


# Table names, in page order; "by_member" only for the association.
TABLE_NAMES = ("summary", "open_by_age", "trend", "durations", "breaches", "by_provider", "by_member")

# Open cases by age: (lower bound, upper bound) in days since submission.
AGE_BUCKETS = ((0, 2), (2, 7), (7, 14), (14, 30), (30, 90), (90, None))


def dashboard_scope_for(*, user) -> DashboardScope:
    """Return whose figures the user may see; PermissionDenied for a user without an organisation."""
    organisation = getattr(user, "organisation", None) if user.is_authenticated else None
    if organisation is None:
        raise PermissionDenied("No organisation.")
    if organisation.kind == OrganisationKind.ASSOCIATION:
        return DashboardScope.everything()
    if organisation.kind == OrganisationKind.MEMBER:
        return DashboardScope.member(organisation.pk)
    if organisation.kind == OrganisationKind.PROVIDER:
        return DashboardScope.provider(organisation.pk)
    raise PermissionDenied("Unknown organisation kind.")


# --- Reading the roll-up -----------------------------------------------------------------------


def _rollups(filters: DashboardFilters):
    rows = DashboardRollup.objects.all()
    # The rows totalling every member unless one member is asked for: a few hundred rows at most.
    if filters.member_id:
        rows = rows.filter(claimant_id=filters.member_id)
    else:
        rows = rows.filter(claimant__isnull=True)
    if filters.provider_id:
        rows = rows.filter(respondent_id=filters.provider_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    if filters.month_from:
        rows = rows.filter(month__gte=filters.month_from)
    if filters.month_to:
        rows = rows.filter(month__lte=filters.month_to)
    return rows


class _Tally:
    """Counts summed over roll-up rows, and those rows' histograms (summed when a quantile is asked for)."""

    __slots__ = ("counts", "histograms")

    def __init__(self):
        self.counts = dict.fromkeys(COUNT_FIELDS, 0)
        self.histograms: list = []

    def add(self, counts: dict, histograms=None) -> None:
        for name in COUNT_FIELDS:
            self.counts[name] += counts[name]
        if histograms is not None:
            self.histograms.append(histograms)

    @property
    def acknowledged_on_time(self) -> Rate:
        return Rate(self.counts["acknowledgement_on_time"], self.counts["acknowledgement_decided"])

    @property
    def responded_on_time(self) -> Rate:
        return Rate(self.counts["response_on_time"], self.counts["response_decided"])

    @property
    def sincere_on_time(self) -> Rate:
        return Rate(self.counts["response_sincere_on_time"], self.counts["response_decided"])

    @property
    def breaches(self) -> int:
        return self.counts["acknowledgement_breached"] + self.counts["response_breached"]

    def duration(self, measure: str) -> DurationStats:
        histogram = histograms_sum(self.histograms, measure)
        return DurationStats(
            count=sum(histogram),
            median_hours=_hours(histogram_percentile(histogram, 0.5)),
            p90_hours=_hours(histogram_percentile(histogram, 0.9)),
        )


def _hours(duration: timedelta | None) -> Decimal | None:
    if duration is None:
        return None
    return (Decimal(duration.total_seconds()) / 3600).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def _months(first: date, last: date) -> list[date]:
    months = [first]
    while months[-1] < last:
        months.append(month_after(months[-1]))
    return months


def _open_cases(filters: DashboardFilters, now: datetime) -> list[int]:
    """Count the open cases by age now, straight from the cases (one indexed, aggregated query)."""
    open_states = [state for state in CaseState if state not in (*CLOSED_STATES, CaseState.DRAFT)]
    cases = Case.objects.filter(state__in=open_states, submitted_at__isnull=False)
    if filters.member_id:
        cases = cases.filter(claimant_id=filters.member_id)
    if filters.provider_id:
        cases = cases.filter(respondent_id=filters.provider_id)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    buckets = {}
    for index, (low, high) in enumerate(AGE_BUCKETS):
        condition = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(submitted_at__gt=now - timedelta(days=high))
        buckets[f"b{index}"] = Count("id", filter=condition)
    counts = cases.aggregate(**buckets)
    return [counts[f"b{index}"] for index in range(len(AGE_BUCKETS))]


def _age_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)s days or more") % {"low": low}
    return _("%(low)s to %(high)s days") % {"low": low, "high": high}


def _names(ids) -> dict[int, str]:
    return {org.pk: org.display_name for org in Organisation.objects.filter(pk__in=set(ids))}


def _member_breakdown(filters: DashboardFilters) -> FigureTable:
    """Per member (association only): summed in SQL over the per-member rows, no histograms needed."""
    rows = DashboardRollup.objects.filter(claimant__isnull=False)
    if filters.member_id:
        rows = rows.filter(claimant_id=filters.member_id)
    if filters.provider_id:
        rows = rows.filter(respondent_id=filters.provider_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    if filters.month_from:
        rows = rows.filter(month__gte=filters.month_from)
    if filters.month_to:
        rows = rows.filter(month__lte=filters.month_to)
    sums = list(rows.values("claimant_id").annotate(**{name: Sum(name) for name in COUNT_FIELDS}).order_by())
    names = _names(row["claimant_id"] for row in sums)
    table_rows = []
    for row in sorted(sums, key=lambda r: names.get(r["claimant_id"], "")):
        tally = _Tally()
        tally.add(row)
        table_rows.append(
            (
                names.get(row["claimant_id"], ""),
                tally.counts["cases_submitted"],
                tally.acknowledged_on_time.percent,
                tally.responded_on_time.percent,
                tally.sincere_on_time.percent,
                tally.breaches,
                tally.counts["cases_escalated"],
            )
        )
    return FigureTable(
        name="by_member",
        title=_("By member"),
        columns=(
            Column("member", _("Member"), "text"),
            Column("cases", _("Cases submitted")),
            Column("acknowledged_on_time", _("Acknowledged on time (%)"), "percent"),
            Column("responded_on_time", _("Responded on time (%)"), "percent"),
            Column("sincere_on_time", _("Sincere on time (%)"), "percent"),
            Column("breaches", _("Breaches")),
            Column("escalations", _("Escalations")),
        ),
        rows=tuple(table_rows),
    )


def dashboard_figures_for_scope(
    *,
    scope: DashboardScope,
    filters: DashboardFilters | None = None,
    now: datetime | None = None,
    member_breakdown: bool | None = None,
) -> DashboardFigures:
    """Return the figures of the cases in ``scope`` that match ``filters``.

    ``member_breakdown`` adds the per-member table; by default only the association's scope
    has it. Reads the roll-up (a few hundred rows) and counts the open cases with one query.
    """
    now = now or timezone.now()
    filters = scope.restrict(filters or DashboardFilters())
    if member_breakdown is None:
        member_breakdown = scope.kind == "association"

    total = _Tally()
    by_month: dict[date, _Tally] = defaultdict(_Tally)
    by_provider: dict[int, _Tally] = defaultdict(_Tally)
    by_month_provider: dict[tuple[date, int], _Tally] = defaultdict(_Tally)
    for row in _rollups(filters).values("month", "respondent_id", "histograms", *COUNT_FIELDS):
        histograms = histograms_unpack(row["histograms"])
        total.add(row, histograms)
        by_month[row["month"]].add(row, histograms)
        by_provider[row["respondent_id"]].add(row, histograms)
        by_month_provider[(row["month"], row["respondent_id"])].add(row)

    open_counts = _open_cases(filters, now)
    headline = Headline(
        cases_submitted=total.counts["cases_submitted"],
        open_cases=sum(open_counts),
        acknowledged_on_time=total.acknowledged_on_time,
        responded_on_time=total.responded_on_time,
        sincere_on_time=total.sincere_on_time,
        acknowledge_business=total.duration("acknowledge_business"),
        acknowledge_calendar=total.duration("acknowledge_calendar"),
        respond_business=total.duration("respond_business"),
        respond_calendar=total.duration("respond_calendar"),
        breaches=total.breaches,
        escalations=total.counts["cases_escalated"],
    )

    tables: dict[str, FigureTable] = {}
    tables["summary"] = _summary_table(headline)
    tables["open_by_age"] = FigureTable(
        name="open_by_age",
        title=_("Open cases by age"),
        columns=(Column("age", _("Age since submission"), "text"), Column("open_cases", _("Open cases"))),
        rows=tuple(
            (_age_label(low, high), count)
            for (low, high), count in zip(AGE_BUCKETS, open_counts, strict=True)
        ),
    )
    months = sorted(by_month)
    if months:
        first = filters.month_from or months[0]
        last = filters.month_to or months[-1]
        months = _months(min(first, months[0]), max(last, months[-1]))
    elif filters.month_from and filters.month_to and filters.month_from <= filters.month_to:
        months = _months(filters.month_from, filters.month_to)
    tables["trend"] = _trend_table(months, by_month)
    tables["durations"] = _durations_table(headline)
    names = _names(by_provider)
    tables["breaches"] = FigureTable(
        name="breaches",
        title=_("Breaches and escalations by provider and month"),
        columns=(
            Column("month", _("Month"), "month"),
            Column("provider", _("Provider"), "text"),
            Column("breaches", _("Breaches")),
            Column("escalations", _("Escalations")),
        ),
        rows=tuple(
            (month, names.get(provider_id, ""), tally.breaches, tally.counts["cases_escalated"])
            for (month, provider_id), tally in sorted(
                by_month_provider.items(), key=lambda item: (item[0][0], names.get(item[0][1], ""))
            )
        ),
    )
    tables["by_provider"] = FigureTable(
        name="by_provider",
        title=_("By provider"),
        columns=(
            Column("provider", _("Provider"), "text"),
            Column("cases", _("Cases submitted")),
            Column("acknowledged_on_time", _("Acknowledged on time (%)"), "percent"),
            Column("responded_on_time", _("Responded on time (%)"), "percent"),
            Column("sincere_on_time", _("Sincere on time (%)"), "percent"),
            Column("respond_median", _("Median time to respond (calendar hours)"), "hours"),
            Column("breaches", _("Breaches")),
            Column("escalations", _("Escalations")),
        ),
        rows=tuple(
            (
                names.get(provider_id, ""),
                tally.counts["cases_submitted"],
                tally.acknowledged_on_time.percent,
                tally.responded_on_time.percent,
                tally.sincere_on_time.percent,
                tally.duration("respond_calendar").median_hours,
                tally.breaches,
                tally.counts["cases_escalated"],
            )
            for provider_id, tally in sorted(by_provider.items(), key=lambda item: names.get(item[0], ""))
        ),
    )
    if member_breakdown:
        tables["by_member"] = _member_breakdown(filters)
    return DashboardFigures(
        scope=scope, filters=filters, as_of=rollups_refreshed_at(), now=now, headline=headline, tables=tables
    )


def _summary_table(headline: Headline) -> FigureTable:
    def rate_detail(rate: Rate) -> str:
        return f"{rate.numerator} / {rate.denominator}"

    rows = (
        (_("Cases submitted"), headline.cases_submitted, ""),
        (_("Open cases now"), headline.open_cases, ""),
        (
            _("Acknowledged on time (%)"),
            headline.acknowledged_on_time.percent,
            rate_detail(headline.acknowledged_on_time),
        ),
        (
            _("Responded on time (%)"),
            headline.responded_on_time.percent,
            rate_detail(headline.responded_on_time),
        ),
        (
            _("Sincere on time (%)"),
            headline.sincere_on_time.percent,
            rate_detail(headline.sincere_on_time),
        ),
        (_("Breaches"), headline.breaches, ""),
        (_("Escalations"), headline.escalations, ""),
    )
    return FigureTable(
        name="summary",
        title=_("Summary"),
        columns=(
            Column("figure", _("Figure"), "text"),
            Column("value", _("Value"), "number"),
            Column("of", _("Of"), "text"),
        ),
        rows=rows,
    )


def _durations_table(headline: Headline) -> FigureTable:
    measures = (
        (_("Time to acknowledge (business hours)"), headline.acknowledge_business),
        (_("Time to acknowledge (calendar hours)"), headline.acknowledge_calendar),
        (_("Time to respond (business hours)"), headline.respond_business),
        (_("Time to respond (calendar hours)"), headline.respond_calendar),
    )
    return FigureTable(
        name="durations",
        title=_("Times to acknowledge and to respond"),
        columns=(
            Column("measure", _("Measure"), "text"),
            Column("clocks", _("Clocks measured")),
            Column("median", _("Median (hours)"), "hours"),
            Column("p90", _("90th percentile (hours)"), "hours"),
        ),
        rows=tuple((label, stats.count, stats.median_hours, stats.p90_hours) for label, stats in measures),
    )


def _trend_table(months: list[date], by_month: dict[date, _Tally]) -> FigureTable:
    rows = []
    for month in months:
        tally = by_month.get(month) or _Tally()
        rows.append(
            (
                month,
                tally.counts["cases_submitted"],
                tally.acknowledged_on_time.percent,
                tally.responded_on_time.percent,
                tally.sincere_on_time.percent,
                tally.duration("acknowledge_business").median_hours,
                tally.duration("respond_calendar").median_hours,
                tally.breaches,
                tally.counts["cases_escalated"],
            )
        )
    return FigureTable(
        name="trend",
        title=_("Trend by month of submission"),
        columns=(
            Column("month", _("Month"), "month"),
            Column("cases", _("Cases submitted")),
            Column("acknowledged_on_time", _("Acknowledged on time (%)"), "percent"),
            Column("responded_on_time", _("Responded on time (%)"), "percent"),
            Column("sincere_on_time", _("Sincere on time (%)"), "percent"),
            Column("acknowledge_median", _("Median time to acknowledge (business hours)"), "hours"),
            Column("respond_median", _("Median time to respond (calendar hours)"), "hours"),
            Column("breaches", _("Breaches")),
            Column("escalations", _("Escalations")),
        ),
        rows=tuple(rows),
    )


def dashboard_figures(
    *, user, filters: DashboardFilters | None = None, now: datetime | None = None
) -> DashboardFigures:
    """Return the dashboard figures the user's organisation may see (see the module docstring)."""
    return dashboard_figures_for_scope(scope=dashboard_scope_for(user=user), filters=filters, now=now)
