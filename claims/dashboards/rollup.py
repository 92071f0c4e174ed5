"""The monthly roll-up of cases and clocks behind the dashboards, and its refresh.

Why a roll-up: the figures (rates, medians, breaches per provider and month) would otherwise
aggregate a million cases and a few million clocks on every page view. The roll-up holds one
row per (submission month, provider, member, kind, priority) with the counts and, for the four
measured times, a histogram; each month also has rows totalling every member. A page reads a
few hundred of these rows; medians and 90th percentiles come from the histograms.

Why incremental: every change to a case, a clock's breach included, writes a timeline event.
The refresh reads the events written since it last ran, recomputes only the months (of
submission) of the cases they belong to, with a handful of grouped queries over those months,
and replaces those months' rows in one transaction. Nothing is added to the filing path. A
nightly full rebuild (``full=True``) repairs anything the events did not announce (a policy
edit, a verdict written without an event, a hand-made fix in the database).

Histogram buckets grow by 10 % from 5 minutes (``HISTOGRAM_EDGES``). The bucket of every
clock is computed in the database, so no clock is loaded into Python: on PostgreSQL by
``width_bucket`` in three hand-written aggregate statements, elsewhere (the embedded SQLite) by
the ORM with a balanced CASE (one comparison per level). A test checks that both give the same
rows.
"""

import sys
import zlib
from array import array
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, DateField, Exists, IntegerField, Max, OuterRef, Q, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from claims.bulk import insert_rows
from claims.dashboards.models import DashboardRefresh, DashboardRollup
from claims.models import Case, CaseEvent
from claims.sla.models import Clock, ClockKind, ClockStatus

TOKYO = ZoneInfo("Asia/Tokyo")

# Bucket i holds times in [HISTOGRAM_EDGES[i], HISTOGRAM_EDGES[i + 1]); the last one is open.
_FIRST_EDGE_SECONDS = 300
_GROWTH = 1.1
_LAST_EDGE = timedelta(days=90)


def _edges() -> tuple[timedelta, ...]:
    edges = [timedelta(0)]
    seconds = float(_FIRST_EDGE_SECONDS)
    while edges[-1] < _LAST_EDGE:
        edges.append(timedelta(seconds=round(seconds)))
        seconds *= _GROWTH
    return tuple(edges)


HISTOGRAM_EDGES = _edges()

# The measured times: (histogram key, clock kind, Clock field).
HISTOGRAM_MEASURES = (
    ("acknowledge_business", ClockKind.ACKNOWLEDGEMENT, "elapsed_business"),
    ("acknowledge_calendar", ClockKind.ACKNOWLEDGEMENT, "elapsed_calendar"),
    ("respond_business", ClockKind.RESPONSE, "elapsed_business"),
    ("respond_calendar", ClockKind.RESPONSE, "elapsed_calendar"),
)

MEASURES = tuple(measure for measure, _kind, _field in HISTOGRAM_MEASURES)
BUCKETS = len(HISTOGRAM_EDGES)


def histograms_pack(histograms: dict[str, dict[int, int]]) -> bytes:
    """Return the stored form of a row's histograms: int32 counts, little-endian, measure after measure.

    Compressed (zlib): a member's row has a few non-empty buckets among hundreds, so it shrinks
    from kilobytes to tens of bytes, and inflating a few hundred rows costs about a millisecond.
    """
    counts = array("i", bytes(4 * BUCKETS * len(MEASURES)))
    for position, measure in enumerate(MEASURES):
        for bucket, count in histograms.get(measure, {}).items():
            counts[position * BUCKETS + bucket] = count
    if sys.byteorder == "big":
        counts.byteswap()
    return zlib.compress(counts.tobytes(), 1)


def histograms_unpack(stored) -> array | None:
    """Return a row's histograms as one int array (see histograms_pack), or None when it has none."""
    if not stored:
        return None
    counts = array("i")
    counts.frombytes(zlib.decompress(stored))
    if sys.byteorder == "big":
        counts.byteswap()
    return counts


def histograms_sum(rows: list[array], measure: str) -> list[int]:
    """Return one measure's histogram (a count per bucket) summed over unpacked rows."""
    start = MEASURES.index(measure) * BUCKETS
    if not rows:
        return [0] * BUCKETS
    # zip/sum run in C: a few hundred rows of ~100 buckets take well under a millisecond.
    return [sum(column) for column in zip(*(row[start : start + BUCKETS] for row in rows), strict=True)]


