"""Fingerprint evidence and link the cases whose evidence shows the same output.

A new image or video is fingerprinted by a Celery task queued when its row commits
(``claims.integrity.queue.evidence_fingerprint_queue``); the task calls
``evidence_scan_and_link``, which is idempotent: the fingerprints are written once
(``EvidenceScan`` marks it), and a link once per pair of cases (unique constraint, both cases
locked).

The fingerprints are committed before the search for near copies starts, so of two near copies
uploaded at the same moment to two cases, the one whose search runs second always finds the
other: neither pair is missed.
"""

import logging
import statistics
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from claims.models import Case, Evidence
from claims.services.timeline import event_record

from . import hashing
from .models import CaseLink, EvidenceFingerprint, EvidenceScan, LinkKind, ScanOutcome

logger = logging.getLogger(__name__)

LINK_EVENT = "evidence_linked"
MAX_THRESHOLD = 16


def near_duplicate_bits() -> int:
    """Return the Hamming distance (bits of 64) up to which two pictures count as the same output."""
    return max(0, min(MAX_THRESHOLD, int(settings.EVIDENCE_NEAR_DUPLICATE_BITS)))


def evidence_scan(*, evidence: Evidence) -> EvidenceScan:
    """Fingerprint the file once: hash it (outside any transaction: video is slow), then record it."""
    existing = EvidenceScan.objects.filter(evidence_id=evidence.pk).first()
    if existing is not None:
        return existing
    detail = ""
    try:
        with evidence.file.open("rb") as stream:
            frames = hashing.media_hashes(evidence.content_type, stream)
        outcome = ScanOutcome.HASHED if frames else ScanOutcome.NO_PICTURE
    except (hashing.UnreadableMedia, OSError) as exc:
        frames, outcome, detail = [], ScanOutcome.UNREADABLE, str(exc)[:300]
        logger.warning("Evidence %s (%s) could not be fingerprinted: %s", evidence.pk, evidence.sha256, exc)
    with transaction.atomic():
        # The evidence row lock makes a second worker on the same file wait, then find the scan.
        Evidence.objects.select_for_update().filter(pk=evidence.pk).values_list("pk").get()
        existing = EvidenceScan.objects.filter(evidence_id=evidence.pk).first()
        if existing is not None:
            return existing
        EvidenceFingerprint.objects.bulk_create(
            EvidenceFingerprint(
                evidence_id=evidence.pk,
                case_id=evidence.case_id,
                frame=frame.frame,
                at_ms=frame.at_ms,
                hash=hashing.to_signed(frame.value),
                **{f"band{i}": band for i, band in enumerate(hashing.bands(frame.value))},
            )
            for frame in frames
        )
        return EvidenceScan.objects.create(
            evidence_id=evidence.pk,
            outcome=outcome,
            frames=len(frames),
            detail=detail,
            scanned_at=timezone.now(),
        )


def near_fingerprints(*, value: int, threshold: int, exclude_case_id: int | None = None):
    """Return ``(evidence_id, case_id, distance)`` of every stored fingerprint within ``threshold`` bits.

    The bands narrow the search to a few index lookups; the exact distance is computed by
    PostgreSQL on those candidates (in Python on other databases).
    """
    radius = hashing.band_radius(threshold)
    lookup = Q()
    for index, band in enumerate(hashing.bands(value)):
        lookup |= Q(**{f"band{index}__in": hashing.band_neighbours(band, radius)})
    candidates = EvidenceFingerprint.objects.filter(lookup)
    if exclude_case_id is not None:
        candidates = candidates.exclude(case_id=exclude_case_id)
    signed = hashing.to_signed(value)
    if connection.vendor == "postgresql":
        distance = RawSQL("bit_count(int8send(hash # %s))", (signed,))
        rows = candidates.annotate(distance=distance).filter(distance__lte=threshold)
        return list(rows.values_list("evidence_id", "case_id", "distance"))
    rows = candidates.values_list("evidence_id", "case_id", "hash")
    return [
        (evidence_id, case_id, d)
        for evidence_id, case_id, stored in rows
        if (d := hashing.hamming(stored, signed)) <= threshold
    ]


@dataclass
class Match:
    evidence_id: int
    case_id: int
    frames_matched: int
    distance: int


