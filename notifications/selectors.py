"""Reads of a user's inbox; every one is scoped to the user it is asked for."""

from django.db.models import QuerySet
from django.http import Http404

from notifications.models import Notification


def notifications_for(*, user) -> QuerySet[Notification]:
    """Return the user's own notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_get_for_user(*, user, notification_id: int) -> Notification:
    """Return one of the user's notifications, or raise Http404 for anybody else's."""
    try:
        return notifications_for(user=user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None


def notifications_unread_count(*, user) -> int:
    """Count the user's unread notifications (one COUNT on the inbox index)."""
    return Notification.objects.unread().filter(recipient=user).count()
