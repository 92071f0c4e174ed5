"""Filing through the web forms: one case typed in, a claim from a CSV file, outputs added from a CSV."""

import csv
import hashlib
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import Case, CaseState, Evidence, Output
from claims.services import parse_outputs_csv
from claims.services.cases import CSV_TEMPLATE_HEADER
from tests.factories import WorkFactory

pytestmark = pytest.mark.django_db

CASE_NEW = reverse("claims:case_new")
CASE_NEW_BULK = reverse("claims:case_new_bulk")


def _png_bytes() -> bytes:
    """Return a real 1×1 PNG image."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png_bytes()
# A Windows program: "MZ" header, then the PE signature. Its name will claim it is a PNG.
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def case_fields(provider, **overrides) -> dict:
    data = {
        "kind": "claim",
        "respondent": provider.pk,
        "title": "Our character in generated videos",
        "description": "Both videos show our character's design and name.",
        "legal_basis": "character_likeness",
        "remedies": ["remove_output", "block_prompts"],
        "priority": "high",
        "action": "file",
    }
    data.update(overrides)
    return data


def output_rows(*rows: dict, total: int | None = None) -> dict:
    """Return the outputs formset's POST data: the given rows, then blank rows up to ``total``."""
    data = {
        "outputs-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "outputs-INITIAL_FORMS": "0",
        "outputs-MIN_NUM_FORMS": "0",
        "outputs-MAX_NUM_FORMS": "100",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"outputs-{index}-{name}"] = value
    return data


def an_output(number: int, **overrides) -> dict:
    row = {
        "product": "VidGen",
        "model_name": "vg-3",
        "url": f"https://vidgen.example/v/{number}",
        "seen_at": "2025-06-01T10:00",
        "prompt": "our character dancing",
    }
    row.update(overrides)
    return row


def csv_upload(
    rows: list[list[str]], *, header=CSV_TEMPLATE_HEADER, name="outputs.csv"
) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv")


def csv_row(
    product="VidGen", url="https://vidgen.example/v/1", seen_at="2025-06-01 10:00", prompt="", notes=""
):
    values = {
        "product": product,
        "model_name": "vg-3",
        "url": url,
        "seen_at": seen_at,
        "prompt": prompt,
        "notes": notes,
    }
    return [values.get(column, "") for column in CSV_TEMPLATE_HEADER]


# --- One case typed in ----------------------------------------------------------------------------


