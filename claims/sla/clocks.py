"""Starting, pausing, meeting and checking SLA clocks.

Every function here runs inside the caller's transaction with the case row locked (the
transition service, or ``clock_process`` which locks it itself). Anything that leaves the
process (ETA tasks, notifications) is queued on commit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claims.sla.calendar import DEFAULT_CALENDAR, BusinessCalendar, add_business_time, business_time_between
from claims.sla.models import Clock, ClockKind, ClockMark, ClockStatus, ClosureDay, SlaPolicy, TimeBasis

BREACH = 100
# The pseudo-threshold at which an unanswered claimant review resolves the case as accepted.
ACCEPT_BY_DEFAULT = 1000

# Which clocks each action starts, meets, pauses, resumes or stops (DESIGN.md, "SLA timers").
CLOCK_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "submit": {"start": (ClockKind.ACKNOWLEDGEMENT, ClockKind.RESPONSE)},
    "acknowledge": {"meet": (ClockKind.ACKNOWLEDGEMENT,)},
    # Asking the claimant a question shows the case was read: it acknowledges.
    "request_info": {
        "meet": (ClockKind.ACKNOWLEDGEMENT,),
        "pause": (ClockKind.RESPONSE, ClockKind.RE_RESPONSE),
    },
    "provide_info": {"resume": (ClockKind.RESPONSE, ClockKind.RE_RESPONSE)},
    "respond": {
        "meet": (ClockKind.ACKNOWLEDGEMENT, ClockKind.RESPONSE, ClockKind.RE_RESPONSE),
        "start": (ClockKind.CLAIMANT_REVIEW,),
    },
    "accept": {"meet": (ClockKind.CLAIMANT_REVIEW,)},
    "dispute": {"meet": (ClockKind.CLAIMANT_REVIEW,), "start": (ClockKind.RE_RESPONSE,)},
    "withdraw": {"stop": tuple(ClockKind)},
    "escalate": {"stop": tuple(ClockKind)},
    "close": {"stop": tuple(ClockKind)},
    "accept_by_default": {"stop": tuple(ClockKind)},
}


def association_calendar() -> BusinessCalendar:
    """Return the default calendar with the association's extra closure days."""
    extra = frozenset(ClosureDay.objects.values_list("date", flat=True))
    if not extra:
        return DEFAULT_CALENDAR
    return BusinessCalendar(extra_closure_dates=extra)


def policy_for(*, case) -> SlaPolicy:
    """Return the provider's override for the case's kind and priority, else the default policy.

    Without any row (a fresh test database) the targets of DESIGN.md apply.
    """
    policies = SlaPolicy.objects.filter(case_kind=case.kind, priority=case.priority)
    policy = (
        policies.filter(provider_id=case.respondent_id).first()
        or policies.filter(provider__isnull=True).first()
    )
    return policy or SlaPolicy.with_design_defaults(case_kind=case.kind, priority=case.priority)


