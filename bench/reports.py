"""Time the monthly reports and the public transparency summary at a million cases.

    python bench/reports.py [--cases 1000000] [--requests 20] [--skip-load]

Uses its own database (BENCH_DATABASE_URL, default rightsdesk_bench_reports on local
PostgreSQL, created and migrated if missing) and the dashboards benchmark's generator
(``bench/dashboard.py``: cases over 24 months between 36 members and 5 providers, with their
clocks and events), then builds the roll-up. It times, through Django's test client (in
process, full view, template and middleware stack) and printing p50/p95: the report index,
the report page, its PDF (ja and en) and its API JSON for the association, a member and a
provider; the transparency summary computed from scratch, and its page and JSON from the cache.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rightsdesk_bench_reports")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import django_on_bench_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the cases already in the bench database"
    )
    args = parser.parse_args()
    url = django_on_bench_database()

    from dashboard import load, timed
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from claims.dashboards.rollup import rollups_refresh
    from claims.reports.months import Month
    from claims.reports.transparency import transparency_summary
    from members.models import User

    print(f"bench database: {url.rsplit('@', 1)[-1]}")
    if not args.skip_load:
        started = time.perf_counter()
        totals = load(args, connection)
        print(f"loaded {totals['cases']:,} cases in {time.perf_counter() - started:.1f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE claims_case; ANALYZE claims_clock; ANALYZE claims_caseevent")
    # Always rebuilt: the roll-up then matches the code being measured.
    started = time.perf_counter()
    rollups_refresh(full=True)
    print(f"full roll-up rebuild in {time.perf_counter() - started:.1f} s", flush=True)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    last_month = str(Month.of(timezone.now()).previous())
    provider = "bench-provider-0"
    base = f"/reports/{provider}/{last_month}/"
    users = [
        ("association", User.objects.get(email="analyst@bench.test")),
        ("member", User.objects.get(email="member@bench.test")),
        ("provider", User.objects.get(email="agent@bench.test")),
    ]
    print(
        f"report of {provider} for {last_month} (12-month trend), {args.requests} requests each:", flush=True
    )
    for label, user in users:
        client = Client()
        client.force_login(user)
        timed(f"{label}: report index", lambda c=client: c.get("/reports/"), args.requests)
        timed(f"{label}: report page", lambda c=client: c.get(base, {"lang": "en"}), args.requests)
        for language in ("ja", "en"):
            timed(
                f"{label}: report PDF ({language})",
                lambda c=client, lang=language: c.get(base + "report.pdf", {"lang": lang}),
                args.requests,
            )
        timed(
            f"{label}: API report JSON",
            lambda c=client: c.get(f"/api/v1/reports/{provider}/{last_month}/"),
            args.requests,
        )
        timed(f"{label}: API report list", lambda c=client: c.get("/api/v1/reports/"), args.requests)

    samples = []
    for _ in range(3):
        started = time.perf_counter()
        summary = transparency_summary(use_cache=False)
        samples.append(time.perf_counter() - started)
    print(
        f"transparency summary from scratch ({len(summary.providers)} providers x "
        f"{len(summary.months)} months): best {min(samples) * 1000:.0f} ms of 3",
        flush=True,
    )
    cache.clear()
    anonymous = Client()
    timed(
        "transparency page (cached after the first)", lambda: anonymous.get("/transparency/"), args.requests
    )
    timed(
        "transparency JSON (cached after the first)",
        lambda: anonymous.get("/transparency.json"),
        args.requests,
    )


if __name__ == "__main__":
    main()
