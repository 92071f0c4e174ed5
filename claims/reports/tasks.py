"""Thin Celery tasks of the reports."""

from celery import shared_task

from claims.reports.transparency import transparency_summary


@shared_task(ignore_result=True)
def transparency_warm() -> None:
    """Recompute the public summary into the cache before the cached one expires."""
    transparency_summary(refresh=True)
