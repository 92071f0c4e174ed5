"""The case state machine: every allowed transition writes its event; every refused one writes nothing."""

import pytest

from claims.models import CaseEvent, CaseState, Message, Response
from claims.services import case_transition
from claims.services.transitions import actions_available
from members.errors import ApplicationError, TransitionNotAllowed
from tests.factories import DISPUTE_PAYLOAD, respond_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

OPEN_STATES_BUT_DRAFT = ["submitted", "acknowledged", "info_requested", "responded", "disputed"]


@pytest.fixture
def actors(legal, member_admin, agent, provider_admin, association_admin, analyst, other_legal, other_agent):
    """Name every kind of actor so that parametrized tests can pick one by name."""
    return {
        "legal": legal,
        "member_admin": member_admin,
        "agent": agent,
        "provider_admin": provider_admin,
        "association_admin": association_admin,
        "analyst": analyst,
        "other_legal": other_legal,
        "other_agent": other_agent,
        "system": None,
    }


def events_after(case, seq):
    return list(CaseEvent.objects.filter(case=case, seq__gt=seq).order_by("seq"))


def last_seq(case):
    return CaseEvent.objects.filter(case=case).order_by("-seq").values_list("seq", flat=True).first()


def assert_event(event, *, action, from_state, to_state, actor, data=None):
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        action,
        from_state,
        to_state,
        actor,
    )
    if data is not None:
        assert event.data == data


# --- Allowed transitions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "actor_name", "payload", "to_state", "data"),
    [
        ("draft", "submit", "legal", {}, "submitted", {}),
        ("draft", "submit", "member_admin", {}, "submitted", {}),
        ("submitted", "acknowledge", "agent", {}, "acknowledged", {}),
        (
            "submitted",
            "acknowledge",
            "provider_admin",
            {"note": "Looking into it."},
            "acknowledged",
            {"note": "Looking into it."},
        ),
        (
            "acknowledged",
            "request_info",
            "agent",
            {"question": "Which scene?"},
            "info_requested",
            {"question": "Which scene?"},
        ),
        (
            "disputed",
            "request_info",
            "agent",
            {"question": "Which frame?"},
            "info_requested",
            {"question": "Which frame?"},
        ),
        ("responded", "accept", "legal", {}, "resolved", {}),
        ("responded", "accept", "member_admin", {"note": "Thank you."}, "resolved", {"note": "Thank you."}),
        (
            "responded",
            "dispute",
            "legal",
            DISPUTE_PAYLOAD,
            "disputed",
            {"reasons": ["generic_text", "no_action"], "note": DISPUTE_PAYLOAD["note"], "dispute_number": 1},
        ),
    ],
)
def test_allowed_transition_changes_state_and_writes_its_event(
    case_in_state, actors, start, action, actor_name, payload, to_state, data
):
    case = case_in_state(start)
    before = last_seq(case)
    actor = actors[actor_name]

    result = case_transition(case=case, action=action, actor=actor, payload=payload)

    case.refresh_from_db()
    assert result.state == case.state == to_state
    [event] = events_after(case, before)
    assert_event(event, action=action, from_state=start, to_state=to_state, actor=actor, data=data)


@pytest.mark.parametrize(("via", "resumes"), [("acknowledged", "acknowledged"), ("disputed", "disputed")])
def test_provide_info_returns_the_case_to_where_the_question_was_asked(
    case_in_state, agent, legal, via, resumes
):
    case = case_in_state(via)
    case_transition(case=case, action="request_info", actor=agent, payload={"question": "Which scene?"})
    before = last_seq(case)

    case = case_transition(case=case, action="provide_info", actor=legal, payload={"answer": "Scene 3."})

    assert case.state == resumes
    [event] = events_after(case, before)
    assert_event(
        event,
        action="provide_info",
        from_state="info_requested",
        to_state=resumes,
        actor=legal,
        data={"answer": "Scene 3."},
    )
    assert list(case.messages.order_by("-id").values_list("body", flat=True)[:2]) == [
        "Scene 3.",
        "Which scene?",
    ]


def test_request_info_straight_after_filing_acknowledges_first_and_returns_to_acknowledged(
    case_in_state, agent, legal
):
    case = case_in_state("submitted")
    before = last_seq(case)

    case = case_transition(case=case, action="request_info", actor=agent, payload={"question": "Which?"})

    acknowledge, request = events_after(case, before)
    assert_event(
        acknowledge, action="acknowledge", from_state="submitted", to_state="acknowledged", actor=agent
    )
    assert_event(
        request, action="request_info", from_state="acknowledged", to_state="info_requested", actor=agent
    )
    case = case_transition(case=case, action="provide_info", actor=legal, payload={"answer": "This one."})
    assert case.state == CaseState.ACKNOWLEDGED


