"""The hash-chained timeline: the verifier finds every kind of tampering; the command reports it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from claims.models import Case, CaseEvent
from claims.services import case_transition, message_post, timeline_verify
from claims.services.timeline import GENESIS_HASH, timelines_verify
from notifications.models import OutboxEntry
from tests.factories import CaseFactory, respond_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]


@pytest.fixture
def long_case(file_case, legal, agent):
    """A claim with six events: created, submit, message, acknowledge, respond, accept."""
    case = file_case()
    message_post(case=case, actor=legal, body="Please look at output #2 first.")
    case = case_transition(case=case, action="acknowledge", actor=agent)
    case = case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))
    case = case_transition(case=case, action="accept", actor=legal)
    assert list(case.events.order_by("seq").values_list("action", flat=True)) == [
        "created",
        "submit",
        "message_posted",
        "acknowledge",
        "respond",
        "accept",
    ]
    # Its notifications went out long ago: no outbox entry holds on to the events deleted below.
    OutboxEntry.objects.filter(event__case=case).delete()
    return case


def problems_of(case):
    return [(problem.seq, problem.problem) for problem in timeline_verify(case=case)]


def sql(statement, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_timeline_verifies(long_case):
    events = list(long_case.events.order_by("seq"))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert timeline_verify(case=long_case) == []


def test_changing_an_events_data_through_the_orm_is_detected(long_case):
    CaseEvent.objects.filter(case=long_case, seq=3).update(data={"message": 999})
    assert problems_of(long_case) == [(3, "content does not match its hash")]


def test_changing_an_events_actor_through_raw_sql_is_detected(long_case, other_legal):
    sql(
        "UPDATE claims_caseevent SET actor_id = %s WHERE case_id = %s AND seq = 4",
        other_legal.pk,
        long_case.pk,
    )
    assert problems_of(long_case) == [(4, "content does not match its hash")]


def test_rewriting_data_and_hash_together_breaks_the_next_link(long_case):
    event = CaseEvent.objects.get(case=long_case, seq=5)
    event.data = {**event.data, "outcomes": {"1": "no_action", "2": "no_action"}}
    forged_hash = event.compute_hash()
    sql(
        "UPDATE claims_caseevent SET data = %s::jsonb, hash = %s WHERE id = %s",
        '{"outcomes": {"1": "no_action", "2": "no_action"}}',
        forged_hash,
        event.pk,
    )
    assert (6, "does not link to the previous event") in problems_of(long_case)


def test_a_deleted_event_in_the_middle_is_detected(long_case):
    sql("DELETE FROM claims_caseevent WHERE case_id = %s AND seq = 3", long_case.pk)
    assert problems_of(long_case) == [(4, "expected event #3"), (4, "does not link to the previous event")]


def test_a_deleted_state_change_is_detected_even_without_its_links(long_case):
    """Deleting the acknowledgement leaves respond starting from a state the case was never in."""
    sql("DELETE FROM claims_caseevent WHERE case_id = %s AND seq = 4", long_case.pk)
    assert (5, "starts from “acknowledged” but the case was “submitted”") in problems_of(long_case)


def test_a_deleted_last_event_is_detected(long_case):
    sql("DELETE FROM claims_caseevent WHERE case_id = %s AND seq = 6", long_case.pk)
    assert problems_of(long_case) == [(None, "the case is “resolved” but its timeline ends in “responded”")]


def test_a_reordered_chain_is_detected(long_case):
    # Swap events 4 and 5 (through a free number: (case, seq) is unique).
    sql("UPDATE claims_caseevent SET seq = 1000 WHERE case_id = %s AND seq = 4", long_case.pk)
    sql("UPDATE claims_caseevent SET seq = 4 WHERE case_id = %s AND seq = 5", long_case.pk)
    sql("UPDATE claims_caseevent SET seq = 5 WHERE case_id = %s AND seq = 1000", long_case.pk)

    problems = problems_of(long_case)

    assert (4, "does not link to the previous event") in problems
    assert (4, "content does not match its hash") in problems
    assert (5, "content does not match its hash") in problems


def test_a_state_written_behind_the_services_back_is_detected(long_case):
    Case.objects.filter(pk=long_case.pk).update(state="escalated")
    assert problems_of(long_case) == [(None, "the case is “escalated” but its timeline ends in “resolved”")]


def test_a_case_without_events_is_reported():
    case = CaseFactory()
    assert [str(problem) for problem in timeline_verify(case=case)] == [f"{case.reference}: has no events"]


def test_events_are_append_only(long_case):
    event = long_case.events.first()
    event.data = {"forged": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert timeline_verify(case=long_case) == []


def test_bulk_verification_reads_in_batches_and_covers_every_case(file_case):
    cases = [file_case() for _ in range(5)]
    CaseEvent.objects.filter(case=cases[1], seq=1).update(action="forged")
    empty = CaseFactory()

    results = dict(timelines_verify(cases=Case.objects.all(), batch_size=2))

    assert set(results) == {case.reference for case in [*cases, empty]}
    assert [str(p) for p in results[cases[1].reference]] == [
        f"{cases[1].reference} event #1: content does not match its hash"
    ]
    assert [str(p) for p in results[empty.reference]] == [f"{empty.reference}: has no events"]
    assert all(not results[case.reference] for case in cases if case != cases[1])


# --- manage.py verify_timelines ---------------------------------------------------------------------


def run_command(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_timelines", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_command_reports_intact_timelines_and_exits_zero(long_case, file_case):
    file_case()
    code, output = run_command()
    assert code == 0
    assert output == "2 timelines verified, all intact.\n"


def test_command_prints_each_problem_and_a_summary_and_exits_non_zero(long_case, file_case):
    intact = file_case()
    CaseEvent.objects.filter(case=long_case, seq=2).update(data={"forged": True})

    code, output = run_command()

    assert code == 1
    assert output.splitlines() == [
        f"{long_case.reference} event #2: content does not match its hash",
        "1 of 2 timelines broken (1 problem).",
    ]
    assert intact.reference not in output


def test_command_checks_only_the_cases_named(long_case, file_case):
    intact = file_case()
    CaseEvent.objects.filter(case=long_case, seq=2).update(data={"forged": True})

    assert run_command(intact.reference) == (0, "1 timeline verified, all intact.\n")
    assert run_command(long_case.reference, intact.reference)[0] == 1


def test_command_refuses_an_unknown_reference(long_case):
    with pytest.raises(CommandError, match="No case with reference CL-1999-000001"):
        call_command("verify_timelines", "CL-1999-000001", long_case.reference)
