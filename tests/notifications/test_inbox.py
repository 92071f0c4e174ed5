"""The in-app inbox: each user sees, opens and marks as read only their own notifications."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims.services.timeline import event_record
from notifications.models import Notification
from notifications.services import notifications_deliver

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
INBOX = reverse("notifications:inbox")
READ_ALL = reverse("notifications:read_all")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return _login


def notify(user, case, subject, *, at=None):
    """Put one notification about the case in the user's inbox (each about an event of its own)."""
    with time_machine.travel(at or timezone.now(), tick=False):
        event = event_record(case=case, actor=None, action="message_posted", data={})
        return Notification.objects.create(
            recipient=user, event=event, subject=subject, url=case.get_absolute_url()
        )


def read_url(notification):
    return reverse("notifications:read", kwargs={"notification_id": notification.pk})


def open_url(notification):
    return reverse("notifications:open", kwargs={"notification_id": notification.pk})


def subjects(response):
    html = response.content.decode()
    return [
        re.sub(r"<[^>]+>|Unread: ", "", subject).strip()
        for subject in re.findall(r'class="notice-subject"[^>]*>(.*?)</a>', html, re.S)
    ]


def unread_badge(response):
    """Return the number in the top bar's inbox badge, or None when there is none."""
    match = re.search(r'<span class="nav-count">(\d+)', response.content.decode())
    return int(match.group(1)) if match else None


def test_filing_notifies_the_provider_and_the_inbox_shows_it_unread(login, agent, file_case):
    case = file_case(title="Heroine on a poster")
    notifications_deliver(event_id=case.events.get(action="submit").pk)

    response = login(agent).get(INBOX)

    assert response.status_code == 200
    assert subjects(response) == [f"New case {case.reference} filed: Heroine on a poster"]
    html = response.content.decode()
    assert 'class="notice notice-unread"' in html
    assert unread_badge(response) == 1


def test_inbox_shows_only_the_users_own_notifications_newest_first(login, agent, other_agent, file_case):
    case = file_case()
    now = timezone.now()
    notify(agent, case, "Older", at=now - timedelta(hours=2))
    notify(agent, case, "Newer", at=now - timedelta(hours=1))
    notify(other_agent, case, "Somebody else's")

    response = login(agent).get(INBOX)

    assert subjects(response) == ["Newer", "Older"]


def test_read_notifications_are_not_bold_and_leave_the_badge(login, agent, file_case):
    case = file_case()
    read = notify(agent, case, "Already read")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notify(agent, case, "Still unread")

    response = login(agent).get(INBOX)
    html = response.content.decode()

    assert re.search(r'class="notice notice-unread"[^>]*>.*?Still unread', html, re.S)
    assert re.search(
        r'<li class="notice" id="notification-\d+">\s*<span class="notice-dot"[^>]*></span>'
        r'\s*<div class="notice-main">\s*<a class="notice-subject"[^>]*>Already read',
        html,
    )
    assert unread_badge(response) == 1


def test_inbox_pages_by_25(login, agent, file_case):
    case = file_case()
    start = timezone.now() - timedelta(days=1)
    for number in range(27):
        notify(agent, case, f"Notice {number:02d}", at=start + timedelta(minutes=number))
    client = login(agent)

    first, second = client.get(INBOX), client.get(INBOX, {"page": 2})

    assert len(subjects(first)) == 25 and subjects(first)[0] == "Notice 26"
    assert subjects(second) == ["Notice 01", "Notice 00"]


def test_marking_one_as_read_updates_it_and_the_badge(login, agent, file_case):
    case = file_case()
    first, second = notify(agent, case, "First"), notify(agent, case, "Second")
    client = login(agent)

    response = client.post(read_url(first), {"next": f"{INBOX}?page=1"})

    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert unread_badge(client.get(INBOX)) == 1


