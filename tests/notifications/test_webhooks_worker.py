"""A real Celery worker on Redis delivers a webhook after a transition commits."""

import pytest

from claims.services import case_transition
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.services import webhook_endpoint_create
from tests.notifications.webhook_receiver import Receiver
from tests.workers import wait_for


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


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
