"""Time the dashboards at a million cases: roll-up refresh, every page and every export.

    python bench/dashboard.py [--cases 1000000] [--requests 30] [--skip-load]

Uses its own database (BENCH_DATABASE_URL, default rightsdesk_bench_dashboards on local
PostgreSQL, created and migrated if missing). Generates --cases cases over the last 24 months
between 36 members and 5 providers, with their SLA clocks (about 3 per case) and timeline
events (about 5 per case), streamed with COPY (psycopg 3) in chunks behind a progress bar.
Then it builds the roll-up from scratch (timed), times an incremental refresh after a burst of
activity, and times each dashboard page and each table's CSV and XLSX export through Django's
test client (in process: no network, the full view, template and middleware stack), printing
p50/p95 over --requests requests each. Target: p95 <= 150 ms for each dashboard page.

The data is synthetic but shaped like the product's: a case's events follow the state machine
(submit, acknowledge or request/provide information, respond, accept or dispute, breaches with
escalation and closing), its clocks agree with its events (met, met late, stopped, paused,
running), and a small share of responses are judged insincere. What is fake: the timeline's
hashes are well-formed SHA-256 chains over "case:seq", not over the canonical event content
(``verify_timelines`` would reject them), and a clock's business time is approximated as 45/168
of its calendar time instead of walking the holiday calendar.
"""

import argparse
import hashlib
import math
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rightsdesk_bench_dashboards")

from _setup import django_on_bench_database, percentile  # noqa: E402

MEMBERS = 36
PROVIDERS = 5
MONTHS = 24
CHUNK = 10_000
MINUTE = 60
HOUR = 60  # in minutes
DAY = 24 * HOUR
BUSINESS_SHARE = 45 / 168  # 9 hours a day, 5 days a week
ACK_TARGET_CALENDAR = round(18 * HOUR / BUSINESS_SHARE)  # 18 business hours ≈ 67 calendar hours
RESPONSE_TARGET = 7 * DAY
RE_RESPONSE_TARGET_CALENDAR = round(45 * HOUR / BUSINESS_SHARE)
GENESIS = "0" * 64


class Clocks:
    """Collect the clock rows of one case (times in minutes since the epoch)."""

    def __init__(self):
        self.rows = []

    def add(
        self,
        kind,
        target,
        basis,
        start,
        *,
        end=None,
        met=False,
        breached=None,
        paused=0,
        insincere=False,
        paused_at=None,
    ):
        status = "met" if met else "stopped" if end is not None else ("paused" if paused_at else "running")
        calendar = (end - start - paused) if met else None
        self.rows.append(
            (kind, status, target, basis, start, end, breached, paused_at, insincere, calendar, paused)
        )