# Which roll-up prefix each clock kind counts under; the claimant's review clock only reminds.
CLOCK_CLASS = {
    ClockKind.ACKNOWLEDGEMENT: "acknowledgement",
    ClockKind.RESPONSE: "response",
    ClockKind.RE_RESPONSE: "response",
}
COUNT_FIELDS = (
    "cases_submitted",
    "cases_escalated",
    "acknowledgement_decided",
    "acknowledgement_on_time",
    "acknowledgement_breached",
    "response_decided",
    "response_on_time",
    "response_sincere_on_time",
    "response_breached",
)
KEY_FIELDS = ("month", "respondent_id", "claimant_id", "kind", "priority")

ON_TIME = Q(status=ClockStatus.MET, breached_at__isnull=True)
DECIDED = Q(status=ClockStatus.MET) | Q(breached_at__isnull=False)


def month_start(month: date) -> datetime:
    """Return midnight in Tokyo of the first day of ``month``'s month."""
    return datetime(month.year, month.month, 1, tzinfo=TOKYO)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def bucket_expression(field: str, low: int = 0, high: int | None = None):
    """Return a SQL expression giving the histogram bucket of a duration column (a balanced CASE)."""
    if high is None:
        high = len(HISTOGRAM_EDGES)
    if high - low == 1:
        return Value(low, output_field=IntegerField())
    middle = (low + high) // 2
    return SqlCase(
        When(**{f"{field}__lt": HISTOGRAM_EDGES[middle]}, then=bucket_expression(field, low, middle)),
        default=bucket_expression(field, middle, high),
        output_field=IntegerField(),
    )


def _month_of(path: str):
    return TruncMonth(path, tzinfo=TOKYO, output_field=DateField())


@dataclass(frozen=True)
class RefreshResult:
    months: tuple[date, ...]
    rows: int
    full: bool


# A run of months is collected in one pass; longer runs are split to bound the memory used.
MONTHS_PER_PASS = 12


def _months_runs(months: list[date]) -> list[tuple[date, date]]:
    """Group months into runs of up to MONTHS_PER_PASS consecutive months: [(first, last), ...]."""
    runs: list[list[date]] = []
    for month in sorted(set(months)):
        if (
            runs
            and month_after(runs[-1][1]) == month
            and _months_between(runs[-1][0], month) < MONTHS_PER_PASS
        ):
            runs[-1][1] = month
        else:
            runs.append([month, month])
    return [(first, last) for first, last in runs]


def _blank() -> dict:
    return {**dict.fromkeys(COUNT_FIELDS, 0), "histograms": defaultdict(lambda: defaultdict(int))}


def _collect(first: date, last: date) -> dict[tuple, dict]:
    """Return the roll-up rows (per member and totals) of the months first..last, by key."""
    start, end = month_start(first), month_start(month_after(last))
    groups: dict[tuple, dict] = defaultdict(_blank)
    if connection.vendor == "postgresql":
        _collect_postgresql(groups, start, end)
    else:
        _collect_portable(groups, start, end)
    # The rows totalling every member of a month, provider, kind and priority.
    totals: dict[tuple, dict] = defaultdict(_blank)
    for (month, respondent_id, _claimant_id, kind, priority), group in groups.items():
        total = totals[(month, respondent_id, None, kind, priority)]
        for name in COUNT_FIELDS:
            total[name] += group[name]
        for measure, buckets in group["histograms"].items():
            for bucket, count in buckets.items():
                total["histograms"][measure][bucket] += count
    return {**groups, **totals}


def _add_clock_counts(group: dict, clock_kind: str, decided: int, on_time: int, sincere: int, breached: int):
    prefix = CLOCK_CLASS[clock_kind]
    group[f"{prefix}_decided"] += decided
    group[f"{prefix}_on_time"] += on_time
    group[f"{prefix}_breached"] += breached
    if prefix == "response":
        group["response_sincere_on_time"] += sincere


