"""Webhook endpoints, the deliveries made to them and every attempt of each delivery."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from members.models import Organisation

# The event type of the delivery sent by "Send test event"; it concerns no case.
PING = "ping"

# An attempt's ``error`` starts with one of these kinds; the rest is the technical detail.
ERROR_TIMEOUT = "timeout"
ERROR_CONNECTION = "connection"
ERROR_REQUEST = "request"
ERROR_ENDPOINT_DISABLED = "endpoint_disabled"
ERROR_LABELS = {
    ERROR_TIMEOUT: _("Timed out"),
    ERROR_CONNECTION: _("Could not connect"),
    ERROR_REQUEST: _("Request failed"),
    ERROR_ENDPOINT_DISABLED: _("Not sent: the endpoint is disabled"),
}


def error_label(error: str) -> str:
    """Return the translated kind of a stored error, e.g. "Timed out"; "" for no error."""
    if not error:
        return ""
    return str(ERROR_LABELS.get(error.partition(":")[0], error))


class DisabledReason(models.TextChoices):
    FAILING = "failing", _("Deliveries kept failing, so RightsDesk disabled the endpoint.")
    MANUAL = "manual", _("An administrator disabled the endpoint.")


class WebhookEndpoint(models.Model):
    """A URL of an organisation's own system that receives the case events it subscribed to.

    ``secret`` is kept as given, not hashed: every delivery is signed with it, so it must be
    readable. ``previous_secret`` keeps signing beside the new one for a while after a rotation,
    so that a receiver can switch without rejecting a delivery.
    """

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(
        _("why disabled"), max_length=16, choices=DisabledReason.choices, blank=True
    )
    # Deliveries in a row that gave up; a successful delivery sets it back to zero.
    consecutive_failures = models.PositiveIntegerField(_("failed deliveries in a row"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["organisation", "created_at", "id"]
        indexes = [models.Index(fields=["organisation", "is_active"], name="webhook_endpoint_org_active")]

    def __str__(self):
        return self.url

    def get_absolute_url(self):
        return reverse("webhooks:endpoint_detail", kwargs={"endpoint_id": self.pk})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event (or a test ping) for one endpoint, attempted until it succeeds or gives up.

    ``uuid`` is the receiver's deduplication key: it is the same in every attempt and replay.
    ``body`` holds the exact bytes that are signed and sent, so every attempt sends the same.
    ``next_attempt_at`` is when the next attempt is due; while an attempt is ``sending`` it is
    the moment after which that attempt counts as lost (its worker died) and may be made again.
    """

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "claims.CaseEvent",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        null=True,
        blank=True,
    )
    event_type = models.CharField(_("event type"), max_length=40)
    body = models.TextField(_("payload"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    replays = models.PositiveIntegerField(_("replays"), default=0)
    # The start of the current series of attempts: retries stop a fixed time after it.
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last response time (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # However often the event is handed over, an endpoint gets one delivery of it.
            models.UniqueConstraint(
                fields=["endpoint", "event"], condition=Q(event__isnull=False), name="webhook_delivery_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            # The periodic task's query: what is due, among the few deliveries still open.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.uuid} {self.event_type} -> {self.endpoint_id}"

    def get_absolute_url(self):
        return reverse("webhooks:delivery_detail", kwargs={"delivery_id": self.pk})

    @property
    def is_test(self):
        return self.event_id is None

    @property
    def last_error_label(self):
        return error_label(self.last_error)


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, for the delivery log."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("response time (ms)"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self):
        return f"{self.delivery_id}#{self.number} {self.status_code or self.error}"

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def error_label(self):
        return error_label(self.error)
