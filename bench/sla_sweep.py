"""Time the SLA sweep: N running clocks, 10,000 of them due, until every breach is recorded.

    python bench/sla_sweep.py [--clocks 1000000] [--due 10000]

Uses BENCH_DATABASE_URL (default: the rightsdesk_bench database on local PostgreSQL); the
clocks are written with INSERT ... SELECT generate_series so that a million take seconds.
Target: the sweep records all 10,000 breaches in at most 2 s.
"""

import argparse
import time

from _setup import django_on_bench_database, fresh_bench_parties


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    django_on_bench_database()

    from django.db import connection
    from django.utils import timezone

    from claims.sla.clocks import clocks_sweep
    from claims.sla.models import Clock, ClockMark

    cases_needed = (args.clocks + 1) // 2  # an acknowledgement and a response clock per case
    print(f"preparing {args.clocks:,} running clocks on {cases_needed:,} cases …", flush=True)
    started = time.perf_counter()
    member, provider, user = fresh_bench_parties()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO claims_case (reference, kind, state, claimant_id, respondent_id, filed_by_id, title,
                description, legal_basis, remedies, priority, resume_state, dispute_count, close_outcome,
                close_note, created_at, submitted_at, updated_at)
            SELECT 'CL-2026-' || lpad(g::text, 7, '0'), 'claim', 'submitted', %s, %s, %s, 'Bench case ' || g,
                'A generated video resembling our work.', 'reproduction', '[]', 'normal', '', 0, '', '',
                %s, %s, %s
            FROM generate_series(1, %s) AS g
            """,
            [member.pk, provider.pk, user.pk, now, now, now, cases_needed],
        )
        # Every clock running, its next threshold weeks ahead; --due of them started long enough
        # ago that their breach (100 %) is due now.
        cursor.execute(
            """
            INSERT INTO claims_clock (case_id, kind, status, target, basis, thresholds, escalate_on_breach,
                started_at, segment_started_at, consumed, due_at, next_threshold, next_threshold_at, version,
                judged_insincere)
            SELECT c.id, k.kind, 'running', interval '7 days', 'calendar', '[]', false,
                %(now)s, %(now)s, interval '0', %(now)s + interval '7 days', 100,
                %(now)s + interval '7 days', 1, false
            FROM claims_case c CROSS JOIN (VALUES ('acknowledgement'), ('response')) AS k(kind)
            ORDER BY c.id, k.kind
            LIMIT %(clocks)s
            """,
            {"now": now, "clocks": args.clocks},
        )
        cursor.execute(
            """
            UPDATE claims_clock SET started_at = %(past)s, segment_started_at = %(past)s,
                due_at = %(due)s, next_threshold_at = %(due)s
            WHERE id IN (SELECT id FROM claims_clock ORDER BY random() LIMIT %(due_n)s)
            """,
            {
                "past": now - timezone.timedelta(days=8),
                "due": now - timezone.timedelta(days=1),
                "due_n": args.due,
            },
        )
        cursor.execute("ANALYZE claims_clock; ANALYZE claims_case; ANALYZE claims_caseevent")
    print(f"prepared in {time.perf_counter() - started:.1f} s: {Clock.objects.count():,} clocks", flush=True)

    started, cpu_started = time.perf_counter(), time.process_time()
    recorded = clocks_sweep(now=timezone.now())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    marks = ClockMark.objects.filter(threshold=100).count()
    print(f"sweep recorded {recorded:,} breaches ({marks:,} marks in the database) in {elapsed:.3f} s")
    print(f"  of which {cpu:.3f} s Python CPU in this process; the rest is waiting on PostgreSQL")
    print(f"target ≤ 2 s for 10,000: {'met' if elapsed <= 2 and marks == args.due else 'NOT met'}")
    second = time.perf_counter()
    again = clocks_sweep(now=timezone.now())
    print(f"a second sweep right after recorded {again} more in {time.perf_counter() - second:.3f} s")


if __name__ == "__main__":
    main()
