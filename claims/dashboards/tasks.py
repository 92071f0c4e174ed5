"""Thin Celery tasks keeping the dashboards' roll-up current (scheduled by beat, see settings)."""

from celery import shared_task

from claims.dashboards.rollup import rollups_refresh


@shared_task(acks_late=True)
def dashboards_refresh() -> int:
    """Recompute the roll-up months of the cases changed since the last refresh."""
    return rollups_refresh().rows


@shared_task(acks_late=True)
def dashboards_rebuild() -> int:
    """Rebuild the whole roll-up (nightly), repairing anything the timeline did not announce."""
    return rollups_refresh(full=True).rows
