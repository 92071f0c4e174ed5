"""Thin Celery tasks for webhooks: load by id, call a service."""

from celery import shared_task

from notifications.webhooks.services import (
    webhook_delivery_attempt,
    webhook_endpoint_alert_disabled,
    webhooks_queue_due,
)


@shared_task(acks_late=True)
def webhook_deliver(*, delivery_id: int) -> str | None:
    """Make a delivery's due attempt; a duplicate, early or late task does nothing."""
    return webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def webhooks_retry_due() -> int:
    """Queue the attempts that are due (Celery beat, every minute)."""
    return webhooks_queue_due()


@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def webhook_endpoint_disabled_alert(self, *, endpoint_id: int) -> int:
    return webhook_endpoint_alert_disabled(endpoint_id=endpoint_id)