def _collect_portable(groups: dict, start: datetime, end: datetime) -> None:
    """Collect with the ORM (any database; the embedded SQLite uses it)."""
    case_keys = ("month", "respondent_id", "claimant_id", "kind", "priority")
    escalated = CaseEvent.objects.filter(case_id=OuterRef("pk"), action="escalate")
    cases = (
        Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .annotate(month=_month_of("submitted_at"))
        .values_list(*case_keys)
        .annotate(submitted=Count("id"), escalated=Count("id", filter=Exists(escalated)))
        .order_by()
    )
    for *key, submitted, escalations in cases:
        group = groups[tuple(key)]
        group["cases_submitted"] += submitted
        group["cases_escalated"] += escalations

    clock_keys = ("month", "case__respondent_id", "case__claimant_id", "case__kind", "case__priority")
    clocks = Clock.objects.filter(
        case__submitted_at__gte=start, case__submitted_at__lt=end, kind__in=list(CLOCK_CLASS)
    ).annotate(month=_month_of("case__submitted_at"))
    counts = (
        clocks.values_list(*clock_keys, "kind")
        .annotate(
            decided=Count("id", filter=DECIDED),
            on_time=Count("id", filter=ON_TIME),
            sincere=Count("id", filter=ON_TIME & Q(judged_insincere=False)),
            breached=Count("id", filter=Q(breached_at__isnull=False)),
        )
        .order_by()
    )
    for *key, clock_kind, decided, on_time, sincere, breached in counts:
        _add_clock_counts(groups[tuple(key)], clock_kind, decided, on_time, sincere, breached)

    for measure, kind, field in HISTOGRAM_MEASURES:
        buckets = (
            clocks.filter(kind=kind, status=ClockStatus.MET, **{f"{field}__isnull": False})
            .annotate(bucket=bucket_expression(field))
            .values_list(*clock_keys, "bucket")
            .annotate(clocks=Count("id"))
            .order_by()
        )
        for *key, bucket, count in buckets:
            groups[tuple(key)]["histograms"][measure][bucket] += count


