from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import Role
from tests.factories import AssociationFactory, MemberFactory, ProviderFactory, UserFactory


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def provider():
    return ProviderFactory()


@pytest.fixture
def association():
    return AssociationFactory()


@pytest.fixture
def legal(member):
    return UserFactory(role=Role.MEMBER_LEGAL, organisation=member)


@pytest.fixture
def member_admin(member):
    return UserFactory(role=Role.MEMBER_ADMIN, organisation=member)


@pytest.fixture
def agent(provider):
    return UserFactory(role=Role.PROVIDER_AGENT, organisation=provider)


@pytest.fixture
def provider_admin(provider):
    return UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider)


@pytest.fixture
def analyst(association):
    return UserFactory(role=Role.ASSOCIATION_ANALYST, organisation=association)


@pytest.fixture
def association_admin(association):
    return UserFactory(role=Role.ASSOCIATION_ADMIN, organisation=association)


@pytest.fixture
def other_legal():
    """Legal staff of a different member company."""
    return UserFactory(role=Role.MEMBER_LEGAL)


@pytest.fixture
def other_agent():
    """An agent of a different provider."""
    return UserFactory(role=Role.PROVIDER_AGENT)


@pytest.fixture
def file_case(legal, provider):
    """File a claim through the service, submitted unless told otherwise."""
    from claims.services import case_create

    def _file(*, actor=None, respondent=None, outputs=2, submit=True, **kwargs):
        actor = actor or legal
        seen_at = (timezone.now() - timedelta(hours=1)).isoformat()
        data = {
            "kind": "claim",
            "title": "Our character in generated video",
            "description": "The output shows our character.",
            "legal_basis": "character_likeness",
            "remedies": ["remove_output"],
            "priority": "normal",
        }
        data.update(kwargs)
        return case_create(
            actor=actor,
            respondent=respondent or provider,
            outputs=[
                {"product": "VidGen", "url": f"https://vidgen.example/v/{i}", "seen_at": seen_at}
                for i in range(outputs)
            ],
            submit=submit,
            **data,
        )

    return _file
