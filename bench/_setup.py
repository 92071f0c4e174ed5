"""Shared set-up for the benchmarks: a dedicated PostgreSQL database, migrated, with Django loaded."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/rightsdesk_bench"


def django_on_bench_database():
    """Point Django at BENCH_DATABASE_URL (created if missing), migrate it and return the URL."""
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def fresh_bench_parties():
    """Empty every case table and return the bench (member, provider, member's legal user)."""
    from django.db import connection

    from members.models import Organisation, Role, User

    with connection.cursor() as cursor:
        # CASCADE reaches every table that refers to cases or events (notifications, webhooks).
        cursor.execute("TRUNCATE claims_case, claims_referencecounter RESTART IDENTITY CASCADE")
    member, _ = Organisation.objects.get_or_create(
        slug="bench-member", defaults={"kind": "member", "name_ja": "ベンチ", "name_en": "Bench member"}
    )
    provider, _ = Organisation.objects.get_or_create(
        slug="bench-provider",
        defaults={"kind": "provider", "name_ja": "ベンチAI", "name_en": "Bench provider"},
    )
    user = User.objects.filter(email="bench@member.bench").first() or User.objects.create_user(
        "bench@member.bench", None, organisation=member, role=Role.MEMBER_LEGAL
    )
    return member, provider, user
