"""Dashboard figures against a small data set computed by hand.

Every case goes through the transition service at a chosen moment (time-machine), so the
clocks, their elapsed times and the events are the ones the product writes. November 2026 in
Tokyo: Saturday 21 and Sunday 22, Tuesday 3 (Culture Day) and Monday 23 (Labour Thanksgiving
Day) are closed; business hours are 09:00-18:00.

    case  member→provider  filed (JST)        what happens                               month
    A     M→P claim normal Fri 20 Nov 17:00   ack Tue 24 10:00, respond Tue 24 12:00,    Nov
                                              accepted: across the weekend and holiday
    B     M→P claim normal Mon 16 Nov 10:00   request_info 14:00 (acknowledges, pauses),  Nov
                                              provide_info Wed 18 10:00, respond 15:00
    C     M→P claim normal Mon  2 Nov 10:00   respond Wed 11 Nov 10:00: both clocks       Nov
                                              met late (breached)
    D     M→P claim normal Mon  9 Nov 10:00   respond 16:00; judged insincere            Nov
    E     N→Q inquiry high Tue 17 Nov 10:00   escalated Wed 18 10:00 (clocks stopped)     Nov
    F     N→Q claim normal Mon 30 Nov 10:00   nothing yet                                 Nov
    H     M→P claim normal Mon  5 Oct 10:00   ack 11:00, withdrawn 12:00                  Oct

Elapsed (business h / calendar h) of the met clocks:
    acknowledgement  A 2/89  B 4/4  C 54/216  D 6/6  H 1/1
    response         A 4/91  B 9/9 (53 h wall, 44 h paused)  C 54/216  D 6/6

The figures are read on Tuesday 1 December 2026, 12:00.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from claims.dashboards.figures import (
    DashboardFilters,
    DashboardScope,
    dashboard_figures,
    dashboard_figures_for_scope,
)
from claims.dashboards.models import DashboardRollup
from claims.dashboards.rollup import (
    COUNT_FIELDS,
    HISTOGRAM_EDGES,
    histogram_percentile,
    histograms_pack,
    histograms_sum,
    histograms_unpack,
    rollups_refresh,
)
from claims.services import case_transition
from claims.sla.models import Clock, ClockKind, ClockStatus
from members.models import Role
from tests.factories import DISPUTE_PAYLOAD, MemberFactory, ProviderFactory, UserFactory, respond_payload

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=JST)
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
PERIOD = DashboardFilters(month_from=OCT, month_to=NOV)

pytestmark = pytest.mark.django_db


def jst(*args):
    return datetime(*args, tzinfo=JST)


def hours(value):
    return timedelta(hours=value)


@dataclass
class World:
    member: object
    other_member: object
    provider: object
    other_provider: object
    legal: object
    other_legal: object
    agent: object
    other_agent: object
    analyst: object
    cases: dict


def _at(moment, action, case, actor, payload=None):
    with time_machine.travel(moment, tick=False):
        return case_transition(case=case, action=action, actor=actor, payload=payload or {})


def build_world(file_case) -> World:
    """File and move the cases of the module docstring; refresh the roll-up at NOW."""
    member = MemberFactory(name_en="Studio Aoi", name_ja="スタジオ青")
    other_member = MemberFactory(name_en="Studio Beni", name_ja="スタジオ紅")
    provider = ProviderFactory(name_en="Pixel AI", name_ja="ピクセルAI")
    other_provider = ProviderFactory(name_en="Quill AI", name_ja="クイルAI")
    legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=member)
    other_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=other_member)
    agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=provider)
    other_agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=other_provider)
    analyst = UserFactory(role=Role.ASSOCIATION_ANALYST)
    admin = UserFactory(role=Role.ASSOCIATION_ADMIN, organisation=analyst.organisation)

    def file(moment, *, actor=legal, respondent=provider, **kwargs):
        with time_machine.travel(moment, tick=False):
            return file_case(actor=actor, respondent=respondent, **kwargs)

    cases = {}
    a = cases["A"] = file(jst(2026, 11, 20, 17, 0))
    _at(jst(2026, 11, 24, 10, 0), "acknowledge", a, agent)
    _at(jst(2026, 11, 24, 12, 0), "respond", a, agent, respond_payload(a))
    _at(jst(2026, 11, 24, 15, 0), "accept", a, legal)

    b = cases["B"] = file(jst(2026, 11, 16, 10, 0))
    _at(jst(2026, 11, 16, 14, 0), "request_info", b, agent, {"question": "Which scene?"})
    _at(jst(2026, 11, 18, 10, 0), "provide_info", b, legal, {"answer": "The opening scene."})
    _at(jst(2026, 11, 18, 15, 0), "respond", b, agent, respond_payload(b))

    c = cases["C"] = file(jst(2026, 11, 2, 10, 0))
    _at(jst(2026, 11, 11, 10, 0), "respond", c, agent, respond_payload(c))

    d = cases["D"] = file(jst(2026, 11, 9, 10, 0))
    _at(jst(2026, 11, 9, 16, 0), "respond", d, agent, respond_payload(d))
    # The association's verdict marks the response clock it met, as
    # claims.sincerity.services.response_adjudicate does.
    Clock.objects.filter(case=d, kind=ClockKind.RESPONSE).update(judged_insincere=True)

    e = cases["E"] = file(
        jst(2026, 11, 17, 10, 0),
        actor=other_legal,
        respondent=other_provider,
        kind="inquiry",
        priority="high",
    )
    _at(jst(2026, 11, 18, 10, 0), "escalate", e, admin, {"reason": "No answer."})

    cases["F"] = file(jst(2026, 11, 30, 10, 0), actor=other_legal, respondent=other_provider)

    h = cases["H"] = file(jst(2026, 10, 5, 10, 0))
    _at(jst(2026, 10, 5, 11, 0), "acknowledge", h, agent)
    _at(jst(2026, 10, 5, 12, 0), "withdraw", h, legal)

    with time_machine.travel(NOW, tick=False):
        rollups_refresh(now=NOW)
    return World(
        member, other_member, provider, other_provider, legal, other_legal, agent, other_agent, analyst, cases
    )


@pytest.fixture
def world(file_case, in_english, fast_password_hashing):
    return build_world(file_case)


def figures_for(user, **filters):
    return dashboard_figures(user=user, filters=DashboardFilters(**{**PERIOD.__dict__, **filters}), now=NOW)


def rows(figures, name):
    return [list(row) for row in figures.table(name).rows]


def assert_within_bucket(value_hours, expected_hours):
    """A histogram quantile lies in the bucket of the nearest-rank value: at most 10 % away."""
    assert value_hours is not None
    assert abs(float(value_hours) - expected_hours) <= expected_hours * 0.10 + 0.05, (
        value_hours,
        expected_hours,
    )


def clock(case, kind):
    return Clock.objects.get(case=case, kind=kind)


# --- Elapsed time stored when a clock is met ---------------------------------------------------


def test_business_time_skips_the_weekend_and_the_holiday_calendar_time_does_not(world):
    """A: filed Friday 17:00, acknowledged Tuesday 10:00 after a weekend and Labour Thanksgiving Day."""
    ack = clock(world.cases["A"], ClockKind.ACKNOWLEDGEMENT)
    assert (ack.elapsed_business, ack.elapsed_calendar) == (hours(2), hours(89))
    response = clock(world.cases["A"], ClockKind.RESPONSE)
    assert (response.elapsed_business, response.elapsed_calendar) == (hours(4), hours(91))


def test_a_paused_clock_does_not_count_the_time_it_waited_for_the_claimant(world):
    """B: the response clock ran 10:00-14:00 on Monday and 10:00-15:00 on Wednesday only."""
    response = clock(world.cases["B"], ClockKind.RESPONSE)
    assert response.status == ClockStatus.MET
    assert (response.elapsed_business, response.elapsed_calendar) == (hours(9), hours(9))
    assert response.stopped_at - response.started_at == hours(53)


def test_a_clock_met_late_keeps_its_breach_and_its_full_elapsed_time(world):
    ack = clock(world.cases["C"], ClockKind.ACKNOWLEDGEMENT)
    assert ack.status == ClockStatus.MET and ack.breached_at == jst(2026, 11, 5, 10, 0)
    assert (ack.elapsed_business, ack.elapsed_calendar) == (hours(54), hours(216))


def test_a_stopped_clock_has_no_elapsed_time(world):
    ack = clock(world.cases["E"], ClockKind.ACKNOWLEDGEMENT)
    assert ack.status == ClockStatus.STOPPED
    assert ack.elapsed_business is None and ack.elapsed_calendar is None


# --- The association's figures -------------------------------------------------------------------


def test_on_time_rates_count_met_late_as_late_and_insincere_as_not_sincere(world):
    headline = figures_for(world.analyst).headline
    assert headline.cases_submitted == 7
    # A, B, D and H on time; C met late. E's was stopped in time, F's still runs: not decided.
    assert (headline.acknowledged_on_time.numerator, headline.acknowledged_on_time.denominator) == (4, 5)
    assert headline.acknowledged_on_time.percent == Decimal("80.0")
    # A, B and D on time, C late; D judged insincere.
    assert (headline.responded_on_time.numerator, headline.responded_on_time.denominator) == (3, 4)
    assert headline.responded_on_time.percent == Decimal("75.0")
    assert (headline.sincere_on_time.numerator, headline.sincere_on_time.denominator) == (2, 4)
    assert headline.sincere_on_time.percent == Decimal("50.0")
    assert headline.breaches == 2  # C's acknowledgement and response
    assert headline.escalations == 1  # E


def test_median_and_90th_percentile_in_business_and_calendar_time(world):
    headline = figures_for(world.analyst).headline
    # Nearest rank: acknowledgement business 1, 2, 4, 6, 54; calendar 1, 4, 6, 89, 216.
    assert headline.acknowledge_business.count == 5
    assert_within_bucket(headline.acknowledge_business.median_hours, 4)
    assert_within_bucket(headline.acknowledge_business.p90_hours, 54)
    assert_within_bucket(headline.acknowledge_calendar.median_hours, 6)
    assert_within_bucket(headline.acknowledge_calendar.p90_hours, 216)
    # Response business 4, 6, 9, 54; calendar 6, 9, 91, 216.
    assert headline.respond_business.count == 4
    assert_within_bucket(headline.respond_business.median_hours, 6)
    assert_within_bucket(headline.respond_business.p90_hours, 54)
    assert_within_bucket(headline.respond_calendar.median_hours, 9)
    assert_within_bucket(headline.respond_calendar.p90_hours, 216)
    durations = figures_for(world.analyst).table("durations")
    assert [row[1] for row in durations.rows] == [5, 5, 4, 4]
    assert durations.rows[3][2] == headline.respond_calendar.median_hours


def test_open_cases_by_age_are_counted_now_whatever_the_period(world):
    figures = figures_for(world.analyst, month_from=date(2025, 1, 1), month_to=date(2025, 1, 1))
    # Open: B, C, D (responded), E (escalated), F (submitted); A resolved, H withdrawn.
    # F is 1 day old; E 14.1, B 15.1, D 22.1 and C 29.1 days.
    assert [row[1] for row in figures.table("open_by_age").rows] == [1, 0, 0, 4, 0, 0]
    assert figures.headline.open_cases == 5
    assert figures.headline.cases_submitted == 0  # nothing was filed in January 2025


def test_trend_has_a_row_per_month_of_the_period(world):
    trend = rows(figures_for(world.analyst), "trend")
    oct_row, nov_row = trend
    assert oct_row[:5] == [OCT, 1, Decimal("100.0"), None, None]
    assert nov_row[:5] == [NOV, 6, Decimal("75.0"), Decimal("75.0"), Decimal("50.0")]
    assert oct_row[-2:] == [0, 0] and nov_row[-2:] == [2, 1]
    assert_within_bucket(nov_row[5], 4)  # median acknowledgement, business: 2, 4, 6, 54
    assert_within_bucket(nov_row[6], 9)  # median response, calendar: 6, 9, 91, 216


def test_breaches_and_escalations_by_provider_and_month(world):
    assert rows(figures_for(world.analyst), "breaches") == [
        [OCT, "Pixel AI", 0, 0],
        [NOV, "Pixel AI", 2, 0],
        [NOV, "Quill AI", 0, 1],
    ]


def test_by_provider_and_by_member(world):
    figures = figures_for(world.analyst)
    by_provider = rows(figures, "by_provider")
    assert [row[:5] for row in by_provider] == [
        ["Pixel AI", 5, Decimal("80.0"), Decimal("75.0"), Decimal("50.0")],
        ["Quill AI", 2, None, None, None],
    ]
    assert by_provider[0][6:] == [2, 0] and by_provider[1][6:] == [0, 1]
    assert rows(figures, "by_member") == [
        ["Studio Aoi", 5, Decimal("80.0"), Decimal("75.0"), Decimal("50.0"), 2, 0],
        ["Studio Beni", 2, None, None, None, 0, 1],
    ]


def test_filters_by_provider_member_kind_and_priority(world):
    assert figures_for(world.analyst, provider_id=world.other_provider.pk).headline.cases_submitted == 2
    assert figures_for(world.analyst, member_id=world.member.pk).headline.cases_submitted == 5
    inquiries = figures_for(world.analyst, kind="inquiry")
    assert inquiries.headline.cases_submitted == 1 and inquiries.headline.escalations == 1
    assert [row[1] for row in inquiries.table("open_by_age").rows] == [0, 0, 0, 1, 0, 0]
    assert figures_for(world.analyst, priority="high").headline.cases_submitted == 1
    only_october = figures_for(world.analyst, month_from=OCT, month_to=OCT)
    assert only_october.headline.cases_submitted == 1
    assert [row[0] for row in only_october.table("trend").rows] == [OCT]


# --- Scope: whose figures each organisation sees ---------------------------------------------------


def test_a_member_sees_only_its_own_cases_whatever_member_it_asks_for(world):
    figures = figures_for(world.other_legal, member_id=world.member.pk)
    assert figures.filters.member_id == world.other_member.pk
    assert figures.headline.cases_submitted == 2  # E and F
    assert figures.headline.escalations == 1
    assert figures.headline.open_cases == 2
    assert "by_member" not in figures.tables
    assert [row[1] for row in figures.table("by_provider").rows] == [2]


def test_a_member_may_filter_its_figures_by_provider(world):
    figures = figures_for(world.legal, provider_id=world.other_provider.pk)
    assert figures.headline.cases_submitted == 0


def test_a_provider_sees_only_the_cases_addressed_to_it(world):
    figures = figures_for(world.other_agent, provider_id=world.provider.pk, member_id=world.member.pk)
    assert (figures.filters.provider_id, figures.filters.member_id) == (world.other_provider.pk, None)
    assert figures.headline.cases_submitted == 2
    assert [row[0] for row in figures.table("by_provider").rows] == ["Quill AI"]
    assert "by_member" not in figures.tables
    pixel = figures_for(world.agent)
    assert pixel.headline.cases_submitted == 5
    assert pixel.headline.sincere_on_time.percent == Decimal("50.0")


def test_the_public_scope_has_no_member_breakdown(world):
    figures = dashboard_figures_for_scope(
        scope=DashboardScope.everything(), filters=PERIOD, now=NOW, member_breakdown=False
    )
    assert "by_member" not in figures.tables
    assert figures.headline.cases_submitted == 7


# --- The roll-up and its refresh ----------------------------------------------------------------------


def test_member_rows_and_total_rows_agree(world):
    totals = DashboardRollup.objects.filter(claimant__isnull=True)
    members = DashboardRollup.objects.filter(claimant__isnull=False)
    assert sum(r.cases_submitted for r in totals) == sum(r.cases_submitted for r in members) == 7
    assert sum(r.response_breached for r in totals) == sum(r.response_breached for r in members) == 1


def test_refresh_recomputes_only_the_months_of_changed_cases(world):
    later = NOW + timedelta(hours=1)
    _at(later, "acknowledge", world.cases["F"], world.other_agent)
    with time_machine.travel(later, tick=False):
        result = rollups_refresh(now=later)
    assert result.months == (NOV,) and not result.full
    figures = figures_for(world.analyst)
    assert figures.as_of == later
    assert figures.headline.acknowledged_on_time.denominator == 6
    # Nothing changed since: the next refresh still re-reads November (the look-back), then nothing.
    assert rollups_refresh(now=later).months == (NOV,)
    assert rollups_refresh(now=later).months == ()


def test_a_late_verdict_of_insincerity_reaches_the_figures_through_its_event(world, file_case):
    """The verdict writes a timeline event; the refresh sees it and recomputes the case's month."""
    from claims.services.timeline import event_record

    b = world.cases["B"]
    Clock.objects.filter(case=b, kind=ClockKind.RESPONSE).update(judged_insincere=True)
    event_record(case=b, actor=None, action="adjudicate", data={"verdict": "insincere"})
    rollups_refresh(now=NOW)
    assert figures_for(world.analyst).headline.sincere_on_time.numerator == 1