def simulate(rng: random.Random, submitted: int, now: int, no_escalation: bool):
    """Return (events, clocks, final state, closed_at) of one case: events are (minute, action, from, to)."""
    events = [(submitted, "submit", "draft", "submitted")]
    clocks = Clocks()
    state = "submitted"

    def step(at, action, to=None):
        nonlocal state
        if at > now:
            return False
        events.append((at, action, state if to else "", to or ""))
        if to:
            state = to
        return True

    def close_after_escalation(at):
        step(at + int(rng.expovariate(1 / (10 * DAY))), "close", "resolved")

    ack_delay = int(rng.lognormvariate(math.log(5 * HOUR), 1.1))
    asks = rng.random() < 0.06
    withdraw_at = submitted + int(rng.expovariate(1 / (3 * DAY))) if rng.random() < 0.02 else None
    ack_due = submitted + ACK_TARGET_CALENDAR
    if withdraw_at and withdraw_at < submitted + ack_delay and withdraw_at <= now:
        step(withdraw_at, "withdraw", "withdrawn")
        clocks.add("acknowledgement", "18 hours", "business", submitted, end=withdraw_at)
        clocks.add("response", "7 days", "calendar", submitted, end=withdraw_at)
        return events, clocks, state, withdraw_at
    ack_at = submitted + ack_delay
    if ack_delay > ACK_TARGET_CALENDAR and not no_escalation:
        if ack_due > now:  # still running, not yet due
            clocks.add("acknowledgement", "18 hours", "business", submitted)
            clocks.add("response", "7 days", "calendar", submitted)
            return events, clocks, state, None
        step(ack_due, "sla_breached")
        step(ack_due, "escalate", "escalated")
        clocks.add("acknowledgement", "18 hours", "business", submitted, end=ack_due, breached=ack_due)
        clocks.add("response", "7 days", "calendar", submitted, end=ack_due)
        close_after_escalation(ack_due)
        return events, clocks, state, events[-1][0] if state == "resolved" else None
    if ack_at > now:
        clocks.add("acknowledgement", "18 hours", "business", submitted)
        clocks.add("response", "7 days", "calendar", submitted)
        return events, clocks, state, None
    if ack_delay > ACK_TARGET_CALENDAR:
        step(ack_due, "sla_breached")
    if ack_delay > ACK_TARGET_CALENDAR // 2:
        events.insert(1, (submitted + ACK_TARGET_CALENDAR // 2, "sla_warning", "", ""))
    step(ack_at, "acknowledge", "acknowledged")
    clocks.add(
        "acknowledgement",
        "18 hours",
        "business",
        submitted,
        end=ack_at,
        met=True,
        breached=ack_due if ack_delay > ACK_TARGET_CALENDAR else None,
    )
    paused = 0
    if asks:
        step(ack_at, "request_info", "info_requested")
        paused = int(rng.lognormvariate(math.log(2 * DAY), 0.8))
        if ack_at + paused > now:
            clocks.add("response", "7 days", "calendar", submitted, paused_at=ack_at)
            return events, clocks, state, None
        step(ack_at + paused, "provide_info", "acknowledged")
    running = max(ack_delay + 1, int(rng.lognormvariate(math.log(2.5 * DAY), 0.7)))
    due = submitted + RESPONSE_TARGET + paused
    respond_at = submitted + running + paused
    late = running > RESPONSE_TARGET
    if late and not no_escalation:
        if due > now:
            clocks.add("response", "7 days", "calendar", submitted, paused=paused)
            return events, clocks, state, None
        step(due, "sla_breached")
        step(due, "escalate", "escalated")
        clocks.add("response", "7 days", "calendar", submitted, end=due, breached=due, paused=paused)
        close_after_escalation(due)
        return events, clocks, state, events[-1][0] if state == "resolved" else None
    if respond_at > now:
        clocks.add("response", "7 days", "calendar", submitted, paused=paused)
        return events, clocks, state, None
    if late:
        step(due, "sla_breached")
    step(respond_at, "respond", "responded")
    insincere = rng.random() < 0.03
    clocks.add(
        "response",
        "7 days",
        "calendar",
        submitted,
        end=respond_at,
        met=True,
        breached=due if late else None,
        paused=paused,
        insincere=insincere,
    )
    roll = rng.random()
    if roll < 0.8:
        at = respond_at + int(rng.expovariate(1 / DAY))
        if step(at, "accept", "resolved"):
            clocks.add("claimant_review", "14 days", "calendar", respond_at, end=at, met=True)
            return events, clocks, state, at
        clocks.add("claimant_review", "14 days", "calendar", respond_at)
        return events, clocks, state, None
    if roll < 0.9:
        at = respond_at + int(rng.expovariate(1 / (2 * DAY)))
        if not step(at, "dispute", "disputed"):
            clocks.add("claimant_review", "14 days", "calendar", respond_at)
            return events, clocks, state, None
        clocks.add("claimant_review", "14 days", "calendar", respond_at, end=at, met=True)
        if insincere:
            step(at + DAY, "adjudicate")
        again = at + int(rng.lognormvariate(math.log(2 * DAY), 0.6))
        if not step(again, "respond", "responded"):
            clocks.add("re_response", "45 hours", "business", at)
            return events, clocks, state, None
        clocks.add(
            "re_response",
            "45 hours",
            "business",
            at,
            end=again,
            met=True,
            breached=at + RE_RESPONSE_TARGET_CALENDAR if again - at > RE_RESPONSE_TARGET_CALENDAR else None,
        )
        final = again + int(rng.expovariate(1 / DAY))
        if step(final, "accept", "resolved"):
            clocks.add("claimant_review", "14 days", "calendar", again, end=final, met=True)
            return events, clocks, state, final
        clocks.add("claimant_review", "14 days", "calendar", again)
        return events, clocks, state, None
    default_at = respond_at + 30 * DAY
    step(respond_at + 14 * DAY, "sla_reminder")
    if step(default_at, "accept_by_default", "resolved"):
        clocks.add("claimant_review", "14 days", "calendar", respond_at, end=default_at)
        return events, clocks, state, default_at
    clocks.add("claimant_review", "14 days", "calendar", respond_at)
    return events, clocks, state, None


class Stamps:
    """Text of a moment (minutes since the epoch) for COPY, memoised: cases share far fewer minutes."""

    def __init__(self):
        self.cache = {}

    def __call__(self, minute):
        if minute is None:
            return "\\N"
        text = self.cache.get(minute)
        if text is None:
            text = datetime.fromtimestamp(minute * MINUTE, UTC).isoformat()
            self.cache[minute] = text
        return text


def _interval(minutes):
    return "\\N" if minutes is None else f"{minutes} minutes"


def load(args, connection):
    from members.models import Organisation, Role, User

    print(f"generating {args.cases:,} cases over {MONTHS} months …", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE claims_case, claims_referencecounter, claims_dashboardrollup, claims_dashboardrefresh "
            "RESTART IDENTITY CASCADE"
        )
    members, providers, filers = [], [], []
    for i in range(MEMBERS):
        org, _ = Organisation.objects.get_or_create(
            slug=f"bench-member-{i:02d}",
            defaults={"kind": "member", "name_ja": f"ベンチ会員{i:02d}", "name_en": f"Bench member {i:02d}"},
        )
        members.append(org)
        user = User.objects.filter(email=f"legal{i:02d}@bench.test").first() or User.objects.create_user(
            f"legal{i:02d}@bench.test", None, organisation=org, role=Role.MEMBER_LEGAL
        )
        filers.append(user.pk)
    for i in range(PROVIDERS):
        org, _ = Organisation.objects.get_or_create(
            slug=f"bench-provider-{i}",
            defaults={"kind": "provider", "name_ja": f"ベンチAI{i}", "name_en": f"Bench provider {i}"},
        )
        providers.append(org)
    association, _ = Organisation.objects.get_or_create(
        slug="bench-association",
        defaults={"kind": "association", "name_ja": "ベンチ協会", "name_en": "Bench association"},
    )
    users = {
        "analyst": ("analyst@bench.test", association, Role.ASSOCIATION_ANALYST),
        "member": ("member@bench.test", members[0], Role.MEMBER_LEGAL),
        "provider": ("agent@bench.test", providers[0], Role.PROVIDER_AGENT),
    }
    for email, org, role in users.values():
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(email, None, organisation=org, role=role)
    agents = []
    for org in providers:
        user = User.objects.filter(organisation=org).first()
        agents.append(user.pk if user else None)
    analyst_id = User.objects.get(email="analyst@bench.test").pk

    rng = random.Random(20261125)
    now = int(time.time() // MINUTE)
    first = now - MONTHS * 30 * DAY
    member_weights = [1 / (i + 1) ** 0.7 for i in range(MEMBERS)]
    provider_weights = [0.35, 0.25, 0.2, 0.12, 0.08]
    stamp = Stamps()
    case_ids = iter(range(1, args.cases + 1))
    event_id = 0
    clock_id = 0
    totals = {"cases": 0, "clocks": 0, "events": 0}

    from tqdm import tqdm

    raw = connection.connection  # psycopg 3
    with raw.cursor() as cursor:
        # Foreign keys and their triggers are trusted for the load (the rows are built consistent).
        cursor.execute("SET session_replication_role = replica")
        bar = tqdm(total=args.cases, unit="case", unit_scale=True, smoothing=0.05)
        for chunk_start in range(0, args.cases, CHUNK):
            size = min(CHUNK, args.cases - chunk_start)
            case_lines, clock_lines, event_lines = [], [], []
            for _ in range(size):
                case_id = next(case_ids)
                submitted = first + int((case_id / args.cases) * (now - first - HOUR)) + rng.randrange(60)
                member = rng.choices(range(MEMBERS), member_weights)[0]
                provider = rng.choices(range(PROVIDERS), provider_weights)[0]
                kind = "claim" if rng.random() < 0.85 else "inquiry"
                priority = rng.choices(("low", "normal", "high", "urgent"), (10, 60, 25, 5))[0]
                events, clocks, state, closed = simulate(rng, submitted, now, no_escalation=provider == 4)
                events.sort(key=lambda e: e[0])
                year = datetime.fromtimestamp(submitted * MINUTE, UTC).year
                prefix = "CL" if kind == "claim" else "IQ"
                case_lines.append(
                    f"{case_id}\t{prefix}-{year}-{case_id:07d}\t{kind}\t{state}\t{members[member].pk}\t"
                    f"{providers[provider].pk}\t{filers[member]}\tBench case {case_id}\t"
                    f"A generated output resembling our work.\tcharacter_likeness\t"
                    f'["remove_output"]\t{priority}\t\t{sum(1 for e in events if e[1] == "dispute")}\t\t\t'
                    f"{stamp(submitted)}\t{stamp(submitted)}\t{stamp(closed)}\t{stamp(events[-1][0])}\n"
                )
                prev = GENESIS
                for seq, (at, action, from_state, to_state) in enumerate(events, start=1):
                    event_id += 1
                    digest = hashlib.sha256(f"{case_id}:{seq}".encode()).hexdigest()
                    if action in ("submit", "withdraw", "accept", "dispute"):
                        actor = filers[member]
                    elif action in ("acknowledge", "respond", "request_info"):
                        actor = agents[provider] or "\\N"
                    elif action in ("close", "adjudicate"):
                        actor = analyst_id
                    else:
                        actor = "\\N"
                    if action == "provide_info":
                        actor = filers[member]
                    event_lines.append(
                        f"{event_id}\t{case_id}\t{seq}\t{actor}\t{action}\t{from_state}\t{to_state}\t{{}}\t"
                        f"{stamp(at)}\t{prev}\t{digest}\n"
                    )
                    prev = digest
                for (
                    kind_,
                    status,
                    target,
                    basis,
                    start,
                    end,
                    breached,
                    paused_at,
                    insincere,
                    calendar,
                    paused,
                ) in clocks.rows:
                    clock_id += 1
                    running = status == "running"
                    if basis == "business":
                        due = start + (
                            ACK_TARGET_CALENDAR if kind_ == "acknowledgement" else RE_RESPONSE_TARGET_CALENDAR
                        )
                    else:
                        due = start + (RESPONSE_TARGET if kind_ == "response" else 14 * DAY) + paused
                    consumed = (end or now) - start - paused
                    if basis == "business":
                        consumed = int(consumed * BUSINESS_SHARE)
                    business = None if calendar is None else int(calendar * BUSINESS_SHARE)
                    clock_lines.append(
                        f"{clock_id}\t{case_id}\t{kind_}\t{status}\t{target}\t{basis}\t[50, 80]\t"
                        f"{'t' if kind_ != 'claimant_review' else 'f'}\t"
                        f"{'30 days' if kind_ == 'claimant_review' else chr(92) + 'N'}\t{stamp(start)}\t"
                        f"{stamp(start) if running else chr(92) + 'N'}\t{_interval(max(consumed, 0))}\t"
                        f"{stamp(paused_at)}\t{stamp(due)}\t"
                        f"{'100' if running else chr(92) + 'N'}\t{stamp(due) if running else chr(92) + 'N'}\t"
                        f"{stamp(breached)}\t{stamp(end)}\t1\t{'t' if insincere else 'f'}\t"
                        f"{_interval(calendar)}\t{_interval(business)}\n"
                    )
            with cursor.copy(f"COPY claims_case ({CASE_COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(case_lines))
            with cursor.copy(f"COPY claims_caseevent ({EVENT_COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(event_lines))
            with cursor.copy(f"COPY claims_clock ({CLOCK_COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(clock_lines))
            raw.commit()
            totals["cases"] += size
            totals["clocks"] += len(clock_lines)
            totals["events"] += len(event_lines)
            bar.update(size)
        bar.close()
        cursor.execute("SET session_replication_role = DEFAULT")
        for table, column in (("claims_case", "id"), ("claims_caseevent", "id"), ("claims_clock", "id")):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max(id) FROM {table}))"
            )
        raw.commit()
    return totals


CASE_COLUMNS = (
    "id, reference, kind, state, claimant_id, respondent_id, filed_by_id, title, description, legal_basis, "
    "remedies, priority, resume_state, dispute_count, close_outcome, close_note, created_at, submitted_at, "
    "closed_at, updated_at"
)
EVENT_COLUMNS = "id, case_id, seq, actor_id, action, from_state, to_state, data, created_at, prev_hash, hash"
CLOCK_COLUMNS = (
    "id, case_id, kind, status, target, basis, thresholds, escalate_on_breach, auto_accept_after, "
    "started_at, segment_started_at, consumed, paused_at, due_at, next_threshold, next_threshold_at, "
    "breached_at, stopped_at, version, judged_insincere, elapsed_calendar, elapsed_business"
)


def timed(label, function, requests):
    """Call ``function`` (returning a response) ``requests`` times after a warm-up; print p50/p95 in ms."""
    for _ in range(3):
        response = function()
        assert response.status_code == 200, (label, response.status_code)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = function()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(f"  {label:<52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    return p95


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--skip-load", action="store_true", help="reuse the cases already in the bench database"
    )
    args = parser.parse_args()
    url = django_on_bench_database()

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from claims.dashboards.figures import TABLE_NAMES
    from claims.dashboards.rollup import rollups_refresh
    from members.models import Organisation, User

    print(f"bench database: {url.rsplit('@', 1)[-1]}")
    if not args.skip_load:
        started = time.perf_counter()
        totals = load(args, connection)
        elapsed = time.perf_counter() - started
        print(
            f"loaded {totals['cases']:,} cases, {totals['clocks']:,} clocks and {totals['events']:,} events "
            f"in {elapsed:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE claims_case; ANALYZE claims_clock; ANALYZE claims_caseevent")
        print(f"ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    result = rollups_refresh(full=True)
    print(
        f"full roll-up rebuild: {len(result.months)} months, {result.rows:,} rows in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    # A burst of activity on this month's cases (new events), then the incremental refresh.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO claims_caseevent
                (case_id, seq, action, from_state, to_state, data, created_at, prev_hash, hash)
            SELECT c.id, (SELECT max(seq) FROM claims_caseevent AS e WHERE e.case_id = c.id) + 1,
                'sla_warning', '', '', '{}', now(), repeat('0', 64), repeat('f', 64)
            FROM (SELECT id FROM claims_case ORDER BY id DESC LIMIT 1000) AS c
            """
        )
    rollups_refresh()  # moves the look-back watermark past the rebuild
    started = time.perf_counter()
    result = rollups_refresh()
    print(
        f"incremental refresh after 1,000 events on recent cases: "
        f"months {[f'{m:%Y-%m}' for m in result.months]}, {result.rows:,} rows "
        f"in {time.perf_counter() - started:.2f} s",
        flush=True,
    )
    started = time.perf_counter()
    result = rollups_refresh()
    print(f"incremental refresh with nothing new: {time.perf_counter() - started:.3f} s", flush=True)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    analyst = User.objects.get(email="analyst@bench.test")
    member_user = User.objects.get(email="member@bench.test")
    provider_user = User.objects.get(email="agent@bench.test")
    a_provider = Organisation.objects.get(slug="bench-provider-1")
    a_member = Organisation.objects.get(slug="bench-member-03")
    # Every page shows the default period: the last twelve months.
    pages = [
        ("association, unfiltered", analyst, {}),
        ("association, filtered by provider", analyst, {"provider": a_provider.pk}),
        ("association, filtered by member", analyst, {"member": a_member.pk}),
        (
            "association, by provider, member, kind, priority",
            analyst,
            {"provider": a_provider.pk, "member": a_member.pk, "kind": "claim", "priority": "normal"},
        ),
        ("member (its own cases)", member_user, {}),
        ("provider (its own cases)", provider_user, {}),
    ]
    print(f"dashboard pages, {args.requests} requests each (Django test client, in process):", flush=True)
    worst = 0.0
    for label, user, params in pages:
        client = Client()
        client.force_login(user)
        worst = max(worst, timed(label, lambda c=client, p=params: c.get("/dashboard/", p), args.requests))
        htmx = timed(
            label + " (htmx refresh)",
            lambda c=client, p=params: c.get("/dashboard/", p, headers={"HX-Request": "true"}),
            args.requests,
        )
        worst = max(worst, htmx)
    verdict = "met" if worst <= 150 else "NOT met"
    print(f"target p95 <= 150 ms for each page: {verdict} (worst p95 {worst:.1f} ms)")
    print("exports (association, unfiltered):", flush=True)
    client = Client()
    client.force_login(analyst)
    for name in TABLE_NAMES:
        for export_format in ("csv", "xlsx"):
            timed(
                f"{name}.{export_format}",
                lambda n=name, f=export_format: client.get("/dashboard/", {"export": f, "table": n}),
                args.requests,
            )
    load_average = os.getloadavg()[0]
    print(f"machine load average: {load_average:.2f} on {os.cpu_count()} cores (figures are noisy when busy)")


if __name__ == "__main__":
    sys.exit(main())
