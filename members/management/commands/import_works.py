"""Import a large CSV of works into one member's registry: all rows in one transaction, or none."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.errors import ApplicationError
from members.models import Organisation
from members.registry.services import works_import_csv


class Command(BaseCommand):
    help = "Register every row of a works CSV (the template of /registry/works/import/) as a work of --owner."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument("--owner", required=True, help="Slug of the member company that owns the works.")
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar on standard error."
        )

    def handle(self, *args, file, owner, no_progress, **options):
        from tqdm import tqdm

        member = Organisation.objects.members().filter(slug=owner).first()
        if member is None:
            raise CommandError(f"There is no member company with the slug {owner!r}.")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        rows = max(data.count(b"\n") - 1, 0)  # a guess for the bar; quoted newlines make it high
        with tqdm(
            total=rows, desc="Checking rows", unit="row", file=sys.stderr, disable=no_progress or None
        ) as bar:
            try:
                count = works_import_csv(owner=member, data=data, progress=bar.update)
            except ApplicationError as exc:
                lines = [exc.message]
                for key, messages in list(exc.fields.items())[:200]:
                    lines.extend(f"  {key}: {message}" for message in messages)
                if len(exc.fields) > 200:
                    lines.append(f"  … and {len(exc.fields) - 200} more.")
                raise CommandError("\n".join(lines)) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {count} works into {member.slug}."))
