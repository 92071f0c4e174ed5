"""Every transition through its own endpoint, and the refusals a client must be able to tell apart."""

import pytest

from claims.models import CaseEvent, CaseState
from tests.factories import DISPUTE_PAYLOAD, respond_payload

from .conftest import case_url

pytestmark = pytest.mark.django_db


def payload_for(segment, case):
    return {
        "submit": {},
        "acknowledge": {"note": "We are looking into it."},
        "request-info": {"question": "Which scene shows the character?"},
        "provide-info": {"answer": "The scene at 0:42."},
        "respond": respond_payload(case),
        "accept": {"note": "Thank you."},
        "dispute": dict(DISPUTE_PAYLOAD),
        "withdraw": {"reason": "Settled directly."},
        "escalate": {"reason": "The provider does not answer."},
        "close": {"outcome": "upheld", "note": "The outputs reproduce the character."},
    }[segment]


# (endpoint, state before, who takes it, state after)
TRANSITIONS = [
    ("submit", "draft", "legal", "submitted"),
    ("acknowledge", "submitted", "agent", "acknowledged"),
    ("request-info", "acknowledged", "agent", "info_requested"),
    ("provide-info", "info_requested", "legal", "acknowledged"),
    ("respond", "acknowledged", "agent", "responded"),
    ("respond", "submitted", "agent", "responded"),
    ("respond", "disputed", "provider_admin", "responded"),
    ("accept", "responded", "member_admin", "resolved"),
    ("dispute", "responded", "legal", "disputed"),
    ("withdraw", "acknowledged", "legal", "withdrawn"),
    ("escalate", "submitted", "association_admin", "escalated"),
    ("close", "escalated", "association_admin", "resolved"),
]


@pytest.mark.parametrize(("segment", "before", "who", "after"), TRANSITIONS)
def test_each_transition_moves_the_case_and_answers_with_it(
    request, api_client_for, case_in_state, segment, before, who, after
):
    case = case_in_state(before)
    client = api_client_for(request.getfixturevalue(who))

    response = client.post(case_url(case, f"{segment}/"), payload_for(segment, case), format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == after
    case.refresh_from_db()
    assert case.state == after
    assert case.events.order_by("-seq").first().action == segment.replace("-", "_")


def test_the_response_is_returned_with_an_outcome_per_output(agent_api, case_in_state):
    case = case_in_state("acknowledged")

    body = agent_api.post(
        case_url(case, "respond/"), respond_payload(case, outcome="blocked"), format="json"
    ).json()

    (response,) = body["responses"]
    assert [item["outcome"] for item in response["items"]] == ["blocked", "blocked"]
    assert body["actions"] == []


@pytest.mark.parametrize(
    ("segment", "state", "who"),
    [
        ("acknowledge", "submitted", "legal"),  # the claimant cannot acknowledge its own case
        ("accept", "responded", "agent"),  # nor can the provider accept its own response
        ("escalate", "submitted", "legal"),
        ("close", "escalated", "provider_admin"),
        ("respond", "acknowledged", "analyst"),  # the association watches; only the provider answers
    ],
)
def test_a_role_that_may_not_act_gets_403_and_nothing_changes(
    request, api_client_for, case_in_state, segment, state, who
):
    case = case_in_state(state)
    events = CaseEvent.objects.filter(case=case).count()

    response = api_client_for(request.getfixturevalue(who)).post(
        case_url(case, f"{segment}/"), payload_for(segment, case), format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_permitted"
    case.refresh_from_db()
    assert case.state == state
    assert CaseEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize(
    ("segment", "state", "who"),
    [
        ("acknowledge", "acknowledged", "agent"),
        ("accept", "submitted", "legal"),
        ("close", "submitted", "association_admin"),
        ("submit", "submitted", "legal"),
        ("withdraw", "resolved", "legal"),
    ],
)
def test_a_transition_the_state_does_not_allow_is_409(
    request, api_client_for, case_in_state, segment, state, who
):
    case = case_in_state(state)

    response = api_client_for(request.getfixturevalue(who)).post(
        case_url(case, f"{segment}/"), payload_for(segment, case), format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_state"
    assert error["message"]
    case.refresh_from_db()
    assert case.state == state


def test_a_response_missing_an_output_is_refused_field_by_field(agent_api, case_in_state):
    case = case_in_state("acknowledged")
    payload = respond_payload(case)
    payload["items"] = payload["items"][:1]

    response = agent_api.post(case_url(case, "respond/"), payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "response_incomplete"
    assert list(error["fields"]) == ["items"]
    case.refresh_from_db()
    assert case.state == CaseState.ACKNOWLEDGED
    assert not case.responses.exists()


def test_a_response_item_of_the_wrong_type_is_named_by_its_path(agent_api, case_in_state):
    case = case_in_state("acknowledged")
    payload = respond_payload(case)
    payload["items"][1]["outcome"] = "vanished"
    payload["items"][0]["output"] = "first"

    response = agent_api.post(case_url(case, "respond/"), payload, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"items.0.output", "items.1.outcome"}


@pytest.mark.parametrize(
    ("segment", "state", "who", "payload", "field"),
    [
        ("request-info", "acknowledged", "agent", {}, "question"),
        ("dispute", "responded", "legal", {"reasons": [], "note": "No."}, "reasons"),
        ("dispute", "responded", "legal", {"reasons": ["bored"], "note": "No."}, "reasons.0"),
        ("close", "escalated", "association_admin", {"outcome": "upheld"}, "note"),
        ("escalate", "submitted", "association_admin", {"reason": "   "}, "reason"),
    ],
)
def test_a_transition_without_its_required_input_is_400(
    request, api_client_for, case_in_state, segment, state, who, payload, field
):
    case = case_in_state(state)

    response = api_client_for(request.getfixturevalue(who)).post(
        case_url(case, f"{segment}/"), payload, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    case.refresh_from_db()
    assert case.state == state


def test_an_unknown_transition_is_a_404_in_the_error_shape(legal_api, case_in_state):
    case = case_in_state("submitted")

    response = legal_api.post(case_url(case, "approve/"), {}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_second_dispute_hands_the_case_to_the_association(legal_api, agent, case_in_state):
    from claims.services import case_transition

    case = case_in_state("disputed")
    case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    response = legal_api.post(case_url(case, "dispute/"), dict(DISPUTE_PAYLOAD), format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "escalated"
