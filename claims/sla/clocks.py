"""Starting, pausing, meeting and checking SLA clocks.

Every function here runs inside the caller's transaction with the case row locked (the
transition service, or ``clock_process`` which locks it itself). Anything that leaves the
process (ETA tasks, notifications) is queued on commit.
"""

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from claims.bulk import any_of, insert_rows
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


@dataclass(frozen=True)
class _SlaSettings:
    policies: dict[tuple[str, str, int | None], SlaPolicy]
    calendar: BusinessCalendar
    loaded_at: float


_settings_cache: _SlaSettings | None = None


def _sla_settings() -> _SlaSettings:
    """Return every policy and the calendar, read at most once per SLA_SETTINGS_CACHE_SECONDS.

    Every filing and every clock check needs them, and they change a few times a year: two
    queries per filing for rows that never change add up. An edit in this process clears the
    cache at once (``sla_settings_clear``, connected to the models' signals); other processes
    see it within the cache period.
    """
    global _settings_cache
    cached = _settings_cache
    now = time.monotonic()
    if cached is not None and now - cached.loaded_at < settings.SLA_SETTINGS_CACHE_SECONDS:
        return cached
    policies = {(p.case_kind, p.priority, p.provider_id): p for p in SlaPolicy.objects.all()}
    extra = frozenset(ClosureDay.objects.values_list("date", flat=True))
    calendar = BusinessCalendar(extra_closure_dates=extra) if extra else DEFAULT_CALENDAR
    _settings_cache = _SlaSettings(policies=policies, calendar=calendar, loaded_at=now)
    return _settings_cache


def sla_settings_clear(**_signal_kwargs) -> None:
    """Forget the cached policies and calendar (after an edit, and between tests)."""
    global _settings_cache
    _settings_cache = None


def association_calendar() -> BusinessCalendar:
    """Return the default calendar with the association's extra closure days."""
    return _sla_settings().calendar


