"""Business-time maths for SLA clocks: the association calendar, holidays, closures and edge rules."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from claims.sla.calendar import (
    DEFAULT_CALENDAR,
    BusinessCalendar,
    add_business_time,
    add_calendar_time,
    business_time_between,
    business_windows,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
BUSINESS_DAY = timedelta(hours=9)


def tokyo(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


# --- Explicit cases a case handler would recognise -------------------------------------------------


def test_result_on_the_end_of_a_window_is_that_end_not_the_next_morning():
    """Nine business hours from a Monday opening end at 18:00 that Monday."""
    assert add_business_time(tokyo(2026, 6, 8, 9), BUSINESS_DAY) == tokyo(2026, 6, 8, 18)
    assert add_business_time(tokyo(2026, 6, 8, 17), HOUR) == tokyo(2026, 6, 8, 18)


def test_continuing_from_a_closing_time_counts_from_the_next_opening():
    """Adding from 18:00 resumes at the next opening; a zero duration stays at 18:00."""
    assert add_business_time(tokyo(2026, 6, 8, 18), timedelta(0)) == tokyo(2026, 6, 8, 18)
    assert add_business_time(tokyo(2026, 6, 8, 18), timedelta(microseconds=1)) == tokyo(
        2026, 6, 9, 9, 0, 0, 1
    )


def test_friday_evening_filing_counts_from_monday_morning():
    assert add_business_time(tokyo(2026, 6, 5, 19, 30), HOUR) == tokyo(2026, 6, 8, 10)


def test_filing_before_opening_counts_from_the_opening():
    assert add_business_time(tokyo(2026, 6, 8, 7, 45), HOUR) == tokyo(2026, 6, 8, 10)


def test_zero_duration_from_closed_time_is_the_next_opening():
    """A filing on Saturday with no time to run is due at Monday's opening, never in closed time."""
    assert add_business_time(tokyo(2026, 6, 6, 11), timedelta(0)) == tokyo(2026, 6, 8, 9)


def test_filing_on_a_public_holiday_counts_from_the_next_business_morning():
    """Culture Day 2026 falls on a Tuesday; the clock starts on Wednesday."""
    assert add_business_time(tokyo(2026, 11, 3, 11), HOUR) == tokyo(2026, 11, 4, 10)


def test_golden_week_2026_skips_showa_day_and_the_may_holidays_with_their_substitute():
    """Showa Day (Wed 29 April) and 3-6 May 2026, with Wednesday 6 May the substitute holiday, are closed."""
    assert add_business_time(tokyo(2026, 4, 28, 17), 2 * HOUR) == tokyo(2026, 4, 30, 10)
    # Friday 1 May: 6 hours that day, the remaining 3 on Thursday 7 May.
    assert add_business_time(tokyo(2026, 5, 1, 12), BUSINESS_DAY) == tokyo(2026, 5, 7, 12)
    # Business days from Tuesday 28 April to Friday 8 May: 28, 30 April, 1, 7 and 8 May.
    assert business_time_between(tokyo(2026, 4, 28, 9), tokyo(2026, 5, 8, 18)) == 5 * BUSINESS_DAY


def test_substitute_holiday_for_a_sunday_holiday_is_closed():
    """Labour Thanksgiving Day 2025 was a Sunday, so Monday 24 November 2025 was a substitute holiday."""
    assert add_business_time(tokyo(2025, 11, 21, 17), 2 * HOUR) == tokyo(2025, 11, 25, 10)


def test_citizens_holiday_between_two_holidays_is_closed():
    """Tuesday 22 September 2026 lies between two holidays and is itself a national holiday."""
    assert add_business_time(tokyo(2026, 9, 18, 17, 30), HOUR) == tokyo(2026, 9, 24, 9, 30)


def test_year_end_closure_runs_from_29_december_to_3_january():
    """Filed Monday 28 December 2026 at 17:00: one hour that day, nine on 4 January, eight on 5 January."""
    assert add_business_time(tokyo(2026, 12, 28, 17), 2 * BUSINESS_DAY) == tokyo(2027, 1, 5, 17)
    assert business_time_between(tokyo(2026, 12, 28, 9), tokyo(2027, 1, 5, 9)) == 2 * BUSINESS_DAY


