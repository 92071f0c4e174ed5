from celery import shared_task

from notifications.services import notifications_deliver


@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def deliver_event_notifications(self, *, event_id: int) -> int:
    return notifications_deliver(event_id=event_id)


@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def deliver_events_notifications(self, *, event_ids: list[int]) -> int:
    return sum(notifications_deliver(event_id=event_id) for event_id in event_ids)
