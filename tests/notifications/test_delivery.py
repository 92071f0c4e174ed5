"""Event notifications: who is told, through which channels, in which language, saying what."""

import smtplib
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine

from claims.services import case_transition
from claims.sla.clocks import clocks_sweep
from members.models import Role
from notifications.models import Delivery, EventType, Notification, NotificationPreference
from notifications.services import AUDIENCES, notifications_deliver
from tests.factories import DISPUTE_PAYLOAD, UserFactory, respond_payload

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
# Monday 16 November 2026, 10:00 in Tokyo: the acknowledgement clock (two business days) falls
# due on Wednesday 18 November at 10:00.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=JST)
SITE_URL = "https://rightsdesk.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def event_of(case, action):
    return case.events.get(action=action)


def deliver(case, action):
    return notifications_deliver(event_id=event_of(case, action).pk)


def prefer(user, event_type, *, inbox, email):
    NotificationPreference.objects.create(user=user, event_type=event_type, inbox=inbox, email=email)


def mail_to(mailoutbox, user):
    return [message for message in mailoutbox if message.to == [user.email]]


def html_of(message):
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# --- Language ------------------------------------------------------------------------------------


def test_a_japanese_user_gets_subject_and_body_in_japanese(agent, file_case, mailoutbox):
    agent.language = "ja"
    agent.save()
    case = file_case(title="ポスターのヒロイン")

    deliver(case, "submit")

    [message] = mail_to(mailoutbox, agent)
    assert message.subject == f"[RightsDesk] 新しい案件 {case.reference} が提出されました: ポスターのヒロイン"
    assert f"案件: {case.reference} ポスターのヒロイン" in message.body
    assert f"申立人: {case.claimant.name_ja}" in message.body
    assert "Claimant" not in message.body and "Open the case" not in message.body
    assert f"{SITE_URL}/cases/{case.reference}/" in message.body
    assert f"{SITE_URL}/inbox/settings/" in message.body
    assert "案件" in html_of(message) and f'href="{SITE_URL}/cases/{case.reference}/"' in html_of(message)
    assert Notification.objects.get(recipient=agent).subject.startswith("新しい案件")


def test_an_english_user_gets_subject_and_body_in_english(agent, file_case, mailoutbox):
    case = file_case(title="Heroine on a poster")

    deliver(case, "submit")

    [message] = mail_to(mailoutbox, agent)
    assert message.subject == f"[RightsDesk] New case {case.reference} filed: Heroine on a poster"
    assert f"Case: {case.reference} Heroine on a poster" in message.body
    assert f"Claimant: {case.claimant.name_en}" in message.body
    assert f"Open the case: {SITE_URL}/cases/{case.reference}/" in message.body
    assert "案件" not in message.body


def test_each_recipient_reads_the_same_event_in_their_own_language(file_case, provider, agent, mailoutbox):
    colleague = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider, language="ja")
    case = file_case()

    deliver(case, "submit")

    assert mail_to(mailoutbox, agent)[0].subject.startswith("[RightsDesk] New case")
    assert mail_to(mailoutbox, colleague)[0].subject.startswith("[RightsDesk] 新しい案件")


def test_a_line_break_in_the_title_does_not_break_the_subject(agent, file_case, mailoutbox):
    case = file_case(title="Heroine\non a poster")

    deliver(case, "submit")

    assert mail_to(mailoutbox, agent)[0].subject.endswith("filed: Heroine on a poster")


# --- What the email says -------------------------------------------------------------------------


def test_a_breach_email_names_the_clock_the_threshold_and_the_due_time_in_tokyo(file_case, legal, mailoutbox):
    with time_machine.travel(MONDAY_10, tick=False):
        case = file_case()
    clocks_sweep(now=datetime(2026, 11, 18, 10, 0, tzinfo=JST))

    deliver(case, "sla_breached")

    [message] = mail_to(mailoutbox, legal)
    assert message.subject == f"[RightsDesk] {case.reference}: the acknowledgement deadline was breached"
    assert "Deadline: Acknowledgement" in message.body
    assert "Time used: 100%" in message.body
    assert "Due: 2026-11-18 10:00 JST" in message.body
    assert "2026-11-18 10:00 JST" in html_of(message)