def test_marking_as_read_with_htmx_returns_the_row_and_the_new_badge(login, agent, file_case):
    case = file_case()
    first = notify(agent, case, "First")
    notify(agent, case, "Second")

    response = login(agent).post(read_url(first), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'<li class="notice" id="notification-{first.pk}">' in html
    assert re.search(r'id="unread-badge" hx-swap-oob="true"><span class="nav-count">1', html)


def test_marking_another_users_notification_as_read_is_404_and_changes_nothing(
    login, agent, other_agent, file_case
):
    theirs = notify(other_agent, file_case(), "Not yours")
    client = login(agent)

    assert client.post(read_url(theirs)).status_code == 404
    assert client.get(open_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_as_read_marks_only_the_users_own(login, agent, other_agent, file_case):
    case = file_case()
    mine = [notify(agent, case, f"Mine {n}") for n in range(3)]
    theirs = notify(other_agent, case, "Theirs")
    client = login(agent)

    response = client.post(READ_ALL, {"next": INBOX}, follow=True)

    assert response.status_code == 200
    assert "3 notifications marked as read." in response.content.decode()
    assert unread_badge(response) is None
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[m.pk for m in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_the_case(login, agent, file_case):
    case = file_case()
    notification = notify(agent, case, "Open me")

    response = login(agent).get(open_url(notification))

    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("stored_url", ["https://evil.example/phish", "//evil.example/x", ""])
def test_opening_never_leaves_the_site(login, agent, file_case, stored_url):
    notification = notify(agent, file_case(), "Odd link")
    Notification.objects.filter(pk=notification.pk).update(url=stored_url)

    response = login(agent).get(open_url(notification))

    assert response["Location"] == INBOX


def test_mark_read_redirects_only_within_the_site(login, agent, file_case):
    notification = notify(agent, file_case(), "Read me")

    response = login(agent).post(read_url(notification), {"next": "https://evil.example/"})

    assert response["Location"] == INBOX


def test_marking_as_read_needs_post(login, agent, file_case):
    notification = notify(agent, file_case(), "Read me")
    client = login(agent)

    assert client.get(read_url(notification)).status_code == 405
    assert client.get(READ_ALL).status_code == 405


def test_every_inbox_view_needs_a_login(client, agent, file_case):
    notification = notify(agent, file_case(), "Private")
    for method, url in [
        (client.get, INBOX),
        (client.get, open_url(notification)),
        (client.post, read_url(notification)),
        (client.post, READ_ALL),
    ]:
        response = method(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_badge_costs_one_count_query_and_none_for_visitors(client, login, agent, file_case):
    case = file_case()
    for number in range(3):
        notify(agent, case, f"Notice {number}")

    with CaptureQueriesContext(connection) as anonymous:
        assert client.get(reverse("login")).status_code == 200
    assert not [q for q in anonymous.captured_queries if "notifications_notification" in q["sql"]]

    client = login(agent)
    with CaptureQueriesContext(connection) as signed_in:
        response = client.get(reverse("claims:case_list"))
    inbox_queries = [q["sql"] for q in signed_in.captured_queries if "notifications_notification" in q["sql"]]
    assert len(inbox_queries) == 1 and "COUNT(" in inbox_queries[0]
    assert unread_badge(response) == 3
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group(0)
    assert f'href="{INBOX}"' in nav


def test_admin_alert_reaches_only_that_organisations_admins_in_their_language(mailoutbox):
    from django.utils.translation import gettext_lazy

    from members.models import Role
    from notifications.services import admin_alert
    from tests.factories import ProviderFactory, UserFactory

    provider = ProviderFactory()
    admin_ja = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider, language="ja")
    UserFactory(role=Role.PROVIDER_AGENT, organisation=provider)
    UserFactory(role=Role.PROVIDER_ADMIN)  # another provider's admin

    assert admin_alert(organisation=provider, subject=gettext_lazy("Language")) == 1
    note = Notification.objects.get()
    assert note.recipient == admin_ja
    assert note.event is None
    assert note.subject == "言語"
    assert [m.to for m in mailoutbox] == [[admin_ja.email]]
