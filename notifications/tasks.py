from celery import shared_task

from notifications.services import notifications_deliver
from notifications.webhooks import tasks as webhook_tasks  # noqa: F401  (registers them with Celery)
from notifications.webhooks.services import webhooks_enqueue_for_events


# Nothing queues this one any more (the outbox dispatcher queues deliver_events_notifications);
# it stays registered so that messages queued by the release before the outbox still run.
@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def deliver_event_notifications(self, *, event_id: int) -> int:
    delivered = notifications_deliver(event_id=event_id)
    webhooks_enqueue_for_events(event_ids=[event_id])
    return delivered


@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def deliver_events_notifications(self, *, event_ids: list[int]) -> int:
    delivered = sum(notifications_deliver(event_id=event_id) for event_id in event_ids)
    webhooks_enqueue_for_events(event_ids=event_ids)
    return delivered


@shared_task(ignore_result=True)
def dispatch_outbox() -> int:
    """Hand the events waiting in the outbox to the delivery tasks (kicked after commits, and by beat)."""
    from notifications.outbox import outbox_dispatch

    return outbox_dispatch()


@shared_task(bind=True, max_retries=6, default_retry_delay=600)
def send_daily_digest(self) -> int:
    """Send today's digests; retry while some emails fail (those already sent are not sent again)."""
    from notifications.digest import digest_send

    result = digest_send()
    if result.failed:
        raise self.retry()
    return result.sent
