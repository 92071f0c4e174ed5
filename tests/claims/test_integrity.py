"""Near-duplicate evidence links cases, and each viewer learns only what it may of the other case."""

import io

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from claims.integrity.models import CaseLink, EvidenceFingerprint, EvidenceScan, LinkKind, ScanOutcome
from claims.integrity.services import LINK_EVENT, evidence_scan_and_link
from claims.integrity.tasks import evidence_fingerprint
from claims.models import CaseEvent, Evidence
from config.celery import app as celery_app
from members.models import Role
from tests.factories import MemberFactory, ProviderFactory, UserFactory

from .test_integrity_media import encoded, jpeg_resized, png_scene, video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a filing queues on commit, with the Celery tasks executed in-process."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def file_with(file_case, name, content, **kwargs):
    return file_case(evidence=[(upload(name, content), None)], **kwargs)


def links_between(case, other):
    low, high = sorted([case.pk, other.pk])
    return CaseLink.objects.filter(case_a_id=low, case_b_id=high)


# --- Linking ---------------------------------------------------------------------------------------


def test_a_resized_jpeg_of_a_png_filed_by_another_member_links_the_two_cases(file_case, run_on_commit):
    other_legal = UserFactory(role=Role.MEMBER_LEGAL)
    with run_on_commit() as queued:
        first = file_with(file_case, "frame.png", png_scene(1))
    assert len(queued) >= 1  # the fingerprint task was queued after the filing committed
    with run_on_commit():
        second = file_with(file_case, "copy.jpg", jpeg_resized(1, scale=0.5, quality=60), actor=other_legal)

    link = links_between(first, second).get()
    assert link.kind == LinkKind.IMAGE
    assert link.distance <= 2
    assert {link.evidence_a.case_id, link.evidence_b.case_id} == {first.pk, second.pk}


def test_an_unrelated_picture_links_nothing(file_case, run_on_commit):
    with run_on_commit():
        file_with(file_case, "frame.png", png_scene(1))
        file_with(file_case, "other.png", png_scene(2))

    assert not CaseLink.objects.exists()
    assert EvidenceFingerprint.objects.count() == 2


def test_a_video_re_encoded_at_another_size_and_bitrate_links_the_cases(file_case, run_on_commit):
    with run_on_commit():
        first = file_with(file_case, "clip.mp4", video(5))
        second = file_with(
            file_case, "clip-small.mp4", video(5, size=(160, 90), codec="mpeg4", bit_rate=80_000)
        )
        unrelated = file_with(file_case, "other.webm", video(6, codec="libvpx", container="webm"))

    link = links_between(first, second).get()
    assert link.kind == LinkKind.VIDEO
    assert link.frames_matched == 3
    assert not links_between(first, unrelated).exists()
    assert EvidenceFingerprint.objects.filter(evidence__case=first).count() == 3


def test_a_screenshot_of_a_video_frame_links_to_the_video(file_case, run_on_commit):
    clip = video(7, fps=12)
    with av.open(io.BytesIO(clip)) as container:
        frame = list(container.decode(video=0))[6]  # 0.5 s in, one of the moments sampled
    screenshot = encoded(frame.to_image().resize((640, 360)), "PNG")
    with run_on_commit():
        first = file_with(file_case, "clip.mp4", clip)
        second = file_with(file_case, "screenshot.png", screenshot)

    assert links_between(first, second).get().kind == LinkKind.VIDEO


def test_fingerprinting_again_writes_nothing_twice(file_case, run_on_commit):
    with run_on_commit():
        first = file_with(file_case, "frame.png", png_scene(1))
        second = file_with(file_case, "copy.jpg", jpeg_resized(1))
    before = (EvidenceFingerprint.objects.count(), CaseLink.objects.count(), CaseEvent.objects.count())

    for evidence in Evidence.objects.all():
        assert evidence_fingerprint(evidence_id=evidence.pk) == 0

    assert (
        EvidenceFingerprint.objects.count(),
        CaseLink.objects.count(),
        CaseEvent.objects.count(),
    ) == before
    assert links_between(first, second).count() == 1


