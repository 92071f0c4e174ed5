"""Notifications leave through an outbox written with the event: none is lost, none is sent twice."""

import pytest
from django.db import transaction

from claims.models import Case
from claims.services import case_transition
from members.errors import ApplicationError
from notifications.models import Notification, OutboxEntry
from notifications.tasks import dispatch_outbox
from tests.workers import wait_for

pytestmark = pytest.mark.django_db


def test_a_filing_and_its_promise_to_notify_commit_together(file_case, agent):
    case = file_case()

    assert list(OutboxEntry.objects.values_list("event__action", "event__case")) == [("submit", case.pk)]
    assert not Notification.objects.exists(), "nothing is told before a dispatcher runs"


def test_a_transition_that_fails_leaves_no_entry(file_case, legal):
    case = file_case()
    OutboxEntry.objects.all().delete()

    with pytest.raises(ApplicationError):
        case_transition(case=case, action="respond", actor=legal, payload={})

    assert not OutboxEntry.objects.exists()


def test_events_nobody_is_told_about_write_no_entry(file_case):
    file_case(submit=False)  # a draft: only "created", which has no audience

    assert not OutboxEntry.objects.exists()


def test_an_entry_whose_kick_was_lost_is_delivered_by_the_periodic_run(
    eager_tasks, file_case, agent, mailoutbox
):
    """The process died after the commit (no on-commit kick ran): beat's run still tells the agent."""
    case = file_case()

    handed = dispatch_outbox.delay().get()

    assert handed == 1
    assert Notification.objects.filter(recipient=agent, event__case=case).count() == 1
    assert [message.to for message in mailoutbox] == [[agent.email]]
    assert not OutboxEntry.objects.exists()
    assert dispatch_outbox.delay().get() == 0, "a second run finds nothing to do"


def test_the_commit_kicks_the_dispatcher(eager_tasks, django_capture_on_commit_callbacks, file_case, agent):
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case()

    assert Notification.objects.filter(recipient=agent, event__case=case).exists()
    assert not OutboxEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_filings_reaches_everyone_through_the_worker(redis_worker, file_case, agent, settings):
    """Coalesced kicks: the filings after the first need no message of their own, yet all arrive."""
    settings.OUTBOX_KICK_SECONDS = 0.5
    for number in range(8):
        file_case(title=f"Claim {number}")

    assert wait_for(lambda: Notification.objects.filter(recipient=agent).count() == 8, timeout=20)
    assert not OutboxEntry.objects.exists()
    told = Notification.objects.filter(recipient=agent).values_list("event__case", flat=True)
    assert sorted(told) == sorted(Case.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_filing_is_never_announced(redis_worker, file_case, agent, legal):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        file_case(title="Filed, then rolled back")
        raise Abandoned
    kept = file_case(title="Filed")

    assert wait_for(lambda: Notification.objects.filter(recipient=agent).exists(), timeout=20)
    assert list(Notification.objects.values_list("event__case", flat=True)) == [kept.pk]
    assert not Case.objects.filter(title="Filed, then rolled back").exists()