def _rollup_rows():
    fields = ("month", "respondent", "claimant", "kind", "priority", "histograms", *COUNT_FIELDS)
    return {
        repr(tuple(bytes(value) if isinstance(value, memoryview) else value for value in row))
        for row in DashboardRollup.objects.values_list(*fields)
    }


def test_the_postgresql_statements_and_the_portable_orm_queries_agree(world):
    """The embedded SQLite uses the ORM path; PostgreSQL its own statements: both give the same rows."""
    from collections import defaultdict

    from claims.dashboards.rollup import _blank, _collect_portable, _collect_postgresql, month_start

    start, end = month_start(OCT), month_start(date(2026, 12, 1))
    portable, native = defaultdict(_blank), defaultdict(_blank)
    _collect_portable(portable, start, end)
    _collect_postgresql(native, start, end)

    def plain(groups):
        return {
            key: {
                **{k: v for k, v in group.items() if k != "histograms"},
                "histograms": {
                    measure: dict(buckets) for measure, buckets in group["histograms"].items() if buckets
                },
            }
            for key, group in groups.items()
        }

    assert plain(portable) == plain(native)
    # (Oct, P, M, claim, normal), (Nov, P, M, claim, normal),
    # (Nov, Q, N, inquiry, high), (Nov, Q, N, claim, normal)
    assert len(native) == 4
    assert sum(group["cases_submitted"] for group in native.values()) == 7


