"""Organisation admins issue, list and revoke API tokens in the web UI; nobody else may."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from members.models import ApiToken, Role
from members.tokens import TokenRejected, api_token_authenticate, api_token_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_LIST = reverse("tokens:token_list")
TOKEN_CREATE = reverse("tokens:token_create")
TOKEN_IN_PAGE = re.compile(r"rdk_[a-z0-9]{8}_[A-Za-z0-9_-]{32,}")


def create(client, **overrides):
    data = {"name": "Trust and safety system", "user": "", "valid_until": ""}
    data.update(overrides)
    return client.post(TOKEN_CREATE, data)


def test_an_admin_creates_a_token_and_sees_it_exactly_once(client, provider_admin):
    client.force_login(provider_admin)

    created = create(client, user=provider_admin.pk)

    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    shown = set(TOKEN_IN_PAGE.findall(created.content.decode()))
    assert len(shown) == 1
    plaintext = shown.pop()
    assert api_token_authenticate(plaintext=plaintext).user == provider_admin

    listing = client.get(TOKEN_LIST).content.decode()
    token = ApiToken.objects.get()
    assert "Trust and safety system" in listing
    assert f"rdk_{token.prefix}_" in listing
    assert plaintext not in listing
    assert not TOKEN_IN_PAGE.search(listing)


def test_an_admin_creates_a_token_for_a_colleague(client, provider_admin, agent):
    client.force_login(provider_admin)

    create(client, user=agent.pk, name="Ticket bridge")

    token = ApiToken.objects.get()
    assert (token.user, token.created_by, token.name) == (agent, provider_admin, "Ticket bridge")


def test_the_form_offers_only_active_colleagues(client, provider_admin, agent, other_agent):
    gone = UserFactory(role=Role.PROVIDER_AGENT, organisation=provider_admin.organisation, is_active=False)
    client.force_login(provider_admin)

    offered = set(client.get(TOKEN_CREATE).context["form"].fields["user"].queryset)
    refused = create(client, user=other_agent.pk)

    assert offered == {provider_admin, agent}
    assert gone not in offered
    assert refused.status_code == 400
    assert refused.context["form"].errors["user"]
    assert not ApiToken.objects.exists()


def test_a_token_is_valid_until_the_end_of_the_chosen_day_in_japan(client, member_admin):
    client.force_login(member_admin)

    with time_machine.travel(datetime(2026, 11, 25, 3, 0, tzinfo=UTC), tick=False):
        create(client, user=member_admin.pk, valid_until="2026-12-31")

    # 2027-01-01 00:00 in Tokyo is 2026-12-31 15:00 UTC.
    assert ApiToken.objects.get().expires_at == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


def test_a_validity_that_ended_already_is_refused_beside_the_field(client, member_admin):
    client.force_login(member_admin)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = create(client, user=member_admin.pk, valid_until=yesterday)

    assert response.status_code == 400
    assert response.context["form"].errors["valid_until"]
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(client, member_admin):
    client.force_login(member_admin)

    response = create(client, user=member_admin.pk, name="  ")

    assert response.status_code == 400
    assert response.context["form"].errors["name"]


def test_an_admin_revokes_a_token_which_stops_working(client, provider_admin, agent):
    token, plaintext = api_token_issue(actor=provider_admin, user=agent, name="Old bridge")
    client.force_login(provider_admin)

    response = client.post(reverse("tokens:token_revoke", args=[token.pk]), follow=True)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == provider_admin
    assert response.redirect_chain[-1][0] == TOKEN_LIST
    page = response.content.decode()
    assert "Old bridge" in page
    assert f'action="{reverse("tokens:token_revoke", args=[token.pk])}"' not in page
    with pytest.raises(TokenRejected) as refused:
        api_token_authenticate(plaintext=plaintext)
    assert refused.value.code == "token_revoked"


def test_the_list_shows_each_tokens_state_and_last_use(client, provider_admin, agent, in_english):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api_token_issue(
            actor=provider_admin, user=agent, name="Lapsing", expires_at=start + timedelta(hours=1)
        )
        revoked, _ = api_token_issue(actor=provider_admin, user=agent, name="Withdrawn")
        _used, plaintext = api_token_issue(actor=provider_admin, user=agent, name="Busy")
        api_token_authenticate(plaintext=plaintext)
    revoked.revoked_at = start
    revoked.save(update_fields=["revoked_at"])
    client.force_login(provider_admin)

    with time_machine.travel(start + timedelta(hours=2), tick=False):
        rows = {row.name: row for row in client.get(TOKEN_LIST).context["tokens"]}
        states = {name: row.state for name, row in rows.items()}

    assert states == {"Lapsing": "expired", "Withdrawn": "revoked", "Busy": "active"}
    assert rows["Busy"].last_used_at == start
    assert rows["Lapsing"].last_used_at is None


def test_the_list_shows_only_the_organisations_tokens(client, provider_admin, agent, other_agent):
    api_token_issue(actor=None, user=agent, name="Ours")
    api_token_issue(actor=None, user=other_agent, name="Theirs")
    client.force_login(provider_admin)

    page = client.get(TOKEN_LIST).content.decode()

    assert "Ours" in page
    assert "Theirs" not in page


@pytest.mark.parametrize("role", [Role.MEMBER_LEGAL, Role.PROVIDER_AGENT, Role.ASSOCIATION_ANALYST])
def test_only_organisation_admins_manage_tokens(client, role):
    user = UserFactory(role=role)
    token, _ = api_token_issue(actor=None, user=user, name="Theirs")
    client.force_login(user)

    assert client.get(TOKEN_LIST).status_code == 403
    assert client.get(TOKEN_CREATE).status_code == 403
    assert create(client, user=user.pk).status_code == 403
    assert client.post(reverse("tokens:token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_another_organisations_token_is_not_found(client, provider_admin, other_agent):
    token, _ = api_token_issue(actor=None, user=other_agent, name="Theirs")
    client.force_login(provider_admin)

    response = client.post(reverse("tokens:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(TOKEN_LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_navigation_offers_api_tokens_to_admins_only(client, member_admin, legal):
    client.force_login(member_admin)
    assert f'href="{TOKEN_LIST}"' in client.get(reverse("claims:case_list")).content.decode()

    client.force_login(legal)
    assert f'href="{TOKEN_LIST}"' not in client.get(reverse("claims:case_list")).content.decode()
