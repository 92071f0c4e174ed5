"""Evidence files: type checked from the bytes, stored once by SHA-256, never changed."""

import hashlib
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.models import Case, CaseEvent, Evidence, evidence_storage_name
from claims.services import case_transition, evidence_add
from members.errors import ApplicationError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]


def png_bytes(width=2, height=2, seed=0):
    """Return a valid PNG image built by hand (no imaging library needed)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixel = lambda x, y: bytes([(seed + x + y) % 256, 0, 0])  # noqa: E731
    # Each scanline starts with its filter type (0: none).
    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MP4 = (
    struct.pack(">I", 24)
    + b"ftypisom"
    + struct.pack(">I", 512)
    + b"isomiso2"
    + struct.pack(">I", 8)
    + b"free"
)
JAPANESE_TEXT = "生成された動画に当社のキャラクターが映っています。\n確認日: 2026-11-20\n".encode()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44  # a 64-byte header
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def upload(name, content):
    # The declared content type is a lie on purpose: only the bytes count.
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root):
    return sorted(p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("screenshot.png", png_bytes(), "image/png"),
        ("frame.jpg", JPEG, "image/jpeg"),
        ("notice.pdf", PDF, "application/pdf"),
        ("clip.mp4", MP4, "video/mp4"),
        ("メモ.txt", JAPANESE_TEXT, "text/plain"),
        ("named-like-a-pdf.pdf", png_bytes(seed=9), "image/png"),
    ],
)
def test_an_allowed_file_is_stored_under_its_sha256_with_the_type_its_bytes_show(
    media_root, file_case, legal, name, content, content_type
):
    case = file_case()
    sha256 = hashlib.sha256(content).hexdigest()

    evidence = evidence_add(case=case, actor=legal, upload=upload(name, content), description="Seen today")

    assert (evidence.sha256, evidence.content_type, evidence.size, evidence.original_name) == (
        sha256,
        content_type,
        len(content),
        name,
    )
    assert stored_files(media_root) == [evidence_storage_name(sha256)]
    with evidence.file.open("rb") as stored:
        assert stored.read() == content
    event = case.events.latest("seq")
    assert (event.action, event.actor, event.data) == (
        "evidence_added",
        legal,
        {"sha256": sha256, "name": name, "type": content_type, "size": len(content)},
    )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("oversize.txt", b"x" * 101, "evidence_too_large"),
        ("program.png", ELF, "evidence_type_not_allowed"),
        ("setup.png", WINDOWS_EXE, "evidence_type_not_allowed"),
        ("empty.png", b"", "evidence_empty"),
        ("binary.txt", b"text\x00with a NUL byte", "evidence_type_not_allowed"),
        ("latin1.txt", "café".encode("latin-1"), "evidence_type_not_allowed"),
    ],
)
def test_a_refused_file_leaves_nothing_behind(media_root, settings, file_case, legal, name, content, code):
    settings.EVIDENCE_MAX_BYTES = 100
    case = file_case()
    events_before = case.events.count()

    with pytest.raises(ApplicationError) as refused:
        evidence_add(case=case, actor=legal, upload=upload(name, content))

    assert refused.value.code == code
    assert name in refused.value.message
    assert not Evidence.objects.exists()
    assert case.events.count() == events_before
    assert stored_files(media_root) == []


def test_a_refused_file_in_a_filing_files_nothing_at_all(media_root, file_case, legal, provider):
    good = upload("screenshot.png", png_bytes())
    bad = upload("screenshot2.png", ELF)

    with pytest.raises(ApplicationError) as refused:
        file_case(evidence=[(good, None), (bad, 0)])

    assert refused.value.fields == {
        "evidence.1": [
            "screenshot2.png is not an allowed type of file (PNG, JPEG, WebP, GIF, MP4, WebM, MOV, PDF, "
            "plain text); its contents were checked."
        ]
    }
    assert not Case.objects.exists()
    assert not Evidence.objects.exists()
    assert not CaseEvent.objects.exists()
    assert stored_files(media_root) == []


def test_a_filing_stores_its_files_against_the_case_and_its_outputs(media_root, file_case):
    case = file_case(evidence=[(upload("whole.pdf", PDF), None), (upload("first.png", png_bytes()), 0)])

    by_name = {e.original_name: e for e in case.evidence.all()}
    assert by_name["whole.pdf"].output is None
    assert by_name["first.png"].output == case.outputs.get(position=1)
    assert len(stored_files(media_root)) == 2


def test_the_same_bytes_uploaded_twice_are_stored_once(media_root, file_case, legal, agent):
    content = png_bytes(seed=3)
    first_case, second_case = file_case(), file_case()

    first = evidence_add(case=first_case, actor=legal, upload=upload("a.png", content))
    second = evidence_add(case=second_case, actor=legal, upload=upload("b.png", content))
    by_provider = evidence_add(case=first_case, actor=agent, upload=upload("a-again.png", content))

    assert first.pk != second.pk
    assert first.file.name == second.file.name
    assert stored_files(media_root) == [evidence_storage_name(first.sha256)]
    # Attached again to the same case and output, the earlier record is returned and no event added.
    assert by_provider.pk == first.pk
    assert first_case.evidence.count() == 1
    assert first_case.events.filter(action="evidence_added").count() == 1


def test_a_file_cut_short_in_storage_is_written_again(media_root, file_case, legal):
    content = png_bytes(seed=5)
    path = media_root / evidence_storage_name(hashlib.sha256(content).hexdigest())
    path.parent.mkdir(parents=True)
    path.write_bytes(content[:10])

    evidence_add(case=file_case(), actor=legal, upload=upload("a.png", content))

    assert path.read_bytes() == content


def test_evidence_can_not_be_modified_or_deleted(media_root, file_case, legal):
    evidence = evidence_add(case=file_case(), actor=legal, upload=upload("a.txt", JAPANESE_TEXT))

    evidence.description = "changed"
    with pytest.raises(ValueError, match="never modified"):
        evidence.save()
    with pytest.raises(ValueError, match="never deleted"):
        evidence.delete()
    evidence.refresh_from_db()
    assert evidence.description == ""


@pytest.mark.parametrize("who", ["other_legal", "other_agent", "analyst"])
def test_only_the_parties_may_add_evidence(media_root, request, file_case, who):
    case = file_case()
    with pytest.raises(ApplicationError) as refused:
        evidence_add(case=case, actor=request.getfixturevalue(who), upload=upload("a.txt", JAPANESE_TEXT))
    assert refused.value.code == "not_permitted"
    assert stored_files(media_root) == []


def test_the_provider_may_not_add_evidence_to_a_draft(media_root, file_case, agent):
    with pytest.raises(ApplicationError) as refused:
        evidence_add(case=file_case(submit=False), actor=agent, upload=upload("a.txt", JAPANESE_TEXT))
    assert refused.value.code == "not_permitted"


def test_evidence_is_refused_on_a_closed_case(media_root, file_case, legal):
    case = case_transition(case=file_case(), action="withdraw", actor=legal)
    with pytest.raises(ApplicationError) as refused:
        evidence_add(case=case, actor=legal, upload=upload("a.txt", JAPANESE_TEXT))
    assert refused.value.code == "case_closed"
    assert stored_files(media_root) == []


def test_evidence_for_an_output_of_another_case_is_refused(media_root, file_case, legal):
    case, other = file_case(), file_case()
    with pytest.raises(ApplicationError) as refused:
        evidence_add(
            case=case, actor=legal, upload=upload("a.txt", JAPANESE_TEXT), output=other.outputs.first()
        )
    assert "output" in refused.value.fields
    assert not Evidence.objects.exists()
