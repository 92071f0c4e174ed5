"""The hook the evidence services call: queue fingerprinting once the new row commits.

Kept apart from ``claims.integrity.services`` (which writes timeline events through
``claims.services``) so that ``claims.services`` can import it without a cycle.
"""

from functools import partial

from django.db import transaction

from .hashing import IMAGE_TYPES, VIDEO_TYPES


def evidence_fingerprint_queue(*, evidence) -> None:
    """Fingerprint a newly recorded image or video once the transaction that wrote it commits."""
    if evidence.content_type not in IMAGE_TYPES | VIDEO_TYPES:
        return
    from .tasks import evidence_fingerprint

    transaction.on_commit(partial(evidence_fingerprint.delay, evidence_id=evidence.pk))