def test_year_end_closure_can_be_switched_off():
    """Tuesday 29 December 2026 is no public holiday, so without the closure it is a business day."""
    calendar = BusinessCalendar(year_end_closure=False)
    assert DEFAULT_CALENDAR.is_closed_day(date(2026, 12, 29))
    assert not calendar.is_closed_day(date(2026, 12, 29))
    assert add_business_time(tokyo(2026, 12, 28, 17), 2 * HOUR, calendar) == tokyo(2026, 12, 29, 10)


def test_extra_closure_days_of_the_association_are_skipped():
    calendar = BusinessCalendar(extra_closure_dates=frozenset({date(2026, 6, 9)}))
    start = tokyo(2026, 6, 8, 17)
    assert add_business_time(start, 2 * HOUR) == tokyo(2026, 6, 9, 10)
    assert add_business_time(start, 2 * HOUR, calendar) == tokyo(2026, 6, 10, 10)
    assert business_time_between(start, tokyo(2026, 6, 10, 10), calendar) == 2 * HOUR


def test_start_in_another_zone_is_read_as_the_same_instant_and_the_result_is_in_tokyo_time():
    """00:00 UTC is 09:00 in Tokyo; Sunday 23:30 UTC is Monday 08:30 in Tokyo."""
    result = add_business_time(datetime(2026, 6, 8, 0, tzinfo=UTC), HOUR)
    assert result == tokyo(2026, 6, 8, 10)
    assert result.tzinfo == TOKYO
    assert (result.hour, result.minute) == (10, 0)
    assert add_business_time(datetime(2026, 6, 7, 23, 30, tzinfo=UTC), HOUR) == tokyo(2026, 6, 8, 10)


def test_four_weeks_without_holidays_are_twenty_business_days():
    """June 2026 has no public holiday in Japan."""
    assert add_business_time(tokyo(2026, 6, 1, 9), 20 * BUSINESS_DAY) == tokyo(2026, 6, 26, 18)


def test_business_time_between_is_negative_when_the_end_comes_first():
    assert business_time_between(tokyo(2026, 6, 8, 12), tokyo(2026, 6, 8, 10)) == -2 * HOUR


def test_business_time_between_ignores_closed_time_and_keeps_microseconds():
    start = tokyo(2026, 6, 5, 17, 59, 59, 999_999)
    assert business_time_between(start, tokyo(2026, 6, 8, 9, 0, 0, 1)) == timedelta(microseconds=2)


def test_business_windows_are_clipped_to_the_requested_range():
    windows = list(business_windows(tokyo(2026, 6, 5, 12), tokyo(2026, 6, 8, 10)))
    assert windows == [
        (tokyo(2026, 6, 5, 12), tokyo(2026, 6, 5, 18)),
        (tokyo(2026, 6, 8, 9), tokyo(2026, 6, 8, 10)),
    ]


def test_add_calendar_time_counts_elapsed_time_across_a_daylight_saving_change():
    """24 hours after noon EST on 7 March 2026 is 13:00 EDT, as clocks jumped forward overnight."""
    calendar = BusinessCalendar(timezone="America/New_York", holiday_country="US")
    result = add_calendar_time(datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), timedelta(hours=24), calendar)
    assert (result.day, result.hour) == (8, 13)
    assert add_calendar_time(tokyo(2026, 12, 28, 17), timedelta(days=7)) == tokyo(2027, 1, 4, 17)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_time(tokyo(2026, 6, 8, 9), -HOUR),
        lambda: add_calendar_time(tokyo(2026, 6, 8, 9), -HOUR),
        lambda: add_business_time(datetime(2026, 6, 8, 9), HOUR),
        lambda: business_time_between(tokyo(2026, 6, 8, 9), datetime(2026, 6, 8, 10)),
    ],
    ids=["negative business duration", "negative calendar duration", "naive start", "naive end"],
)
def test_negative_durations_and_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "options",
    [
        {"opening": time(18), "closing": time(9)},
        {"working_weekdays": frozenset()},
        {"working_weekdays": frozenset({7})},
        {"timezone": "Asia/Nowhere"},
    ],
    ids=["closes before it opens", "no working day", "no such weekday", "unknown zone"],
)
def test_a_calendar_that_could_never_open_is_rejected(options):
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError for the zone, ValueError otherwise
        BusinessCalendar(**options)


# --- Properties -----------------------------------------------------------------------------------