def _collect_postgresql(groups: dict, start: datetime, end: datetime) -> None:
    """Collect with three statements written for PostgreSQL: the same figures as the portable path.

    ``width_bucket`` finds a time's bucket by binary search over the edges, and the buckets of a
    group come back as two arrays: a few thousand rows a month instead of a row per bucket.
    """
    quote = connection.ops.quote_name
    case_table, clock_table, event_table = (quote(model._meta.db_table) for model in (Case, Clock, CaseEvent))
    month = "(date_trunc('month', c.submitted_at AT TIME ZONE %(zone)s))::date"
    keys = f"{month}, c.respondent_id, c.claimant_id, c.kind, c.priority"
    params = {
        "zone": str(TOKYO),
        "start": start,
        "end": end,
        "kinds": list(CLOCK_CLASS),
        "measured": [kind for _measure, kind, _field in HISTOGRAM_MEASURES],
        "edges": [edge.total_seconds() for edge in HISTOGRAM_EDGES[1:]],
        "met": ClockStatus.MET.value,
    }
    in_period = "c.submitted_at >= %(start)s AND c.submitted_at < %(end)s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {keys}, count(*),
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM {event_table} e WHERE e.case_id = c.id AND e.action = 'escalate'))
            FROM {case_table} c WHERE {in_period}
            GROUP BY 1, 2, 3, 4, 5
            """,
            params,
        )
        for *key, submitted, escalations in cursor.fetchall():
            group = groups[tuple(key)]
            group["cases_submitted"] += submitted
            group["cases_escalated"] += escalations
        cursor.execute(
            f"""
            SELECT {keys}, k.kind,
                count(*) FILTER (WHERE k.status = %(met)s OR k.breached_at IS NOT NULL),
                count(*) FILTER (WHERE k.status = %(met)s AND k.breached_at IS NULL),
                count(*) FILTER (
                    WHERE k.status = %(met)s AND k.breached_at IS NULL AND NOT k.judged_insincere),
                count(*) FILTER (WHERE k.breached_at IS NOT NULL)
            FROM {clock_table} k JOIN {case_table} c ON c.id = k.case_id
            WHERE {in_period} AND k.kind = ANY(%(kinds)s)
            GROUP BY 1, 2, 3, 4, 5, 6
            """,
            params,
        )
        for *key, clock_kind, decided, on_time, sincere, breached in cursor.fetchall():
            _add_clock_counts(groups[tuple(key)], clock_kind, decided, on_time, sincere, breached)
        cursor.execute(
            f"""
            SELECT month, respondent_id, claimant_id, kind, priority, clock_kind, basis,
                array_agg(bucket), array_agg(clocks)
            FROM (
                SELECT {keys}, k.kind AS clock_kind, m.basis,
                    width_bucket(extract(epoch FROM m.elapsed)::float8, %(edges)s::float8[]) AS bucket,
                    count(*) AS clocks
                FROM {clock_table} k JOIN {case_table} c ON c.id = k.case_id
                CROSS JOIN LATERAL (VALUES ('business', k.elapsed_business), ('calendar', k.elapsed_calendar))
                    AS m(basis, elapsed)
                WHERE {in_period} AND k.kind = ANY(%(measured)s) AND k.status = %(met)s
                    AND m.elapsed IS NOT NULL
                GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            ) AS counted (
                month, respondent_id, claimant_id, kind, priority, clock_kind, basis, bucket, clocks)
            GROUP BY 1, 2, 3, 4, 5, 6, 7
            """,
            params,
        )
        measure_of = {(kind, field.removeprefix("elapsed_")): m for m, kind, field in HISTOGRAM_MEASURES}
        for *key, clock_kind, basis, buckets, counts in cursor.fetchall():
            histogram = groups[tuple(key)]["histograms"][measure_of[(clock_kind, basis)]]
            for bucket, count in zip(buckets, counts, strict=True):
                histogram[bucket] += count


def _write(first: date, last: date, groups: dict[tuple, dict]) -> int:
    DashboardRollup.objects.filter(month__gte=first, month__lte=last).delete()
    columns = [*KEY_FIELDS, *COUNT_FIELDS, "histograms"]
    rows = []
    for key, group in groups.items():
        histograms = histograms_pack(group["histograms"]) if group["histograms"] else b""
        rows.append((*key, *(group[name] for name in COUNT_FIELDS), histograms))
    insert_rows(DashboardRollup, [c.removesuffix("_id") if c.endswith("_id") else c for c in columns], rows)
    return len(rows)


def rollups_rebuild_months(*, months: list[date]) -> int:
    """Recompute the roll-up rows of these months (first days) from the cases; return the rows written.

    Call inside a transaction (``rollups_refresh`` does), so readers see the old rows or the new.
    """
    written = 0
    for first, last in _months_runs(months):
        written += _write(first, last, _collect(first, last))
    return written


def _months_with_cases() -> list[date]:
    return list(
        Case.objects.filter(submitted_at__isnull=False)
        .annotate(month=_month_of("submitted_at"))
        .values_list("month", flat=True)
        .distinct()
        .order_by()
    )


def _months_touched_since(event_id: int) -> list[date]:
    """Return the submission months of the cases with a timeline event above ``event_id``."""
    touched = CaseEvent.objects.filter(id__gt=event_id).values("case_id")
    return list(
        Case.objects.filter(id__in=touched, submitted_at__isnull=False)
        .annotate(month=_month_of("submitted_at"))
        .values_list("month", flat=True)
        .distinct()
        .order_by()
    )


def rollups_refresh(*, full: bool = False, now: datetime | None = None) -> RefreshResult:
    """Bring the dashboards' roll-up up to date; safe to run concurrently and repeatedly.

    Reads the timeline events above the *previous* refresh's watermark (not only the last
    one's): an event whose transaction began before the last refresh but committed after it
    has an id below that refresh's watermark, and is still seen, provided no transaction
    stays open across two refreshes. ``full`` rebuilds every month (the nightly task).
    """
    now = now or timezone.now()
    with transaction.atomic():
        state = DashboardRefresh.objects.select_for_update().filter(pk=1).first()
        if state is None:
            state, _created = DashboardRefresh.objects.get_or_create(pk=1)
            state = DashboardRefresh.objects.select_for_update().get(pk=1)
        top = CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0
        full = full or state.refreshed_at is None
        if full:
            DashboardRollup.objects.all().delete()
            months = _months_with_cases()
        else:
            months = _months_touched_since(state.previous_watermark)
        rows = rollups_rebuild_months(months=months)
        # After the very first (full) build there is no earlier refresh to look back to.
        state.previous_watermark = state.event_watermark or top
        state.event_watermark = top
        state.refreshed_at = now
        if full:
            state.rebuilt_at = now
        state.save()
    return RefreshResult(months=tuple(sorted(months)), rows=rows, full=full)


def rollups_refreshed_at() -> datetime | None:
    """Return when the roll-up was last refreshed (the figures' "as of"), or None if never."""
    return DashboardRefresh.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()


def histogram_percentile(histogram: list[int], share: float) -> timedelta | None:
    """Return the ``share`` quantile (0-1) of a histogram (a count per bucket), interpolated in its bucket.

    The rank is ``share × count``, counted continuously: the bucket where the cumulative
    count reaches it is found and the value placed linearly between the bucket's edges. A
    quantile in the last, open bucket is given as that bucket's lower edge.
    """
    buckets = [(bucket, count) for bucket, count in enumerate(histogram) if count]
    total = sum(count for _bucket, count in buckets)
    if not total:
        return None
    rank = share * total
    seen = 0
    for bucket, count in buckets:
        if seen + count >= rank:
            lower = HISTOGRAM_EDGES[bucket]
            if bucket + 1 >= len(HISTOGRAM_EDGES):
                return lower
            width = HISTOGRAM_EDGES[bucket + 1] - lower
            fraction = (rank - seen) / count
            return lower + width * fraction
        seen += count
    return HISTOGRAM_EDGES[buckets[-1][0]]  # pragma: no cover - rank never exceeds total
