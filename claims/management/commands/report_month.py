"""Write the monthly report PDF of one provider, or of every provider, over every case."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from tqdm import tqdm

from claims.reports.access import report_ref_for_everyone
from claims.reports.layout import report_layout
from claims.reports.months import Month
from claims.reports.pdf import render_report_pdf
from claims.reports.selectors import report_build_for_everyone
from claims.reports.views import report_pdf_filename
from members.models import Organisation


class Command(BaseCommand):
    help = (
        "Write the monthly report of a provider as a PDF, counting every case (the association's view). "
        "Without --provider, write one PDF per provider into --out (a directory)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, e.g. 2026-10 (default: last month, Japan time)")
        parser.add_argument("--provider", help="The provider's slug (or id); every provider if omitted.")
        parser.add_argument("--lang", choices=["ja", "en"], default="ja")
        parser.add_argument(
            "--out",
            help="File to write (one provider) or directory (every provider); default: current directory.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, month, provider, lang, out, no_progress, **options):
        try:
            wanted = Month.parse(month) if month else Month.of(timezone.now()).previous()
        except ValueError:
            raise CommandError(f"--month must be YYYY-MM, not {month!r}.", returncode=2) from None
        if wanted > Month.of(timezone.now()):
            raise CommandError(f"{wanted} has not begun yet.", returncode=2)
        providers = Organisation.objects.providers().order_by("name_en", "pk")
        if provider:
            lookup = {"pk": int(provider)} if provider.isdigit() else {"slug": provider}
            providers = providers.filter(**lookup)
            if not providers.exists():
                raise CommandError(f"No provider {provider!r}.", returncode=2)
        providers = list(providers)
        single_file = provider and out and not Path(out).is_dir()
        directory = Path(out) if out and not single_file else Path(".")
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        progress = tqdm(
            providers, unit="report", desc=f"Reports {wanted}", file=sys.stderr, disable=no_progress or None
        )
        with translation.override(lang):
            for organisation in progress:
                ref = report_ref_for_everyone(provider=organisation, month=wanted)
                content = render_report_pdf(report_layout(report_build_for_everyone(ref=ref)), language=lang)
                path = Path(out) if single_file else directory / report_pdf_filename(ref, lang)
                path.write_bytes(content)
                written.append(path)
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(written)} report(s) written for {wanted}."))
