"""The daily digest: the deadlines of the next 48 hours, once a day, to those who want it."""

import smtplib
from datetime import date, datetime, timedelta
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.sla.models import ClockKind
from members.models import Role
from notifications.digest import digest_send
from notifications.models import DigestRun, EventType, Notification, NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
# Filed on Monday 16 November 2026 at 10:00 in Tokyo, a claim's acknowledgement clock (two
# business days) falls due on Wednesday 18 November at 10:00, its response clock (seven
# calendar days) on Monday 23 November at 10:00.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=JST)
ACK_DUE = datetime(2026, 11, 18, 10, 0, tzinfo=JST)
RESPONSE_DUE = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
TUESDAY_8 = datetime(2026, 11, 17, 8, 0, tzinfo=JST)


@pytest.fixture
def filed_monday(file_case):
    """File a claim on Monday at 10:00 in Tokyo (by the fixture's member unless told otherwise)."""

    def _file(**kwargs):
        with time_machine.travel(MONDAY_10, tick=False):
            return file_case(**kwargs)

    return _file


def mail_to(mailoutbox, user):
    return [message for message in mailoutbox if message.to == [user.email]]


def prefer_digest(user, *, inbox, email):
    NotificationPreference.objects.create(user=user, event_type=EventType.DIGEST, inbox=inbox, email=email)


def test_the_digest_lists_the_deadlines_of_the_next_48_hours_of_the_users_own_cases(
    filed_monday, legal, other_legal, agent, mailoutbox
):
    ours = filed_monday(title="Our heroine")
    theirs = filed_monday(actor=other_legal, title="Their hero")

    result = digest_send(now=TUESDAY_8)

    assert result.sent == 3  # legal, other_legal and the provider's agent
    [message] = mail_to(mailoutbox, legal)
    assert message.subject == "[RightsDesk] Daily digest: 1 deadline in the next 48 hours"
    body = message.body
    assert f"{ours.reference} Our heroine" in body
    assert "Deadline: Acknowledgement" in body
    assert "Due: 2026-11-18 10:00 JST" in body
    # Monday 10-18 used eight of the eighteen business hours: one nine-hour day and an hour remain.
    assert "Remaining: 1 business day 1 h" in body
    assert f"{settings.SITE_URL}{ours.get_absolute_url()}" in body
    assert "Response" not in body  # due in six days
    assert theirs.reference not in body  # another member's case
    assert ours.reference in message.alternatives[0][0]

    [provider_digest] = mail_to(mailoutbox, agent)
    assert ours.reference in provider_digest.body and theirs.reference in provider_digest.body
    [their_digest] = mail_to(mailoutbox, other_legal)
    assert theirs.reference in their_digest.body and ours.reference not in their_digest.body


def test_only_clocks_due_within_the_window_are_listed(filed_monday, legal, mailoutbox):
    case = filed_monday()

    # Two days and a minute before the response is due: the acknowledgement is overdue, not due.
    digest_send(now=RESPONSE_DUE - timedelta(hours=48, minutes=1))
    assert mail_to(mailoutbox, legal) == []

    digest_send(now=RESPONSE_DUE - timedelta(hours=47))
    [message] = mail_to(mailoutbox, legal)
    assert "Deadline: Response" in message.body
    assert "Acknowledgement" not in message.body
    assert case.reference in message.body


def test_the_digest_is_sent_once_a_day_however_often_it_runs(filed_monday, legal, mailoutbox):
    filed_monday()

    first = digest_send(now=TUESDAY_8)
    again = digest_send(now=TUESDAY_8)
    later_that_day = digest_send(now=TUESDAY_8.replace(hour=23, minute=30))

    assert first.sent >= 1 and again.sent == 0 and later_that_day.sent == 0
    assert again.already_sent == first.sent
    assert len(mail_to(mailoutbox, legal)) == 1
    assert Notification.objects.filter(recipient=legal).count() == 1
    assert DigestRun.objects.get(user=legal).date == date(2026, 11, 17)  # Tokyo's day, not UTC's 16th

    digest_send(now=TUESDAY_8 + timedelta(days=1) - timedelta(hours=1))  # Wednesday 07:00 in Tokyo
    assert len(mail_to(mailoutbox, legal)) == 2


def test_nobody_gets_a_digest_when_nothing_is_due(legal, agent, analyst, mailoutbox):
    result = digest_send(now=TUESDAY_8)

    assert result.sent == 0 and result.nothing_due == 3
    assert mailoutbox == []
    assert not Notification.objects.exists() and not DigestRun.objects.exists()


def test_a_user_whose_organisation_has_nothing_due_is_skipped(filed_monday, legal, other_legal, mailoutbox):
    filed_monday()

    result = digest_send(now=TUESDAY_8)

    assert mail_to(mailoutbox, legal) and not mail_to(mailoutbox, other_legal)
    assert result.nothing_due >= 1
    assert not DigestRun.objects.filter(user=other_legal).exists()


