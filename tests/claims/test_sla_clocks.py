"""SLA clocks: started, paused and met by transitions; warnings and breaches recorded once."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from claims.models import CaseState
from claims.services import case_transition
from claims.sla.clocks import ACCEPT_BY_DEFAULT, clock_process, clocks_sweep
from claims.sla.models import Clock, ClockKind, ClockMark, ClockStatus, SlaPolicy
from notifications.models import Notification
from notifications.services import notifications_deliver

JST = ZoneInfo("Asia/Tokyo")
# Monday 16 November 2026, 10:00 in Tokyo; 23 November is Labour Thanksgiving Day.
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=JST)


def jst(*args):
    return datetime(*args, tzinfo=JST)


def respond_payload(case):
    return {
        "summary": "We removed the outputs and blocked the prompt.",
        "contact_name": "Sato Hanako",
        "contact_email": "sato@provider.test",
        "items": [
            {"output": o.pk, "outcome": "removed", "rationale": "It reproduces the character."}
            for o in case.outputs.all()
        ],
    }


def clocks_due(*, now):
    """Ids of the clocks the sweep would pick up at ``now``."""
    return list(Clock.objects.filter(next_threshold_at__lte=now).values_list("id", flat=True))


def clock(case, kind):
    return case.clocks.get(kind=kind)


@pytest.fixture
def filed_monday(file_case):
    with time_machine.travel(MONDAY_10, tick=False):
        return file_case()


pytestmark = pytest.mark.django_db


def test_submit_starts_acknowledgement_in_business_time_and_response_in_calendar_time(filed_monday):
    ack = clock(filed_monday, ClockKind.ACKNOWLEDGEMENT)
    response = clock(filed_monday, ClockKind.RESPONSE)
    assert ack.status == response.status == ClockStatus.RUNNING
    # Two business days of nine hours: Monday 10-18, Tuesday 9-18, Wednesday 9-10.
    assert ack.due_at == jst(2026, 11, 18, 10, 0)
    assert response.due_at == jst(2026, 11, 23, 10, 0)
    assert ack.next_threshold == 50
    assert ack.next_threshold_at == jst(2026, 11, 17, 10, 0)


def test_acknowledge_meets_the_acknowledgement_clock_only(filed_monday, agent):
    with time_machine.travel(jst(2026, 11, 17, 11, 0), tick=False):
        case_transition(case=filed_monday, action="acknowledge", actor=agent)
    ack = clock(filed_monday, ClockKind.ACKNOWLEDGEMENT)
    assert ack.status == ClockStatus.MET
    assert ack.breached_at is None
    assert ack.next_threshold_at is None
    assert clock(filed_monday, ClockKind.RESPONSE).status == ClockStatus.RUNNING


def test_request_info_pauses_the_response_clock_and_provide_info_resumes_it(filed_monday, agent, legal):
    with time_machine.travel(jst(2026, 11, 17, 10, 0), tick=False):
        case_transition(
            case=filed_monday, action="request_info", actor=agent, payload={"question": "Which scene?"}
        )
    response = clock(filed_monday, ClockKind.RESPONSE)
    assert response.status == ClockStatus.PAUSED
    assert response.next_threshold_at is None
    assert response.consumed == timedelta(days=1)
    # Nothing falls due while paused, however long the claimant takes.
    assert response.pk not in clocks_due(now=jst(2026, 12, 31, 0, 0))

    with time_machine.travel(jst(2026, 11, 20, 10, 0), tick=False):
        case_transition(case=filed_monday, action="provide_info", actor=legal, payload={"answer": "Scene 3."})
    response.refresh_from_db()
    assert response.status == ClockStatus.RUNNING
    # Three paused days move the due time by three days.
    assert response.due_at == jst(2026, 11, 26, 10, 0)


def test_sweep_records_each_warning_once_with_an_event(filed_monday):
    ack = clock(filed_monday, ClockKind.ACKNOWLEDGEMENT)
    at_half = jst(2026, 11, 17, 10, 0)
    assert clocks_sweep(now=at_half - timedelta(seconds=1)) == 0
    assert clocks_sweep(now=at_half) == 1
    assert clocks_sweep(now=at_half + timedelta(minutes=5)) == 0
    assert list(ack.marks.values_list("threshold", flat=True)) == [50]
    warnings = filed_monday.events.filter(action="sla_warning")
    assert warnings.count() == 1
    assert warnings.get().data["threshold"] == 50
    ack.refresh_from_db()
    assert ack.next_threshold == 80


def test_breach_escalates_and_notifies_both_sides_and_the_association(filed_monday, agent, analyst, legal):
    clocks_sweep(now=jst(2026, 11, 18, 10, 0))
    ack = clock(filed_monday, ClockKind.ACKNOWLEDGEMENT)
    assert ack.breached_at == jst(2026, 11, 18, 10, 0)
    assert sorted(ack.marks.values_list("threshold", flat=True)) == [50, 80, 100]
    filed_monday.refresh_from_db()
    assert filed_monday.state == CaseState.ESCALATED
    escalation = filed_monday.events.get(action="escalate")
    assert escalation.actor is None

    breach = filed_monday.events.get(action="sla_breached")
    assert notifications_deliver(event_id=breach.pk) == 3
    assert set(Notification.objects.filter(event=breach).values_list("recipient__email", flat=True)) == {
        agent.email,
        analyst.email,
        legal.email,
    }
    # A redelivered task notifies nobody twice.
    assert notifications_deliver(event_id=breach.pk) == 0


def test_a_provider_override_without_automatic_escalation_leaves_the_case_where_it_is(file_case, provider):
    policy = SlaPolicy.with_design_defaults(case_kind="claim", priority="normal", provider=provider)
    policy.escalate_on_breach = False
    policy.save()
    with time_machine.travel(MONDAY_10, tick=False):
        case = file_case()
    clocks_sweep(now=jst(2026, 11, 18, 10, 0))
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert clock(case, ClockKind.ACKNOWLEDGEMENT).breached_at is not None


def test_a_clock_met_late_stays_breached_even_if_no_sweep_ran(filed_monday, agent):
    with time_machine.travel(jst(2026, 11, 24, 12, 0), tick=False):
        case_transition(
            case=filed_monday, action="respond", actor=agent, payload=respond_payload(filed_monday)
        )
    response = clock(filed_monday, ClockKind.RESPONSE)
    assert response.status == ClockStatus.MET
    assert response.met_late
    assert response.breached_at == jst(2026, 11, 23, 10, 0)
    assert filed_monday.events.filter(action="sla_breached").count() == 2  # acknowledgement and response
    assert clock(filed_monday, ClockKind.CLAIMANT_REVIEW).status == ClockStatus.RUNNING


def test_a_task_for_a_superseded_schedule_does_nothing(filed_monday, agent, legal):
    response = clock(filed_monday, ClockKind.RESPONSE)
    old_version = response.version
    with time_machine.travel(jst(2026, 11, 17, 10, 0), tick=False):
        case_transition(case=filed_monday, action="request_info", actor=agent, payload={"question": "Which?"})
        case_transition(case=filed_monday, action="provide_info", actor=legal, payload={"answer": "This."})
    assert clock_process(clock_id=response.pk, version=old_version, now=jst(2026, 11, 30, 0, 0)) == []
    assert not ClockMark.objects.filter(clock=response).exists()


def test_a_duplicated_task_records_once(filed_monday):
    ack = clock(filed_monday, ClockKind.ACKNOWLEDGEMENT)
    at = jst(2026, 11, 17, 10, 0)
    first = clock_process(clock_id=ack.pk, version=ack.version, now=at)
    ack.refresh_from_db()
    second = clock_process(clock_id=ack.pk, now=at)
    assert first == [50]
    assert second == []
    assert filed_monday.events.filter(action="sla_warning").count() == 1


def test_the_sweep_catches_a_breach_whose_eta_task_was_lost(filed_monday):
    # No ETA task ever ran (the broker was flushed): the sweep alone records all three thresholds.
    assert clocks_sweep(now=jst(2026, 11, 18, 10, 0, 30)) == 3
    assert ClockMark.objects.filter(clock__case=filed_monday, threshold=100).count() == 1


def test_claimant_review_reminds_then_resolves_as_accepted_after_thirty_days(filed_monday, agent):
    responded_at = jst(2026, 11, 17, 12, 0)
    with time_machine.travel(responded_at, tick=False):
        case_transition(
            case=filed_monday, action="respond", actor=agent, payload=respond_payload(filed_monday)
        )
    review = clock(filed_monday, ClockKind.CLAIMANT_REVIEW)
    assert review.due_at == responded_at + timedelta(days=14)

    clocks_sweep(now=responded_at + timedelta(days=15))
    filed_monday.refresh_from_db()
    assert filed_monday.state == CaseState.RESPONDED  # reminders only: no escalation
    assert filed_monday.events.filter(action="sla_reminder").count() == 3

    clocks_sweep(now=responded_at + timedelta(days=30))
    filed_monday.refresh_from_db()
    assert filed_monday.state == CaseState.RESOLVED
    event = filed_monday.events.get(action="accept_by_default")
    assert "review period" in event.data["reason"]
    assert ClockMark.objects.filter(clock=review, threshold=ACCEPT_BY_DEFAULT).exists()


def test_withdrawal_stops_live_clocks_without_meeting_them(filed_monday, legal):
    case_transition(case=filed_monday, action="withdraw", actor=legal)
    assert set(filed_monday.clocks.values_list("status", flat=True)) == {ClockStatus.STOPPED}
    assert clocks_due(now=jst(2027, 1, 31, 0, 0)) == []


def test_dispute_starts_the_re_response_clock_in_business_time(filed_monday, agent, legal):
    with time_machine.travel(jst(2026, 11, 17, 12, 0), tick=False):
        case_transition(
            case=filed_monday, action="respond", actor=agent, payload=respond_payload(filed_monday)
        )
    with time_machine.travel(jst(2026, 11, 18, 9, 0), tick=False):
        case_transition(
            case=filed_monday,
            action="dispute",
            actor=legal,
            payload={"reasons": ["no_action"], "note": "Still up."},
        )
    re_response = clock(filed_monday, ClockKind.RE_RESPONSE)
    assert clock(filed_monday, ClockKind.CLAIMANT_REVIEW).status == ClockStatus.MET
    # Five business days from Wednesday 09:00, skipping the weekend and Monday 23rd (a holiday).
    assert re_response.due_at == jst(2026, 11, 25, 18, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_on_two_connections_record_once(file_case):
    with time_machine.travel(MONDAY_10, tick=False):
        cases = [file_case() for _ in range(5)]
    now = jst(2026, 11, 18, 10, 0)
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(clocks_sweep(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each case: acknowledgement 50/80/100 (the response clock's 50% is not due until the 19th),
    # whichever connection recorded them.
    assert sum(results) == 5 * 3
    assert ClockMark.objects.count() == 5 * 3
    for case in cases:
        assert case.events.filter(action="sla_breached").count() == 1


def test_two_clocks_of_one_case_breaching_in_one_sweep_escalate_it_once(filed_monday):
    # By Tuesday 1 December both the acknowledgement and the response clock are long overdue.
    recorded = clocks_sweep(now=jst(2026, 12, 1, 10, 0))
    assert recorded == 3 + 3  # 50/80/100 of each clock
    filed_monday.refresh_from_db()
    assert filed_monday.state == CaseState.ESCALATED
    assert filed_monday.events.filter(action="escalate").count() == 1
    assert filed_monday.events.filter(action="sla_breached").count() == 2
    assert clocks_due(now=jst(2027, 1, 31, 0, 0)) == []
