from celery import shared_task

from notifications.services import notifications_deliver


@shared_task(bind=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=8)
def deliver_event_notifications(self, *, event_id: int) -> int:
    return notifications_deliver(event_id=event_id)
