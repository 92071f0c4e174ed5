"""A real Celery worker on Redis fingerprints new evidence after the filing commits and links the cases."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.integrity.models import CaseLink, EvidenceScan
from members.models import Role
from tests.factories import UserFactory
from tests.workers import wait_for

from .test_integrity_media import jpeg_resized, png_scene


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
def test_the_worker_links_two_members_cases_filed_with_the_same_picture(redis_worker, file_case):
    other_legal = UserFactory(role=Role.MEMBER_LEGAL)
    first = file_case(evidence=[(SimpleUploadedFile("frame.png", png_scene(4)), None)])
    second = file_case(actor=other_legal, evidence=[(SimpleUploadedFile("copy.jpg", jpeg_resized(4)), None)])

    assert wait_for(lambda: CaseLink.objects.exists(), timeout=20)
    link = CaseLink.objects.get()
    assert (link.case_a_id, link.case_b_id) == (first.pk, second.pk)
    assert wait_for(lambda: EvidenceScan.objects.count() == 2, timeout=10)
