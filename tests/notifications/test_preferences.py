"""The notification settings page: each user chooses their own channels per event type."""

import re

import pytest
from django.urls import reverse

from members.errors import ApplicationError
from notifications.models import EventType, NotificationPreference
from notifications.selectors import Channels, notification_preferences_for
from notifications.services import notification_preferences_set

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SETTINGS_PAGE = reverse("notifications:preferences")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return _login


def checked(response) -> dict[str, bool]:
    """Return every checkbox of the grid by name, and whether it is ticked."""
    html = response.content.decode()
    boxes = re.findall(r'<input type="checkbox" name="([\w-]+)"([^>]*)>', html)
    return {name: "checked" in attributes for name, attributes in boxes}


def all_on(response) -> dict[str, str]:
    """Return form data that keeps every checkbox on the page ticked."""
    return dict.fromkeys(checked(response), "on")


def rows(response) -> list[str]:
    return re.findall(r'<tr id="preference-(\w+)"', response.content.decode())


def test_settings_need_a_login(client):
    for method in (client.get, client.post):
        response = method(SETTINGS_PAGE)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_new_user_sees_every_channel_on(login, agent):
    response = login(agent).get(SETTINGS_PAGE)

    assert response.status_code == 200
    boxes = checked(response)
    assert boxes and all(boxes.values())
    assert boxes.keys() >= {"submit-inbox", "submit-email", "digest-inbox", "digest-email"}


def test_each_side_sees_only_the_notifications_it_can_receive(login, agent, legal, analyst):
    provider_rows = rows(login(agent).get(SETTINGS_PAGE))
    member_rows = rows(login(legal).get(SETTINGS_PAGE))
    association_rows = rows(login(analyst).get(SETTINGS_PAGE))

    assert "submit" in provider_rows and "respond" not in provider_rows
    assert "respond" in member_rows and "submit" not in member_rows
    assert "sla_reminder" in member_rows and "sla_reminder" not in provider_rows
    assert association_rows == ["dispute", "escalate", "sla_breached", "digest"]
    for shown in (provider_rows, member_rows, association_rows):
        assert shown[-1] == "digest"


def test_the_page_is_grouped_and_translated(login, agent):
    agent.language = "ja"
    agent.save()

    html = login(agent).get(SETTINGS_PAGE).content.decode()

    assert "通知設定" in html
    assert "案件の動き" in html and "期限" in html and "ダイジェスト" in html
    assert "Case activity" not in html


def test_saving_stores_the_choices_and_shows_them_again(login, agent):
    client = login(agent)
    data = all_on(client.get(SETTINGS_PAGE))
    del data["submit-email"]  # new cases: inbox only
    del data["digest-inbox"], data["digest-email"]  # no digest at all

    response = client.post(SETTINGS_PAGE, data, follow=True)

    assert response.status_code == 200
    assert "Your notification settings were saved." in response.content.decode()
    boxes = checked(response)
    assert boxes["submit-inbox"] and not boxes["submit-email"]
    assert not boxes["digest-inbox"] and not boxes["digest-email"]
    assert boxes["withdraw-email"]
    preferences = notification_preferences_for(user=agent)
    assert preferences[EventType.SUBMIT] == Channels(inbox=True, email=False)
    assert preferences[EventType.DIGEST] == Channels(inbox=False, email=False)
    assert preferences[EventType.WITHDRAW] == Channels(inbox=True, email=True)


def test_saving_again_updates_rather_than_adds(login, agent):
    client = login(agent)
    data = all_on(client.get(SETTINGS_PAGE))
    client.post(SETTINGS_PAGE, data)
    rows_after_first = NotificationPreference.objects.filter(user=agent).count()
    del data["submit-email"]

    client.post(SETTINGS_PAGE, data)

    assert NotificationPreference.objects.filter(user=agent).count() == rows_after_first
    assert NotificationPreference.objects.get(user=agent, event_type="submit").email is False


def test_turning_off_every_channel_for_breaches_is_refused_beside_the_row(login, legal):
    client = login(legal)
    data = all_on(client.get(SETTINGS_PAGE))
    del data["sla_breached-inbox"], data["sla_breached-email"]
    del data["respond-email"]

    response = client.post(SETTINGS_PAGE, data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Your notification settings were not saved." in html
    row = re.search(r'<tr id="preference-sla_breached" class="has-error">.*?</tr>', html, re.S)
    assert row and "Keep at least one channel for this notification." in row.group(0)
    # Nothing was saved, not even the rows that were fine, and the page keeps what was ticked.
    assert not NotificationPreference.objects.filter(user=legal).exists()
    assert checked(response)["respond-email"] is False


def test_the_service_refuses_unknown_event_types_and_saves_nothing(agent):
    with pytest.raises(ApplicationError) as refused:
        notification_preferences_set(
            user=agent,
            choices={"submit": Channels(inbox=True, email=False), "coffee_break": Channels()},
        )

    assert list(refused.value.fields) == ["coffee_break"]
    assert not NotificationPreference.objects.exists()


def test_a_user_sees_and_changes_only_their_own_settings(login, agent, provider_admin):
    notification_preferences_set(user=provider_admin, choices={"submit": Channels(inbox=False, email=False)})
    client = login(agent)

    page = client.get(SETTINGS_PAGE)
    assert checked(page)["submit-inbox"] and checked(page)["submit-email"]

    data = all_on(page)
    del data["withdraw-inbox"]
    client.post(SETTINGS_PAGE, {**data, "user": provider_admin.pk, "user_id": provider_admin.pk})

    assert notification_preferences_for(user=provider_admin)[EventType.SUBMIT] == Channels(False, False)
    assert notification_preferences_for(user=provider_admin)[EventType.WITHDRAW] == Channels(True, True)
    assert notification_preferences_for(user=agent)[EventType.WITHDRAW] == Channels(False, True)


def test_the_inbox_links_to_the_settings(login, agent):
    html = login(agent).get(reverse("notifications:inbox")).content.decode()

    assert f'href="{SETTINGS_PAGE}"' in html
