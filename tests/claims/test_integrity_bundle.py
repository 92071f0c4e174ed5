"""The evidence bundle: what it holds, who may download it, and verify_bundle catching any altered byte."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from claims.services import case_transition, evidence_add
from tests.factories import respond_payload

from .test_integrity_media import png_scene, video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(file_case, legal, agent):
    """A responded claim with a picture, a video and a text file, one of them attached twice."""
    picture = png_scene(1)
    case = file_case(evidence=[(SimpleUploadedFile("frame.png", picture), 0)])
    evidence_add(case=case, actor=agent, upload=SimpleUploadedFile("clip.mp4", video(2)))
    evidence_add(case=case, actor=legal, upload=SimpleUploadedFile("notes.txt", "確認済み\n".encode()))
    evidence_add(case=case, actor=legal, upload=SimpleUploadedFile("same-frame.png", picture))  # case-level
    return case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))


def download(client, user, case):
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.get(reverse("claims:case_bundle", kwargs={"reference": case.reference}))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert f"{case.reference}-evidence-bundle.zip" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def verify(tmp_path, content: bytes, name="bundle.zip"):
    """Run verify_bundle on the bytes; return (exit status, output)."""
    path = tmp_path / name
    path.write_bytes(content)
    out = io.StringIO()
    try:
        call_command("verify_bundle", str(path), stdout=out)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue()


def flip_byte_in(bundle: bytes, member: str, offset_in_data: int | None = None) -> bytes:
    """Change one byte inside the stored data of one ZIP entry, leaving everything else as it was."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        info = archive.getinfo(member)
    data = bytearray(bundle)
    # Local header: 30 bytes, then the name and the extra field, then the data.
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    position = start + (offset_in_data if offset_in_data is not None else info.compress_size // 2)
    data[position] ^= 0x01
    return bytes(data)


def rezip(bundle: bytes, replace: dict[str, bytes]) -> bytes:
    """Rebuild the bundle with some entries' contents replaced (a careful forger's edit)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, replace.get(info.filename, source.read(info)))
        for name, content in replace.items():
            if name not in source.namelist():
                target.writestr(name, content)
    return out.getvalue()


def test_the_bundle_holds_the_timeline_every_file_and_a_manifest_of_their_hashes(client, legal, case):
    bundle = download(client, legal, case)

    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        timeline = json.loads(archive.read("timeline.json"))
        contents = {name: archive.read(name) for name in archive.namelist()}
    evidence = {e.sha256: e for e in case.evidence.all()}
    assert manifest["case"] == case.reference
    assert len(evidence) == 3  # the picture attached twice is one file
    expected_paths = {"timeline.json"} | {
        f"evidence/{sha}{ext}"
        for sha, ext in (
            (s, {"image/png": ".png", "video/mp4": ".mp4", "text/plain": ".txt"}[e.content_type])
            for s, e in evidence.items()
        )
    }
    assert {entry["path"] for entry in manifest["files"]} == expected_paths
    assert set(contents) == expected_paths | {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(contents[entry["path"]]).hexdigest() == entry["sha256"]
        assert len(contents[entry["path"]]) == entry["size"]
    picture = next(e for e in manifest["files"] if e["path"].endswith(".png"))
    assert sorted(picture["names"]) == ["frame.png", "same-frame.png"]
    assert manifest["timeline_sha256"] == hashlib.sha256(contents["timeline.json"]).hexdigest()
    assert timeline["case"] == {"id": case.pk, "reference": case.reference, "state": "responded"}
    assert [e["seq"] for e in timeline["events"]] == list(range(1, case.events.count() + 1))
    assert (
        timeline["events"][-1]["hash"]
        == case.events.order_by("-seq").first().hash
        == manifest["last_event_hash"]
    )


def test_an_intact_bundle_verifies(client, legal, case, tmp_path):
    status, output = verify(tmp_path, download(client, legal, case))

    assert status == 0, output
    assert output.startswith(f"OK: {case.reference}: {case.events.count()} events, hash chain intact")
    assert "3 evidence files" in output


def test_one_byte_changed_in_an_evidence_file_fails_naming_the_file(client, legal, case, tmp_path):
    bundle = download(client, legal, case)
    member = next(name for name in zipfile.ZipFile(io.BytesIO(bundle)).namelist() if name.endswith(".mp4"))

    status, output = verify(tmp_path, flip_byte_in(bundle, member))

    assert status == 1
    assert f"{member}: altered" in output
    assert "FAILED" in output


def test_one_byte_changed_in_the_timeline_fails_naming_it(client, legal, case, tmp_path):
    status, output = verify(tmp_path, flip_byte_in(download(client, legal, case), "timeline.json"))

    assert status == 1
    assert "timeline.json: altered" in output


def test_a_forged_timeline_with_a_matching_manifest_fails_naming_the_event(client, legal, case, tmp_path):
    bundle = download(client, legal, case)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        timeline = json.loads(archive.read("timeline.json"))
        manifest = json.loads(archive.read("manifest.json"))
    respond = next(e for e in timeline["events"] if e["action"] == "respond")
    respond["created_at"] = respond["created_at"].replace(respond["created_at"][:4], "2020", 1)
    forged = json.dumps(timeline).encode()
    for entry in manifest["files"]:
        if entry["path"] == "timeline.json":
            entry.update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
    manifest["timeline_sha256"] = hashlib.sha256(forged).hexdigest()

    status, output = verify(
        tmp_path, rezip(bundle, {"timeline.json": forged, "manifest.json": json.dumps(manifest).encode()})
    )

    assert status == 1
    assert (
        f"timeline.json: {case.reference} event #{respond['seq']}: content does not match its hash" in output
    )


def test_a_replaced_file_with_a_matching_manifest_fails_naming_it(client, legal, case, tmp_path):
    bundle = download(client, legal, case)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    member = next(e for e in manifest["files"] if e["path"].endswith(".txt"))
    replacement = "差し替え\n".encode()
    member.update(sha256=hashlib.sha256(replacement).hexdigest(), size=len(replacement))

    status, output = verify(
        tmp_path, rezip(bundle, {member["path"]: replacement, "manifest.json": json.dumps(manifest).encode()})
    )

    assert status == 1
    assert f"{member['path']}: altered: its bytes do not have the SHA-256 in its name" in output


def test_a_missing_or_extra_file_fails(client, legal, case, tmp_path):
    bundle = download(client, legal, case)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = archive.namelist()
        kept = {name: archive.read(name) for name in names if not name.endswith(".png")}
    dropped = next(name for name in names if name.endswith(".png"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in kept.items():
            target.writestr(name, content)

    status, output = verify(tmp_path, out.getvalue())
    assert status == 1 and f"{dropped}: missing from the bundle" in output

    status, output = verify(tmp_path, rezip(bundle, {"evidence/extra.txt": b"slipped in"}), name="extra.zip")
    assert status == 1 and "evidence/extra.txt: not listed in the manifest" in output


def test_something_that_is_not_a_bundle_fails_clearly(tmp_path):
    status, output = verify(tmp_path, b"PK\x03\x04 not really a zip")

    assert status == 1 and "not a readable ZIP file" in output


@pytest.mark.parametrize("who", ["legal", "agent", "analyst"])
def test_everyone_who_sees_the_case_may_download_its_bundle_from_the_api(case, request, who, tmp_path):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(who))

    response = client.get(f"/api/v1/cases/{case.reference}/bundle/")

    assert response.status_code == 200
    assert verify(tmp_path, b"".join(response.streaming_content))[0] == 0


@pytest.mark.parametrize("outsider", ["other_legal", "other_agent"])
def test_another_organisation_gets_404_for_the_bundle(case, request, outsider, client):
    user = request.getfixturevalue(outsider)
    client.force_login(user, backend=MODEL_BACKEND)
    api = APIClient()
    api.force_authenticate(user)

    assert client.get(reverse("claims:case_bundle", kwargs={"reference": case.reference})).status_code == 404
    assert api.get(f"/api/v1/cases/{case.reference}/bundle/").status_code == 404


def test_the_case_page_links_to_the_bundle(client, legal, case):
    client.force_login(legal, backend=MODEL_BACKEND)
    page = client.get(reverse("claims:case_detail", kwargs={"reference": case.reference})).content.decode()

    assert reverse("claims:case_bundle", kwargs={"reference": case.reference}) in page
