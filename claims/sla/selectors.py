"""Reads of SLA clocks for pages: what each clock shows, due-next queues, list filters."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from claims.sla.clocks import BREACH, association_calendar, clock_consumed
from claims.sla.models import Clock, ClockKind, ClockMark, ClockStatus

CLOCK_FILTERS = ("due_24h", "warning", "breached")


@dataclass(frozen=True)
class ClockView:
    """What a person needs to see of one clock."""

    clock: Clock
    kind_label: str
    state: str  # running, paused, warning, breached, met, met_late, stopped
    due_at: datetime | None
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


def clock_views_for_case(*, case, now: datetime | None = None) -> list[ClockView]:
    """Return every clock of the case with its due time, remaining time and share elapsed."""
    now = now or timezone.now()
    calendar = association_calendar()
    views = []
    for clock in case.clocks.order_by("started_at", "id"):
        consumed = clock_consumed(clock, now, calendar)
        share = consumed / clock.target if clock.target else 1.0
        views.append(
            ClockView(
                clock=clock,
                kind_label=ClockKind(clock.kind).label,
                state=_state(clock, share),
                due_at=clock.due_at if clock.is_live else None,
                remaining=(clock.target - consumed) if clock.is_live else None,
                share_elapsed=share,
            )
        )
    return views


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
        return queryset.filter(Exists(Clock.objects.filter(case=OuterRef("pk"), breached_at__isnull=False)))
    return queryset


def clocks_due_next(*, cases: QuerySet, limit: int = 50) -> QuerySet[Clock]:
    """Return the running provider-side clocks of these cases, soonest due first."""
    return (
        Clock.objects.filter(
            case__in=cases,
            status=ClockStatus.RUNNING,
            kind__in=[ClockKind.ACKNOWLEDGEMENT, ClockKind.RESPONSE, ClockKind.RE_RESPONSE],
        )
        .select_related("case", "case__claimant")
        .order_by("due_at")[:limit]
    )
