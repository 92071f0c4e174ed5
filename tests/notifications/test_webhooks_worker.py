"""A real Celery worker on Redis delivers a webhook after a transition commits."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from claims.services import case_transition
from config.celery import app as celery_app
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.services import webhook_endpoint_create
from tests.notifications.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def redis_worker():
    """Start a worker on a queue of this test's own, so that no other worker on the broker takes its tasks."""
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), f"this test needs Redis as the broker, not {broker!r}"
    queue = f"test-webhooks-{uuid.uuid4().hex[:12]}"
    previous_queue, previous_eager = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)  # a missing Redis fails the test, never skips it
    try:
        with start_worker(
            celery_app,
            pool="threads",
            concurrency=2,
            queues=[queue],
            perform_ping_check=False,
            loglevel="WARNING",
        ):
            yield
    finally:
        celery_app.conf.task_default_queue = previous_queue
        celery_app.conf.task_always_eager = previous_eager
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)  # whatever the worker left behind


def wait_for(predicate, *, timeout):
    """Poll (another thread writes the database and the receiver) until predicate() or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_committed_acknowledgement_reaches_the_claimants_endpoint_through_the_worker(
    redis_worker, receiver, file_case, member_admin, agent
):
    endpoint, secret = webhook_endpoint_create(
        actor=member_admin, url=receiver.url, event_types=["acknowledge"]
    )
    receiver.secrets = [secret]
    case = file_case()

    case_transition(case=case, action="acknowledge", actor=agent)

    assert wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), timeout=20)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    [request] = receiver.requests
    assert request.signature_valid
    assert request.headers["RightsDesk-Event"] == "acknowledge"
    assert request.delivery_id == str(delivery.uuid)
    assert delivery.event == case.events.get(action="acknowledge")