def policy_for(*, case) -> SlaPolicy:
    """Return the provider's override for the case's kind and priority, else the default policy.

    Without any row (a fresh test database) the targets of DESIGN.md apply.
    """
    policies = _sla_settings().policies
    policy = policies.get((case.kind, case.priority, case.respondent_id)) or policies.get(
        (case.kind, case.priority, None)
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


def _reschedule(clock: Clock, calendar: BusinessCalendar | None, recorded: set[int] | None = None) -> None:
    """Recompute due time and the next unrecorded threshold of a running clock."""
    times = _times(clock, calendar)
    clock.due_at = _threshold_moment(clock, BREACH, times)
    if recorded is None:
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


def clock_build(*, case, kind: str, now: datetime, policy: SlaPolicy, calendar=None) -> Clock:
    """Return a new running clock of ``kind`` for the case, scheduled but not saved."""
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
    _reschedule(clock, calendar, recorded=set())
    return clock


def clock_start(*, case, kind: str, now: datetime, policy: SlaPolicy, calendar=None) -> Clock:
    clock = clock_build(case=case, kind=kind, now=now, policy=policy, calendar=calendar)
    clock.save()
    _schedule_check_on_commit(clock)
    return clock


def clocks_build_for_new_case(*, case, action: str, now: datetime) -> list[Clock]:
    """Return the clocks ``action`` starts on a case that has none yet, built but not saved.

    The filing service writes them with the case's other rows in one insert, then calls
    ``clocks_schedule_on_commit``.
    """
    kinds = CLOCK_RULES.get(action, {}).get("start", ())
    if not kinds:
        return []
    policy = policy_for(case=case)
    calendar = association_calendar()
    return [clock_build(case=case, kind=kind, now=now, policy=policy, calendar=calendar) for kind in kinds]


def clocks_schedule_on_commit(clocks: list[Clock]) -> None:
    """Queue the ETA checks of clocks just written by a bulk insert."""
    for clock in clocks:
        _schedule_check_on_commit(clock)


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
        _record_due_marks([clock], now, calendar)
    clock.consumed = clock_consumed(clock, now, calendar)
    if met:
        # The dashboards' times to acknowledge and to respond, in both bases, pauses excluded.
        from claims.dashboards.elapsed import clock_elapsed

        clock.elapsed_calendar, clock.elapsed_business = clock_elapsed(
            clock=clock, now=now, calendar=calendar
        )
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


def _mark_action(clock: Clock, threshold: int) -> str:
    if clock.kind == ClockKind.CLAIMANT_REVIEW:
        return "sla_reminder"  # the claimant's review clock only reminds
    return "sla_breached" if threshold >= BREACH else "sla_warning"


_SCHEDULE_FIELDS = ("breached_at", "due_at", "next_threshold", "next_threshold_at", "version")


def _save_schedules(clocks: list[Clock]) -> None:
    """Write the recomputed schedule of many clocks in one statement."""
    if not clocks:
        return
    if connection.vendor != "postgresql" or len(clocks) < 100:
        for clock in clocks:
            Clock.objects.filter(pk=clock.pk).update(
                **{name: getattr(clock, name) for name in _SCHEDULE_FIELDS}
            )
        return
    # Django's bulk_update builds a CASE per field and row; COPY into a scratch table and one
    # UPDATE … FROM it is a fraction of the cost for thousands of clocks.
    table = Clock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS sla_schedule_update (id bigint, breached_at timestamptz, "
            "due_at timestamptz, next_threshold smallint, next_threshold_at timestamptz, version integer) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy("COPY sla_schedule_update FROM STDIN") as copy:
            for clock in clocks:
                copy.write_row([clock.pk, *(getattr(clock, name) for name in _SCHEDULE_FIELDS)])
        cursor.execute(
            f"""
            UPDATE {table} AS clock
            SET breached_at = v.breached_at, due_at = v.due_at, next_threshold = v.next_threshold,
                next_threshold_at = v.next_threshold_at, version = v.version
            FROM sla_schedule_update AS v
            WHERE clock.id = v.id
            """
        )
        cursor.execute("TRUNCATE sla_schedule_update")


def _record_due_marks(clocks: list[Clock], now: datetime, calendar) -> dict[int, list[int]]:
    """Record every threshold of these running clocks that has fallen due, in bulk.

    Call with the clocks' cases locked. Returns the newly recorded thresholds per clock id.
    The unique constraint on (clock, threshold) is the last line of defence: a second
    recording of the same threshold aborts the transaction instead of doubling a breach.
    """
    from claims.services.timeline import events_record_bulk
    from notifications.services import notify_many_on_commit

    recorded: dict[int, set[int]] = {clock.pk: set() for clock in clocks}
    for clock_id, threshold in (
        ClockMark.objects.filter(clock_id__in=any_of(recorded))
        .order_by()
        .values_list("clock_id", "threshold")
    ):
        recorded[clock_id].add(threshold)
    marks, entries, newly = [], [], {}
    for clock in clocks:
        times = _times(clock, calendar)
        newly[clock.pk] = []
        for threshold in _all_thresholds(clock):
            if threshold in recorded[clock.pk]:
                continue
            moment = _threshold_moment(clock, threshold, times)
            if moment > now:
                break
            newly[clock.pk].append(threshold)
            recorded[clock.pk].add(threshold)
            marks.append((clock.pk, threshold, moment, now))
            if threshold == BREACH:
                clock.breached_at = moment
            if threshold != ACCEPT_BY_DEFAULT:
                data = {
                    "clock": clock.kind,
                    "threshold": threshold,
                    "due_at": clock.due_at.isoformat(),
                    "at": moment.isoformat(),
                }
                entries.append((clock.case_id, _mark_action(clock, threshold), data))
        _reschedule(clock, calendar, recorded=recorded[clock.pk])
    insert_rows(ClockMark, ["clock", "threshold", "due_at", "recorded_at"], marks)
    events = events_record_bulk(entries=entries, now=now)
    _save_schedules(clocks)
    notify_many_on_commit(events=events)
    return newly


def _follow_up(case_id: int, case_state: str, clock: Clock, newly: list[int]) -> str | None:
    """Escalate on a breach or accept by default when the policy says so; return the new state, if any."""
    from claims.models import CLOSED_STATES, CaseState
    from claims.services.transitions import case_transition

    if (
        BREACH in newly
        and clock.escalate_on_breach
        and case_state not in (CaseState.ESCALATED, *CLOSED_STATES)
    ):
        return case_transition(
            case=case_id, action="escalate", actor=None, payload={"reason": f"{clock.kind} clock breached"}
        ).state
    if ACCEPT_BY_DEFAULT in newly and case_state == CaseState.RESPONDED:
        return case_transition(
            case=case_id,
            action="accept_by_default",
            actor=None,
            payload={"reason": "the claimant did not answer the response within the review period"},
        ).state
    return None


def clock_process(*, clock_id: int, version: int | None = None, now: datetime | None = None) -> list[int]:
    """Record the thresholds of one clock that have fallen due, exactly once.

    Called by the ETA task with the version it was scheduled for: a task for a superseded
    schedule exits. Locks the case, then the clock, as the transition service does, so it
    never deadlocks with a transition.
    """
    from claims.models import Case

    now = now or timezone.now()
    with transaction.atomic():
        case_id = Clock.objects.filter(pk=clock_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return []
        case = Case.objects.select_for_update().get(pk=case_id)
        clock = Clock.objects.select_for_update().get(pk=clock_id)
        if clock.status != ClockStatus.RUNNING or (version is not None and clock.version != version):
            return []
        newly = _record_due_marks([clock], now, association_calendar())[clock.pk]
        if not _follow_up(case.pk, case.state, clock, newly):
            _schedule_check_on_commit(clock)
    return newly


_SWEEP_CLOCK_FIELDS = (
    "case",
    "kind",
    "status",
    "target",
    "basis",
    "thresholds",
    "escalate_on_breach",
    "auto_accept_after",
    "segment_started_at",
    "consumed",
    "due_at",
    "next_threshold",
    "next_threshold_at",
    "breached_at",
    "version",
)


@dataclass(slots=True)
class DueClock:
    """The fields of a clock that the sweep reads and writes, without a model instance.

    Building 10,000 model instances costs more than the rest of the sweep's Python work; the
    schedule functions only read and set these attributes, so they take either.
    """

    pk: int
    case_id: int
    kind: str
    status: str
    target: timedelta
    basis: str
    thresholds: list
    escalate_on_breach: bool
    auto_accept_after: timedelta | None
    segment_started_at: datetime | None
    consumed: timedelta
    due_at: datetime | None
    next_threshold: int | None
    next_threshold_at: datetime | None
    breached_at: datetime | None
    version: int
    case_state: str


def _lock_due_clocks(*, now: datetime, limit: int) -> list:
    """Lock up to ``limit`` due clocks together with their cases, each carrying ``case_state``.

    One statement locks both. SKIP LOCKED never waits, so it cannot deadlock with a
    transition (which locks the case, then its clocks): a case that a transition or another
    sweeper holds is skipped now and caught by the next sweep. Databases without row locks
    (the embedded SQLite) serialise writers anyway and get model instances from the ORM.
    """
    from claims.models import Case

    if connection.vendor != "postgresql":
        clocks = list(
            Clock.objects.filter(next_threshold_at__lte=now)
            .select_related("case")
            .order_by("case_id", "pk")[:limit]
        )
        for clock in clocks:
            clock.case_state = clock.case.state
        return clocks
    quote = connection.ops.quote_name
    names = ("id", *_SWEEP_CLOCK_FIELDS)
    columns = ", ".join(f"clock.{quote(Clock._meta.get_field(name).column)}" for name in names)
    sql = (
        f"SELECT {columns}, owner.state "
        f"FROM {quote(Clock._meta.db_table)} AS clock "
        f"JOIN {quote(Case._meta.db_table)} AS owner ON owner.id = clock.case_id "
        "WHERE clock.next_threshold_at <= %s ORDER BY clock.case_id, clock.id LIMIT %s "
        "FOR UPDATE OF clock, owner SKIP LOCKED"
    )
    thresholds_at = names.index("thresholds")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, limit])
        rows = cursor.fetchall()
    clocks = []
    for row in rows:
        row = list(row)
        if isinstance(row[thresholds_at], str):  # Django's psycopg setup returns jsonb as text
            row[thresholds_at] = json.loads(row[thresholds_at])
        clocks.append(DueClock(*row))
    return clocks


def _sweep_batch(*, now: datetime, batch_size: int, calendar) -> int | None:
    """Process one batch of due clocks in one transaction; None when nothing was left to lock."""
    with transaction.atomic():
        clocks = _lock_due_clocks(now=now, limit=batch_size)
        if not clocks:
            return None
        case_states = {clock.case_id: clock.case_state for clock in clocks}
        newly = _record_due_marks(clocks, now, calendar)
        for clock in clocks:
            # Two clocks of one case may breach in the same sweep: the second sees the escalation.
            moved_to = _follow_up(clock.case_id, case_states[clock.case_id], clock, newly[clock.pk])
            if moved_to:
                case_states[clock.case_id] = moved_to
            else:
                _schedule_check_on_commit(clock)
        return sum(len(thresholds) for thresholds in newly.values())


def clocks_sweep(*, now: datetime | None = None, batch_size: int = 10000) -> int:
    """Record every due threshold of every running clock; return how many were recorded.

    One indexed query (on ``next_threshold_at``) finds the due clocks; each batch is
    processed with bulk inserts and updates. Safe to run on several workers at once.
    """
    now = now or timezone.now()
    calendar = association_calendar()
    total = 0
    while (recorded := _sweep_batch(now=now, batch_size=batch_size, calendar=calendar)) is not None:
        total += recorded
    return total


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
