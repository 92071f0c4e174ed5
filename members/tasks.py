"""Thin Celery tasks of the members app."""

from celery import shared_task

from members.idempotency import idempotency_records_purge


@shared_task
def idempotency_purge() -> int:
    """Forget the Idempotency-Keys older than their time to live."""
    return idempotency_records_purge()
