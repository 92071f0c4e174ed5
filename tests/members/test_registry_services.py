"""Works, reference images, the CSV import and the append-only grant ledger, through the services."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from members.errors import ApplicationError
from members.models import Work
from members.registry.models import Grant, WorkIdentifier, WorkImage
from members.registry.services import (
    grant_issue,
    grant_revoke,
    work_create,
    work_image_add,
    work_update,
    works_import_csv,
)
from tests.factories import WorkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes(seed=0):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"\x00" + bytes([seed % 256, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- Works ------------------------------------------------------------------------------------


def test_a_member_registers_a_work_with_normalised_identifiers(legal):
    work = work_create(
        actor=legal,
        kind="song",
        title_ja="東京ネオン",
        title_en="Tokyo Neon",
        location="/songs/tokyo-neon/*",
        identifiers=[("isrc", "jp-ab0-26-00001"), ("iswc", "T0345246801"), ("isrc", "JPAB02600001")],
    )

    assert work.owner == legal.organisation
    assert sorted(work.identifiers.values_list("scheme", "value")) == [
        ("isrc", "JPAB02600001"),
        ("iswc", "T-034.524.680-1"),
    ]


def test_an_identifier_is_unique_per_member_but_two_members_may_share_one(legal, other_legal):
    work_create(actor=legal, title_ja="一", identifiers=[("jan", "4901234567894")])
    work_create(actor=other_legal, title_ja="二", identifiers=[("jan", "4901234567894")])

    with pytest.raises(ApplicationError) as refused:
        work_create(actor=legal, title_ja="三", identifiers=[("jan", "4901234567894")])

    assert "identifiers" in refused.value.fields
    assert Work.objects.filter(title_ja="三").count() == 0


def test_bad_fields_are_named_and_nothing_is_saved(legal):
    with pytest.raises(ApplicationError) as refused:
        work_create(actor=legal, title_ja="", location="no-slash", identifiers=[("isrc", "nope")])

    assert set(refused.value.fields) == {"title_ja", "location", "identifiers.0"}
    assert Work.objects.count() == 0


def test_providers_and_the_association_cannot_register_works(agent, analyst):
    for actor in (agent, analyst):
        with pytest.raises(ApplicationError) as refused:
            work_create(actor=actor, title_ja="x")
        assert refused.value.status_code == 403


def test_editing_replaces_the_identifiers_and_only_the_owner_may_edit(legal, other_legal):
    work = work_create(actor=legal, title_ja="旧", identifiers=[("internal", "A"), ("internal", "B")])
    before = work.updated_at

    work = work_update(
        actor=legal, work=work, title_ja="新", identifiers=[("internal", "B"), ("internal", "C")]
    )

    assert work.title_ja == "新" and work.updated_at > before
    assert sorted(work.identifiers.values_list("value", flat=True)) == ["B", "C"]
    with pytest.raises(ApplicationError) as refused:
        work_update(actor=other_legal, work=work, title_ja="盗")
    assert refused.value.status_code == 404


def test_a_reference_image_is_checked_from_its_bytes_and_stored_once(legal):
    work = WorkFactory(owner=legal.organisation)

    first = work_image_add(actor=legal, work=work, upload=SimpleUploadedFile("a.png", png_bytes()))
    again = work_image_add(actor=legal, work=work, upload=SimpleUploadedFile("copy.png", png_bytes()))

    assert first == again and first.content_type == "image/png"
    assert first.file.name == f"works/{first.sha256[:2]}/{first.sha256[2:4]}/{first.sha256}"
    for name, content in [("fake.png", b"%PDF-1.4\n%%EOF\n"), ("notes.png", b"just text\n")]:
        with pytest.raises(ApplicationError) as refused:
            work_image_add(actor=legal, work=work, upload=SimpleUploadedFile(name, content))
        assert "image" in refused.value.fields
    assert WorkImage.objects.count() == 1


# --- CSV import -------------------------------------------------------------------------------

HEADER = "kind,title_ja,title_en,description,location,isan,isrc,iswc,jan,internal\n"


def test_a_csv_imports_every_row_with_its_identifiers(legal):
    data = (
        HEADER
        + "film,鋼の浪人,The Steel Ronin,,/films/ronin/*,,,,4901234567894,F-1; F-2\n"
        + "song,歌,Song,,,,JPAB02600001,,,\n"
    )

    count = works_import_csv(owner=legal.organisation, actor=legal, data=data.encode("utf-8-sig"))

    assert count == 2
    ronin = Work.objects.get(title_en="The Steel Ronin")
    assert sorted(ronin.identifiers.values_list("scheme", "value")) == [
        ("internal", "F-1"),
        ("internal", "F-2"),
        ("jan", "4901234567894"),
    ]


def test_one_bad_row_imports_nothing_and_every_error_names_its_row_and_column(legal):
    WorkFactory(owner=legal.organisation).identifiers.create(
        owner=legal.organisation, scheme="internal", value="TAKEN"
    )
    data = (
        HEADER
        + "film,良い,Good,,,,,,,\n"  # line 2: fine
        + "planet,,No title,,,,,,,\n"  # line 3: bad kind, no Japanese title
        + "song,歌,,,,,BAD,,,\n"  # line 4: bad ISRC
        + "song,歌2,,,,,,,,TAKEN\n"  # line 5: identifier of a registered work
        + "song,歌3,,,,,,,,DUP\nsong,歌4,,,,,,,,DUP\n"  # lines 6 and 7: the same identifier twice
    )

    with pytest.raises(ApplicationError) as refused:
        works_import_csv(owner=legal.organisation, actor=legal, data=data)

    assert set(refused.value.fields) == {
        "row 3.kind",
        "row 3.title_ja",
        "row 4.isrc",
        "row 5.internal",
        "row 7.internal",
    }
    assert Work.objects.count() == 1  # only the one made above


def test_the_import_command_reports_errors_and_imports_all_or_nothing(legal, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(f"character,キャラ{i},Character {i},,,,,,,C-{i}\n" for i in range(300)))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "character,,Nameless,,,,,,,\n")
    slug = legal.organisation.slug

    call_command("import_works", str(good), owner=slug, no_progress=True)
    with pytest.raises(CommandError, match="row 2.title_ja"):
        call_command("import_works", str(bad), owner=slug, no_progress=True)

    assert Work.objects.filter(owner=legal.organisation).count() == 300
    assert WorkIdentifier.objects.filter(owner=legal.organisation).count() == 300


# --- The grant ledger -------------------------------------------------------------------------


def test_a_grant_names_a_work_of_the_grantor_only(legal, other_legal, provider):
    others = WorkFactory(owner=other_legal.organisation)

    with pytest.raises(ApplicationError) as refused:
        grant_issue(actor=legal, provider=provider, use="training", work=others)

    assert "work" in refused.value.fields


def test_a_grant_needs_a_provider_a_use_and_a_window_that_ends_after_it_starts(legal, member):
    now = timezone.now()
    with pytest.raises(ApplicationError) as refused:
        grant_issue(actor=legal, provider=member, use="selling", valid_from=now, valid_until=now)

    assert set(refused.value.fields) == {"provider", "use", "valid_until"}
    assert Grant.objects.count() == 0


def test_revoking_appends_a_row_and_leaves_the_grant_as_it_was(legal, provider, agent):
    grant = grant_issue(actor=legal, provider=provider, use="generation", terms="Fan art only.")

    revocation = grant_revoke(actor=legal, grant=grant, reason="Terms breached.")

    grant.refresh_from_db()
    assert grant.terms == "Fan art only." and grant.valid_until is None
    assert (revocation.revokes, revocation.grantee, revocation.use, revocation.reason) == (
        grant,
        provider,
        "generation",
        "Terms breached.",
    )
    with pytest.raises(ApplicationError) as twice:
        grant_revoke(actor=legal, grant=grant, reason="Again.")
    assert twice.value.status_code == 409
    with pytest.raises(ApplicationError) as by_provider:
        grant_revoke(actor=agent, grant=grant, reason="We give up.")
    assert by_provider.value.status_code == 403


def test_a_revocation_cannot_take_effect_in_the_past(legal, provider):
    grant = grant_issue(
        actor=legal, provider=provider, use="training", valid_from=timezone.now() - timedelta(days=30)
    )

    with pytest.raises(ApplicationError) as refused:
        grant_revoke(
            actor=legal, grant=grant, reason="Backdated.", effective_at=timezone.now() - timedelta(days=1)
        )

    assert "effective_at" in refused.value.fields


def test_the_ledger_refuses_update_and_delete_in_python_and_in_the_database(legal, provider):
    grant = grant_issue(actor=legal, provider=provider, use="training")

    grant.terms = "changed"
    with pytest.raises(ValueError):
        grant.save()
    with pytest.raises(ValueError):
        grant.delete()
    if connection.vendor == "postgresql":
        for statement in ("UPDATE members_grant SET terms = 'x'", "DELETE FROM members_grant"):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
        for queryset_write in (lambda: Grant.objects.update(terms="x"), lambda: Grant.objects.all().delete()):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                queryset_write()
    assert Grant.objects.get().terms == ""


def test_the_admin_shows_the_ledger_read_only(client, django_user_model, legal, provider):
    grant = grant_issue(actor=legal, provider=provider, use="training")
    superuser = django_user_model.objects.create_superuser("root@example.test", "pw-root-2026")
    client.force_login(superuser)

    assert client.get("/admin/members/grant/").status_code == 200
    page = client.get(f"/admin/members/grant/{grant.pk}/change/")
    assert page.status_code == 200 and b'name="terms"' not in page.content
    assert client.post(f"/admin/members/grant/{grant.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Grant.objects.filter(pk=grant.pk).exists()