def evidence_matches(*, evidence: Evidence, threshold: int) -> list[Match]:
    """Return, per other case, the best file of it that shows the same picture or video as ``evidence``.

    A still picture matches on one frame; two videos when at least two frames, and at least half
    the frames of the one with fewer, each have a frame of the other within ``threshold`` bits.
    """
    own = list(evidence.fingerprints.order_by("frame").values_list("hash", flat=True))
    if not own:
        return []
    # best[other evidence][own frame index] = smallest distance of that frame to the other file
    best: dict[int, dict[int, int]] = {}
    case_of: dict[int, int] = {}
    for index, value in enumerate(own):
        for other_id, case_id, distance in near_fingerprints(
            value=hashing.to_unsigned(value), threshold=threshold, exclude_case_id=evidence.case_id
        ):
            frames = best.setdefault(other_id, {})
            frames[index] = min(distance, frames.get(index, distance))
            case_of[other_id] = case_id
    if not best:
        return []
    frame_counts = dict(
        EvidenceScan.objects.filter(evidence_id__in=best).values_list("evidence_id", "frames")
    )
    per_case: dict[int, Match] = {}
    for other_id, frames in best.items():
        if len(frames) < hashing.frames_needed(len(own), frame_counts.get(other_id, 1)):
            continue
        match = Match(other_id, case_of[other_id], len(frames), round(statistics.median(frames.values())))
        current = per_case.get(match.case_id)
        if current is None or (match.frames_matched, -match.distance) > (
            current.frames_matched,
            -current.distance,
        ):
            per_case[match.case_id] = match
    return sorted(per_case.values(), key=lambda m: m.case_id)


def case_link_record(*, evidence: Evidence, match: Match) -> CaseLink | None:
    """Link the evidence's case to the matched case, once per pair; return the new link or None.

    Both cases are locked (in id order, so two links never deadlock). When both are addressed to
    the same provider, each timeline gets an ``evidence_linked`` event naming only its own file:
    the chained data is read by everyone who sees that case, and names no other case. A link
    across providers is not written to either timeline, because each provider reads its case's
    timeline and must not learn of a case addressed to another provider.
    """
    other = Evidence.objects.only("pk", "case_id", "sha256", "content_type").get(pk=match.evidence_id)
    pair = sorted([(evidence.case_id, evidence), (other.case_id, other)], key=lambda item: item[0])
    (case_a_id, evidence_a), (case_b_id, evidence_b) = pair
    kind = (
        LinkKind.VIDEO
        if hashing.VIDEO_TYPES & {evidence.content_type, other.content_type}
        else LinkKind.IMAGE
    )
    with transaction.atomic():
        cases = list(Case.objects.select_for_update().filter(pk__in=[case_a_id, case_b_id]).order_by("pk"))
        if CaseLink.objects.filter(case_a_id=case_a_id, case_b_id=case_b_id).exists():
            return None
        link = CaseLink.objects.create(
            case_a_id=case_a_id,
            case_b_id=case_b_id,
            evidence_a=evidence_a,
            evidence_b=evidence_b,
            kind=kind,
            distance=match.distance,
            frames_matched=match.frames_matched,
            created_at=timezone.now(),
        )
        if cases[0].respondent_id == cases[1].respondent_id:
            for case, own in ((cases[0], evidence_a), (cases[1], evidence_b)):
                event_record(
                    case=case,
                    actor=None,
                    action=LINK_EVENT,
                    data={"sha256": own.sha256, "match": kind, "distance": match.distance},
                )
    return link


def evidence_scan_and_link(*, evidence_id: int) -> list[CaseLink]:
    """Fingerprint one evidence file (if not done yet) and link its case to every case with a near copy.

    Safe to run again, late or twice at once: nothing is written twice.
    """
    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None or evidence.content_type not in hashing.IMAGE_TYPES | hashing.VIDEO_TYPES:
        return []
    scan = evidence_scan(evidence=evidence)
    if scan.outcome != ScanOutcome.HASHED:
        return []
    links = []
    for match in evidence_matches(evidence=evidence, threshold=near_duplicate_bits()):
        link = case_link_record(evidence=evidence, match=match)
        if link is not None:
            links.append(link)
    return links
