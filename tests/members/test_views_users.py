"""Organisation admins manage their colleagues: invite, list, deactivate; nobody else may."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USER_LIST = reverse("members:user_list")
USER_ADD = reverse("members:user_add")


def invite(client, **overrides):
    data = {
        "email": "hanako@studio.example",
        "full_name": "Hanako Sato",
        "role": Role.MEMBER_LEGAL,
        "language": "ja",
    }
    data.update(overrides)
    return client.post(USER_ADD, data)


def test_an_admin_invites_a_colleague_who_sets_a_password_and_logs_in(
    client, member_admin, django_capture_on_commit_callbacks
):
    client.force_login(member_admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, email="Hanako@Studio.example")

    assert response.status_code == 302
    assert response["Location"] == USER_LIST
    colleague = User.objects.get(email="hanako@studio.example")
    assert colleague.organisation == member_admin.organisation
    assert colleague.role == Role.MEMBER_LEGAL
    assert not colleague.has_usable_password()
    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["hanako@studio.example"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", invitation.body).group(1)

    # The colleague opens the link in their own browser, chooses a password and logs in with it.
    browser = Client()
    opened = browser.get(link, follow=True)
    assert opened.status_code == 200
    assert opened.context["validlink"] is True
    set_password_url = opened.redirect_chain[-1][0]
    saved = browser.post(
        set_password_url, {"new_password1": "kumo-no-ue-2026!", "new_password2": "kumo-no-ue-2026!"}
    )
    assert saved.status_code == 302
    assert saved["Location"] == reverse("password_reset_complete")
    logged_in = browser.post(
        reverse("login"), {"username": "hanako@studio.example", "password": "kumo-no-ue-2026!"}
    )
    assert logged_in.status_code == 302
    assert browser.session["_auth_user_id"] == str(colleague.pk)

    # The link worked once; opening it again says so instead of letting someone else in.
    reopened = Client().get(link, follow=True)
    assert reopened.context["validlink"] is False


def test_the_user_list_shows_only_the_admins_own_organisation(client, member_admin, legal, other_legal):
    client.force_login(member_admin)

    response = client.get(USER_LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert legal.email in html
    assert member_admin.email in html
    assert other_legal.email not in html


def test_an_admin_cannot_give_a_role_of_another_kind_of_organisation(client, member_admin):
    client.force_login(member_admin)

    response = invite(client, role=Role.PROVIDER_AGENT)

    assert response.status_code == 400
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(email="hanako@studio.example").exists()
    assert mail.outbox == []


def test_an_address_already_in_use_is_refused_beside_the_email_field(client, member_admin, other_legal):
    client.force_login(member_admin)

    response = invite(client, email=other_legal.email.upper())

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["A user with this email address already exists."]
    assert User.objects.filter(email__iexact=other_legal.email).count() == 1


@pytest.mark.parametrize("user_fixture", ["legal", "agent", "analyst"])
def test_users_who_are_not_admins_get_403(client, request, user_fixture, member_admin):
    client.force_login(request.getfixturevalue(user_fixture))

    assert client.get(USER_LIST).status_code == 403
    assert client.get(USER_ADD).status_code == 403
    assert invite(client).status_code == 403
    deactivate = reverse("members:user_deactivate", args=[member_admin.pk])
    assert client.post(deactivate).status_code == 403
    member_admin.refresh_from_db()
    assert member_admin.is_active
    assert not User.objects.filter(email="hanako@studio.example").exists()


def test_an_admin_deactivates_a_colleague_who_can_then_no_longer_use_the_site(client, member_admin, legal):
    colleague_browser = Client()
    colleague_browser.force_login(legal)
    client.force_login(member_admin)

    response = client.post(reverse("members:user_deactivate", args=[legal.pk]))

    assert response.status_code == 302
    legal.refresh_from_db()
    assert not legal.is_active
    assert colleague_browser.get(reverse("claims:case_new")).status_code == 302  # back to the login page


def test_deactivating_a_user_of_another_organisation_is_not_found(client, member_admin, agent, other_legal):
    client.force_login(member_admin)

    for outsider in (agent, other_legal):
        response = client.post(reverse("members:user_deactivate", args=[outsider.pk]))
        assert response.status_code == 404
        outsider.refresh_from_db()
        assert outsider.is_active


def test_an_admin_cannot_deactivate_themselves(client, member_admin):
    client.force_login(member_admin)

    response = client.post(reverse("members:user_deactivate", args=[member_admin.pk]), follow=True)

    member_admin.refresh_from_db()
    assert member_admin.is_active
    assert "You cannot deactivate your own account" in response.content.decode()


def test_a_provider_admin_invites_provider_roles(client, provider_admin, django_capture_on_commit_callbacks):
    client.force_login(provider_admin)
    form_page = client.get(USER_ADD).content.decode()
    assert f'value="{Role.PROVIDER_AGENT}"' in form_page
    assert f'value="{Role.MEMBER_LEGAL}"' not in form_page

    with django_capture_on_commit_callbacks(execute=True):
        invite(client, email="agent@vidgen.example", role=Role.PROVIDER_AGENT, language="en")

    assert User.objects.get(email="agent@vidgen.example").organisation == provider_admin.organisation
    assert mail.outbox[0].to == ["agent@vidgen.example"]


def test_the_invitation_can_be_sent_again_until_the_colleague_has_a_password(
    client, member_admin, django_capture_on_commit_callbacks
):
    client.force_login(member_admin)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client)
    colleague = User.objects.get(email="hanako@studio.example")
    resend = reverse("members:user_invitation_resend", args=[colleague.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend)
    assert len(mail.outbox) == 2

    colleague.set_password("kumo-no-ue-2026!")
    colleague.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend)
    assert len(mail.outbox) == 2


def test_an_admin_of_one_member_cannot_resend_another_members_invitation(client, member_admin):
    outsider = UserFactory(role=Role.MEMBER_LEGAL, password=None)
    client.force_login(member_admin)

    response = client.post(reverse("members:user_invitation_resend", args=[outsider.pk]))

    assert response.status_code == 404
    assert mail.outbox == []
