"""Organisation admins manage webhook endpoints and replay deliveries; nobody else sees them."""

import re

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from members.models import Role
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.services import webhook_endpoint_create, webhooks_enqueue_for_events
from tests.factories import UserFactory
from tests.notifications.webhook_receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
LIST = reverse("webhooks:endpoint_list")
CREATE = reverse("webhooks:endpoint_create")


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def deliver(django_capture_on_commit_callbacks, settings):
    """Run what a request queues on commit, with the Celery tasks executed in-process."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return _login


def url(name, pk):
    kwarg = "delivery_id" if name.startswith("delivery") else "endpoint_id"
    return reverse(f"webhooks:{name}", kwargs={kwarg: pk})


def shown_secret(response):
    match = re.search(r'id="webhook-secret"[^>]*value="([^"]+)"', response.content.decode())
    return match.group(1) if match else None


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(login, provider_admin):
    client = login(provider_admin)

    response = client.post(
        CREATE,
        {
            "url": "https://hooks.provider.example/rightsdesk",
            "description": "T&S",
            "event_types": ["submit", "escalate"],
        },
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organisation == provider_admin.organisation
    assert endpoint.event_types == ["submit", "escalate"]
    assert endpoint.created_by == provider_admin
    assert shown_secret(response) == endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    again = client.get(endpoint.get_absolute_url())
    assert again.status_code == 200
    assert shown_secret(again) is None
    assert endpoint.secret not in again.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://hooks.example/x", "event_types": ["submit"]}, "url"),
        ({"url": "https://hooks.example/x", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example/x", "event_types": ["digest"]}, "event_types"),
    ],
)
def test_an_endpoint_needs_an_http_url_and_known_events(login, member_admin, data, field):
    response = login(member_admin).post(CREATE, data)

    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_editing_changes_the_events_and_enabling_again_resets_the_failure_count(login, provider_admin):
    endpoint, _secret = webhook_endpoint_create(
        actor=provider_admin, url="https://a.example/h", event_types=["submit"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="failing", consecutive_failures=3
    )
    client = login(provider_admin)

    page = client.get(endpoint.get_absolute_url())
    assert "This endpoint is disabled" in page.content.decode()
    response = client.post(
        url("endpoint_edit", endpoint.pk),
        {"url": "https://b.example/h", "event_types": ["respond", "close"], "is_active": "on"},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.is_active) == (
        "https://b.example/h",
        ["respond", "close"],
        True,
    )
    assert (endpoint.consecutive_failures, endpoint.disabled_reason, endpoint.disabled_at) == (0, "", None)


def test_rotating_the_secret_shows_the_new_one_once(login, member_admin):
    endpoint, old_secret = webhook_endpoint_create(
        actor=member_admin, url="https://a.example/h", event_types=["respond"]
    )

    response = login(member_admin).post(url("endpoint_rotate_secret", endpoint.pk), follow=True)

    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret
    assert shown_secret(response) == endpoint.secret
    assert "The previous secret also signs until" in response.content.decode()


def test_deleting_an_endpoint_removes_it_and_its_log(login, association_admin):
    endpoint, _secret = webhook_endpoint_create(
        actor=association_admin, url="https://a.example/h", event_types=["escalate"]
    )
    client = login(association_admin)

    assert client.get(url("endpoint_delete", endpoint.pk)).status_code == 200
    response = client.post(url("endpoint_delete", endpoint.pk))

    assert response.status_code == 302 and response["Location"] == LIST
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", [Role.MEMBER_LEGAL, Role.PROVIDER_AGENT, Role.ASSOCIATION_ANALYST])
def test_only_organisation_admins_may_manage_webhooks(login, role):
    client = login(UserFactory(role=role))

    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"url": "https://a.example/h", "event_types": ["submit"]}).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_the_nav_shows_webhooks_to_admins_only(login, member_admin, legal):
    assert f'href="{LIST}"' in login(member_admin).get(LIST).content.decode()
    assert f'href="{LIST}"' not in login(legal).get(reverse("claims:case_list")).content.decode()


def test_another_organisations_endpoints_and_deliveries_are_not_found(login, provider_admin, file_case):
    endpoint, secret = webhook_endpoint_create(
        actor=provider_admin, url="https://a.example/h", event_types=["submit"]
    )
    case = file_case()
    webhooks_enqueue_for_events(event_ids=[case.events.get(action="submit").pk])
    delivery = WebhookDelivery.objects.get()
    other_admin = UserFactory(role=Role.PROVIDER_ADMIN)
    client = login(other_admin)

    assert secret not in client.get(LIST).content.decode()
    for name in ("endpoint_detail", "endpoint_edit", "endpoint_delete"):
        assert client.get(url(name, endpoint.pk)).status_code == 404, name
    for name in (
        "endpoint_edit",
        "endpoint_rotate_secret",
        "endpoint_enable",
        "endpoint_send_test",
        "endpoint_delete",
    ):
        assert (
            client.post(
                url(name, endpoint.pk), {"url": "https://evil.example/", "event_types": ["submit"]}
            ).status_code
            == 404
        ), name
    assert client.get(url("delivery_detail", delivery.pk)).status_code == 404
    assert client.post(url("delivery_replay", delivery.pk)).status_code == 404
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://a.example/h", secret)
    assert WebhookEndpoint.objects.count() == 1


def test_the_delivery_log_shows_each_attempt_and_a_replay_sends_the_same_delivery_again(
    login, receiver, deliver, provider_admin, file_case
):
    receiver.answer(500)
    endpoint, secret = webhook_endpoint_create(actor=provider_admin, url=receiver.url, event_types=["submit"])
    receiver.secrets = [secret]
    with deliver():
        case = file_case()
    delivery = WebhookDelivery.objects.get()
    client = login(provider_admin)

    log = client.get(endpoint.get_absolute_url()).content.decode()
    assert case.reference in log and "HTTP 500" in log and "Pending" in log
    detail = client.get(delivery.get_absolute_url()).content.decode()
    assert str(delivery.uuid) in detail and case.reference in detail

    with deliver():
        response = client.post(url("delivery_replay", delivery.pk))
    assert response.status_code == 302

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.replays) == ("succeeded", 2, 1)
    assert [request.delivery_id for request in receiver.requests] == [str(delivery.uuid)] * 2
    assert all(request.signature_valid for request in receiver.requests)
    detail = client.get(delivery.get_absolute_url()).content.decode()
    assert "HTTP 500" in detail and "HTTP 200" in detail and "replayed once" in detail


def test_a_disabled_endpoints_delivery_cannot_be_replayed_until_it_is_enabled(
    login, receiver, deliver, provider_admin, file_case
):
    endpoint, _secret = webhook_endpoint_create(
        actor=provider_admin, url=receiver.url, event_types=["submit"]
    )
    with deliver():
        file_case()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason="failing")
    delivery = WebhookDelivery.objects.get()
    client = login(provider_admin)

    with deliver():
        refused = client.post(url("delivery_replay", delivery.pk), follow=True)
    assert "Enable the endpoint before replaying" in refused.content.decode()
    assert len(receiver.requests) == 1

    client.post(url("endpoint_enable", endpoint.pk))
    with deliver():
        client.post(url("delivery_replay", delivery.pk))
    assert len(receiver.requests) == 2


def test_send_test_event_pings_the_receiver_and_lists_it_in_the_log(login, receiver, deliver, member_admin):
    endpoint, secret = webhook_endpoint_create(actor=member_admin, url=receiver.url, event_types=["respond"])
    receiver.secrets = [secret]
    client = login(member_admin)

    with deliver():
        response = client.post(url("endpoint_send_test", endpoint.pk))
    assert response.status_code == 302

    [request] = receiver.requests
    assert request.headers["RightsDesk-Event"] == "ping" and request.signature_valid
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert "Test event" in page and "Delivered" in page


def test_the_webhook_pages_speak_japanese_to_a_japanese_admin(login, provider, file_case):
    admin = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider, language="ja")
    endpoint, _secret = webhook_endpoint_create(
        actor=admin, url="https://a.example/h", event_types=["submit"]
    )
    case = file_case()
    webhooks_enqueue_for_events(event_ids=[case.events.get(action="submit").pk])
    client = login(admin)

    pages = {
        LIST: "新しいエンドポイント",
        CREATE: "新しい Webhook エンドポイント",
        endpoint.get_absolute_url(): "配信ログ",
        url("endpoint_edit", endpoint.pk): "エンドポイントを編集",
        WebhookDelivery.objects.get().get_absolute_url(): "ペイロード",
    }
    for path, text in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.content.decode(), path
