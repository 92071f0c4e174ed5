"""Thin Celery tasks: load by id, call a service."""

from celery import shared_task

from claims.integrity import tasks as integrity_tasks  # noqa: F401  (registers them with Celery)
from claims.sla.clocks import clock_process, clocks_schedule_upcoming, clocks_sweep


@shared_task(acks_late=True)
def clock_check(*, clock_id: int, version: int) -> list[int]:
    """Record the thresholds of one clock that have fallen due (its ETA task)."""
    return clock_process(clock_id=clock_id, version=version)


@shared_task(acks_late=True)
def sla_sweep() -> int:
    """Catch every due threshold, including those whose ETA task was lost."""
    return clocks_sweep()


@shared_task
def sla_schedule_upcoming() -> int:
    return clocks_schedule_upcoming()