def test_the_backfill_command_fingerprints_earlier_evidence_and_links_it(file_case):
    # Without running the on-commit task, as for evidence filed before fingerprinting existed.
    first = file_with(file_case, "frame.png", png_scene(1))
    second = file_with(file_case, "copy.jpg", jpeg_resized(1))
    file_with(file_case, "notes.txt", b"Only text.\n")
    broken = file_with(file_case, "broken.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)

    call_command("fingerprint_evidence", "--no-progress")

    assert links_between(first, second).exists()
    assert EvidenceScan.objects.count() == 3  # the text file is not a picture
    assert EvidenceScan.objects.get(evidence__case=broken).outcome == ScanOutcome.UNREADABLE
    call_command("fingerprint_evidence", "--no-progress")
    assert CaseLink.objects.count() == 1


def test_a_flat_picture_is_scanned_but_matches_nothing(file_case, run_on_commit):
    flat = encoded(Image.new("RGB", (300, 200), (0, 0, 0)), "PNG")
    with run_on_commit():
        file_with(file_case, "black.png", flat)
        file_with(file_case, "black-too.jpg", encoded(Image.new("RGB", (150, 100), (0, 0, 0)), "JPEG"))

    assert not CaseLink.objects.exists()
    assert set(EvidenceScan.objects.values_list("outcome", flat=True)) == {ScanOutcome.NO_PICTURE}


def test_the_threshold_comes_from_the_settings(file_case, settings):
    first = file_with(file_case, "frame.png", png_scene(1))
    second = file_with(file_case, "tiny.jpg", jpeg_resized(1, scale=0.2, quality=20))  # 2 bits away
    settings.EVIDENCE_NEAR_DUPLICATE_BITS = 1
    for case in (first, second):
        evidence_scan_and_link(evidence_id=case.evidence.get().pk)
    assert not CaseLink.objects.exists()

    settings.EVIDENCE_NEAR_DUPLICATE_BITS = 2
    evidence_scan_and_link(evidence_id=second.evidence.get().pk)
    assert links_between(first, second).get().distance == 2


# --- Who sees a link ---------------------------------------------------------------------------------


@pytest.fixture
def linked(file_case, legal, provider, run_on_commit):
    """Three cases with the same picture: ours (A, to our provider), another member's (B, to our
    provider) and ours to another provider (C)."""
    other_member = MemberFactory()
    other_provider = ProviderFactory()
    other_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=other_member)
    with run_on_commit():
        a = file_with(file_case, "a.png", png_scene(1), title="Case A of ours")
        b = file_with(
            file_case, "b.jpg", jpeg_resized(1), actor=other_legal, title="Secret title of the other member"
        )
        c = file_with(file_case, "c.jpg", jpeg_resized(1, 0.3, 50), respondent=other_provider, title="Case C")
    assert CaseLink.objects.count() == 3
    return {
        "a": a,
        "b": b,
        "c": c,
        "other_member": other_member,
        "other_legal": other_legal,
        "other_provider": other_provider,
        "other_agent": UserFactory(role=Role.PROVIDER_AGENT, organisation=other_provider),
    }


def links_api(api_client, user, case):
    api_client.force_authenticate(user)
    response = api_client.get(f"/api/v1/cases/{case.reference}/links/")
    return response


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def shown(api_client, user, case):
    """Return (references shown, count of withheld links) of the case's links API for the user."""
    response = links_api(api_client, user, case)
    assert response.status_code == 200, response.content
    body = response.json()
    return (
        sorted(link["other_case"]["reference"] for link in body if link["other_case"]),
        sum(1 for link in body if link["other_case"] is None),
    )


def test_the_association_sees_both_cases_of_every_link(linked, api_client, analyst):
    a, b, c = linked["a"], linked["b"], linked["c"]

    assert shown(api_client, analyst, a) == (sorted([b.reference, c.reference]), 0)
    assert shown(api_client, analyst, b) == (sorted([a.reference, c.reference]), 0)


