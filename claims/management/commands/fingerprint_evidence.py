"""Fingerprint the images and videos that have no fingerprint yet, and link the cases they match."""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from claims.integrity.hashing import IMAGE_TYPES, VIDEO_TYPES
from claims.integrity.models import EvidenceScan, ScanOutcome
from claims.integrity.services import evidence_scan_and_link
from claims.models import Evidence


class Command(BaseCommand):
    help = (
        "Compute the perceptual hash of every image and video evidence file not yet fingerprinted "
        "(oldest first), and link each to the cases holding a near copy. Safe to interrupt and rerun."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-unreadable",
            action="store_true",
            help="Also try again the files that could not be decoded before.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar on standard error."
        )

    def handle(self, *args, retry_unreadable, no_progress, **options):
        if retry_unreadable:
            EvidenceScan.objects.filter(outcome=ScanOutcome.UNREADABLE).delete()
        pending = Evidence.objects.filter(
            content_type__in=sorted(IMAGE_TYPES | VIDEO_TYPES), scan__isnull=True
        ).order_by("pk")
        ids = list(pending.values_list("pk", flat=True))
        links = 0
        progress = tqdm(
            ids, unit="file", desc="Fingerprinting evidence", file=sys.stderr, disable=no_progress or None
        )
        for evidence_id in progress:
            links += len(evidence_scan_and_link(evidence_id=evidence_id))
        unreadable = EvidenceScan.objects.filter(outcome=ScanOutcome.UNREADABLE).count()
        self.stdout.write(
            self.style.SUCCESS(f"{len(ids)} files fingerprinted, {links} case links made.")
            + (f" {unreadable} files could not be decoded (see the log)." if unreadable else "")
        )
