"""Registering webhook endpoints, and delivering case events to them: signed, retried, logged.

A delivery is one event for one endpoint. It is created once (unique per endpoint and event)
after the transaction that wrote the event commits, and attempted by a Celery task. A failed
attempt schedules the next one with exponential backoff (30 s, 1 min, 2 min … at most 1 h)
until ``RETRY_WINDOW`` after the first attempt; then the delivery gives up, and enough
deliveries giving up in a row disable the endpoint and tell its organisation's admins.

Exactly one attempt is made per due time, however many tasks ask for it: claiming an attempt
locks the row, checks that it is due and moves ``next_attempt_at`` past the attempt's longest
possible duration, all in one short transaction. The HTTP request runs outside any
transaction (no connection sits idle in a transaction for seconds, and SQLite's single writer
is never held across the network), and its result is written in a second short transaction.
A succeeded delivery is never claimed again.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.models import CaseEvent
from members.errors import ApplicationError
from notifications.services import AUDIENCES, admin_alert
from notifications.webhooks.models import (
    ERROR_CONNECTION,
    ERROR_ENDPOINT_DISABLED,
    ERROR_LABELS,
    ERROR_REQUEST,
    ERROR_TIMEOUT,
    PING,
    DeliveryStatus,
    DisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from notifications.webhooks.selectors import webhook_endpoints_receiving
from notifications.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    USER_AGENT,
    secret_generate,
    signature_header,
)

# The case events an endpoint may subscribe to: those worth telling people about.
WEBHOOK_EVENT_TYPES = tuple(AUDIENCES)
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

RETRY_FIRST_DELAY = timedelta(seconds=30)
RETRY_MAX_DELAY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
# Retries due sooner than this wait in the broker as ETA tasks; later ones are found by the
# periodic ``webhooks_queue_due``. It stays below the Redis visibility timeout (one hour, see
# config/settings.py), past which Redis would hand a waiting task to a second worker.
ETA_HORIZON = timedelta(minutes=50)
# After "Rotate secret" the old secret keeps signing beside the new one for this long.
SECRET_ROTATION_GRACE = timedelta(hours=24)
DUE_BATCH = 1000
URL_MAX_LENGTH = 500

# %-format a lazy translation only when it is rendered, in the language active then.
_format_lazy = lazy(lambda text, params: str(text) % {k: str(v) for k, v in params.items()}, str)


def retry_delay(failures: int) -> timedelta:
    """Return the wait after the n-th failed attempt in a row: 30 s, 1 min, 2 min, 4 min … at most 1 h."""
    return min(RETRY_FIRST_DELAY * 2 ** min(max(failures, 1) - 1, 16), RETRY_MAX_DELAY)


def attempt_lease() -> timedelta:
    """Return how long a claimed attempt may take before another worker may make it again."""
    return timedelta(seconds=4 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)


# --- Managing endpoints (organisation administrators) -----------------------------------------


def _require_admin(actor, organisation_id: int) -> None:
    if actor is None or not actor.is_org_admin or actor.organisation_id != organisation_id:
        raise ApplicationError(
            _("Only an administrator of the organisation may manage its webhooks."),
            code="not_permitted",
            status_code=403,
        )


def _clean_url(url) -> str:
    url = url.strip() if isinstance(url, str) else ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ApplicationError(
            _("Enter the address of your receiver."),
            code="invalid_url",
            fields={"url": [_("Enter a full http:// or https:// URL.")]},
        ) from None
    if len(url) > URL_MAX_LENGTH:
        raise ApplicationError(
            _("The URL is too long."),
            code="invalid_url",
            fields={"url": [_("At most %(n)d characters.") % {"n": URL_MAX_LENGTH}]},
        )
    return url


def _clean_event_types(event_types) -> list[str]:
    chosen = set(event_types) if isinstance(event_types, list | tuple | set) else set()
    if not chosen or not chosen <= set(WEBHOOK_EVENT_TYPES):
        raise ApplicationError(
            _("Choose the events to send to this endpoint."),
            code="invalid_event_types",
            fields={"event_types": [_("Choose at least one event.")]},
        )
    return [event_type for event_type in WEBHOOK_EVENT_TYPES if event_type in chosen]


def webhook_endpoint_create(
    *, actor, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the actor's organisation; return it and its new signing secret."""
    _require_admin(actor, actor.organisation_id if actor is not None else None)
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        organisation_id=actor.organisation_id,
        url=_clean_url(url),
        description=(description or "").strip()[:200],
        event_types=_clean_event_types(event_types),
        secret=secret,
        created_by=actor,
    )
    return endpoint, secret