def test_a_member_sees_its_own_other_case_and_only_the_existence_of_another_members(
    linked, api_client, legal
):
    a, b, c = linked["a"], linked["b"], linked["c"]

    assert shown(api_client, legal, a) == ([c.reference], 1)
    body = links_api(api_client, legal, a).json()
    assert (
        b.reference not in str(body)
        and "Secret" not in str(body)
        and linked["other_member"].slug not in str(body)
    )


def test_the_other_member_sees_two_claims_of_whose_it_learns_nothing(linked, api_client):
    body = links_api(api_client, linked["other_legal"], linked["b"]).json()

    assert [link["other_case"] for link in body] == [None, None]
    assert [link["evidence"]["name"] for link in body] == ["b.jpg", "b.jpg"]


def test_a_provider_sees_a_link_only_between_cases_addressed_to_it(linked, api_client, agent):
    a, b, c = linked["a"], linked["b"], linked["c"]

    assert shown(api_client, agent, a) == ([b.reference], 0)
    assert shown(api_client, agent, b) == ([a.reference], 0)
    assert shown(api_client, linked["other_agent"], c) == ([], 0)


def test_another_organisation_gets_404_for_the_links(linked, api_client, other_agent):
    response = links_api(api_client, linked["other_agent"], linked["a"])
    assert response.status_code == 404
    assert links_api(api_client, other_agent, linked["c"]).status_code == 404


def test_a_link_to_another_members_draft_is_not_shown_until_it_is_submitted(
    file_case, run_on_commit, api_client, legal
):
    from claims.services import case_transition

    other_legal = UserFactory(role=Role.MEMBER_LEGAL)
    with run_on_commit():
        ours = file_with(file_case, "a.png", png_scene(1))
        draft = file_with(file_case, "b.jpg", jpeg_resized(1), actor=other_legal, submit=False)
    assert links_between(ours, draft).exists()
    assert shown(api_client, legal, ours) == ([], 0)

    case_transition(case=draft, action="submit", actor=other_legal)
    assert shown(api_client, legal, ours) == ([], 1)
    assert shown(api_client, other_legal, draft) == ([], 1)


def test_the_timeline_records_a_link_between_cases_of_one_provider_without_naming_the_other(linked):
    a, b, c = linked["a"], linked["b"], linked["c"]

    a_events = list(CaseEvent.objects.filter(case=a, action=LINK_EVENT))
    assert len(a_events) == 1  # A~B (same provider); A~C crosses providers and stays off both timelines
    assert a_events[0].data == {
        "sha256": a.evidence.get().sha256,
        "match": "image",
        "distance": a_events[0].data["distance"],
    }
    assert CaseEvent.objects.filter(case=b, action=LINK_EVENT).count() == 1
    assert not CaseEvent.objects.filter(case=c, action=LINK_EVENT).exists()
    for event in CaseEvent.objects.filter(action=LINK_EVENT):
        assert event.actor is None
        text = str(event.data)
        assert b.reference not in text and a.reference not in text and str(b.pk) not in text.split("'")
    call_command("verify_timelines", "--no-progress")  # the chains stay intact


def page(client, user, case):
    client.force_login(user, backend=MODEL_BACKEND)
    return client.get(reverse("claims:case_detail", kwargs={"reference": case.reference}))


def test_the_case_page_shows_each_viewer_its_share_of_the_links(linked, client, legal, agent, analyst):
    a, b, c = linked["a"], linked["b"], linked["c"]

    ours = page(client, legal, a).content.decode()
    assert "Linked cases" in ours and c.reference in ours
    assert "Another claim concerns the same output." in ours
    assert b.reference not in ours and "Secret title" not in ours

    theirs = page(client, linked["other_legal"], b).content.decode()
    assert theirs.count("Another claim concerns the same output.") == 2
    assert a.reference not in theirs and c.reference not in theirs and "Case A of ours" not in theirs

    providers = page(client, agent, a).content.decode()
    assert b.reference in providers and c.reference not in providers

    other_provider = page(client, linked["other_agent"], c).content.decode()
    assert "Linked cases" not in other_provider and a.reference not in other_provider

    association = page(client, analyst, a).content.decode()
    assert b.reference in association and c.reference in association
