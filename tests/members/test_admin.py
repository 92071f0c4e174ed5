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
