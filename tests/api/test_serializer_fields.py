"""Serializers copy prototype fields instead of deep-copying them: each instance still stands alone."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from claims.api import serializers as s
from members.models import Role
from tests.factories import MemberFactory, UserFactory, WorkFactory, respond_payload

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


@pytest.mark.django_db(transaction=True)  # the threads' own connections must see the work
def test_concurrent_validations_each_read_their_own_callers_context(legal):
    """Threads of one worker validate at once: a work is "own" only for its owner's request.

    The works field finds the caller through its parents, which field_copy sets per instance; a
    parent shared between instances would let one thread read another's request.
    """
    other = UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory())
    work = WorkFactory(owner=legal.organisation)

    def validate(user):
        serializer = s.CaseCreateInputSerializer(
            data={"kind": "inquiry", "respondent": "p", "title": "t", "description": "d", "works": [work.pk]},
            context={"request": request_of(user)},
        )
        try:
            return user, serializer.is_valid(), set(serializer.errors)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(validate, [legal, other] * 20))

    assert {(user, valid, frozenset(errors)) for user, valid, errors in results} == {
        (legal, True, frozenset()),
        (other, False, frozenset({"works"})),
    }


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
