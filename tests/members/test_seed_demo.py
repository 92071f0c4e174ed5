"""The demo data that `make run` loads: the promised logins, every state, real timelines."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils import timezone

from claims.models import Case, CaseEvent, CaseState
from claims.services import timeline_verify
from members.models import Organisation, OrganisationKind, User

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-pass-2026"


def seed(**options):
    call_command("seed_demo", no_progress=True, no_logins=True, **options)


def log_in(email, password):
    """Authenticate as the login form does (django-axes wants the request)."""
    return authenticate(RequestFactory().post("/login/"), username=email, password=password)


@pytest.fixture(scope="module")
def evidence_dir(tmp_path_factory):
    """Keep the demo's evidence files out of var/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _evidence_in_tmp(evidence_dir):
    pass


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, evidence_dir):
    """Seed 30 cases once for the module's read-only checks (seeding takes seconds).

    One outer transaction, rolled back at the end, keeps them out of every other test; each
    test runs in a savepoint inside it.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed(cases=30, seed=7)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("email", "role", "kind"),
    [
        ("legal@member.demo", "member_legal", OrganisationKind.MEMBER),
        ("agent@provider.demo", "provider_agent", OrganisationKind.PROVIDER),
        ("analyst@association.demo", "association_analyst", OrganisationKind.ASSOCIATION),
        ("admin@member.demo", "member_admin", OrganisationKind.MEMBER),
        ("admin@provider.demo", "provider_admin", OrganisationKind.PROVIDER),
        ("admin@association.demo", "association_admin", OrganisationKind.ASSOCIATION),
    ],
)
def test_the_readme_logins_authenticate_with_the_demo_password(seeded, email, role, kind):
    user = log_in(email, DEMO_PASSWORD)

    assert user is not None
    assert user.role == role
    assert user.organisation.kind == kind
    assert log_in(email, "wrong-password") is None


def test_the_association_has_members_and_two_providers_with_names_in_both_languages(seeded):
    members = Organisation.objects.members()
    providers = Organisation.objects.providers()

    assert members.count() >= 6
    assert providers.count() == 2
    assert Organisation.objects.filter(kind=OrganisationKind.ASSOCIATION).count() == 1
    for organisation in Organisation.objects.all():
        assert organisation.name_ja and organisation.name_en and organisation.name_ja != organisation.name_en
    for member in members:
        assert member.works.exists()
        assert set(member.users.values_list("role", flat=True)) == {"member_admin", "member_legal"}


def test_demo_cases_reach_every_state(seeded):
    states = set(Case.objects.values_list("state", flat=True))

    assert states == set(CaseState.values)
    assert Case.objects.count() == 30


def test_every_demo_timeline_verifies(seeded):
    problems = [problem for case in Case.objects.all() for problem in timeline_verify(case=case)]

    assert problems == []


def test_demo_history_spreads_over_months_and_never_lies_in_the_future(seeded):
    now = timezone.now()
    filed = sorted(Case.objects.values_list("created_at", flat=True))

    assert filed[0] < now - timedelta(days=60)
    assert filed[-1] > now - timedelta(days=30)
    assert filed[0] > now - timedelta(days=184)
    assert not CaseEvent.objects.filter(created_at__gt=now).exists()
    for case in Case.objects.all():
        moments = list(case.events.order_by("seq").values_list("created_at", flat=True))
        assert moments == sorted(moments), case.reference


def test_demo_cases_come_from_the_services_with_their_threads(seeded):
    """Filing, transitions, responses and messages leave the records the services write."""
    responded = Case.objects.filter(responses__isnull=False).distinct()

    assert responded.exists()
    for case in responded:
        for response in case.responses.all():
            assert set(response.items.values_list("output_id", flat=True)) == set(
                case.outputs.values_list("pk", flat=True)
            )
    assert CaseEvent.objects.filter(action="submit").count() == Case.objects.exclude(state="draft").count()
    assert Case.objects.filter(kind="claim").exclude(outputs__isnull=False).count() == 0


def test_the_association_admin_manages_organisations_and_sla_policies_but_cannot_delete_them(seeded, client):
    admin = User.objects.get(email="admin@association.demo")
    client.force_login(admin)

    assert client.get("/admin/members/organisation/").status_code == 200
    assert client.get("/admin/members/user/add/").status_code == 200
    assert client.get("/admin/claims/slapolicy/").status_code == 200
    assert not admin.is_superuser
    assert not admin.has_perm("members.delete_organisation")
    assert client.get(f"/admin/members/organisation/{admin.organisation_id}/delete/").status_code == 403


def test_the_same_seed_gives_the_same_cases_and_reuses_the_organisations():
    def new_cases(before):
        return sorted(Case.objects.exclude(pk__in=before).values_list("title", "claimant__slug", "kind"))

    existing = set(Case.objects.values_list("pk", flat=True))
    seed(cases=10, seed=42)
    first = new_cases(existing)
    organisations, users = Organisation.objects.count(), User.objects.count()

    existing = set(Case.objects.values_list("pk", flat=True))
    seed(cases=10, seed=42)
    second = new_cases(existing)

    assert len(first) == 10
    assert second == first
    assert Organisation.objects.count() == organisations
    assert User.objects.count() == users