@dataclass(frozen=True)
class ClockTimes:
    """Counting rules of one clock, bound to a calendar."""

    basis: str
    calendar: BusinessCalendar

    def advance(self, start: datetime, duration: timedelta) -> datetime:
        if self.basis == TimeBasis.BUSINESS:
            return add_business_time(start, duration, self.calendar)
        return start + duration

    def between(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        if self.basis == TimeBasis.BUSINESS:
            return business_time_between(start, end, self.calendar)
        return end - start


def _times(clock: Clock, calendar: BusinessCalendar | None) -> ClockTimes:
    return ClockTimes(clock.basis, calendar or DEFAULT_CALENDAR)


def clock_consumed(clock: Clock, now: datetime, calendar: BusinessCalendar | None = None) -> timedelta:
    """Return the counted time the clock has used up to ``now`` (pauses excluded)."""
    consumed = clock.consumed
    if clock.status == ClockStatus.RUNNING and clock.segment_started_at:
        consumed += _times(clock, calendar).between(clock.segment_started_at, now)
    elif clock.stopped_at and clock.segment_started_at:
        consumed += _times(clock, calendar).between(clock.segment_started_at, clock.stopped_at)
    return consumed


def _threshold_moment(clock: Clock, threshold: int, times: ClockTimes) -> datetime:
    needed = clock.auto_accept_after if threshold == ACCEPT_BY_DEFAULT else clock.target * threshold / 100
    remaining = needed - clock.consumed
    return times.advance(clock.segment_started_at, max(remaining, timedelta(0)))


def _all_thresholds(clock: Clock) -> list[int]:
    thresholds = sorted({*clock.thresholds, BREACH})
    if clock.auto_accept_after:
        thresholds.append(ACCEPT_BY_DEFAULT)
    return thresholds


def _reschedule(clock: Clock, calendar: BusinessCalendar | None) -> None:
    """Recompute due time and the next unrecorded threshold of a running clock."""
    times = _times(clock, calendar)
    clock.due_at = _threshold_moment(clock, BREACH, times)
    recorded = set(clock.marks.values_list("threshold", flat=True)) if clock.pk else set()
    pending = [t for t in _all_thresholds(clock) if t not in recorded]
    if pending:
        clock.next_threshold = pending[0]
        clock.next_threshold_at = _threshold_moment(clock, pending[0], times)
    else:
        clock.next_threshold = None
        clock.next_threshold_at = None
    clock.version += 1


def _schedule_check_on_commit(clock: Clock) -> None:
    """Queue an ETA check for the clock's next threshold once the transaction commits.

    Thresholds further away than the horizon are left to the periodic scheduler: a broker
    redelivers unacknowledged ETA tasks after its visibility timeout, so far-future ETAs only
    pile up duplicates.
    """
    from claims.tasks import clock_check

    if clock.next_threshold_at is None:
        return
    horizon = timedelta(seconds=settings.SLA_ETA_HORIZON_SECONDS)
    if clock.next_threshold_at - timezone.now() > horizon:
        return
    transaction.on_commit(
        partial(
            clock_check.apply_async,
            kwargs={"clock_id": clock.pk, "version": clock.version},
            eta=clock.next_threshold_at,
        )
    )


def clock_start(*, case, kind: str, now: datetime, policy: SlaPolicy, calendar=None) -> Clock:
    target, basis = policy.target_for(kind)
    clock = Clock(
        case=case,
        kind=kind,
        status=ClockStatus.RUNNING,
        target=target,
        basis=basis,
        thresholds=sorted(int(t) for t in policy.warning_thresholds if 0 < int(t) < BREACH),
        escalate_on_breach=policy.escalate_on_breach and kind != ClockKind.CLAIMANT_REVIEW,
        auto_accept_after=policy.review_accept_after if kind == ClockKind.CLAIMANT_REVIEW else None,
        started_at=now,
        segment_started_at=now,
        version=0,
    )
    _reschedule(clock, calendar)
    clock.save()
    _schedule_check_on_commit(clock)
    return clock


def clock_pause(*, clock: Clock, now: datetime, calendar=None) -> None:
    if clock.status != ClockStatus.RUNNING:
        return
    clock.consumed = clock_consumed(clock, now, calendar)
    clock.status = ClockStatus.PAUSED
    clock.segment_started_at = None
    clock.paused_at = now
    clock.next_threshold = None
    clock.next_threshold_at = None
    clock.version += 1
    clock.save()


def clock_resume(*, clock: Clock, now: datetime, calendar=None) -> None:
    if clock.status != ClockStatus.PAUSED:
        return
    clock.status = ClockStatus.RUNNING
    clock.segment_started_at = now
    clock.paused_at = None
    _reschedule(clock, calendar)
    clock.save()
    _schedule_check_on_commit(clock)


def clock_finish(*, clock: Clock, now: datetime, met: bool, calendar=None) -> None:
    """Stop a live clock: met (its obligation fulfilled) or stopped (the case moved on)."""
    if not clock.is_live:
        return
    if met and clock.status == ClockStatus.RUNNING:
        # A breach that fell due but was not yet processed is still a breach: record it now.
        _record_due_marks(clock, now, calendar, notify=True, allow_actions=False)
    clock.consumed = clock_consumed(clock, now, calendar)
    clock.status = ClockStatus.MET if met else ClockStatus.STOPPED
    clock.stopped_at = now
    clock.segment_started_at = None
    clock.next_threshold = None
    clock.next_threshold_at = None
    clock.version += 1
    clock.save()


def clocks_apply_transition(*, case, action: str, now: datetime) -> None:
    """Start, meet, pause, resume or stop the case's clocks for one transition."""
    rules = CLOCK_RULES.get(action)
    if not rules:
        return
    calendar = association_calendar()
    live = {
        c.kind: c
        for c in case.clocks.select_for_update().filter(status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED])
    }
    for kind in rules.get("meet", ()):
        if kind in live:
            clock_finish(clock=live.pop(kind), now=now, met=True, calendar=calendar)
    for kind in rules.get("stop", ()):
        if kind in live:
            clock_finish(clock=live.pop(kind), now=now, met=False, calendar=calendar)
    for kind in rules.get("pause", ()):
        if kind in live:
            clock_pause(clock=live[kind], now=now, calendar=calendar)
    for kind in rules.get("resume", ()):
        if kind in live:
            clock_resume(clock=live[kind], now=now, calendar=calendar)
    if rules.get("start"):
        policy = policy_for(case=case)
        for kind in rules["start"]:
            if kind not in live:
                clock_start(case=case, kind=kind, now=now, policy=policy, calendar=calendar)


