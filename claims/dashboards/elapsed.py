"""How long a clock ran before it was met, in calendar and in business time.

A clock's own ``consumed`` counts in its own basis only; the dashboards want both. The
running periods of a clock are its start to its meeting, less the periods in which it was
paused: a pausing clock (response, re-response) pauses exactly at the case's ``request_info``
events and resumes at its ``provide_info`` events (``claims.sla.clocks.CLOCK_RULES``), so the
periods are read back from the timeline. Those events are written a moment after the clock
changed, in the same transaction, so the figures are exact to a few milliseconds.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from claims.sla.calendar import DEFAULT_CALENDAR, BusinessCalendar, business_time_between
from claims.sla.clocks import CLOCK_RULES

PAUSING_ACTIONS = frozenset(action for action, rules in CLOCK_RULES.items() if rules.get("pause"))
RESUMING_ACTIONS = frozenset(action for action, rules in CLOCK_RULES.items() if rules.get("resume"))
PAUSING_KINDS = frozenset(kind for rules in CLOCK_RULES.values() for kind in rules.get("pause", ()))


def running_periods(
    *, started_at: datetime, ended_at: datetime, changes: Iterable[tuple[str, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Return the periods a clock ran, given the pause and resume actions after its start, in order."""
    periods = []
    running_since: datetime | None = started_at
    for action, at in changes:
        at = min(max(at, started_at), ended_at)
        if action in PAUSING_ACTIONS and running_since is not None:
            periods.append((running_since, at))
            running_since = None
        elif action in RESUMING_ACTIONS and running_since is None:
            running_since = at
    if running_since is not None:
        periods.append((running_since, ended_at))
    return [(start, end) for start, end in periods if end > start]


def elapsed_over(
    periods: Iterable[tuple[datetime, datetime]], calendar: BusinessCalendar | None = None
) -> tuple[timedelta, timedelta]:
    """Return (calendar time, business time) summed over the running periods."""
    calendar = calendar or DEFAULT_CALENDAR
    wall, business = timedelta(0), timedelta(0)
    for start, end in periods:
        wall += end - start
        business += business_time_between(start, end, calendar)
    return wall, business


def clock_elapsed(
    *, clock, now: datetime, calendar: BusinessCalendar | None = None
) -> tuple[timedelta, timedelta]:
    """Return (calendar, business) time the clock ran from its start until ``now``, pauses excluded."""
    from claims.models import CaseEvent

    changes: list[tuple[str, datetime]] = []
    if clock.kind in PAUSING_KINDS:
        changes = list(
            CaseEvent.objects.filter(
                case_id=clock.case_id,
                created_at__gte=clock.started_at,
                action__in=PAUSING_ACTIONS | RESUMING_ACTIONS,
            )
            .order_by("seq")
            .values_list("action", "created_at")
        )
    return elapsed_over(running_periods(started_at=clock.started_at, ended_at=now, changes=changes), calendar)