def test_a_warning_in_japanese_shows_the_due_time_in_japan_time(file_case, legal, mailoutbox):
    legal.language = "ja"
    legal.save()
    with time_machine.travel(MONDAY_10, tick=False):
        case = file_case()
    clocks_sweep(now=datetime(2026, 11, 17, 10, 0, tzinfo=JST))

    deliver(case, "sla_warning")

    [message] = mail_to(mailoutbox, legal)
    assert "50%" in message.subject
    assert "期限の種類: 受領確認" in message.body
    assert "期限日時: 2026-11-18 10:00 JST" in message.body


def test_a_response_email_lists_the_outcome_per_output_and_the_contact(file_case, agent, legal, mailoutbox):
    case = file_case(outputs=2)
    case = case_transition(case=case, action="acknowledge", actor=agent)
    payload = respond_payload(case)
    payload["items"][1]["outcome"] = "blocked"
    case_transition(case=case, action="respond", actor=agent, payload=payload)

    deliver(case, "respond")

    [message] = mail_to(mailoutbox, legal)
    assert "Outcomes: #1 Removed, #2 Blocked" in message.body
    assert "Contact: Sato Hanako" in message.body
    assert f"By: {case.respondent.name_en}" in message.body
    # The inbox entry carries the same summary.
    assert "Outcomes: #1 Removed, #2 Blocked" in Notification.objects.get(recipient=legal).body


def test_the_system_is_named_when_nobody_acted(file_case, legal, mailoutbox):
    with time_machine.travel(MONDAY_10, tick=False):
        case = file_case()
    clocks_sweep(now=datetime(2026, 11, 18, 10, 0, tzinfo=JST))

    deliver(case, "escalate")

    assert "By: RightsDesk, automatically" in mail_to(mailoutbox, legal)[0].body


# --- Preferences ---------------------------------------------------------------------------------


def test_without_preferences_a_user_gets_both_inbox_and_email(agent, file_case, mailoutbox):
    case = file_case()

    assert deliver(case, "submit") == 1

    assert Notification.objects.filter(recipient=agent).count() == 1
    assert len(mail_to(mailoutbox, agent)) == 1


def test_inbox_only_creates_the_entry_and_sends_no_email(agent, file_case, mailoutbox):
    prefer(agent, EventType.SUBMIT, inbox=True, email=False)
    case = file_case()

    assert deliver(case, "submit") == 1

    notification = Notification.objects.get(recipient=agent)
    assert notification.emailed_at is None
    assert mail_to(mailoutbox, agent) == []


def test_email_only_sends_the_email_and_leaves_the_inbox_empty(agent, file_case, mailoutbox):
    prefer(agent, EventType.SUBMIT, inbox=False, email=True)
    case = file_case()

    assert deliver(case, "submit") == 1

    assert not Notification.objects.filter(recipient=agent).exists()
    assert len(mail_to(mailoutbox, agent)) == 1


def test_with_both_channels_off_the_user_is_not_told_at_all(agent, provider, file_case, mailoutbox):
    colleague = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider)
    prefer(agent, EventType.SUBMIT, inbox=False, email=False)
    case = file_case()

    assert deliver(case, "submit") == 1  # the colleague only

    assert not Notification.objects.filter(recipient=agent).exists()
    assert mail_to(mailoutbox, agent) == []
    assert len(mail_to(mailoutbox, colleague)) == 1


def test_a_preference_applies_to_its_own_event_type_only(agent, legal, file_case, mailoutbox):
    prefer(agent, EventType.SUBMIT, inbox=False, email=False)
    case = file_case()
    case_transition(case=case, action="acknowledge", actor=agent)
    case_transition(case=case, action="withdraw", actor=legal)

    deliver(case, "submit")
    deliver(case, "withdraw")

    assert [m.subject for m in mail_to(mailoutbox, agent)] == [f"[RightsDesk] {case.reference} was withdrawn"]


