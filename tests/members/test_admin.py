"""The association's admin manages organisations and users in Django admin, without platform powers."""

import pytest

from members.management.commands.seed_demo import association_admin_group
from members.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def association_staff(association_admin):
    association_admin.is_staff = True
    association_admin.save()
    association_admin.groups.add(association_admin_group())
    return association_admin


def test_association_admin_cannot_make_anyone_a_superuser(client, association_staff):
    target = UserFactory(role=Role.MEMBER_LEGAL)
    client.force_login(association_staff)
    page = client.get(f"/admin/members/user/{target.pk}/change/")
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    assert b'name="full_name"' in page.content

    client.post(
        f"/admin/members/user/{target.pk}/change/",
        {
            "email": target.email,
            "full_name": "Renamed",
            "organisation": target.organisation_id,
            "role": target.role,
            "language": "en",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    target.refresh_from_db()
    assert target.full_name == "Renamed"
    assert not target.is_superuser
    assert not target.is_staff


def test_every_admin_page_of_the_association_opens(client, file_case):
    """Each registered model's list and one object's page render for a platform superuser."""
    from django.contrib import admin as django_admin
    from django.urls import reverse

    from members.models import User

    file_case()
    superuser = User.objects.create_superuser("root@example.test", "pw-not-used")
    client.force_login(superuser)
    for model, model_admin in django_admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        first = model_admin.get_queryset(_request(superuser)).first()
        if first is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