def test_filing_a_claim_with_two_outputs_and_a_screenshot_submits_it(client, legal, provider):
    """Two outputs and a PNG tied to the second: a submitted claim with a reference and the file's SHA-256."""
    client.force_login(legal)
    data = case_fields(provider)
    # Three rows on the page, the last left blank: blank rows are ignored.
    data.update(output_rows(an_output(1), an_output(2), total=3))
    data["outputs-1-evidence"] = SimpleUploadedFile("screenshot.png", PNG, content_type="image/png")

    response = client.post(CASE_NEW, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert case.state == CaseState.SUBMITTED
    assert case.reference.startswith("CL-")
    assert case.claimant == legal.organisation
    assert case.remedies == ["remove_output", "block_prompts"]
    assert [o.url for o in case.outputs.order_by("position")] == [
        "https://vidgen.example/v/1",
        "https://vidgen.example/v/2",
    ]
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()
    assert evidence.content_type == "image/png"
    assert evidence.output.position == 2
    assert evidence.original_name == "screenshot.png"


def test_the_form_offers_blank_output_rows_that_work_without_javascript(client, legal):
    client.force_login(legal)

    response = client.get(CASE_NEW)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="outputs-0-product"' in html
    assert 'name="outputs-1-product"' in html
    assert 'name="evidence" multiple' in html or ('name="evidence"' in html and "multiple" in html)
    assert 'value="draft"' in html and 'value="file"' in html


def test_a_bad_url_and_a_program_named_png_are_shown_beside_their_fields_and_nothing_is_saved(
    client, legal, provider
):
    client.force_login(legal)
    data = case_fields(provider)
    data.update(output_rows(an_output(1, url="not a web address"), an_output(2)))
    data["outputs-0-evidence"] = SimpleUploadedFile("screenshot.png", EXE, content_type="image/png")

    response = client.post(CASE_NEW, data)

    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert Output.objects.count() == 0
    assert Evidence.objects.count() == 0
    first_row = response.context["formset"].forms[0]
    assert first_row.errors["url"] == ["Enter a valid http(s) URL."]
    assert "screenshot.png is not an allowed type of file" in first_row.errors["evidence"][0]
    assert not response.context["formset"].forms[1].errors
    html = response.content.decode()
    # Beside the fields: each message sits in the error list of its own input.
    assert 'id="id_outputs-0-url_error"' in html
    assert 'id="id_outputs-0-evidence_error"' in html
    assert "Nothing was saved" in html


def test_a_claim_cannot_be_filed_without_outputs(client, legal, provider):
    client.force_login(legal)
    data = case_fields(provider)
    data.update(output_rows(total=2))

    response = client.post(CASE_NEW, data)

    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert "A claim concerns at least one output." in response.context["formset"].non_form_errors()


def test_save_as_draft_keeps_the_case_with_the_member(client, legal, provider):
    client.force_login(legal)
    data = case_fields(provider, action="draft")
    data.update(output_rows(an_output(1)))

    response = client.post(CASE_NEW, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.state == CaseState.DRAFT
    assert case.submitted_at is None
    assert case.outputs.count() == 1


def test_an_inquiry_can_be_filed_without_outputs(client, legal, provider):
    client.force_login(legal)
    data = case_fields(provider, kind="inquiry", title="Were our works used to train vg-3?", remedies=[])
    data.update(output_rows(total=2))

    response = client.post(CASE_NEW, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.kind == "inquiry"
    assert case.reference.startswith("IQ-")
    assert case.state == CaseState.SUBMITTED
    assert case.outputs.count() == 0


def test_only_the_members_own_works_can_be_named(client, legal, provider):
    client.force_login(legal)
    own_work = WorkFactory(owner=legal.organisation)
    someone_elses_work = WorkFactory()
    page = client.get(CASE_NEW).content.decode()
    assert own_work.title_en in page
    assert someone_elses_work.title_en not in page

    data = case_fields(provider, works=[someone_elses_work.pk])
    data.update(output_rows(an_output(1)))
    response = client.post(CASE_NEW, data)

    assert response.status_code == 400
    assert "works" in response.context["form"].errors
    assert Case.objects.count() == 0


@pytest.mark.parametrize("user_fixture", ["agent", "provider_admin", "analyst", "association_admin"])
def test_provider_and_association_users_cannot_file(client, request, user_fixture, provider):
    client.force_login(request.getfixturevalue(user_fixture))
    data = case_fields(provider)
    data.update(output_rows(an_output(1)))

    assert client.get(CASE_NEW).status_code == 403
    assert client.post(CASE_NEW, data).status_code == 403
    assert (
        client.post(CASE_NEW_BULK, {**case_fields(provider), "csv_file": csv_upload([csv_row()])}).status_code
        == 403
    )
    assert Case.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(CASE_NEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- A claim from a CSV file ---------------------------------------------------------------------


def test_a_csv_file_with_good_rows_files_one_claim_with_every_row_as_an_output(client, legal, provider):
    client.force_login(legal)
    upload = csv_upload(
        [
            csv_row(url="https://vidgen.example/v/1", prompt="青い髪のキャラクター"),
            csv_row(url="https://vidgen.example/v/2"),
            csv_row(url="https://vidgen.example/v/3", seen_at="2025-06-02"),
        ]
    )
    data = case_fields(provider, csv_file=upload)
    del data["kind"]
    data["evidence"] = SimpleUploadedFile("overview.png", PNG, content_type="image/png")

    response = client.post(CASE_NEW_BULK, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert case.kind == "claim"
    assert case.state == CaseState.SUBMITTED
    outputs = list(case.outputs.order_by("position"))
    assert [o.position for o in outputs] == [1, 2, 3]
    assert outputs[0].prompt == "青い髪のキャラクター"
    assert case.evidence.get().output is None


def test_a_csv_file_with_bad_rows_lists_them_and_saves_nothing(client, legal, provider):
    client.force_login(legal)
    upload = csv_upload(
        [
            csv_row(url="https://vidgen.example/v/1"),
            csv_row(url="ftp://vidgen.example/v/2"),
            csv_row(product=""),
        ]
    )
    data = case_fields(provider, csv_file=upload)

    response = client.post(CASE_NEW_BULK, data)

    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert Output.objects.count() == 0
    table = [(error.line, error.column) for error in response.context["row_errors"]]
    assert table == [(3, "url"), (4, "product")]
    html = response.content.decode()
    assert "Rows with errors" in html
    assert "Enter a valid http(s) URL." in html
    assert "2 rows have errors; nothing was saved." in html


def test_a_csv_file_without_the_template_header_is_refused_beside_the_file_input(client, legal, provider):
    client.force_login(legal)
    upload = csv_upload([["VidGen", "https://vidgen.example/v/1"]], header=["name", "link"])

    response = client.post(CASE_NEW_BULK, case_fields(provider, csv_file=upload))

    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert "does not have the template's header row" in " ".join(response.context["form"].errors["csv_file"])


def test_the_csv_template_downloads_with_its_header_and_an_example_row_that_is_accepted(client, legal):
    client.force_login(legal)

    response = client.get(reverse("claims:bulk_template"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the file as UTF-8
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == CSV_TEMPLATE_HEADER
    parsed = parse_outputs_csv(response.content)
    assert parsed.errors == []
    assert len(parsed.rows) == 1


# --- Outputs added to a draft from a CSV file ----------------------------------------------------


def test_outputs_are_added_to_a_draft_from_a_csv_file(client, legal, file_case):
    case = file_case(submit=False, outputs=1)
    client.force_login(legal)
    upload = csv_upload(
        [csv_row(url="https://vidgen.example/v/8"), csv_row(url="https://vidgen.example/v/9")]
    )

    response = client.post(reverse("claims:outputs_import", args=[case.reference]), {"csv_file": upload})

    assert response.status_code == 302
    assert list(case.outputs.order_by("position").values_list("position", "url")) == [
        (1, "https://vidgen.example/v/0"),
        (2, "https://vidgen.example/v/8"),
        (3, "https://vidgen.example/v/9"),
    ]


def test_a_bad_row_adds_no_outputs_to_the_draft(client, legal, file_case):
    case = file_case(submit=False, outputs=1)
    client.force_login(legal)
    upload = csv_upload([csv_row(url="https://vidgen.example/v/8"), csv_row(seen_at="yesterday")])

    response = client.post(reverse("claims:outputs_import", args=[case.reference]), {"csv_file": upload})

    assert response.status_code == 400
    assert case.outputs.count() == 1
    assert [(e.line, e.column) for e in response.context["row_errors"]] == [(3, "seen_at")]


def test_outputs_cannot_be_imported_into_another_organisations_draft(client, other_legal, file_case):
    case = file_case(submit=False, outputs=1)
    client.force_login(other_legal)
    url = reverse("claims:outputs_import", args=[case.reference])

    assert client.get(url).status_code == 404
    assert client.post(url, {"csv_file": csv_upload([csv_row()])}).status_code == 404
    assert case.outputs.count() == 1


def test_outputs_cannot_be_imported_once_the_case_is_filed(client, legal, file_case):
    case = file_case(outputs=1)
    client.force_login(legal)

    response = client.post(
        reverse("claims:outputs_import", args=[case.reference]), {"csv_file": csv_upload([csv_row()])}
    )

    assert response.status_code == 404
    assert case.outputs.count() == 1
