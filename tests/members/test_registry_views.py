"""Registry pages: works (with search and CSV import), the grant ledger, the check form, the case page."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members.models import Role, Work
from members.registry.models import Grant
from members.registry.services import grant_issue, grant_revoke, work_image_add
from tests.factories import UserFactory, WorkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x01\x02\x03"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def ours(legal, member, provider):
    """One of our works with a reference image and a grant to our provider."""
    work = WorkFactory(owner=member, title_ja="ねこまる", title_en="Nekomaru")
    image = work_image_add(actor=legal, work=work, upload=SimpleUploadedFile("neko.png", png_bytes()))
    grant = grant_issue(actor=legal, provider=provider, use="training", work=work)
    return {"work": work, "image": image, "grant": grant}


def test_works_are_found_by_either_title_in_any_case(client, legal, member):
    WorkFactory(owner=member, title_ja="鋼の浪人", title_en="The Steel Ronin")
    WorkFactory(owner=member, title_ja="ねこまる", title_en="Nekomaru")
    WorkFactory(title_ja="鋼の別人", title_en="Steel of another member")
    client.force_login(legal)

    by_english = client.get("/registry/works/", {"q": "steel"})
    by_japanese = client.get("/registry/works/", {"q": "鋼"})

    assert [w.title_en for w in by_english.context["page"].object_list] == ["The Steel Ronin"]
    assert [w.title_en for w in by_japanese.context["page"].object_list] == ["The Steel Ronin"]


def test_the_search_answers_htmx_with_the_table_alone(client, legal, member):
    WorkFactory(owner=member, title_en="Nekomaru")
    client.force_login(legal)

    response = client.get("/registry/works/", {"q": "neko"}, HTTP_HX_REQUEST="true")

    assert response.content.decode().lstrip().startswith('<div id="work-table">')


def test_a_member_registers_and_edits_a_work_in_the_form(client, legal):
    client.force_login(legal)

    created = client.post(
        "/registry/works/new/",
        {
            "kind": "song",
            "title_ja": "歌",
            "title_en": "Song",
            "isrc": "JPAB02600001",
            "internal": "S-1; S-2",
        },
    )
    work = Work.objects.get()
    edited = client.post(
        f"/registry/works/{work.pk}/edit/", {"kind": "song", "title_ja": "歌", "isrc": "bad"}
    )

    assert created.status_code == 302
    assert sorted(work.identifiers.values_list("value", flat=True)) == ["JPAB02600001", "S-1", "S-2"]
    assert edited.status_code == 400
    assert edited.context["form"].errors["isrc"]
    assert work.identifiers.count() == 3  # nothing changed


def test_the_csv_import_page_lists_the_bad_rows_and_imports_nothing(client, legal):
    client.force_login(legal, backend=None)
    legal.language = "en"
    legal.save()
    header = "kind,title_ja,title_en,description,location,isan,isrc,iswc,jan,internal\n"
    bad = SimpleUploadedFile("works.csv", (header + "film,良,Good,,,,,,,\nfilm,,Nameless,,,,,,,\n").encode())
    good = SimpleUploadedFile("works.csv", (header + "film,良,Good,,,,,,,\nfilm,悪,Bad,,,,,,,\n").encode())

    refused = client.post("/registry/works/import/", {"csv_file": bad})
    imported = client.post("/registry/works/import/", {"csv_file": good})

    assert refused.status_code == 400
    assert [(e["line"], e["column"]) for e in refused.context["row_errors"]] == [(3, "title_ja")]
    assert imported.status_code == 302
    assert Work.objects.count() == 2
    template = client.get("/registry/works/import/template.csv")
    assert template.content.decode("utf-8-sig").startswith("kind,title_ja,title_en")


def test_a_member_issues_and_revokes_a_grant_in_the_ledger(client, legal, provider, member):
    work = WorkFactory(owner=member)
    client.force_login(legal)

    issued = client.post(
        "/registry/grants/new/",
        {"provider": provider.pk, "use": "generation", "work": work.pk, "terms": "Fan art."},
    )
    grant = Grant.objects.get()
    revoked = client.post(f"/registry/grants/{grant.pk}/revoke/", {"reason": "Ended."})
    ledger = client.get("/registry/grants/")

    assert issued.status_code == 302 and revoked.status_code == 302
    assert Grant.objects.filter(revokes=grant).count() == 1
    assert ledger.status_code == 200 and len(ledger.context["page"].object_list) == 2


def test_the_provider_sees_the_grants_made_to_it_and_cannot_issue_any(client, agent, ours):
    client.force_login(agent)

    ledger = client.get("/registry/grants/")

    assert [g.pk for g in ledger.context["page"].object_list] == [ours["grant"].pk]
    assert client.get("/registry/grants/new/").status_code == 403
    assert client.get("/registry/works/").status_code == 403


def test_the_check_form_answers_with_the_deciding_grant_or_the_default_deny(client, agent, ours, in_english):
    client.force_login(agent)
    agent.language = "en"
    agent.save()
    work = ours["work"]

    permitted = client.get(
        "/registry/check/", {"provider": agent.organisation_id, "work": work.pk, "use": "training"}
    )
    denied = client.get(
        "/registry/check/", {"provider": agent.organisation_id, "work": work.pk, "use": "generation"}
    )

    assert permitted.context["result"]["decision"].grant == ours["grant"]
    assert "no grant: not permitted" in denied.content.decode()
    other_provider = UserFactory(role=Role.PROVIDER_AGENT).organisation
    refused = client.get(
        "/registry/check/", {"provider": other_provider.pk, "work": work.pk, "use": "training"}
    )
    assert refused.status_code == 400  # a provider may ask only about itself


def test_the_case_page_shows_each_works_permission_when_the_outputs_were_seen(
    client, legal, member, provider, file_case
):
    work = WorkFactory(owner=member, title_en="Nekomaru")
    grant = grant_issue(
        actor=legal,
        provider=provider,
        use="training",
        work=work,
        valid_from=timezone.now() - timedelta(days=1),
    )
    case = file_case(works=[work])
    client.force_login(legal)

    response = client.get(f"/cases/{case.reference}/")

    lines = {(line.work, line.use): line for line in response.context["registry_decisions"]}
    assert lines[(work, "training")].decision.grant == grant
    assert lines[(work, "generation")].decision.permitted is False
    assert "no grant: not permitted" in response.content.decode()
    grant_revoke(actor=legal, grant=grant, reason="Ended.")
    assert (
        client.get(f"/cases/{case.reference}/").context["registry_decisions"][0].decision.permitted
    )  # seen before


# --- Isolation: another organisation's work or grant is a 404 on every page ---------------------


def test_every_page_of_another_members_work_or_grant_is_404(client, ours):
    work, image, grant = ours["work"], ours["image"], ours["grant"]
    other_member_staff = UserFactory(role=Role.MEMBER_ADMIN)
    client.force_login(other_member_staff)

    pages = [
        ("get", f"/registry/works/{work.pk}/"),
        ("get", f"/registry/works/{work.pk}/edit/"),
        ("post", f"/registry/works/{work.pk}/edit/"),
        ("post", f"/registry/works/{work.pk}/images/"),
        ("get", f"/registry/works/{work.pk}/images/{image.pk}/"),
        ("get", f"/registry/grants/{grant.pk}/revoke/"),
        ("post", f"/registry/grants/{grant.pk}/revoke/"),
    ]
    answers = [
        (method, path, getattr(client, method)(path, {"title_ja": "x", "reason": "x"}).status_code)
        for method, path in pages
    ]

    assert {status for _m, _p, status in answers} == {404}, answers
    assert list(client.get("/registry/works/").context["page"].object_list) == []
    assert list(client.get("/registry/grants/").context["page"].object_list) == []
    assert Grant.objects.count() == 1


def test_the_provider_and_the_association_see_what_design_allows(client, agent, analyst, ours):
    work, image = ours["work"], ours["image"]
    client.force_login(agent)
    assert client.get(f"/registry/works/{work.pk}/").status_code == 404
    assert client.get(f"/registry/works/{work.pk}/images/{image.pk}/").status_code == 404

    client.force_login(analyst)
    assert client.get(f"/registry/works/{work.pk}/").status_code == 200
    assert client.get(f"/registry/works/{work.pk}/images/{image.pk}/").status_code == 200
    assert client.get(f"/registry/works/{work.pk}/edit/").status_code == 403
    assert client.get(f"/registry/grants/{ours['grant'].pk}/revoke/").status_code == 403
    assert len(client.get("/registry/grants/").context["page"].object_list) == 1


def test_the_other_member_of_the_same_organisation_may_edit_but_not_the_pages_of_others(
    client, member_admin, ours
):
    client.force_login(member_admin)

    assert client.get(f"/registry/works/{ours['work'].pk}/edit/").status_code == 200
    assert (
        b"".join(
            client.get(f"/registry/works/{ours['work'].pk}/images/{ours['image'].pk}/").streaming_content
        )
        == png_bytes()
    )


def test_every_page_renders_for_the_owner_in_both_languages(client, legal, ours, file_case):
    work, grant = ours["work"], ours["grant"]
    case = file_case(works=[work])
    client.force_login(legal)
    pages = [
        "/registry/works/",
        "/registry/works/new/",
        "/registry/works/import/",
        f"/registry/works/{work.pk}/",
        f"/registry/works/{work.pk}/edit/",
        "/registry/grants/",
        "/registry/grants/new/",
        f"/registry/grants/{grant.pk}/revoke/",
        f"/registry/check/?provider={grant.grantee_id}&work={work.pk}&use=training",
        f"/cases/{case.reference}/",
    ]

    for language in ("ja", "en"):
        client.cookies["django_language"] = language
        assert {path: client.get(path).status_code for path in pages} == dict.fromkeys(pages, 200), language