def _record_due_marks(
    clock: Clock, now: datetime, calendar, *, notify: bool, allow_actions: bool
) -> list[int]:
    """Record every threshold of a running clock that has fallen due; return those newly recorded."""
    from claims.services.timeline import event_record

    times = _times(clock, calendar)
    recorded = set(clock.marks.values_list("threshold", flat=True))
    newly = []
    for threshold in _all_thresholds(clock):
        if threshold in recorded:
            continue
        moment = _threshold_moment(clock, threshold, times)
        if moment > now:
            break
        _, created = ClockMark.objects.get_or_create(
            clock=clock, threshold=threshold, defaults={"due_at": moment, "recorded_at": now}
        )
        if not created:
            continue
        newly.append(threshold)
        if threshold == ACCEPT_BY_DEFAULT:
            continue
        if threshold == BREACH:
            clock.breached_at = moment
        if clock.kind == ClockKind.CLAIMANT_REVIEW:
            action = "sla_reminder"  # the claimant's review clock only reminds
        else:
            action = "sla_breached" if threshold >= BREACH else "sla_warning"
        event = event_record(
            case=clock.case,
            actor=None,
            action=action,
            data={"clock": clock.kind, "threshold": threshold, "due_at": clock.due_at, "at": moment},
        )
        if notify:
            from notifications.services import notify_on_commit

            notify_on_commit(event=event)
    return newly


def clock_process(*, clock_id: int, version: int | None = None, now: datetime | None = None) -> list[int]:
    """Record the thresholds of one clock that have fallen due, exactly once.

    Called by the ETA task (with the version it was scheduled for: a superseded schedule
    exits) and by the sweep (without). Locks the case, then the clock, as the transition
    service does, so it never deadlocks with a transition.
    """
    from claims.models import Case, CaseState
    from claims.services.transitions import case_transition

    now = now or timezone.now()
    with transaction.atomic():
        case_id = Clock.objects.filter(pk=clock_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return []
        case = Case.objects.select_for_update().get(pk=case_id)
        clock = Clock.objects.select_for_update().get(pk=clock_id)
        if clock.status != ClockStatus.RUNNING or (version is not None and clock.version != version):
            return []
        calendar = association_calendar()
        clock.case = case
        newly = _record_due_marks(clock, now, calendar, notify=True, allow_actions=True)
        _reschedule(clock, calendar)
        clock.save()
        if (
            BREACH in newly
            and clock.escalate_on_breach
            and case.state not in (CaseState.ESCALATED, *_closed())
        ):
            case_transition(
                case=case, action="escalate", actor=None, payload={"reason": f"{clock.kind} clock breached"}
            )
        elif ACCEPT_BY_DEFAULT in newly and case.state == CaseState.RESPONDED:
            case_transition(
                case=case,
                action="accept_by_default",
                actor=None,
                payload={"reason": "the claimant did not answer the response within the review period"},
            )
        else:
            _schedule_check_on_commit(clock)
    return newly


def _closed():
    from claims.models import CLOSED_STATES

    return CLOSED_STATES


def clocks_due(*, now: datetime, limit: int = 10000) -> list[int]:
    """Return ids of running clocks with a threshold due by ``now`` (one indexed query)."""
    return list(
        Clock.objects.filter(next_threshold_at__lte=now)
        .order_by("next_threshold_at")
        .values_list("id", flat=True)[:limit]
    )


def clocks_sweep(*, now: datetime | None = None, limit: int = 10000) -> int:
    """Process every clock with a due threshold; return how many thresholds were recorded."""
    now = now or timezone.now()
    return sum(
        len(clock_process(clock_id=clock_id, now=now)) for clock_id in clocks_due(now=now, limit=limit)
    )


def clocks_schedule_upcoming(*, now: datetime | None = None) -> int:
    """Queue ETA checks for thresholds that fall due within the horizon (see _schedule_check_on_commit)."""
    from claims.tasks import clock_check

    now = now or timezone.now()
    horizon = now + timedelta(seconds=settings.SLA_ETA_HORIZON_SECONDS)
    upcoming = Clock.objects.filter(next_threshold_at__gt=now, next_threshold_at__lte=horizon).values_list(
        "id", "version", "next_threshold_at"
    )
    count = 0
    for clock_id, version, eta in upcoming.iterator():
        clock_check.apply_async(kwargs={"clock_id": clock_id, "version": version}, eta=eta)
        count += 1
    return count
