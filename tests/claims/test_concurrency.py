"""Concurrent writers on separate database connections: one transition wins, references never collide."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import translation

from claims.models import Case, CaseEvent, CaseState
from claims.services import case_transition
from members.errors import TransitionNotAllowed
from tests.factories import DISPUTE_PAYLOAD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing", "in_english"),
]

JST = ZoneInfo("Asia/Tokyo")
# A wait long enough that only a deadlock or a lost wake-up could exhaust it; no test waits for it.
GIVE_UP_AFTER = 30


def run_together(*calls):
    """Run each call in its own thread and database connection, released at the same instant.

    Return one ``("ok", result)`` or ``("error", exception)`` per call, in the order given.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=GIVE_UP_AFTER)
            with translation.override("en"):  # the active language is per thread
                outcomes[index] = ("ok", call())
        except Exception as exc:  # the test inspects what each thread met
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GIVE_UP_AFTER)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def transition(case, action, actor, payload=None):
    return lambda: case_transition(case=case.pk, action=action, actor=actor, payload=payload or {})


def test_accept_and_dispute_at_once_one_wins_and_the_other_is_told_why(case_in_state, legal, member_admin):
    case = case_in_state("responded")
    events_before = CaseEvent.objects.filter(case=case).count()

    outcomes = run_together(
        transition(case, "accept", legal), transition(case, "dispute", member_admin, DISPUTE_PAYLOAD)
    )

    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["error", "ok"]
    winner = next(value for kind, value in outcomes if kind == "ok")
    loser = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(loser, TransitionNotAllowed)
    assert loser.code == "invalid_state"
    assert f"while the case is “{CaseState(winner.state).label}”" in loser.message
    case.refresh_from_db()
    assert case.state == winner.state
    new_events = CaseEvent.objects.filter(case=case).order_by("seq")[events_before:]
    assert [event.action for event in new_events] == ["accept" if winner.state == "resolved" else "dispute"]


def test_two_acknowledgements_at_once_write_one_event(case_in_state, agent, provider_admin):
    case = case_in_state("submitted")

    outcomes = run_together(
        transition(case, "acknowledge", agent), transition(case, "acknowledge", provider_admin)
    )

    assert sorted(kind for kind, _value in outcomes) == ["error", "ok"]
    [loser] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(loser, TransitionNotAllowed) and loser.code == "invalid_state"
    assert CaseEvent.objects.filter(case=case, action="acknowledge").count() == 1
    assert Case.objects.get(pk=case.pk).state == CaseState.ACKNOWLEDGED


def test_a_transition_waits_for_the_row_lock_and_then_sees_the_new_state(case_in_state, legal, member_admin):
    """Deterministic: the second transition is seen waiting on the lock before the first commits."""
    case = case_in_state("responded")
    first_applied = threading.Event()
    may_commit = threading.Event()
    outcomes = {}

    def first():
        try:
            with transaction.atomic(), translation.override("en"):
                case_transition(case=case.pk, action="accept", actor=legal)
                first_applied.set()
                assert may_commit.wait(GIVE_UP_AFTER)
            outcomes["first"] = "committed"
        finally:
            connection.close()

    def second():
        try:
            assert first_applied.wait(GIVE_UP_AFTER)
            with translation.override("en"):
                outcomes["second"] = case_transition(
                    case=case.pk, action="dispute", actor=member_admin, payload=DISPUTE_PAYLOAD
                )
        except Exception as exc:
            outcomes["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert first_applied.wait(GIVE_UP_AFTER)
        wait_until_a_backend_waits_for_a_lock()
    finally:
        may_commit.set()
        for thread in threads:
            thread.join(GIVE_UP_AFTER)

    assert outcomes["first"] == "committed"
    assert isinstance(outcomes["second"], TransitionNotAllowed)
    assert outcomes["second"].message == "“Dispute” is not possible while the case is “Resolved”."
    assert not CaseEvent.objects.filter(case=case, action="dispute").exists()


def wait_until_a_backend_waits_for_a_lock():
    """Block until PostgreSQL reports another session of this database waiting on a lock."""
    stop = threading.Event()
    with connections["default"].cursor() as cursor:
        for _attempt in range(GIVE_UP_AFTER * 100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            stop.wait(0.01)  # poll, not measure: the assertion below is about order, not time
    raise AssertionError("the second transition never waited for the row lock")


def test_concurrent_filings_get_sequential_references_without_gaps_or_duplicates(file_case):
    with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=JST), tick=False):
        outcomes = run_together(*[file_case for _ in range(8)])

    assert [kind for kind, _value in outcomes] == ["ok"] * 8
    references = sorted(case.reference for _kind, case in outcomes)
    assert references == [f"CL-2026-{n:06d}" for n in range(1, 9)]
    assert sorted(Case.objects.values_list("reference", flat=True)) == references
