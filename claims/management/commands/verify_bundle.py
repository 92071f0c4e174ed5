"""Check an evidence bundle (ZIP) exported from a case: manifest, files and hash-chained timeline."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claims.integrity.bundle import bundle_verify


class Command(BaseCommand):
    help = (
        "Verify a case's evidence bundle: every file's size and SHA-256 against the manifest, no file "
        "missing or extra, evidence bytes against their names, and the timeline's hash chain recomputed. "
        "Prints OK and a summary (exit status 0), or every problem found (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", metavar="FILE", help="the bundle, e.g. CL-2026-000123-evidence-bundle.zip"
        )

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}", returncode=2)
        report = bundle_verify(path)
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {report.summary()}"))
            return
        for problem in report.problems:
            self.stdout.write(problem)
        count = len(report.problems)
        self.stdout.write(
            self.style.ERROR(
                f"FAILED: {path.name}: {count} problem{'s' if count != 1 else ''}; do not rely on it."
            )
        )
        sys.exit(1)