def webhook_endpoint_update(
    *, actor, endpoint: WebhookEndpoint, url: str, event_types: list[str], description: str, is_active: bool
) -> WebhookEndpoint:
    """Change an endpoint; enabling it again starts its failure count afresh."""
    _require_admin(actor, endpoint.organisation_id)
    url, event_types = _clean_url(url), _clean_event_types(event_types)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.url, locked.event_types = url, event_types
        locked.description = (description or "").strip()[:200]
        if is_active and not locked.is_active:
            _enable(locked)
        elif not is_active and locked.is_active:
            locked.is_active = False
            locked.disabled_at = timezone.now()
            locked.disabled_reason = DisabledReason.MANUAL
        locked.save()
    return locked


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0


def webhook_endpoint_enable(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Enable a disabled endpoint again; new events are sent to it from now on."""
    _require_admin(actor, endpoint.organisation_id)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        _enable(locked)
        locked.save()
    return locked


def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret and return it; the old one also signs for SECRET_ROTATION_GRACE."""
    _require_admin(actor, endpoint.organisation_id)
    secret = secret_generate()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + SECRET_ROTATION_GRACE
        locked.secret = secret
        locked.save()
    return secret


def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log; attempts still queued for it then do nothing."""
    _require_admin(actor, endpoint.organisation_id)
    endpoint.delete()


def webhook_endpoint_send_test(*, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``ping`` delivery to the endpoint: one attempt, sent even while it is disabled."""
    _require_admin(actor, endpoint.organisation_id)
    now = timezone.now()
    delivery_id = uuid.uuid4()
    payload = {"id": str(delivery_id), "type": PING, "created_at": now, "case": None, "event": None}
    delivery = WebhookDelivery.objects.create(
        uuid=delivery_id,
        endpoint=endpoint,
        event=None,
        event_type=PING,
        body=_json(payload),
        next_attempt_at=now,
    )
    _queue_attempts([delivery.pk])
    return delivery


def webhook_delivery_replay(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, as a new series of attempts with the same delivery id and body.

    Keeping the id lets a receiver that already processed the delivery recognise it; one that
    never got it processes it. The new series retries for RETRY_WINDOW like the first one.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        _require_admin(actor, locked.endpoint.organisation_id)
        if not locked.endpoint.is_active and not locked.is_test:
            raise ApplicationError(
                _("Enable the endpoint before replaying its deliveries."),
                code="endpoint_disabled",
                status_code=409,
            )
        if locked.status == DeliveryStatus.SENDING and locked.next_attempt_at > now:
            raise ApplicationError(
                _("This delivery is being sent right now; wait for the result."),
                code="delivery_in_flight",
                status_code=409,
            )
        locked.status = DeliveryStatus.PENDING
        locked.replays += 1
        locked.first_attempt_at = None
        locked.next_attempt_at = now
        locked.delivered_at = None
        locked.save()
        _queue_attempts([locked.pk])
    return locked


# --- Creating deliveries from case events ---------------------------------------------------


def _json(payload: dict) -> str:
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def _organisation_payload(organisation) -> dict:
    return {"slug": organisation.slug, "name_ja": organisation.name_ja, "name_en": organisation.name_en}


def event_payload(*, delivery_id: uuid.UUID, event: CaseEvent) -> dict:
    """Return what a receiver gets about an event: the case as it stands, and the event itself."""
    case = event.case
    return {
        "id": str(delivery_id),
        "type": event.action,
        "created_at": event.created_at,
        "case": {
            "reference": case.reference,
            "kind": case.kind,
            "state": case.state,
            "title": case.title,
            "claimant": _organisation_payload(case.claimant),
            "respondent": _organisation_payload(case.respondent),
            "url": f"{settings.SITE_URL}{case.get_absolute_url()}",
        },
        "event": {
            "seq": event.seq,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "data": event.data,
            "hash": event.hash,
        },
    }


def webhooks_enqueue_for_events(*, event_ids: list[int]) -> int:
    """Create the deliveries of these events to every endpoint that may receive them, and queue them.

    Safe to run more than once for the same events: a delivery exists once per endpoint and
    event, and only deliveries never attempted are queued (again); a duplicate attempt task
    finds nothing due. Returns how many deliveries were queued.
    """
    events = list(
        CaseEvent.objects.filter(pk__in=event_ids, action__in=WEBHOOK_EVENT_TYPES)
        .select_related("case__claimant", "case__respondent")
        .order_by("pk")
    )
    if not events:
        return 0
    now = timezone.now()
    receiving = webhook_endpoints_receiving(events=events)
    rows = []
    for event in events:
        for endpoint in receiving[event.pk]:
            delivery_id = uuid.uuid4()
            rows.append(
                WebhookDelivery(
                    uuid=delivery_id,
                    endpoint=endpoint,
                    event=event,
                    event_type=event.action,
                    body=_json(event_payload(delivery_id=delivery_id, event=event)),
                    next_attempt_at=now,
                )
            )
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    never_attempted = list(
        WebhookDelivery.objects.filter(
            event_id__in=[event.pk for event in events], status=DeliveryStatus.PENDING, attempt_count=0
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _queue_attempts(never_attempted)
    return len(never_attempted)


def _queue_attempts(delivery_ids, *, countdown: float | None = None) -> None:
    from notifications.webhooks.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        transaction.on_commit(
            partial(webhook_deliver.apply_async, kwargs={"delivery_id": delivery_id}, countdown=countdown)
        )


def webhooks_queue_due(*, limit: int = DUE_BATCH) -> int:
    """Queue an attempt task for every delivery whose next attempt is due (the periodic task).

    This catches the retries too far ahead for an ETA task, and any task the broker lost. A
    delivery that also has an ETA task gets two; the second finds nothing due.
    """
    due = list(
        WebhookDelivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _queue_attempts(due)
    return len(due)


# --- Attempting a delivery ----------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    number: int
    started_at: datetime
    url: str
    secrets: tuple[str, ...]
    body: str
    event_type: str
    uuid: str


@dataclass(frozen=True)
class _Result:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(delivery_id: int) -> _Claim | None:
    """Take the delivery's due attempt for this worker, or return None when there is none to take."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None  # deleted with its endpoint, or another worker holds it right now
            or delivery.status not in OPEN_STATUSES
            or delivery.next_attempt_at is None
            or delivery.next_attempt_at > now
        ):
            return None
        endpoint = delivery.endpoint
        if not endpoint.is_active and not delivery.is_test:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = ERROR_ENDPOINT_DISABLED
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        delivery.attempt_count += 1
        delivery.status = DeliveryStatus.SENDING
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + attempt_lease()
        delivery.save(
            update_fields=[
                "attempt_count",
                "status",
                "first_attempt_at",
                "last_attempt_at",
                "next_attempt_at",
            ]
        )
    secrets_in_use = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        secrets_in_use.append(endpoint.previous_secret)
    return _Claim(
        delivery_id=delivery.pk,
        number=delivery.attempt_count,
        started_at=now,
        url=endpoint.url,
        secrets=tuple(secrets_in_use),
        body=delivery.body,
        event_type=delivery.event_type,
        uuid=str(delivery.uuid),
    )


def _send(claim: _Claim) -> _Result:
    """POST the body, signed now; never raises for anything the receiver or the network does."""
    body = claim.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: claim.event_type,
        DELIVERY_HEADER: claim.uuid,
        SIGNATURE_HEADER: signature_header(claim.secrets, body, int(timezone.now().timestamp())),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    status_code, error = None, ""
    started = time.monotonic()
    try:
        # Redirects are not followed (a signed body goes only where it was registered), and the
        # response body is never read: only its status matters, and it could be any size.
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", claim.url, content=body, headers=headers) as response,
        ):
            status_code = response.status_code
    except httpx.TimeoutException as exc:
        error = f"{ERROR_TIMEOUT}: {type(exc).__name__} after {timeout:g} s"
    except (httpx.NetworkError, httpx.ProxyError, OSError) as exc:
        error = f"{ERROR_CONNECTION}: {exc}"
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        error = f"{ERROR_REQUEST}: {exc}"
    duration_ms = round((time.monotonic() - started) * 1000)
    return _Result(status_code=status_code, error=error[:500], duration_ms=duration_ms)


def _record(claim: _Claim, result: _Result) -> str | None:
    """Log the attempt and decide what follows it: done, a retry, or giving up."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=claim.delivery_id).first()
        if delivery is None:
            return None  # the endpoint was deleted while the request was on its way
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=claim.number,
            started_at=claim.started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error,
        )
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        delivery.last_duration_ms = result.duration_ms
        still_ours = delivery.status == DeliveryStatus.SENDING and delivery.attempt_count == claim.number
        if result.succeeded:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if not delivery.is_test:
                WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
                    consecutive_failures=0
                )
        elif still_ours:
            _retry_or_give_up(delivery, now)
        # Otherwise this attempt outlived its lease and a later one owns the delivery now.
        delivery.save()
    return delivery.status


def _retry_or_give_up(delivery: WebhookDelivery, now: datetime) -> None:
    if delivery.is_test:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        return
    deadline = delivery.first_attempt_at + RETRY_WINDOW
    if now >= deadline:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        _count_failed_delivery(delivery.endpoint_id, now)
        return
    failures = delivery.attempts.filter(started_at__gte=delivery.first_attempt_at).count()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = min(now + retry_delay(failures), deadline)
    wait = delivery.next_attempt_at - now
    if wait <= ETA_HORIZON:
        _queue_attempts([delivery.pk], countdown=wait.total_seconds())


def _count_failed_delivery(endpoint_id: int, now: datetime) -> None:
    """Count a delivery that gave up; enough in a row disable the endpoint and tell its admins."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.consecutive_failures += 1
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        endpoint.is_active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = DisabledReason.FAILING
        from notifications.webhooks.tasks import webhook_endpoint_disabled_alert

        transaction.on_commit(partial(webhook_endpoint_disabled_alert.delay, endpoint_id=endpoint.pk))
    endpoint.save(update_fields=["consecutive_failures", "is_active", "disabled_at", "disabled_reason"])


def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """Make the delivery's attempt if one is due and no other worker is making it.

    Returns the delivery's status afterwards, or None when there was nothing to do (not due,
    already delivered, given up, taken by another worker, or deleted).
    """
    claim = _claim(delivery_id)
    if claim is None:
        return None
    return _record(claim, _send(claim))


def webhook_endpoint_alert_disabled(*, endpoint_id: int) -> int:
    """Tell the endpoint's organisation admins that it was disabled for failing (inbox and email)."""
    endpoint = WebhookEndpoint.objects.select_related("organisation").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.is_active:
        return 0  # deleted, or enabled again before the alert went out
    last = endpoint.deliveries.filter(status=DeliveryStatus.FAILED).order_by("-last_attempt_at").first()
    if last is None or (last.last_status_code is None and not last.last_error):
        problem = "—"
    elif last.last_status_code is not None:
        problem = f"HTTP {last.last_status_code}"
    else:
        problem = _format_lazy(
            gettext_lazy("%(kind)s (%(detail)s)"),
            {
                "kind": ERROR_LABELS.get(last.last_error.partition(":")[0], ""),
                "detail": last.last_error.partition(":")[2].strip(),
            },
        )
    subject = _format_lazy(gettext_lazy("Webhook endpoint disabled: %(url)s"), {"url": endpoint.url})
    body = _format_lazy(
        gettext_lazy(
            "RightsDesk could not deliver events to %(url)s for %(hours)s hours (last answer: %(problem)s), "
            "so the endpoint was disabled and receives no new events. Fix the receiver, enable the "
            "endpoint again, then replay the deliveries that failed from its delivery log."
        ),
        {"url": endpoint.url, "hours": int(RETRY_WINDOW.total_seconds() // 3600), "problem": problem},
    )
    return admin_alert(
        organisation=endpoint.organisation, subject=subject, body=body, url=endpoint.get_absolute_url()
    )
