"""Send today's daily digest now, or with --dry-run show who would get what."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.digest import TOKYO, digest_outlook, digest_send


class Command(BaseCommand):
    help = (
        "Send the daily digest of deadlines due in the next DIGEST_WINDOW_HOURS to everybody who wants it "
        "and has not had today's. --dry-run lists the digests without sending or recording anything."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would get which deadlines; send nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        if dry_run:
            self._show_outlook(now)
            return
        result = digest_send(now=now)
        self.stdout.write(
            f"Digest for {result.day}: {result.sent} sent, {result.already_sent} already sent today, "
            f"{result.nothing_due} with nothing due."
        )
        if result.failed:
            raise CommandError(f"Could not email: {', '.join(result.failed)}")

    def _show_outlook(self, now):
        outlook = digest_outlook(now=now)
        for plan in outlook.plans:
            channels = [name for name in ("inbox", "email") if getattr(plan.channels, name)]
            count = len(plan.items) + plan.more
            self.stdout.write(
                f"{plan.user.email} ({plan.user.language}, {'+'.join(channels)}): {count} deadline(s)"
            )
            for item in plan.items:
                due = item.due_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M %Z")
                self.stdout.write(f"  {item.clock.case.reference} {item.clock.kind} due {due}")
            if plan.more:
                self.stdout.write(f"  ... and {plan.more} more")
        self.stdout.write(
            f"Dry run for {outlook.day}: {len(outlook.plans)} would be sent, "
            f"{outlook.already_sent} already sent today, {outlook.nothing_due} with nothing due."
        )