def test_full_rebuild_gives_the_same_rows(world):
    before = _rollup_rows()
    assert rollups_refresh(full=True, now=NOW).full
    assert _rollup_rows() == before


def test_before_the_first_refresh_the_figures_say_so(file_case, legal, in_english):
    figures = dashboard_figures(user=legal, now=NOW)
    assert figures.as_of is None
    assert figures.headline.cases_submitted == 0


def test_a_dispute_starts_a_re_response_clock_that_counts_as_a_response_once_met(world):
    d = world.cases["D"]
    _at(NOW, "dispute", d, world.legal, dict(DISPUTE_PAYLOAD))
    _at(NOW + timedelta(hours=2), "respond", d, world.agent, respond_payload(d))
    rollups_refresh(now=NOW + timedelta(hours=2))
    rate = figures_for(world.analyst).headline.responded_on_time
    assert (rate.numerator, rate.denominator) == (4, 5)


# --- Percentiles from the histogram ---------------------------------------------------------------


def _bucket(duration):
    return max(i for i, edge in enumerate(HISTOGRAM_EDGES) if edge <= duration)


def test_histogram_buckets_are_at_most_ten_percent_wide_up_to_ninety_days():
    assert HISTOGRAM_EDGES[0] == timedelta(0) and HISTOGRAM_EDGES[1] == timedelta(minutes=5)
    assert HISTOGRAM_EDGES[-1] >= timedelta(days=90)
    for lower, upper in zip(HISTOGRAM_EDGES[1:], HISTOGRAM_EDGES[2:], strict=False):
        assert upper - lower <= lower * 0.1 + timedelta(seconds=1)


