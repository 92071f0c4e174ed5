"""Serializers copy prototype fields instead of deep-copying them: each instance still stands alone."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from claims.api import serializers as s
from tests.factories import respond_payload

pytestmark = pytest.mark.django_db


def request_of(user):
    request = APIView().initialize_request(APIRequestFactory().get("/api/v1/cases/"))
    request.user = user
    return request


def rendered(case, user):
    case = s.CaseSerializer.eager(type(case).objects.filter(pk=case.pk)).get()
    return s.CaseSerializer(case, context={"request": request_of(user)}).data


def test_nested_fields_read_the_context_of_their_own_serializer(file_case, legal, agent):
    """Actions (top level) and the similar-response link (nested in a list) follow each caller."""
    from claims.services import case_transition

    case = case_transition(case=file_case(), action="acknowledge", actor=agent)
    case = case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    as_legal, as_agent, again_as_legal = rendered(case, legal), rendered(case, agent), rendered(case, legal)

    assert {"accept", "dispute"} <= set(as_legal["actions"])
    assert not {"accept", "dispute"} & set(as_agent["actions"])
    assert as_legal == again_as_legal
    assert [r["id"] for r in as_legal["responses"]] == [r["id"] for r in as_agent["responses"]]


def test_concurrent_validations_keep_their_own_errors(legal):
    """Threads of one worker validate at once; the shared prototypes are never bound or changed."""

    def errors(title):
        serializer = s.CaseCreateInputSerializer(
            data={"kind": "claim", "respondent": "p", "title": title, "description": 7, "outputs": [{}]},
            context={"request": request_of(legal)},
        )
        serializer.is_valid()
        return title, serializer.errors

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(errors, [f"Title {n}" for n in range(40)]))

    for _title, found in results:
        assert set(found) == {"description", "outputs"}
        assert set(found["outputs"][0]) == {"product", "seen_at"}


def test_a_copied_list_field_validates_its_children_like_the_declared_one(legal):
    serializer = s.CaseCreateInputSerializer(
        data={
            "kind": "claim",
            "respondent": "p",
            "title": "t",
            "description": "d",
            "remedies": ["remove_output", "no-such-remedy"],
            "works": [999999],
        },
        context={"request": request_of(legal)},
    )

    assert not serializer.is_valid()
    assert set(serializer.errors["remedies"]) == {1}
    assert "works" in serializer.errors
    field = serializer.fields["remedies"]
    assert field.child.parent is field
    assert field.child.root is serializer