@pytest.mark.parametrize("start", ["acknowledged", "disputed"])
def test_respond_records_an_outcome_for_every_output(case_in_state, agent, start):
    case = case_in_state(start)
    before = last_seq(case)

    case = case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    assert case.state == CaseState.RESPONDED
    [event] = events_after(case, before)
    response = case.responses.latest("id")
    assert_event(
        event,
        action="respond",
        from_state=start,
        to_state="responded",
        actor=agent,
        data={
            "response": response.pk,
            "outcomes": {"1": "removed", "2": "removed"},
            "contact": "Sato Hanako",
        },
    )
    assert sorted(response.items.values_list("outcome", flat=True)) == ["removed", "removed"]


def test_respond_from_submitted_acknowledges_in_the_same_step(case_in_state, agent):
    case = case_in_state("submitted")
    before = last_seq(case)

    case = case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    acknowledge, respond = events_after(case, before)
    assert_event(
        acknowledge, action="acknowledge", from_state="submitted", to_state="acknowledged", actor=agent
    )
    assert_event(respond, action="respond", from_state="acknowledged", to_state="responded", actor=agent)
    assert case.state == CaseState.RESPONDED


def test_second_dispute_escalates_automatically_with_a_system_event(case_in_state, agent, legal):
    case = case_in_state("disputed")
    case = case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))
    before = last_seq(case)

    case = case_transition(case=case, action="dispute", actor=legal, payload=DISPUTE_PAYLOAD)

    dispute, escalate = events_after(case, before)
    assert_event(dispute, action="dispute", from_state="responded", to_state="disputed", actor=legal)
    assert dispute.data["dispute_number"] == 2
    assert_event(
        escalate,
        action="escalate",
        from_state="disputed",
        to_state="escalated",
        actor=None,
        data={"reason": "second dispute"},
    )
    case.refresh_from_db()
    assert case.state == CaseState.ESCALATED
    assert case.dispute_count == 2


def test_first_dispute_does_not_escalate(case_in_state, legal):
    case = case_in_state("responded")
    case = case_transition(case=case, action="dispute", actor=legal, payload=DISPUTE_PAYLOAD)
    assert case.state == CaseState.DISPUTED
    assert not case.events.filter(action="escalate").exists()


@pytest.mark.parametrize("start", ["draft", *OPEN_STATES_BUT_DRAFT, "escalated"])
def test_claimant_may_withdraw_from_every_open_state(case_in_state, legal, start):
    case = case_in_state(start)
    before = last_seq(case)

    case = case_transition(
        case=case, action="withdraw", actor=legal, payload={"reason": "Settled privately."}
    )

    case.refresh_from_db()
    assert case.state == CaseState.WITHDRAWN
    assert case.closed_at is not None
    [event] = events_after(case, before)
    assert_event(
        event,
        action="withdraw",
        from_state=start,
        to_state="withdrawn",
        actor=legal,
        data={"reason": "Settled privately."},
    )


@pytest.mark.parametrize("start", OPEN_STATES_BUT_DRAFT)
@pytest.mark.parametrize("actor_name", ["association_admin", "analyst"])
def test_association_may_escalate_from_every_open_submitted_state(case_in_state, actors, start, actor_name):
    case = case_in_state(start)
    before = last_seq(case)
    actor = actors[actor_name]

    case = case_transition(case=case, action="escalate", actor=actor, payload={"reason": "No answer."})

    assert case.state == CaseState.ESCALATED
    [event] = events_after(case, before)
    assert_event(
        event,
        action="escalate",
        from_state=start,
        to_state="escalated",
        actor=actor,
        data={"reason": "No answer."},
    )


@pytest.mark.parametrize("start", OPEN_STATES_BUT_DRAFT)
def test_system_may_escalate_without_an_actor(case_in_state, start):
    case = case_in_state(start)
    before = last_seq(case)

    case = case_transition(
        case=case, action="escalate", actor=None, payload={"reason": "response clock breached"}
    )

    [event] = events_after(case, before)
    assert_event(
        event,
        action="escalate",
        from_state=start,
        to_state="escalated",
        actor=None,
        data={"reason": "response clock breached"},
    )


def test_association_closes_an_escalated_case_with_outcome_and_note(case_in_state, association_admin):
    case = case_in_state("escalated")
    before = last_seq(case)

    case = case_transition(
        case=case,
        action="close",
        actor=association_admin,
        payload={"outcome": "partially_upheld", "note": "One output removed, one kept."},
    )

    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert (case.close_outcome, case.close_note) == ("partially_upheld", "One output removed, one kept.")
    assert case.closed_at is not None
    [event] = events_after(case, before)
    assert_event(
        event,
        action="close",
        from_state="escalated",
        to_state="resolved",
        actor=association_admin,
        data={"outcome": "partially_upheld", "note": "One output removed, one kept."},
    )


def test_system_accepts_by_default_after_the_review_period(case_in_state):
    case = case_in_state("responded")
    case = case_transition(case=case, action="accept_by_default", actor=None, payload={"reason": "30 days"})
    assert case.state == CaseState.RESOLVED
    assert case.events.latest("seq").action == "accept_by_default"


# --- Refused transitions ----------------------------------------------------------------------------


def assert_refused(case, *, action, actor, payload=None, code, error=TransitionNotAllowed):
    """Attempt the action and check it is refused with nothing written."""
    case.refresh_from_db()
    state, seq = case.state, last_seq(case)
    messages, responses = Message.objects.count(), Response.objects.count()

    with pytest.raises(error) as refused:
        case_transition(case=case, action=action, actor=actor, payload=payload or {})

    case.refresh_from_db()
    assert case.state == state
    assert last_seq(case) == seq
    assert (Message.objects.count(), Response.objects.count()) == (messages, responses)
    assert refused.value.code == code
    return refused.value


@pytest.mark.parametrize(
    ("start", "action", "actor_name"),
    [
        ("draft", "submit", "other_legal"),
        ("submitted", "withdraw", "other_legal"),
        ("responded", "accept", "other_legal"),
        ("responded", "dispute", "other_legal"),
        ("info_requested", "provide_info", "other_legal"),
        ("submitted", "acknowledge", "other_agent"),
        ("acknowledged", "respond", "other_agent"),
        ("acknowledged", "request_info", "other_agent"),
    ],
)
def test_another_organisation_may_not_act_on_the_case(case_in_state, actors, start, action, actor_name):
    case = case_in_state(start)
    error = assert_refused(case, action=action, actor=actors[actor_name], code="not_permitted")
    assert error.status_code == 403
    assert "does not allow" in error.message


@pytest.mark.parametrize(
    ("start", "action", "actor_name"),
    [
        ("responded", "accept", "agent"),
        ("responded", "dispute", "provider_admin"),
        ("submitted", "withdraw", "agent"),
        ("acknowledged", "respond", "legal"),
        ("submitted", "acknowledge", "member_admin"),
        ("acknowledged", "respond", "association_admin"),
        ("draft", "submit", "analyst"),
        ("draft", "submit", "agent"),
        ("responded", "accept", "association_admin"),
        ("submitted", "escalate", "legal"),
        ("submitted", "escalate", "agent"),
        ("escalated", "close", "legal"),
        ("escalated", "close", "agent"),
        ("escalated", "close", "system"),
        ("responded", "accept", "system"),
        ("submitted", "acknowledge", "system"),
        ("responded", "accept_by_default", "legal"),
        ("responded", "accept_by_default", "association_admin"),
    ],
)
def test_a_role_that_does_not_take_the_action_is_refused(case_in_state, actors, start, action, actor_name):
    case = case_in_state(start)
    assert_refused(case, action=action, actor=actors[actor_name], code="not_permitted")


@pytest.mark.parametrize(
    ("start", "action", "actor_name"),
    [
        ("submitted", "accept", "legal"),
        ("responded", "close", "association_admin"),
        ("submitted", "submit", "legal"),
        ("acknowledged", "acknowledge", "agent"),
        ("acknowledged", "provide_info", "legal"),
        ("info_requested", "request_info", "agent"),
        ("info_requested", "respond", "agent"),
        ("responded", "respond", "agent"),
        ("disputed", "dispute", "legal"),
        ("escalated", "escalate", "association_admin"),
        ("draft", "escalate", "association_admin"),
        ("draft", "acknowledge", "agent"),
        ("resolved", "withdraw", "legal"),
        ("resolved", "dispute", "legal"),
        ("withdrawn", "withdraw", "legal"),
        ("withdrawn", "escalate", "system"),
        ("escalated", "accept_by_default", "system"),
    ],
)
def test_an_action_from_the_wrong_state_is_refused(case_in_state, actors, start, action, actor_name):
    case = case_in_state(start)
    error = assert_refused(case, action=action, actor=actors[actor_name], code="invalid_state")
    assert error.status_code == 409
    assert "is not possible while the case is" in error.message


def test_refusal_names_the_action_and_the_state(case_in_state, legal):
    case = case_in_state("submitted")
    error = assert_refused(case, action="accept", actor=legal, code="invalid_state")
    assert error.message == "“Accept” is not possible while the case is “Submitted”."


