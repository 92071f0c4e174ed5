"""Thin Celery task: load by id, call the service."""

from celery import shared_task

from .services import evidence_scan_and_link


@shared_task(acks_late=True)
def evidence_fingerprint(*, evidence_id: int) -> int:
    """Fingerprint a new evidence file and link the cases that hold a near copy; return the links made."""
    return len(evidence_scan_and_link(evidence_id=evidence_id))
