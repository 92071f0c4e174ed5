"""Reads of SLA clocks for pages: what each clock shows, due-next queues, list filters."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from claims.sla.clocks import BREACH, association_calendar, clock_consumed
from claims.sla.models import Clock, ClockKind, ClockMark, ClockStatus

CLOCK_FILTERS = ("due_24h", "warning", "breached")
# The provider's obligations. The claimant's review clock only sends reminders: passing its
# target is no breach, so it neither flags a case as breached nor joins a provider's queue.
PROVIDER_CLOCKS = (ClockKind.ACKNOWLEDGEMENT, ClockKind.RESPONSE, ClockKind.RE_RESPONSE)


@dataclass(frozen=True)
class ClockView:
    """What a person needs to see of one clock."""

    clock: Clock
    kind_label: str
    state: str  # running, paused, warning, breached, met, met_late, stopped
    due_at: datetime | None  # only while running: a paused clock's due time moves when it resumes
    remaining: timedelta | None  # counted (business or calendar) time left; negative once overdue
    share_elapsed: float  # 0.0 … 1.0+, of the target

    @property
    def percent(self) -> int:
        return round(min(self.share_elapsed, 1.0) * 100)


def _state(clock: Clock, share: float) -> str:
    if clock.status == ClockStatus.MET:
        return "met_late" if clock.breached_at else "met"
    if clock.status == ClockStatus.STOPPED:
        return "breached" if clock.breached_at else "stopped"
    if clock.breached_at or share >= 1:
        return "breached"
    if clock.status == ClockStatus.PAUSED:
        return "paused"
    warning = min(clock.thresholds or [BREACH]) / 100
    return "warning" if share >= warning else "running"


def _clock_view(clock: Clock, now: datetime, calendar) -> ClockView:
    consumed = clock_consumed(clock, now, calendar)
    share = consumed / clock.target if clock.target else 1.0
    return ClockView(
        clock=clock,
        kind_label=ClockKind(clock.kind).label,
        state=_state(clock, share),
        due_at=clock.due_at if clock.status == ClockStatus.RUNNING else None,
        remaining=(clock.target - consumed) if clock.is_live else None,
        share_elapsed=share,
    )


def clock_views(*, clocks, now: datetime | None = None) -> list[ClockView]:
    """Return what each of these clocks shows at ``now``; the calendar is read once for all."""
    now = now or timezone.now()
    calendar = association_calendar()
    return [_clock_view(clock, now, calendar) for clock in clocks]


def clock_views_for_case(*, case, now: datetime | None = None) -> list[ClockView]:
    """Return every clock of the case with its due time, remaining time and share elapsed."""
    return clock_views(clocks=case.clocks.order_by("started_at", "id"), now=now)


def cases_annotate_clocks(queryset: QuerySet) -> QuerySet:
    """Annotate each case with ``next_due_at`` (its soonest running clock) and ``clock_breached``.

    Both are correlated subqueries of the one list query, so a page of cases costs no query per row.
    """
    soonest = (
        Clock.objects.filter(case=OuterRef("pk"), status=ClockStatus.RUNNING)
        .order_by()
        .values("case")
        .annotate(soonest=Min("due_at"))
        .values("soonest")
    )
    return queryset.annotate(next_due_at=Subquery(soonest), clock_breached=Exists(_breached_clocks()))


def _breached_clocks() -> QuerySet[Clock]:
    return Clock.objects.filter(case=OuterRef("pk"), kind__in=PROVIDER_CLOCKS, breached_at__isnull=False)


def cases_filter_by_clock(queryset: QuerySet, clock_filter: str, *, now: datetime | None = None) -> QuerySet:
    """Narrow a case queryset to those with a clock due within 24 h, in warning, or breached."""
    now = now or timezone.now()
    live = Clock.objects.filter(case=OuterRef("pk"), status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED])
    if clock_filter == "due_24h":
        soon = live.filter(status=ClockStatus.RUNNING, due_at__gt=now, due_at__lte=now + timedelta(hours=24))
        return queryset.filter(Exists(soon))
    if clock_filter == "warning":
        warned = ClockMark.objects.filter(clock=OuterRef("pk"), threshold__lt=BREACH)
        return queryset.filter(Exists(live.filter(breached_at__isnull=True).filter(Exists(warned))))
    if clock_filter == "breached":
        return queryset.filter(Exists(_breached_clocks()))
    return queryset


def clocks_due_next(*, cases: QuerySet, limit: int = 50) -> QuerySet[Clock]:
    """Return the running provider-side clocks of these cases, soonest due first."""
    return (
        Clock.objects.filter(
            case__in=cases,
            status=ClockStatus.RUNNING,
            kind__in=PROVIDER_CLOCKS,
        )
        .select_related("case", "case__claimant")
        .order_by("due_at", "id")[:limit]
    )
