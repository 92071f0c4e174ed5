from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One entry in a user's in-app inbox: about a case event, or an alert to an organisation's admins."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "claims.CaseEvent", on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Redelivered tasks never notify a person twice about one event.
            models.UniqueConstraint(fields=["recipient", "event"], name="notification_once_per_event"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]

    def __str__(self):
        return self.subject


class EventType(models.TextChoices):
    """What a person may be told about; each has its own choice of channels.

    The case events are the keys of ``notifications.services.AUDIENCES``; ``digest`` is the
    daily list of deadlines (``notifications.digest``).
    """

    SUBMIT = "submit", _("New case filed")
    ACKNOWLEDGE = "acknowledge", _("Case acknowledged")
    REQUEST_INFO = "request_info", _("Information requested")
    PROVIDE_INFO = "provide_info", _("Information provided")
    RESPOND = "respond", _("Provider responded")
    ACCEPT = "accept", _("Response accepted")
    DISPUTE = "dispute", _("Response disputed")
    WITHDRAW = "withdraw", _("Case withdrawn")
    ESCALATE = "escalate", _("Case escalated")
    CLOSE = "close", _("Case closed by the association")
    ACCEPT_BY_DEFAULT = "accept_by_default", _("Resolved as accepted by default")
    SLA_WARNING = "sla_warning", _("Deadline warning")
    SLA_BREACHED = "sla_breached", _("Deadline breached")
    SLA_REMINDER = "sla_reminder", _("Review reminder")
    RESPONSE_ADJUDICATED = "response_adjudicated", _("Response adjudicated by the association")
    DIGEST = "digest", _("Daily digest of deadlines")


class NotificationPreference(models.Model):
    """One person's channels for one event type.

    Without a row both channels are on: a new user hears about everything until they choose.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices)
    inbox = models.BooleanField(_("inbox"), default=True)
    email = models.BooleanField(_("email"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        ordering = ["user", "event_type"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event_type"], name="notification_preference_unique"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.event_type} inbox={self.inbox} email={self.email}"


class Delivery(models.Model):
    """The record that one person was told about one case event, through the channels they chose.

    Written in the same transaction as the inbox entry and the email send, so a retried or
    duplicated task finds it and tells nobody twice, even someone who reads email only.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    event = models.ForeignKey("claims.CaseEvent", on_delete=models.CASCADE, related_name="deliveries")
    inbox = models.BooleanField(_("inbox"))
    email = models.BooleanField(_("email"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="delivery_once_per_event"),
        ]

    def __str__(self):
        return f"{self.event_id} -> {self.recipient_id}"


class DigestRun(models.Model):
    """A daily digest sent to one person on one (Tokyo) day; the unique constraint keeps it to one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("date"))
    sent_at = models.DateTimeField(_("sent"))
    clock_count = models.PositiveIntegerField(_("deadlines listed"))

    class Meta:
        verbose_name = _("digest run")
        verbose_name_plural = _("digest runs")
        ordering = ["-date", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="digest_once_per_day")]

    def __str__(self):
        return f"{self.user_id}@{self.date}"


# The webhook models live in their own sub-package; importing them here registers them with the app.
from notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401


class OutboxEntry(models.Model):
    """A case event whose notifications and webhooks are still to be handed to a worker.

    Written in the transaction that records the event, so nothing is lost when the broker is
    down or the process dies after the commit; deleted in the transaction that queues the work.
    """

    event = models.ForeignKey("claims.CaseEvent", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox entries")

    def __str__(self):
        return f"event {self.event_id}"