def test_histogram_percentile_interpolates_inside_the_nearest_rank_bucket():
    values = [hours(1), hours(2), hours(3), hours(40)]
    histogram = [0] * len(HISTOGRAM_EDGES)
    for value in values:
        histogram[_bucket(value)] += 1
    median = histogram_percentile(histogram, 0.5)
    assert HISTOGRAM_EDGES[_bucket(hours(2))] <= median <= HISTOGRAM_EDGES[_bucket(hours(2)) + 1]
    p90 = histogram_percentile(histogram, 0.9)
    assert HISTOGRAM_EDGES[_bucket(hours(40))] <= p90 <= HISTOGRAM_EDGES[_bucket(hours(40)) + 1]
    assert histogram_percentile([0] * len(HISTOGRAM_EDGES), 0.5) is None
    # Beyond the last edge the quantile is given as that edge: "at least 90 days".
    assert histogram_percentile([0] * (len(HISTOGRAM_EDGES) - 1) + [3], 0.5) == HISTOGRAM_EDGES[-1]


def test_histograms_are_stored_as_dense_counts():
    packed = histograms_pack({"respond_calendar": {3: 2, 7: 1}})
    unpacked = histograms_unpack(packed)
    assert len(unpacked) == len(HISTOGRAM_EDGES) * 4
    assert histograms_sum([unpacked, unpacked], "respond_calendar")[3] == 4
    assert sum(histograms_sum([unpacked], "acknowledge_business")) == 0
    assert histograms_unpack(b"") is None


def test_sql_buckets_match_the_edges(world):
    """The balanced CASE puts each clock in the bucket its elapsed time falls in."""
    from claims.dashboards.rollup import bucket_expression

    for met in Clock.objects.filter(status=ClockStatus.MET).annotate(
        business_bucket=bucket_expression("elapsed_business"),
        calendar_bucket=bucket_expression("elapsed_calendar"),
    ):
        assert met.business_bucket == _bucket(met.elapsed_business)
        assert met.calendar_bucket == _bucket(met.elapsed_calendar)


def test_world_is_what_the_docstring_says(world):
    """Guard the data set itself: the states the cases ended in."""
    states = {name: type(case).objects.get(pk=case.pk).state for name, case in world.cases.items()}
    assert (
        states
        == SimpleNamespace(
            A="resolved",
            B="responded",
            C="responded",
            D="responded",
            E="escalated",
            F="submitted",
            H="withdrawn",
        ).__dict__
    )