def test_another_users_preference_does_not_change_mine(agent, provider, file_case, mailoutbox):
    colleague = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider)
    prefer(colleague, EventType.SUBMIT, inbox=False, email=False)
    case = file_case()

    deliver(case, "submit")

    assert len(mail_to(mailoutbox, agent)) == 1
    assert Notification.objects.filter(recipient=agent).count() == 1


# --- Exactly once --------------------------------------------------------------------------------


@pytest.mark.parametrize(("inbox", "email"), [(True, True), (False, True), (True, False)])
def test_a_redelivered_event_tells_nobody_twice_whatever_their_channels(
    agent, file_case, mailoutbox, inbox, email
):
    prefer(agent, EventType.SUBMIT, inbox=inbox, email=email)
    case = file_case()

    assert deliver(case, "submit") == 1
    assert deliver(case, "submit") == 0

    assert Notification.objects.filter(recipient=agent).count() == int(inbox)
    assert len(mail_to(mailoutbox, agent)) == int(email)
    assert Delivery.objects.filter(recipient=agent, emailed_at__isnull=not email).count() == 1


def test_a_failed_email_leaves_nothing_behind_and_the_retry_delivers_once(agent, file_case, mailoutbox):
    case = file_case()
    refused = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        deliver(case, "submit")
    assert not Notification.objects.filter(recipient=agent).exists()
    assert not Delivery.objects.exists()

    assert deliver(case, "submit") == 1
    assert Notification.objects.filter(recipient=agent).count() == 1
    assert len(mail_to(mailoutbox, agent)) == 1


# --- Isolation -----------------------------------------------------------------------------------


def test_nobody_outside_the_case_hears_about_it(
    eager_tasks,
    django_capture_on_commit_callbacks,
    file_case,
    legal,
    agent,
    association_admin,
    other_legal,
    other_agent,
    mailoutbox,
):
    """A whole life of a claim, with every notification queued on commit and delivered."""
    analyst = UserFactory(role=Role.ASSOCIATION_ANALYST, organisation=association_admin.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case()
    steps = [
        ("acknowledge", agent, {}),
        ("request_info", agent, {"question": "Which scene?"}),
        ("provide_info", legal, {"answer": "The opening scene."}),
        ("respond", agent, None),
        ("dispute", legal, dict(DISPUTE_PAYLOAD)),
        ("escalate", association_admin, {"reason": "The provider does not answer."}),
        ("close", association_admin, {"outcome": "upheld", "note": "Removed for good."}),
    ]
    for action, actor, payload in steps:
        with django_capture_on_commit_callbacks(execute=True):
            case = case_transition(
                case=case,
                action=action,
                actor=actor,
                payload=payload if payload is not None else respond_payload(case),
            )

    assert case.state == "resolved"
    told = set(Notification.objects.values_list("recipient__email", flat=True))
    assert told == {legal.email, agent.email, association_admin.email, analyst.email}
    assert {m.to[0] for m in mailoutbox} == told
    for outsider in (other_legal, other_agent):
        assert not Notification.objects.filter(recipient=outsider).exists()
        assert mail_to(mailoutbox, outsider) == []


def test_a_member_never_hears_about_another_members_case(
    eager_tasks, django_capture_on_commit_callbacks, file_case, agent, other_legal, mailoutbox
):
    theirs = UserFactory(role=Role.MEMBER_LEGAL, organisation=other_legal.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case()
    with django_capture_on_commit_callbacks(execute=True):
        case = case_transition(case=case, action="acknowledge", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    assert Notification.objects.filter(event__case=case).exists()
    assert not Notification.objects.filter(recipient__in=[other_legal, theirs]).exists()
    assert [m for m in mailoutbox if m.to[0] in (other_legal.email, theirs.email)] == []


def test_every_audience_event_type_can_be_chosen():
    """The settings page offers a row for every event anybody is told about, and the digest."""
    assert set(EventType.values) == set(AUDIENCES) | {EventType.DIGEST}
