"""Issue an API token from the server's command line, printing only the token.

Only the token goes to stdout, so scripts can capture it: ``TOKEN=$(manage.py issue_api_token ...)``.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from members.errors import ApplicationError
from members.models import User
from members.tokens import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token acting as the user with EMAIL and print the token (and nothing else)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the email address of the user the token acts as")
        parser.add_argument("--name", default="Command line", help="what the token is for")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="days until the token stops working"
        )

    def handle(self, *args, email, name, expires_days, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email address {email}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            _token, plaintext = api_token_issue(actor=None, user=user, name=name, expires_at=expires_at)
        except ApplicationError as exc:
            details = "; ".join(message for messages in exc.fields.values() for message in messages)
            raise CommandError(f"{exc.message} {details}".strip()) from None
        self.stdout.write(plaintext)
