from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import Role
from tests.factories import AssociationFactory, MemberFactory, ProviderFactory, UserFactory
from tests.workers import redis_worker  # noqa: F401  (a fixture, for every test that needs a real worker)


@pytest.fixture(autouse=True)
def _fresh_sla_settings():
    """Each test reads the policies and closure days its own database holds.

    A test's rows vanish with its rolled-back transaction, which sends no signal, so the
    per-process SLA settings cache is cleared around every test.
    """
    from claims.sla.clocks import sla_settings_clear

    sla_settings_clear()
    yield
    sla_settings_clear()


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


# The service steps that take a freshly submitted claim to each state, and who takes them.
STEPS_TO_STATE = {
    "submitted": [],
    "acknowledged": ["acknowledge"],
    "info_requested": ["acknowledge", "request_info"],
    "responded": ["acknowledge", "respond"],
    "disputed": ["acknowledge", "respond", "dispute"],
    "escalated": ["escalate"],
    "resolved": ["acknowledge", "respond", "accept"],
    "withdrawn": ["withdraw"],
}


@pytest.fixture
def case_in_state(file_case, legal, agent, association_admin):
    """Return a claim taken through the transition service to ``state`` ("draft" files without submitting)."""
    from claims.services import case_transition
    from tests.factories import DISPUTE_PAYLOAD, respond_payload

    def payload_for(action, case):
        return {
            "request_info": lambda: {"question": "Which scene shows the character?"},
            "respond": lambda: respond_payload(case),
            "dispute": lambda: dict(DISPUTE_PAYLOAD),
            "escalate": lambda: {"reason": "The provider does not answer."},
        }.get(action, dict)()

    def actor_for(action):
        if action in ("acknowledge", "request_info", "respond"):
            return agent
        if action in ("escalate", "close"):
            return association_admin
        return legal

    def _in_state(state, **file_kwargs):
        if state == "draft":
            return file_case(submit=False, **file_kwargs)
        case = file_case(**file_kwargs)
        for action in STEPS_TO_STATE[state]:
            case = case_transition(
                case=case, action=action, actor=actor_for(action), payload=payload_for(action, case)
            )
        assert case.state == state
        return case

    return _in_state


@pytest.fixture
def fast_password_hashing(settings):
    """Hash passwords with a fast hasher: tests that create many users need no key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def in_english():
    """Run the test with English messages (the project's default language is Japanese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def eager_tasks():
    """Run the Celery tasks queued during the test in this process, as a worker would."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
