"""Score and index the responses written before sincerity existed, so later ones are compared with them."""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from claims.sincerity.services import responses_fingerprint_backfill, responses_unindexed

BATCH_SIZE = 200


class Command(BaseCommand):
    help = (
        "Compute the similarity flag of every response that has none yet (oldest first), each against "
        "the provider's responses written before it, and index it for later comparisons. Safe to "
        "interrupt and rerun: a batch is written whole or not at all, and indexed responses are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar on standard error."
        )

    def handle(self, *args, no_progress, **options):
        pending = responses_unindexed()
        done = 0
        with tqdm(
            total=len(pending),
            unit="response",
            desc="Indexing responses",
            file=sys.stderr,
            disable=no_progress or None,
        ) as progress:
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start : start + BATCH_SIZE]
                done += responses_fingerprint_backfill(response_ids=chunk)
                progress.update(len(chunk))
        self.stdout.write(self.style.SUCCESS(f"{done} responses scored and indexed."))
