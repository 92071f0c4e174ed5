"""Outputs from CSV: every row checked with its line number; an import adds all rows or none."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from claims.models import Output
from claims.services import case_transition, outputs_import_csv, parse_outputs_csv
from members.errors import ApplicationError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

JST = ZoneInfo("Asia/Tokyo")
HEADER = "product,model_name,url,share_id,generation_id,seen_at,prompt,notes\n"


def csv_bytes(*rows, header=HEADER, encoding="utf-8"):
    return (header + "".join(rows)).encode(encoding)


GOOD_ROWS = (
    "VidGen,vg-3,https://vidgen.example/v/1,,gen-1,2026-11-20 10:00,アニメの猫,\n",
    'ImgMaker,,,share-77,,2026/11/21,,"notes, with a comma"\n',
)


def test_good_rows_are_read_with_their_fields():
    parsed = parse_outputs_csv(csv_bytes(*GOOD_ROWS))

    assert parsed.errors == []
    first, second = parsed.rows
    assert first["product"] == "VidGen"
    assert first["prompt"] == "アニメの猫"
    assert first["seen_at"] == datetime(2026, 11, 20, 10, 0, tzinfo=JST)
    assert (second["share_id"], second["url"]) == ("share-77", "")
    assert second["seen_at"] == datetime(2026, 11, 21, 0, 0, tzinfo=JST), "a spreadsheet's date with slashes"
    assert second["notes"] == "notes, with a comma"


def test_a_byte_order_mark_is_ignored():
    parsed = parse_outputs_csv(b"\xef\xbb\xbf" + csv_bytes(*GOOD_ROWS))
    assert [row["product"] for row in parsed.rows] == ["VidGen", "ImgMaker"]
    assert parse_outputs_csv("\ufeff" + csv_bytes(*GOOD_ROWS).decode()).errors == []


def test_header_names_are_matched_without_regard_to_case_or_spaces():
    parsed = parse_outputs_csv(
        csv_bytes("VidGen,https://vidgen.example/v/9,2026-11-20\n", header=" Product , URL,Seen_At\n")
    )
    assert parsed.errors == []
    [row] = parsed.rows
    assert (row["product"], row["url"], row["share_id"]) == ("VidGen", "https://vidgen.example/v/9", "")


def test_bad_rows_are_reported_with_their_line_numbers_and_fields():
    parsed = parse_outputs_csv(
        csv_bytes(
            GOOD_ROWS[0],  # line 2
            ",,,,,2026-11-20,,\n",  # line 3: no product, no locator
            "\n",  # line 4: blank, skipped
            'VidGen,,https://vidgen.example/v/2,,,2026-11-20,"a prompt\nover two lines",\n',  # lines 5-6
            "VidGen,,not a url,,,2026-02-30,,\n",  # line 7
            "VidGen,,https://vidgen.example/v/3,,,2999-01-01,,\n",  # line 8: in the future
        )
    )

    assert len(parsed.rows) == 2
    assert [line for line, _fields in parsed.errors] == [3, 7, 8]
    errors = dict(parsed.errors)
    assert sorted(errors[3]) == ["product", "url"]
    assert sorted(errors[7]) == ["seen_at", "url"]
    assert errors[8] == {"seen_at": ["This date is in the future."]}


def test_a_file_without_the_template_header_is_refused():
    with pytest.raises(ApplicationError) as refused:
        parse_outputs_csv(csv_bytes(*GOOD_ROWS, header=""))
    assert refused.value.code == "csv_header_missing"
    assert "product, model_name, url" in refused.value.fields["csv_file"][0]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"product,url\n"])
def test_an_empty_file_or_a_header_missing_columns_is_refused(data):
    with pytest.raises(ApplicationError) as refused:
        parse_outputs_csv(data)
    assert refused.value.code == "csv_header_missing"


def test_a_file_that_is_not_utf8_is_refused():
    shift_jis = csv_bytes(*GOOD_ROWS, encoding="cp932")
    with pytest.raises(ApplicationError) as refused:
        parse_outputs_csv(shift_jis)
    assert refused.value.code == "csv_not_utf8"
    assert refused.value.fields == {"csv_file": ["Save the file as “CSV UTF-8”."]}


def test_a_file_the_csv_reader_cannot_read_is_refused_not_crashed():
    with pytest.raises(ApplicationError) as refused:
        parse_outputs_csv(csv_bytes('VidGen,,https://a.example/,,,2026-11-20,"' + "x" * 200_000 + '",\n'))
    assert refused.value.code == "csv_invalid"


def test_too_many_rows_are_refused(settings):
    settings.BULK_FILING_MAX_ROWS = 2
    with pytest.raises(ApplicationError) as refused:
        parse_outputs_csv(csv_bytes(*GOOD_ROWS, GOOD_ROWS[0]))
    assert "more than 2 rows" in refused.value.message


# --- outputs_import_csv --------------------------------------------------------------------------------


def test_import_adds_every_row_after_the_existing_outputs_with_one_event(case_in_state, legal):
    draft = case_in_state("draft")

    added = outputs_import_csv(case=draft, actor=legal, data=csv_bytes(*GOOD_ROWS))

    assert [o.position for o in added] == [3, 4]
    assert list(draft.outputs.values_list("position", "product")) == [
        (1, "VidGen"),
        (2, "VidGen"),
        (3, "VidGen"),
        (4, "ImgMaker"),
    ]
    event = draft.events.latest("seq")
    assert (event.action, event.actor, event.data) == ("outputs_added", legal, {"count": 2})


def test_import_with_one_bad_row_adds_nothing(case_in_state, legal):
    draft = case_in_state("draft")
    events_before = draft.events.count()

    with pytest.raises(ApplicationError) as refused:
        outputs_import_csv(case=draft, actor=legal, data=csv_bytes(*GOOD_ROWS, "VidGen,,,,,2026-11-20,,\n"))

    assert refused.value.code == "csv_rows_invalid"
    assert refused.value.fields == {"row 4.url": ["Give the output's URL or share id."]}
    assert draft.outputs.count() == 2
    assert draft.events.count() == events_before


def test_import_refuses_a_file_with_no_rows(case_in_state, legal):
    with pytest.raises(ApplicationError):
        outputs_import_csv(case=case_in_state("draft"), actor=legal, data=csv_bytes())


def test_import_only_into_a_draft(case_in_state, legal):
    submitted = case_in_state("submitted")
    with pytest.raises(ApplicationError) as refused:
        outputs_import_csv(case=submitted, actor=legal, data=csv_bytes(*GOOD_ROWS))
    assert (refused.value.code, refused.value.status_code) == ("invalid_state", 409)
    assert submitted.outputs.count() == 2


def test_import_sees_a_draft_submitted_meanwhile(case_in_state, legal):
    """The state is checked on the locked row, not on the caller's stale copy."""
    draft = case_in_state("draft")
    case_transition(case=draft.pk, action="submit", actor=legal)
    with pytest.raises(ApplicationError) as refused:
        outputs_import_csv(case=draft, actor=legal, data=csv_bytes(*GOOD_ROWS))
    assert refused.value.code == "invalid_state"


@pytest.mark.parametrize("who", ["other_legal", "agent", "association_admin"])
def test_only_the_claimants_staff_may_import_and_learn_nothing_of_the_rows(request, case_in_state, who):
    draft = case_in_state("draft")
    with pytest.raises(ApplicationError) as refused:
        outputs_import_csv(case=draft, actor=request.getfixturevalue(who), data=b"not even a csv")
    assert (refused.value.code, refused.value.status_code) == ("not_permitted", 403)
    assert Output.objects.filter(case=draft).count() == 2