def test_the_digest_follows_each_users_channels(filed_monday, legal, member, mailoutbox):
    inbox_only = UserFactory(role=Role.MEMBER_ADMIN, organisation=member)
    email_only = UserFactory(role=Role.MEMBER_LEGAL, organisation=member)
    neither = UserFactory(role=Role.MEMBER_LEGAL, organisation=member)
    prefer_digest(inbox_only, inbox=True, email=False)
    prefer_digest(email_only, inbox=False, email=True)
    prefer_digest(neither, inbox=False, email=False)
    case = filed_monday()

    digest_send(now=TUESDAY_8)

    assert len(mail_to(mailoutbox, legal)) == 1
    assert Notification.objects.filter(recipient=legal, event=None).count() == 1
    entry = Notification.objects.get(recipient=inbox_only)
    assert entry.subject == "Daily digest: 1 deadline in the next 48 hours"
    assert f"{case.reference} Acknowledgement: 2026-11-18 10:00 JST" in entry.body
    assert entry.url == "/cases/?sort=due"
    assert mail_to(mailoutbox, inbox_only) == []
    assert len(mail_to(mailoutbox, email_only)) == 1
    assert not Notification.objects.filter(recipient=email_only).exists()
    assert mail_to(mailoutbox, neither) == [] and not Notification.objects.filter(recipient=neither).exists()
    assert not DigestRun.objects.filter(user=neither).exists()


def test_the_digest_is_written_in_the_users_language(filed_monday, legal, mailoutbox):
    legal.language = "ja"
    legal.save()
    case = filed_monday(title="ポスターのヒロイン")

    digest_send(now=TUESDAY_8)

    [message] = mail_to(mailoutbox, legal)
    assert "ダイジェスト" in message.subject and "48" in message.subject
    assert f"{case.reference} ポスターのヒロイン" in message.body
    assert "2026-11-18 10:00 JST" in message.body
    assert "Deadline" not in message.body and "Remaining" not in message.body


def test_inactive_users_get_no_digest(filed_monday, legal, mailoutbox):
    filed_monday()
    legal.is_active = False
    legal.save()

    digest_send(now=TUESDAY_8)

    assert mail_to(mailoutbox, legal) == []


def test_a_long_list_ends_with_how_many_more(settings, filed_monday, legal, mailoutbox):
    settings.DIGEST_MAX_ITEMS = 2
    for _ in range(3):
        filed_monday()

    digest_send(now=TUESDAY_8)

    [message] = mail_to(mailoutbox, legal)
    assert "3 deadlines" in message.subject
    assert message.body.count("Deadline: Acknowledgement") == 2
    assert "…and 1 more deadline." in message.body


def test_clocks_are_read_once_per_organisation_not_per_user_or_case(
    filed_monday, legal, member, other_legal, agent
):
    for _ in range(2):
        UserFactory(role=Role.MEMBER_LEGAL, organisation=member)
        UserFactory(role=Role.MEMBER_LEGAL, organisation=other_legal.organisation)
    for _ in range(3):
        filed_monday()
        filed_monday(actor=other_legal)

    with CaptureQueriesContext(connection) as queries:
        result = digest_send(now=TUESDAY_8)

    assert result.sent == 3 + 3 + 1  # three people in each member company, and the provider's agent
    clock_reads = [q["sql"] for q in queries.captured_queries if 'FROM "claims_clock"' in q["sql"]]
    assert len(clock_reads) == 3  # two members and the provider


def test_an_email_that_fails_is_retried_later_without_resending_the_others(
    filed_monday, legal, member, mailoutbox
):
    colleague = UserFactory(role=Role.MEMBER_ADMIN, organisation=member)
    filed_monday()
    from notifications import digest

    real_send = digest.email_send

    def refuse_the_colleague(*, user, message):
        if user == colleague:
            raise smtplib.SMTPRecipientsRefused({colleague.email: (450, b"Mailbox busy")})
        real_send(user=user, message=message)

    with mock.patch.object(digest, "email_send", side_effect=refuse_the_colleague):
        first = digest_send(now=TUESDAY_8)

    assert first.failed == [colleague.email]
    assert not DigestRun.objects.filter(user=colleague).exists()
    assert not Notification.objects.filter(recipient=colleague).exists()

    retry = digest_send(now=TUESDAY_8 + timedelta(minutes=10))

    assert retry.sent == 1 and retry.failed == []
    assert len(mail_to(mailoutbox, colleague)) == 1
    assert len(mail_to(mailoutbox, legal)) == 1


def test_send_digest_dry_run_lists_the_digests_and_sends_nothing(filed_monday, legal, mailoutbox):
    case = filed_monday()
    out = StringIO()

    with time_machine.travel(TUESDAY_8, tick=False):
        call_command("send_digest", "--dry-run", stdout=out)

    assert f"{legal.email} (en, inbox+email): 1 deadline(s)" in out.getvalue()
    assert f"{case.reference} {ClockKind.ACKNOWLEDGEMENT} due 2026-11-18 10:00 JST" in out.getvalue()
    assert mailoutbox == [] and not DigestRun.objects.exists() and not Notification.objects.exists()

    with time_machine.travel(TUESDAY_8, tick=False):
        call_command("send_digest", stdout=out)

    assert len(mail_to(mailoutbox, legal)) == 1
    assert "Digest for 2026-11-17: 1 sent" in out.getvalue()


def test_the_digest_runs_every_morning_at_eight_in_tokyo():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["daily-digest"]
    assert entry["task"] == "notifications.tasks.send_daily_digest"
    assert entry["schedule"] == crontab(minute=0, hour=8)
    assert str(app.conf.timezone) == "Asia/Tokyo"
    assert "notifications.tasks.send_daily_digest" in app.tasks


def test_the_beat_task_sends_the_digest(filed_monday, legal, mailoutbox):
    from notifications.tasks import send_daily_digest

    filed_monday()

    with time_machine.travel(TUESDAY_8, tick=False):
        assert send_daily_digest.apply().get() == 1
        assert send_daily_digest.apply().get() == 0

    assert len(mail_to(mailoutbox, legal)) == 1
