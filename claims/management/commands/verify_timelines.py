"""Check the hash chain of every case's timeline, or of the cases named."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from claims.models import Case
from claims.services.timeline import timelines_verify


class Command(BaseCommand):
    help = (
        "Verify the hash-chained timeline of every case (or of the cases whose references are given). "
        "Prints each problem and a summary; exits with status 1 if any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", metavar="REFERENCE", help="e.g. CL-2026-000123")
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar on standard error."
        )

    def handle(self, *args, references, no_progress, **options):
        cases = Case.objects.all()
        if references:
            references = list(dict.fromkeys(references))
            found = set(Case.objects.filter(reference__in=references).values_list("reference", flat=True))
            unknown = [reference for reference in references if reference not in found]
            if unknown:
                raise CommandError(f"No case with reference {', '.join(unknown)}.", returncode=2)
            cases = cases.filter(reference__in=references)
        total = cases.count()
        progress = tqdm(
            total=total,
            unit="case",
            desc="Verifying timelines",
            file=sys.stderr,
            disable=no_progress or None,  # None: show only on a terminal
        )
        broken = 0
        problem_count = 0
        with progress:
            for _reference, problems in timelines_verify(cases=cases):
                progress.update(1)
                if problems:
                    broken += 1
                    problem_count += len(problems)
                    # Clear the bar while writing so that the line does not run through it.
                    with tqdm.external_write_mode():
                        for problem in problems:
                            self.stdout.write(str(problem))
        if broken:
            self.stdout.write(
                self.style.ERROR(
                    f"{broken} of {_count(total, 'timeline')} broken ({_count(problem_count, 'problem')})."
                )
            )
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"{_count(total, 'timeline')} verified, all intact."))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
