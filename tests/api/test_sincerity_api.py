"""Sincerity through the API: the response's flags, and the association's verdict endpoint."""

import pytest

from claims.models import CaseEvent, Sincerity
from claims.services import case_transition
from claims.sla.models import Clock
from members.models import Role
from tests.factories import DISPUTE_PAYLOAD, MemberFactory, UserFactory, respond_payload

from .conftest import case_url

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "Dear Ms Tanaka, thank you for your report. We reviewed the outputs you cited and removed them "
    "under our acceptable use policy. We also blocked the prompts that produced them."
)


def adjudicate_url(case, response_id):
    return case_url(case, f"responses/{response_id}/adjudicate/")


@pytest.fixture
def challenged(case_in_state, legal):
    case = case_in_state("responded")
    case_transition(case=case, action="dispute", actor=legal, payload=dict(DISPUTE_PAYLOAD))
    return case.responses.get()


@pytest.fixture
def templated_pair(file_case, agent, legal):
    """The provider answers another member's case, then ours, in the same words."""
    other_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory())
    theirs, ours = file_case(actor=other_legal), file_case()
    for case in (theirs, ours):
        case_transition(
            case=case, action="respond", actor=agent, payload=respond_payload(case, summary=TEMPLATE)
        )
    return theirs, ours


def test_a_response_shows_its_similarity_and_sincerity(legal_api, challenged):
    body = legal_api.get(case_url(challenged.case)).json()

    (response,) = body["responses"]
    assert response["sincerity"] == "challenged"
    assert response["dispute_reasons"] == DISPUTE_PAYLOAD["reasons"]
    assert response["templated"] is False and response["similarity"] is None
    assert response["similar_to"] is None
    assert response["adjudicated_at"] is None and response["adjudication_note"] == ""


def test_the_similar_response_is_linked_only_for_those_who_may_see_its_case(
    api_client_for, templated_pair, legal, agent, analyst
):
    theirs, ours = templated_pair
    twin = theirs.responses.get()

    seen = {}
    for who, user in (("legal", legal), ("agent", agent), ("analyst", analyst)):
        (response,) = api_client_for(user).get(case_url(ours)).json()["responses"]
        assert response["templated"] is True and response["similarity"] == 1.0
        seen[who] = response["similar_to"]

    assert seen["legal"] is None  # another member's case: the figure, never the reference
    assert seen["agent"] == seen["analyst"] == {"case": theirs.reference, "response": twin.pk}


@pytest.mark.parametrize("who", ["analyst", "association_admin"])
def test_the_association_adjudicates_through_the_api(request, api_client_for, challenged, who):
    client = api_client_for(request.getfixturevalue(who))

    answer = client.post(
        adjudicate_url(challenged.case, challenged.pk),
        {"verdict": "insincere", "note": "A form letter."},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["id"], body["sincerity"], body["adjudication_note"]) == (
        challenged.pk,
        "insincere",
        "A form letter.",
    )
    assert body["adjudicated_at"]
    assert Clock.objects.get(pk=challenged.met_clock_id).judged_insincere
    assert challenged.case.events.order_by("-seq").first().action == "response_adjudicated"


@pytest.mark.parametrize("who", ["legal", "member_admin", "agent", "provider_admin"])
def test_the_parties_may_not_adjudicate(request, api_client_for, challenged, who):
    client = api_client_for(request.getfixturevalue(who))

    answer = client.post(
        adjudicate_url(challenged.case, challenged.pk), {"verdict": "sincere"}, format="json"
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "not_permitted"
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "verdict"),
        ({"verdict": "maybe"}, "verdict"),
        ({"verdict": "insincere"}, "note"),
        ({"verdict": "insincere", "note": "   "}, "note"),
        ({"verdict": "sincere", "note": 12}, "note"),
        ({"verdict": "sincere", "notes": "typo"}, "notes"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api_client_for, analyst, challenged, body, field
):
    events_before = CaseEvent.objects.filter(case=challenged.case).count()

    answer = api_client_for(analyst).post(adjudicate_url(challenged.case, challenged.pk), body, format="json")

    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["error"]["fields"]
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED
    assert CaseEvent.objects.filter(case=challenged.case).count() == events_before


def test_an_unchallenged_response_is_a_400_and_a_second_verdict_a_409(
    api_client_for, analyst, case_in_state, challenged
):
    client = api_client_for(analyst)
    unchallenged = case_in_state("responded").responses.get()

    first = client.post(
        adjudicate_url(unchallenged.case, unchallenged.pk), {"verdict": "sincere"}, format="json"
    )
    assert (first.status_code, first.json()["error"]["code"]) == (400, "not_challenged")

    assert (
        client.post(
            adjudicate_url(challenged.case, challenged.pk), {"verdict": "sincere"}, format="json"
        ).status_code
        == 200
    )
    again = client.post(adjudicate_url(challenged.case, challenged.pk), {"verdict": "sincere"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_adjudicated")


def test_another_organisations_case_or_another_cases_response_is_404(
    api_client_for, file_case, agent, other_agent, challenged, analyst, case_in_state
):
    other_member_staff = UserFactory(role=Role.MEMBER_LEGAL)
    for user in (other_agent, other_member_staff):
        answer = api_client_for(user).post(
            adjudicate_url(challenged.case, challenged.pk), {"verdict": "sincere"}, format="json"
        )
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"

    elsewhere = case_in_state("responded")
    answer = api_client_for(analyst).post(
        adjudicate_url(elsewhere, challenged.pk), {"verdict": "sincere"}, format="json"
    )
    assert answer.status_code == 404
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED
