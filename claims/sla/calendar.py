"""Business-time maths for SLA clocks: pure functions over an association calendar.

Business time runs only inside the opening window (by default 09:00-18:00, Asia/Tokyo) of a
business day: a working weekday that is neither a public holiday (substitute holidays included),
nor in the year-end closure (29 December - 3 January), nor an extra closure day set by the
association. Nothing here touches the database, reads settings or looks at the clock, so the SLA
engine, the sweep, the ETA tasks and the reports can share it and tests can exercise it freely.

Instants are compared and subtracted in UTC, so the maths stays right for a calendar zone that
observes daylight saving time; results are returned in the calendar's zone. All arithmetic is on
``timedelta`` (whole microseconds), never on floats.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

MONDAY_TO_FRIDAY = frozenset(range(5))


@functools.lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    """Return the public holidays of one country and year; cached because every day lookup asks."""
    return frozenset(day for day in holidays.country_holidays(country, years=year) if day.year == year)


def _is_year_end_closure(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


@dataclass(frozen=True)
class BusinessCalendar:
    """Describe when business time runs: the zone, the daily window and the closed days.

    ``working_weekdays`` uses ``date.weekday()`` numbering (Monday is 0). ``extra_closure_dates``
    are local dates in ``timezone`` on which the association is closed besides public holidays.
    """

    timezone: str = "Asia/Tokyo"
    opening: time = time(9)
    closing: time = time(18)
    working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    extra_closure_dates: frozenset[date] = field(default_factory=frozenset)
    year_end_closure: bool = True
    holiday_country: str | None = "JP"

    def __post_init__(self):
        if self.opening.tzinfo is not None or self.closing.tzinfo is not None:
            raise ValueError("Opening and closing are local wall-clock times; give them without tzinfo.")
        if not self.opening < self.closing:
            raise ValueError("The calendar must open before it closes on the same day.")
        if not self.working_weekdays or not self.working_weekdays <= frozenset(range(7)):
            raise ValueError("Working weekdays must be a non-empty set of numbers 0 (Monday) to 6 (Sunday).")
        ZoneInfo(self.timezone)  # fail now on an unknown zone, not in the middle of a sweep

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed_day(self, day: date) -> bool:
        """Return whether no business time runs on this local date."""
        return (
            day.weekday() not in self.working_weekdays
            or day in self.extra_closure_dates
            or (self.year_end_closure and _is_year_end_closure(day))
            or (self.holiday_country is not None and day in _public_holidays(self.holiday_country, day.year))
        )

    def window(self, day: date) -> tuple[datetime, datetime]:
        """Return the opening and closing instants of a local date, whether or not the day is closed."""
        opening = datetime.combine(day, self.opening, tzinfo=self.zone)
        closing = datetime.combine(day, self.closing, tzinfo=self.zone)
        return opening, closing


DEFAULT_CALENDAR = BusinessCalendar()


def _require_aware(**moments: datetime) -> None:
    for name, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime, got {moment!r}.")


def _require_not_negative(duration: timedelta) -> None:
    if duration < timedelta(0):
        raise ValueError(f"Duration must not be negative, got {duration!r}.")


def _windows_in_utc(first_day: date, calendar: BusinessCalendar) -> Iterator[tuple[datetime, datetime]]:
    """Yield the opening windows of business days from ``first_day`` on, for ever, as UTC instants."""
    day = first_day
    while True:
        if not calendar.is_closed_day(day):
            opening, closing = calendar.window(day)
            yield opening.astimezone(UTC), closing.astimezone(UTC)
        day += timedelta(days=1)


def business_windows(
    start: datetime, end: datetime, calendar: BusinessCalendar | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the stretches of business time between ``start`` and ``end``, in order.

    Each stretch is an opening window clipped to ``[start, end]``, as a pair of aware datetimes in
    the calendar's zone; empty stretches are left out, so nothing is yielded when ``end <= start``.
    """
    calendar = calendar or DEFAULT_CALENDAR
    _require_aware(start=start, end=end)
    zone = calendar.zone
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    for opening, closing in _windows_in_utc(start.astimezone(zone).date(), calendar):
        if opening >= end_utc:
            return
        stretch_start, stretch_end = max(opening, start_utc), min(closing, end_utc)
        if stretch_start < stretch_end:
            yield stretch_start.astimezone(zone), stretch_end.astimezone(zone)


def add_business_time(
    start: datetime, duration: timedelta, calendar: BusinessCalendar | None = None
) -> datetime:
    """Return the earliest moment by which ``duration`` of business time has run since ``start``.

    A start in closed time counts from the next opening. Because the earliest such moment is
    returned, a result on the end of a window is that end (18:00), not the next opening; adding
    more from there counts from the next opening. A zero duration returns ``start`` itself if it
    lies within a window (both ends included) and otherwise the next opening, so the result never
    lies in closed time. With this rule adding is monotonic and additive,
    ``add(add(s, a), b) == add(s, a + b)``, and ``business_time_between(s, add(s, d)) == d``.

    The result is aware and in the calendar's zone; ``start`` may be in any zone. Raise
    ``ValueError`` for a naive ``start`` or a negative ``duration``.
    """
    calendar = calendar or DEFAULT_CALENDAR
    _require_aware(start=start)
    _require_not_negative(duration)
    zone = calendar.zone
    start_utc = start.astimezone(UTC)
    remaining = duration
    # One step per calendar day: even a target of months is a few hundred cheap steps.
    for opening, closing in _windows_in_utc(start.astimezone(zone).date(), calendar):
        if closing < start_utc:
            continue
        counting_from = max(opening, start_utc)
        available = closing - counting_from
        if remaining <= available:
            return (counting_from + remaining).astimezone(zone)
        remaining -= available
    raise AssertionError("unreachable: a calendar always opens again")  # pragma: no cover


def business_time_between(
    start: datetime, end: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Return how much business time runs from ``start`` to ``end``.

    The result is signed like ``end - start``: swapping the arguments negates it, so
    ``between(a, b) + between(b, c) == between(a, c)`` for any three moments. Raise ``ValueError``
    for naive datetimes.
    """
    calendar = calendar or DEFAULT_CALENDAR
    _require_aware(start=start, end=end)
    if end < start:
        return -business_time_between(end, start, calendar)
    return sum(
        (
            stretch_end - stretch_start
            for stretch_start, stretch_end in business_windows(start, end, calendar)
        ),
        timedelta(0),
    )


def add_calendar_time(
    start: datetime, duration: timedelta, calendar: BusinessCalendar | None = None
) -> datetime:
    """Return the moment ``duration`` of elapsed time after ``start``, in the calendar's zone.

    Calendar time counts every minute, nights, weekends and holidays included. Elapsed time is
    added in UTC, so a daylight-saving change in the calendar's zone neither adds nor loses an
    hour. Raise ``ValueError`` for a naive ``start`` or a negative ``duration``.
    """
    calendar = calendar or DEFAULT_CALENDAR
    _require_aware(start=start)
    _require_not_negative(duration)
    return (start.astimezone(UTC) + duration).astimezone(calendar.zone)