ZONES = st.sampled_from([TOKYO, UTC, NEW_YORK, ZoneInfo("Asia/Kolkata")])
# A Monday-to-Saturday office with a quarter-hour window in a zone with daylight saving time, so
# the properties do not only hold for whole hours in a zone without it.
NEW_YORK_OFFICE = BusinessCalendar(
    timezone="America/New_York",
    opening=time(8, 30),
    closing=time(17, 15),
    working_weekdays=frozenset(range(6)),
    extra_closure_dates=frozenset({date(2026, 3, 9), date(2026, 11, 2), date(2027, 6, 14)}),
    holiday_country="US",
)
CALENDARS = st.sampled_from(
    [DEFAULT_CALENDAR, NEW_YORK_OFFICE, BusinessCalendar(extra_closure_dates=frozenset({date(2026, 6, 9)}))]
)
BOUNDARY_TIMES = [
    time(0),
    time(8, 59, 59, 999_999),
    time(9),
    time(12, 30),
    time(17, 59),
    time(18),
    time(23, 59),
]

any_moment = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=ZONES)
tokyo_boundary_moment = st.builds(
    lambda day, at: datetime.combine(day, at, tzinfo=TOKYO),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.sampled_from(BOUNDARY_TIMES),
)
moments = st.one_of(any_moment, tokyo_boundary_moment)
durations = st.one_of(
    st.integers(min_value=0, max_value=200).map(lambda hours: hours * HOUR),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    st.integers(min_value=0, max_value=3).map(lambda microseconds: timedelta(microseconds=microseconds)),
)
quick = settings(max_examples=200, deadline=None)


def is_business_moment(moment: datetime, calendar: BusinessCalendar) -> bool:
    local = moment.astimezone(calendar.zone)
    return not calendar.is_closed_day(local.date()) and calendar.opening <= local.time() <= calendar.closing


@quick
@given(start=moments, duration=durations, calendar=CALENDARS)
def test_adding_never_lands_in_closed_time_and_answers_in_the_calendar_zone(start, duration, calendar):
    result = add_business_time(start, duration, calendar)
    assert is_business_moment(result, calendar)
    assert result.tzinfo == calendar.zone
    assert result >= start


@quick
@given(start=moments, durations=st.lists(durations, min_size=2, max_size=2), calendar=CALENDARS)
def test_adding_more_business_time_never_ends_earlier(start, durations, calendar):
    shorter, longer = sorted(durations)
    assert add_business_time(start, shorter, calendar) <= add_business_time(start, longer, calendar)


@quick
@given(start=moments, first=durations, second=durations, calendar=CALENDARS)
# A first step ending exactly at closing time, then nothing or a little more.
@example(start=tokyo(2026, 6, 8, 9), first=BUSINESS_DAY, second=timedelta(0), calendar=DEFAULT_CALENDAR)
@example(start=tokyo(2026, 6, 5, 17), first=HOUR, second=HOUR, calendar=DEFAULT_CALENDAR)
def test_adding_in_two_steps_ends_where_adding_the_sum_does(start, first, second, calendar):
    in_two_steps = add_business_time(add_business_time(start, first, calendar), second, calendar)
    assert in_two_steps == add_business_time(start, first + second, calendar)


@quick
@given(start=moments, duration=durations, calendar=CALENDARS)
def test_business_time_between_a_start_and_its_due_time_is_the_duration(start, duration, calendar):
    assert business_time_between(start, add_business_time(start, duration, calendar), calendar) == duration


@quick
@given(a=moments, b=moments, c=moments, calendar=CALENDARS)
def test_business_time_between_adds_up_over_any_intermediate_moment(a, b, c, calendar):
    ab, bc = business_time_between(a, b, calendar), business_time_between(b, c, calendar)
    assert ab + bc == business_time_between(a, c, calendar)
    assert business_time_between(b, a, calendar) == -ab
    assert abs(ab) <= abs(b - a)


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2027, 12, 31)).map(
        lambda moment: moment.replace(minute=0, second=0, microsecond=0, tzinfo=TOKYO)
    ),
    hours=st.integers(min_value=0, max_value=24 * 21),
)
def test_business_time_between_matches_counting_open_hours_one_by_one(start, hours):
    """Check against a brute-force count of whole Tokyo hours that fall inside an open window."""
    open_hours = 0
    for offset in range(hours):
        hour_start = start + offset * HOUR
        if not DEFAULT_CALENDAR.is_closed_day(hour_start.date()) and 9 <= hour_start.hour < 18:
            open_hours += 1
    assert business_time_between(start, start + hours * HOUR) == open_hours * HOUR
