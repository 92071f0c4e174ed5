"""Published reservations: TDMRep and aipref for a member with mixed grants, public and per provider."""

from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import Role
from members.registry.services import grant_issue, grant_revoke
from members.tokens import api_token_issue
from tests.factories import ProviderFactory, UserFactory, WorkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(legal, member, provider, time_machine):
    """Works at /a/, /b/, /c/ and one without a location; training granted on A, revoked on C."""
    now = timezone.now()
    time_machine.move_to(now - timedelta(days=10))
    works = {
        name: WorkFactory(owner=member, location=f"/{name}/*", title_en=f"Work {name.upper()}")
        for name in "abc"
    }
    WorkFactory(owner=member, location="")
    grant_issue(actor=legal, provider=provider, use="training", work=works["a"])
    revoked = grant_issue(actor=legal, provider=provider, use="training", work=works["c"])
    grant_revoke(actor=legal, grant=revoked, reason="Ended.", effective_at=now - timedelta(days=1))
    grant_issue(actor=legal, provider=provider, use="generation", work=works["b"])
    expired_for = ProviderFactory()
    grant_issue(actor=legal, provider=expired_for, use="training", valid_until=now - timedelta(days=2))
    time_machine.move_to(now)
    return {"member": member, "works": works, "expired_for": expired_for}


def rules_by_location(response):
    assert response.status_code == 200
    return {rule["location"]: rule for rule in response.json()}


def test_the_public_tdmrep_file_reserves_every_location_and_names_the_policy(client, mixed):
    member = mixed["member"]

    response = client.get(f"/registry/{member.slug}/tdmrep.json")

    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    rules = response.json()
    assert [rule["location"] for rule in rules] == ["/a/*", "/b/*", "/c/*", "/*"]  # catch-all last
    policy = f"http://127.0.0.1:8000/registry/{member.slug}/tdm-policy.json"
    assert all(
        rule == {"location": rule["location"], "tdm-reservation": 1, "tdm-policy": policy} for rule in rules
    )
    assert client.get(f"/registry/{member.pk}/tdmrep.json").json() == rules  # by id too


def test_the_provider_sees_its_own_training_grant_lifted_and_nothing_else(client, mixed, agent):
    client.force_login(agent)

    rules = rules_by_location(
        client.get(f"/registry/{mixed['member'].slug}/tdmrep.json", {"provider": agent.organisation.slug})
    )

    assert rules["/a/*"] == {"location": "/a/*", "tdm-reservation": 0}  # granted
    assert rules["/b/*"]["tdm-reservation"] == 1  # only generation was granted
    assert rules["/c/*"]["tdm-reservation"] == 1  # revoked yesterday
    assert rules["/*"]["tdm-reservation"] == 1


def test_the_aipref_lines_say_train_ai_n_unless_a_training_grant_is_in_force(client, mixed, agent):
    slug = mixed["member"].slug

    public = client.get(f"/registry/{slug}/aipref.txt")
    _token, plaintext = api_token_issue(actor=None, user=agent, name="crawler")
    for_provider = client.get(
        f"/registry/{slug}/aipref.txt",
        {"provider": agent.organisation.slug},
        HTTP_AUTHORIZATION=f"Bearer {plaintext}",
    )

    assert public["Content-Type"] == "text/plain; charset=utf-8"
    public_rules = [line for line in public.content.decode().splitlines() if line.startswith("Content-Usage")]
    assert public_rules == [
        "Content-Usage: /a/* train-ai=n",
        "Content-Usage: /b/* train-ai=n",
        "Content-Usage: /c/* train-ai=n",
        "Content-Usage: train-ai=n",
    ]
    assert "User-Agent: *" in public.content.decode()
    provider_rules = [
        line for line in for_provider.content.decode().splitlines() if line.startswith("Content-Usage")
    ]
    assert provider_rules == [
        "Content-Usage: /a/* train-ai=y",
        "Content-Usage: /b/* train-ai=n",
        "Content-Usage: /c/* train-ai=n",
        "Content-Usage: train-ai=n",
    ]
    assert for_provider["Cache-Control"] == "private, no-store"


def test_an_all_works_training_grant_lifts_the_catch_all(client, legal, member, provider, agent):
    WorkFactory(owner=member, location="/x/*")
    grant_issue(actor=legal, provider=provider, use="training")
    client.force_login(agent)

    rules = rules_by_location(client.get(f"/registry/{member.slug}/tdmrep.json", {"provider": provider.slug}))

    assert rules["/*"]["tdm-reservation"] == 0 and rules["/x/*"]["tdm-reservation"] == 0


def test_nobody_else_learns_who_holds_a_grant(client, mixed, agent):
    slug, provider = mixed["member"].slug, agent.organisation.slug
    other_provider_agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=mixed["expired_for"])
    other_member = UserFactory(role=Role.MEMBER_LEGAL)

    assert client.get(f"/registry/{slug}/tdmrep.json", {"provider": provider}).status_code == 404  # anonymous
    for outsider in (other_provider_agent, other_member):
        client.force_login(outsider)
        assert client.get(f"/registry/{slug}/tdmrep.json", {"provider": provider}).status_code == 404
        assert client.get(f"/registry/{slug}/aipref.txt", {"provider": provider}).status_code == 404


def test_an_expired_grant_lifts_nothing(client, mixed):
    agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=mixed["expired_for"])
    client.force_login(agent)

    rules = rules_by_location(
        client.get(f"/registry/{mixed['member'].slug}/tdmrep.json", {"provider": agent.organisation.slug})
    )

    assert {rule["tdm-reservation"] for rule in rules.values()} == {1}


def test_the_tdm_policy_asks_for_consent(client, member):
    response = client.get(f"/registry/{member.slug}/tdm-policy.json")

    policy = response.json()
    assert response["Content-Type"] == "application/ld+json"
    assert policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["permission"][0]["duty"] == [{"action": "obtainConsent"}]


def test_only_an_active_member_has_published_files(client, provider, member):
    member.is_active = False
    member.save()

    for key in (provider.slug, member.slug, "nobody", "99999999999999999999"):
        assert client.get(f"/registry/{key}/tdmrep.json").status_code == 404
        assert client.get(f"/registry/{key}/aipref.txt").status_code == 404