def test_an_unknown_action_is_refused(case_in_state, legal):
    case = case_in_state("submitted")
    error = assert_refused(case, action="reopen", actor=legal, code="unknown_action", error=ApplicationError)
    assert not isinstance(error, TransitionNotAllowed)


# --- Incomplete payloads ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["submitted", "acknowledged", "disputed"])
def test_respond_without_an_outcome_for_every_output_writes_nothing(case_in_state, agent, start):
    """Also from "submitted": the acknowledgement that would come with it is rolled back too."""
    case = case_in_state(start)
    payload = respond_payload(case)
    payload["items"] = payload["items"][:1]

    error = assert_refused(
        case,
        action="respond",
        actor=agent,
        payload=payload,
        code="response_incomplete",
        error=ApplicationError,
    )

    assert "#2" in error.fields["items"][0]


def test_respond_for_an_output_of_another_case_is_refused(case_in_state, file_case, agent):
    case = case_in_state("acknowledged")
    elsewhere = file_case().outputs.first()
    payload = respond_payload(case)
    payload["items"].append({"output": elsewhere.pk, "outcome": "removed", "rationale": "Also removed."})

    error = assert_refused(
        case,
        action="respond",
        actor=agent,
        payload=payload,
        code="response_incomplete",
        error=ApplicationError,
    )

    assert error.fields == {"items.2.output": ["This output does not belong to the case."]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_name": "  "}, "contact_name"),
        ({"summary": ""}, "summary"),
    ],
)
def test_respond_needs_a_summary_and_a_named_contact(case_in_state, agent, change, field):
    case = case_in_state("acknowledged")
    error = assert_refused(
        case,
        action="respond",
        actor=agent,
        payload=respond_payload(case, **change),
        code="invalid",
        error=ApplicationError,
    )
    assert field in error.fields


def test_respond_needs_an_outcome_and_a_rationale_per_output(case_in_state, agent):
    case = case_in_state("acknowledged")
    payload = respond_payload(case)
    payload["items"][0]["outcome"] = "ignored"
    payload["items"][1]["rationale"] = " "

    error = assert_refused(
        case,
        action="respond",
        actor=agent,
        payload=payload,
        code="response_incomplete",
        error=ApplicationError,
    )

    assert set(error.fields) == {"items.0.outcome", "items.1.rationale"}


@pytest.mark.parametrize(
    ("start", "action", "actor_name", "payload", "field"),
    [
        ("acknowledged", "request_info", "agent", {"question": ""}, "question"),
        ("info_requested", "provide_info", "legal", {"answer": "   "}, "answer"),
        ("responded", "dispute", "legal", {"reasons": [], "note": "Generic."}, "reasons"),
        ("responded", "dispute", "legal", {"reasons": ["made_up"], "note": "Generic."}, "reasons"),
        ("responded", "dispute", "legal", {"reasons": ["generic_text"]}, "note"),
        ("submitted", "escalate", "association_admin", {}, "reason"),
        ("escalated", "close", "association_admin", {"note": "Done."}, "outcome"),
        ("escalated", "close", "association_admin", {"outcome": "upheld"}, "note"),
    ],
)
def test_an_incomplete_payload_is_refused_with_the_field_named(
    case_in_state, actors, start, action, actor_name, payload, field
):
    case = case_in_state(start)
    error = assert_refused(
        case, action=action, actor=actors[actor_name], payload=payload, code="invalid", error=ApplicationError
    )
    assert field in error.fields


def test_a_claim_without_outputs_cannot_be_submitted(case_in_state, legal):
    draft = case_in_state("draft", outputs=0)
    error = assert_refused(draft, action="submit", actor=legal, code="invalid", error=ApplicationError)
    assert "outputs" in error.fields


# --- Buttons ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "actor_name", "expected"),
    [
        ("draft", "legal", ["submit", "withdraw"]),
        ("draft", "agent", []),
        ("submitted", "agent", ["acknowledge", "request_info", "respond"]),
        ("submitted", "legal", ["withdraw"]),
        ("submitted", "analyst", ["escalate"]),
        ("submitted", "other_agent", []),
        ("info_requested", "legal", ["provide_info", "withdraw"]),
        ("responded", "legal", ["accept", "dispute", "withdraw"]),
        ("escalated", "association_admin", ["close"]),
        ("resolved", "legal", []),
    ],
)
def test_actions_available_lists_what_the_user_may_do_now(case_in_state, actors, start, actor_name, expected):
    case = case_in_state(start)
    assert [action.name for action in actions_available(case=case, user=actors[actor_name])] == expected
