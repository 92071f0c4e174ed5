"""Webhooks: signed deliveries to a real receiver on loopback, retried, never duplicated, isolated."""

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.core import mail

from claims.selectors import cases_visible_to
from claims.services import case_transition
from config.celery import app as celery_app
from members.models import Role
from notifications.models import Notification
from notifications.webhooks import services
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.services import (
    WEBHOOK_EVENT_TYPES,
    retry_delay,
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
    webhooks_enqueue_for_events,
)
from notifications.webhooks.signing import signature_header, verify_signature
from notifications.webhooks.tasks import webhook_deliver, webhooks_retry_due
from tests.factories import AssociationFactory, MemberFactory, ProviderFactory, UserFactory
from tests.notifications.webhook_receiver import TIMEOUT, Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Tokyo


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what a block queues on commit, with the Celery tasks it queues executed in-process.

    An ETA task runs at once in this mode, which shows that an early task does nothing.
    """
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def register(admin, url, event_types=WEBHOOK_EVENT_TYPES):
    return webhook_endpoint_create(actor=admin, url=url, event_types=list(event_types))


# --- Signatures -------------------------------------------------------------------------------


def test_a_signature_verifies_only_the_exact_body_with_the_right_secret_and_a_recent_timestamp():
    body = b'{"id":"d1","type":"submit"}'
    now = 1_790_000_000
    header = signature_header(["whsec_right"], body, now)

    assert header.startswith(f"t={now},v1=")
    assert verify_signature("whsec_right", header, body, now=now + 299)
    assert not verify_signature("whsec_right", header, body + b" ", now=now), "a tampered body"
    assert not verify_signature("whsec_right", header, body.replace(b"submit", b"accept"), now=now)
    assert not verify_signature("whsec_wrong", header, body, now=now), "another secret"
    assert not verify_signature("whsec_right", header, body, now=now + 301), "an old timestamp"
    assert not verify_signature("whsec_right", header, body, now=now - 301), "a timestamp from the future"
    forged = header.replace(f"t={now}", f"t={now + 100}")
    assert not verify_signature("whsec_right", forged, body, now=now + 100), "a timestamp moved forward"
    for malformed in ("", "v1=abc", f"t={now}", "t=soon,v1=abc", "garbage"):
        assert not verify_signature("whsec_right", malformed, body, now=now)


def test_after_a_rotation_both_secrets_sign_and_either_verifies():
    body = b"{}"
    header = signature_header(["whsec_new", "whsec_old"], body, 1_790_000_000)

    assert header.count("v1=") == 2
    assert verify_signature("whsec_new", header, body, now=1_790_000_000)
    assert verify_signature("whsec_old", header, body, now=1_790_000_000)
    assert not verify_signature("whsec_other", header, body, now=1_790_000_000)


def test_the_retry_delay_doubles_from_30_seconds_and_stops_growing_at_one_hour():
    delays = [retry_delay(n).total_seconds() for n in range(1, 11)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


# --- Delivering -------------------------------------------------------------------------------


def test_a_submitted_claim_reaches_the_respondents_endpoint_signed_with_its_payload(
    receiver, deliver, provider_admin, file_case, member, provider
):
    endpoint, secret = register(provider_admin, receiver.url, ["submit"])
    receiver.secrets = [secret]

    with deliver():
        case = file_case()

    [request] = receiver.requests
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    event = case.events.get(action="submit")
    assert request.signature_valid
    assert request.headers["RightsDesk-Event"] == "submit"
    assert request.headers["RightsDesk-Delivery"] == str(delivery.uuid)
    assert request.headers["User-Agent"] == "RightsDesk-Webhooks/1"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.body == delivery.body.encode(), "the stored body is exactly what was signed and sent"
    payload = json.loads(request.body)
    assert payload["id"] == str(delivery.uuid)
    assert payload["type"] == "submit"
    assert payload["case"]["reference"] == case.reference
    assert payload["case"]["state"] == "submitted"
    assert payload["case"]["claimant"]["slug"] == member.slug
    assert payload["case"]["respondent"]["slug"] == provider.slug
    assert payload["case"]["url"].endswith(f"/cases/{case.reference}/")
    assert payload["event"] == {
        "seq": event.seq,
        "action": "submit",
        "from_state": "draft",
        "to_state": "submitted",
        "data": event.data,
        "hash": event.hash,
    }
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.delivered_at is not None
    [attempt] = delivery.attempts.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert delivery.last_duration_ms == attempt.duration_ms


def test_a_500_and_a_timeout_are_retried_and_the_third_attempt_delivers_exactly_once(
    receiver, deliver, provider_admin, file_case
):
    receiver.answer(500, TIMEOUT, 200)
    endpoint, secret = register(provider_admin, receiver.url, ["submit"])
    receiver.secrets = [secret]

    with time_machine.travel(START, tick=False) as clock:
        with deliver():
            file_case()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert (delivery.status, delivery.last_status_code) == ("pending", 500)
        assert delivery.next_attempt_at == START + timedelta(seconds=30)

        clock.move_to(START + timedelta(seconds=29))
        with deliver():
            webhooks_retry_due()
        assert len(receiver.requests) == 1, "nothing is due before the backoff has passed"

        clock.move_to(START + timedelta(seconds=30))
        with deliver():
            webhooks_retry_due()
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert delivery.last_status_code is None and delivery.last_error.startswith("timeout")
        assert delivery.next_attempt_at == START + timedelta(seconds=30 + 60)

        clock.move_to(delivery.next_attempt_at)
        with deliver():
            webhooks_retry_due()
        delivery.refresh_from_db()
        assert delivery.status == "succeeded"

        # A redelivered task, the periodic sweep and a late ETA task all find nothing to do.
        with deliver():
            webhook_deliver.delay(delivery_id=delivery.pk)
            webhooks_retry_due()
        clock.shift(timedelta(hours=3))
        with deliver():
            webhook_deliver(delivery_id=delivery.pk)
            webhooks_retry_due()

    assert len(receiver.requests) == 3
    assert {request.delivery_id for request in receiver.requests} == {str(delivery.uuid)}
    assert all(request.signature_valid for request in receiver.requests)
    assert len({request.body for request in receiver.requests}) == 1
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, None), (3, 200)]
    assert attempts[1].error.startswith("timeout")
    assert attempts[1].duration_ms >= 500
    delivery.refresh_from_db()
    assert (delivery.attempt_count, delivery.status) == (3, "succeeded")


def test_after_24_hours_of_failures_the_delivery_gives_up_and_the_endpoint_is_disabled_and_its_admins_told(
    receiver, deliver, provider_admin, agent, file_case
):
    receiver.answer(*[503] * 200)
    endpoint, secret = register(provider_admin, receiver.url)
    receiver.secrets = [secret]
    mail.outbox.clear()

    with time_machine.travel(START, tick=False) as clock:
        with deliver():
            file_case()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        for _attempt in range(100):
            if delivery.status != "pending":
                break
            clock.move_to(delivery.next_attempt_at)
            with deliver():
                webhooks_retry_due()
            delivery.refresh_from_db()

    started = list(delivery.attempts.order_by("number").values_list("started_at", flat=True))
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(started)]
    assert gaps[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert max(gaps) == 3600
    assert started[0] == START and started[-1] == START + timedelta(hours=24)
    assert len(receiver.requests) == len(started)
    assert delivery.status == "failed" and delivery.next_attempt_at is None

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "failing"
    assert endpoint.consecutive_failures == 1
    alerts = Notification.objects.filter(event=None, subject__contains="Webhook endpoint disabled")
    assert [alert.recipient for alert in alerts] == [provider_admin], "admins are told, agents are not"
    assert endpoint.url in alerts[0].subject and "HTTP 503" in alerts[0].body
    assert alerts[0].url == endpoint.get_absolute_url()
    [email] = [message for message in mail.outbox if "Webhook endpoint disabled" in message.subject]
    assert email.to == [provider_admin.email]

    # A disabled endpoint gets no new deliveries.
    with deliver():
        file_case()
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_deliveries_in_a_row_that_give_up_disable_the_endpoint_only_at_the_configured_count(
    settings, receiver, deliver, provider_admin, file_case
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    receiver.answer(*[500] * 200)
    endpoint, secret = register(provider_admin, receiver.url, ["submit"])

    def give_up_one_delivery(start):
        with time_machine.travel(start, tick=False) as clock:
            with deliver():
                file_case()
            delivery = WebhookDelivery.objects.filter(endpoint=endpoint).latest("id")
            while delivery.status == "pending":
                clock.move_to(delivery.next_attempt_at)
                with deliver():
                    webhooks_retry_due()
                delivery.refresh_from_db()

    give_up_one_delivery(START)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 1

    give_up_one_delivery(START + timedelta(days=2))
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.consecutive_failures == 2


def test_a_retry_of_an_endpoint_disabled_meanwhile_is_not_sent(receiver, deliver, provider_admin, file_case):
    receiver.answer(500)
    endpoint, _secret = register(provider_admin, receiver.url, ["submit"])
    with time_machine.travel(START, tick=False) as clock:
        with deliver():
            file_case()
        webhook_endpoint_update(
            actor=provider_admin,
            endpoint=endpoint,
            url=endpoint.url,
            description="",
            event_types=["submit"],
            is_active=False,
        )
        clock.shift(timedelta(minutes=5))
        with deliver():
            webhooks_retry_due()

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.last_error) == ("failed", "endpoint_disabled")


def test_an_attempt_whose_worker_died_is_made_again_once_its_lease_is_over(
    receiver, provider_admin, file_case
):
    endpoint, _secret = register(provider_admin, receiver.url, ["submit"])
    with time_machine.travel(START, tick=False) as clock:
        case = file_case()  # the test's transaction never commits: nothing is queued
        webhooks_enqueue_for_events(event_ids=[case.events.get(action="submit").pk])
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)

        assert services._claim(delivery.pk) is not None  # a worker takes the attempt, then dies
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None, "taken: no second attempt"
        assert receiver.requests == []

        clock.shift(services.attempt_lease())
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"

    assert len(receiver.requests) == 1
    assert list(delivery.attempts.values_list("number", flat=True)) == [2]


def test_handing_an_event_over_twice_creates_one_delivery_per_endpoint(receiver, provider_admin, file_case):
    endpoint, _secret = register(provider_admin, receiver.url, ["submit"])
    case = file_case()
    event_ids = [case.events.get(action="submit").pk]

    assert webhooks_enqueue_for_events(event_ids=event_ids) == 1
    assert webhooks_enqueue_for_events(event_ids=event_ids) == 1  # still never attempted: queued again
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_an_endpoint_receives_only_the_event_types_it_subscribed_to(
    receiver, deliver, provider_admin, case_in_state
):
    endpoint, _secret = register(provider_admin, receiver.url, ["respond"])
    with deliver():
        case_in_state("responded")

    assert [request.headers["RightsDesk-Event"] for request in receiver.requests] == ["respond"]
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["respond"]


def test_a_test_event_is_sent_once_even_to_a_disabled_endpoint_and_never_counts_as_a_failure(
    receiver, deliver, provider_admin
):
    endpoint, secret = register(provider_admin, receiver.url, ["submit"])
    receiver.secrets = [secret]
    webhook_endpoint_update(
        actor=provider_admin,
        endpoint=endpoint,
        url=endpoint.url,
        description="",
        event_types=["submit"],
        is_active=False,
    )

    with deliver():
        webhook_endpoint_send_test(actor=provider_admin, endpoint=endpoint)
    receiver.answer(500)
    with deliver():
        failed = webhook_endpoint_send_test(actor=provider_admin, endpoint=endpoint)

    assert [request.headers["RightsDesk-Event"] for request in receiver.requests] == ["ping", "ping"]
    assert all(request.signature_valid for request in receiver.requests)
    payload = json.loads(receiver.requests[0].body)
    assert (payload["type"], payload["case"], payload["event"]) == ("ping", None, None)
    failed.refresh_from_db()
    assert (failed.status, failed.next_attempt_at, failed.attempt_count) == ("failed", None, 1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_for_a_day_after_a_rotation_deliveries_verify_with_the_old_and_the_new_secret(
    receiver, deliver, provider_admin
):
    endpoint, old_secret = register(provider_admin, receiver.url, ["submit"])
    with time_machine.travel(START, tick=False) as clock:
        new_secret = webhook_endpoint_rotate_secret(actor=provider_admin, endpoint=endpoint)
        endpoint.refresh_from_db()
        receiver.secrets = [old_secret, new_secret]
        with deliver():
            webhook_endpoint_send_test(actor=provider_admin, endpoint=endpoint)

        clock.shift(timedelta(hours=24, seconds=1))
        receiver.secrets = [new_secret]
        with deliver():
            webhook_endpoint_send_test(actor=provider_admin, endpoint=endpoint)
        late = receiver.requests[1]
        old_still_verifies = verify_signature(old_secret, late.headers["RightsDesk-Signature"], late.body)

    assert new_secret != old_secret
    assert [request.signature_valid for request in receiver.requests] == [True, True]
    assert not old_still_verifies


# --- Isolation --------------------------------------------------------------------------------


def test_only_the_organisations_that_may_see_a_case_receive_its_events(
    receiver, deliver, member, provider, association, case_in_state
):
    other_member, other_provider = MemberFactory(), ProviderFactory()
    admins = {
        "claimant": UserFactory(role=Role.MEMBER_ADMIN, organisation=member),
        "other-member": UserFactory(role=Role.MEMBER_ADMIN, organisation=other_member),
        "respondent": UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider),
        "other-provider": UserFactory(role=Role.PROVIDER_ADMIN, organisation=other_provider),
        "association": UserFactory(role=Role.ASSOCIATION_ADMIN, organisation=association),
    }
    for name, admin in admins.items():
        register(admin, f"{receiver.url}/{name}")

    with deliver():
        case = case_in_state("responded")

    for name, admin in admins.items():
        received = receiver.requests_to(f"/hooks/{name}")
        may_see = cases_visible_to(user=admin).filter(pk=case.pk).exists()
        assert bool(received) == may_see, name
    assert receiver.requests_to("/hooks/other-member") == []
    assert receiver.requests_to("/hooks/other-provider") == []
    for name in ("claimant", "respondent", "association"):
        events = [request.headers["RightsDesk-Event"] for request in receiver.requests_to(f"/hooks/{name}")]
        assert sorted(events) == ["acknowledge", "respond", "submit"], name
    assert {json.loads(request.body)["case"]["reference"] for request in receiver.requests} == {
        case.reference
    }


def test_a_draft_withdrawn_before_it_was_sent_reaches_only_the_claimant(
    receiver, deliver, member, provider, legal, file_case
):
    claimant_admin = UserFactory(role=Role.MEMBER_ADMIN, organisation=member)
    respondent_admin = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider)
    association_admin = UserFactory(role=Role.ASSOCIATION_ADMIN, organisation=AssociationFactory())
    register(claimant_admin, f"{receiver.url}/claimant", ["withdraw"])
    register(respondent_admin, f"{receiver.url}/respondent", ["withdraw"])
    register(association_admin, f"{receiver.url}/association", ["withdraw"])

    draft = file_case(submit=False)
    with deliver():
        case_transition(case=draft, action="withdraw", actor=legal)

    assert [request.path for request in receiver.requests] == ["/hooks/claimant"]
