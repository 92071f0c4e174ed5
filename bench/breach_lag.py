"""Measure the lag from a clock's due time to its recorded breach with a real worker on Redis.

    python bench/breach_lag.py [--cases 300] [--ahead 10]

Files --cases claims through the filing service; each has an acknowledgement clock due
--ahead seconds later (a provider-specific policy in calendar time). A Celery worker
(a separate process, as in production) runs the ETA tasks. Prints p50/p99/max of
recorded_at - due_at. Target: p99 ≤ 1 s.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from _setup import ROOT, django_on_bench_database, fresh_bench_parties, percentile


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--ahead", type=float, default=10.0, help="seconds from filing to due time")
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    url = django_on_bench_database()

    from django.utils import timezone

    from claims.services import case_create
    from claims.sla.models import ClockKind, ClockMark, SlaPolicy, TimeBasis
    from config.celery import app

    member, provider, user = fresh_bench_parties()
    SlaPolicy.objects.filter(provider=provider).delete()
    policy = SlaPolicy.with_design_defaults(case_kind="claim", priority="normal", provider=provider)
    policy.acknowledgement_target = timedelta(seconds=args.ahead)
    policy.acknowledgement_basis = TimeBasis.CALENDAR
    policy.warning_thresholds = []
    policy.escalate_on_breach = False
    policy.save()

    app.control.purge()
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "warning",
            "--concurrency",
            str(args.concurrency),
            "--without-gossip",
            "--without-mingle",
            "-n",
            "bench-lag@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(3)  # let the worker connect before the first ETA task arrives
        print(f"filing {args.cases} claims, each due {args.ahead:.0f} s after filing …", flush=True)
        seen = (timezone.now() - timedelta(hours=1)).isoformat()
        for i in range(args.cases):
            case_create(
                actor=user,
                kind="claim",
                respondent=provider,
                title=f"Lag probe {i}",
                description="probe",
                outputs=[{"product": "VidGen", "url": f"https://vidgen.example/v/{i}", "seen_at": seen}],
            )
        deadline = time.monotonic() + args.ahead + 60
        marks = ClockMark.objects.filter(clock__kind=ClockKind.ACKNOWLEDGEMENT, threshold=100)
        while marks.count() < args.cases and time.monotonic() < deadline:
            time.sleep(0.5)
        lags = [(m.recorded_at - m.due_at).total_seconds() for m in marks]
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    print(f"breaches recorded: {len(lags)} of {args.cases}")
    if lags:
        print(
            f"lag due → recorded: p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )
        met = percentile(lags, 0.99) <= 1 and len(lags) == args.cases
        print(f"target p99 ≤ 1 s: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    Path(ROOT / "var").mkdir(exist_ok=True)
    main()
