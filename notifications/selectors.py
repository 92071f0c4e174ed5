"""Reads of users' inboxes and notification preferences, each scoped to the users it is asked for."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from notifications.models import EventType, Notification, NotificationPreference


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


@dataclass(frozen=True)
class Channels:
    """Where one person hears about one event type."""

    inbox: bool = True
    email: bool = True

    @property
    def any(self) -> bool:
        return self.inbox or self.email


# With no preference row, a person hears about everything, in the inbox and by email.
DEFAULT_CHANNELS = Channels()


def notification_preferences_for(*, user) -> dict[str, Channels]:
    """Return the user's channels for every event type, defaults filled in for those never chosen."""
    chosen = {
        event_type: Channels(inbox=inbox, email=email)
        for event_type, inbox, email in NotificationPreference.objects.filter(user=user).values_list(
            "event_type", "inbox", "email"
        )
    }
    return {event_type: chosen.get(event_type, DEFAULT_CHANNELS) for event_type in EventType.values}


def notification_channels_for(*, users, event_type: str) -> dict[int, Channels]:
    """Return each of these users' channels for one event type, by user id (one query for all)."""
    user_ids = [user.pk for user in users]
    chosen = {
        user_id: Channels(inbox=inbox, email=email)
        for user_id, inbox, email in NotificationPreference.objects.filter(
            user_id__in=user_ids, event_type=event_type
        ).values_list("user_id", "inbox", "email")
    }
    return {user_id: chosen.get(user_id, DEFAULT_CHANNELS) for user_id in user_ids}
