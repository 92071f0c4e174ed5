"""File claims over the REST API against gunicorn on PostgreSQL, and print PostgreSQL's own ceiling.

    python bench/api_filing.py [--seconds 20] [--rate 300] [--batch 1,10] [--clients 4]
                               [--workers 3] [--threads 1] [--worker-class gthread]

Starts gunicorn (config.wsgi) on a free loopback port with the bench database
(BENCH_DATABASE_URL, default rightsdesk_bench), issues an API token for a member's legal staff,
and runs --clients concurrent clients (threads spread over --client-processes processes, each
with its own keep-alive connection) that POST claims with three outputs each for --seconds
after a short warm-up, once for each --batch size: 1 is POST /api/v1/cases/, N > 1 files N
claims per request through POST /api/v1/cases/bulk/. The throughput counts claims answered
201 within the window; the latencies are those of whole requests.

--rate offers that many claims per second on a fixed schedule (open loop): a latency runs from
the time its request was due, so a server that cannot keep up shows it as latencies growing
by the second, not as clients politely waiting. --rate 0 sends each client's next request as
soon as the last is answered (closed loop): the server's ceiling, at whatever latency it costs.

Prints claims/s, p50/p95/p99 latency and the CPU time per claim of the server, PostgreSQL and
the clients, then pgbench's insert rate on the same server (a scratch database, pgbench -i,
then custom insert scripts) as the ceiling. Figures are printed, never asserted. Target:
>= 300 claims/s sustained at p95 <= 50 ms.

The clients share the machine's cores with the server: on 2 cores, every millisecond a client
spends building a request is a millisecond the server does not have.
The per-token throttle is raised for the run (the benchmark measures filing, not the limit);
its counters live in Redis, as in production.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _setup import ROOT, django_on_bench_database, fresh_bench_parties, percentile

WARM_UP_SECONDS = 2.0
SINGLE_PATH = "/api/v1/cases/"
BULK_PATH = "/api/v1/cases/bulk/"
PGBENCH_SECONDS = 5
CACHE_URL = "redis://127.0.0.1:6379/14"
# One claim's rows in one transaction, roughly as the filing service writes them: the case, three
# outputs, two events, two clocks and a notification; the ceiling for claims, not for single rows.
CLAIM_SHAPED_SCRIPT = (
    "\\set aid random(1, 100000)\n"
    "BEGIN;\n"
    + "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, 1, now());\n"
    * 9
    + "UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1;\n"
    "END;\n"
)
SINGLE_INSERT_SCRIPT = (
    "\\set aid random(1, 100000)\n"
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, 1, now());\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def claim_body(respondent: str, serial: str) -> bytes:
    seen_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return json.dumps(
        {
            "kind": "claim",
            "respondent": respondent,
            "title": f"Bench claim {serial}",
            "description": "Generated videos showing our character.",
            "legal_basis": "character_likeness",
            "remedies": ["remove_output"],
            "outputs": [
                {"product": "VidGen", "url": f"https://vidgen.example/v/{serial}-{i}", "seen_at": seen_at}
                for i in range(3)
            ],
        }
    ).encode()


def batch_body(respondent: str, serial: str, size: int) -> bytes:
    claims = [json.loads(claim_body(respondent, f"{serial}-{n}")) for n in range(size)]
    return json.dumps({"cases": claims}).encode()


def client_process(
    base_url, token, respondent, threads, first_client, start_at, stop_at, results, batch, pace
):
    """Run ``threads`` clients until ``stop_at``; report latencies, errors and requests answered.

    Each client keeps one HTTP/1.1 connection open and speaks it with the standard library's
    http.client: a heavier client (httpx costs about a millisecond a request) would take CPU the
    server shares on this machine. ``pace`` is (interval, stagger): with an interval > 0 a client
    sends on a fixed schedule, one request every interval seconds, client n starting n × stagger
    seconds after the first, and a latency runs from the time the request was due,
    so a server that falls behind shows it in the latencies (no coordinated omission); with 0
    it sends the next request as soon as the last is answered.
    """
    host, port = base_url.removeprefix("http://").split(":")
    interval, stagger = pace
    latencies, errors, lock = [], {}, threading.Lock()
    completed = [0]  # requests answered 201 within the measured window

    def run(client):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        serial = 0
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        due = start_at - WARM_UP_SECONDS + stagger * client  # paced clients start spread out
        while True:
            if interval:
                due += interval
                time.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            if due >= stop_at:
                break
            serial += 1
            if batch > 1:
                body, path = batch_body(respondent, f"{client}-{serial}", batch), BULK_PATH
            else:
                body, path = claim_body(respondent, f"{client}-{serial}"), SINGLE_PATH
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                outcome = response.status
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            ended = time.perf_counter()
            with lock:
                if outcome == 201 and start_at <= ended < stop_at:
                    completed[0] += 1
                if due < start_at:
                    continue  # warm-up
                if outcome == 201:
                    latencies.append(ended - due)
                else:
                    errors[str(outcome)] = errors.get(str(outcome), 0) + 1
        connection.close()

    pool = [threading.Thread(target=run, args=(first_client + i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((latencies, errors, completed[0]))


def cpu_times(pids) -> dict[int, float]:
    """Return the CPU seconds (user + system) each live process of ``pids`` has used so far."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings (a process that ended in between is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def processes_of(predicate) -> list[int]:
    """Return the pids whose /proc/<pid>/stat line satisfies ``predicate``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if predicate(handle.read()):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def process_group(pgid: int) -> list[int]:
    return processes_of(lambda stat: int(stat.rsplit(")", 1)[1].split()[2]) == pgid)


def postgres_processes() -> list[int]:
    return processes_of(lambda stat: "(postgres)" in stat or "(postmaster)" in stat)


def prepare_data():
    """Empty the case tables, make sure the member, provider and user exist, and issue a token."""

    from members.tokens import api_token_issue

    member, provider, user = fresh_bench_parties()
    _token, plaintext = api_token_issue(actor=None, user=user, name="api_filing bench")
    return provider.slug, plaintext


def start_gunicorn(args, database_url, port):
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        API_THROTTLE_RATE="1000000/min",
        CACHE_URL=CACHE_URL,
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE=str(args.conn_max_age),
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-w",
        str(args.workers),
        *(["-k", args.worker_class] if args.worker_class else []),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--keep-alive",
        "30",
    ]
    print("server:", " ".join(command[2:]), f"(DB_CONN_MAX_AGE={args.conn_max_age})", flush=True)
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            # The login page answers without a token (an API path would log a 401 warning).
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login/")
            if connection.getresponse().status == 200:
                return server
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_clients(args, base_url, token, respondent, batch, server_pgid):
    """File for args.seconds after a warm-up; return latencies, errors, elapsed and CPU seconds by party."""
    processes = max(1, min(args.client_processes, args.clients))
    per_process = [
        args.clients // processes + (1 if i < args.clients % processes else 0) for i in range(processes)
    ]
    # --rate claims/s over all clients: each sends a request of `batch` claims every `interval` s.
    interval = args.clients * batch / args.rate if args.rate else 0.0
    pace = (interval, interval / args.clients)
    results = multiprocessing.Queue()
    start_at = time.perf_counter() + 0.5 + WARM_UP_SECONDS
    stop_at = start_at + args.seconds
    workers = [
        multiprocessing.Process(
            target=client_process,
            args=(
                base_url,
                token,
                respondent,
                threads,
                sum(per_process[:index]),
                start_at,
                stop_at,
                results,
                batch,
                pace,
            ),
        )
        for index, threads in enumerate(per_process)
        if threads
    ]
    for worker in workers:
        worker.start()
    parties = {
        "server": lambda: process_group(server_pgid),
        "PostgreSQL": postgres_processes,
        "clients": lambda: [worker.pid for worker in workers],
    }
    time.sleep(max(0.0, start_at - time.perf_counter()))
    before = {name: cpu_times(find()) for name, find in parties.items()}
    time.sleep(max(0.0, stop_at - time.perf_counter()))
    # Read the parties again: a PostgreSQL backend may have started since (a new connection).
    cpu = {name: cpu_used(before[name], cpu_times(find())) for name, find in parties.items()}
    latencies, errors, completed = [], {}, 0
    for _ in workers:
        some_latencies, some_errors, their_completed = results.get()
        latencies += some_latencies
        completed += their_completed
        for key, count in some_errors.items():
            errors[key] = errors.get(key, 0) + count
    for worker in workers:
        worker.join()
    return latencies, errors, completed, cpu


def report(args, batch, latencies, errors, completed, cpu) -> None:
    """Print what one run measured: throughput from the requests answered within the window."""
    requests = completed
    filed = requests * batch
    endpoint = f"POST {BULK_PATH} ({batch} claims each)" if batch > 1 else f"POST {SINGLE_PATH}"
    offered = f"offered {args.rate:g} claims/s on a fixed schedule" if args.rate else "as fast as answered"
    print(f"endpoint: {endpoint}, {offered}")
    print(
        f"claims filed in the {args.seconds:g} s: {filed:,} (3 outputs each) in {requests:,} requests; "
        f"errors: {errors or 'none'}"
    )
    print(f"throughput: {filed / args.seconds:.1f} claims/s ({requests / args.seconds:.1f} requests/s)")
    if not latencies:
        return
    p50, p95, p99 = (percentile(latencies, share) * 1000 for share in (0.50, 0.95, 0.99))
    longest = max(latencies) * 1000
    print(f"request latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {longest:.1f} ms")
    shares = ", ".join(f"{name} {seconds / filed * 1000:.2f} ms" for name, seconds in cpu.items())
    busy = sum(cpu.values()) / args.seconds
    print(f"CPU per claim: {shares} (the machine's cores were {busy:.2f} busy of {os.cpu_count()})")
    # Sustained: answered within the window, one request of slack for the one the window's end cut.
    met = filed + batch >= 300 * args.seconds and p95 <= 50
    print(f"target >= 300 claims/s at p95 <= 50 ms: {'met' if met else 'NOT met'}", flush=True)


def pgbench_rate(database_url, script: str, clients: int) -> float | None:
    """Return pgbench's transactions per second for ``script`` on a scratch database, or None."""
    base = database_url.rsplit("/", 1)[0]
    host_args = ["-h", "127.0.0.1", "-U", "postgres"]
    scratch = "rightsdesk_bench_pgbench"
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(["pgbench", *host_args, "-i", "-q", scratch], check=True, capture_output=True)
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
            handle.write(script)
        run = subprocess.run(
            [
                "pgbench",
                *host_args,
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(PGBENCH_SECONDS),
                "-f",
                handle.name,
                scratch,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        Path(handle.name).unlink()
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    return float(match.group(1)) if match else None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="claims/s offered on a fixed schedule over all clients (default 300; 0: as fast as answered)",
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--client-processes", type=int, default=2, help="processes the client threads share")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-class",
        default="gthread",
        help="gunicorn worker class (default gthread, which keeps connections alive; sync does not)",
    )
    parser.add_argument(
        "--conn-max-age", type=int, default=600, help="DB_CONN_MAX_AGE for the server (outlasting the run)"
    )
    parser.add_argument(
        "--batch",
        type=lambda text: [int(size) for size in text.split(",")],
        default=[1, 10],
        help="claims per request, one run each (> 1: the bulk endpoint); default 1,10",
    )
    parser.add_argument("--skip-pgbench", action="store_true")
    args = parser.parse_args()

    database_url = django_on_bench_database()
    from config.celery import app

    respondent, token = prepare_data()
    app.control.purge()  # the filing queues the notification dispatcher; no worker runs here
    port = free_port()
    server = start_gunicorn(args, database_url, port)
    try:
        for batch in args.batch:
            print(
                f"\nfiling for {args.seconds:g} s with {args.clients} clients in {args.client_processes} "
                f"processes, {batch} claim(s) per request, after {WARM_UP_SECONDS:g} s of warm-up …",
                flush=True,
            )
            latencies, errors, completed, cpu = run_clients(
                args, f"http://127.0.0.1:{port}", token, respondent, batch, server.pid
            )
            report(args, batch, latencies, errors, completed, cpu)
    finally:
        stop(server)
        app.control.purge()

    if not args.skip_pgbench:
        print(f"PostgreSQL ceiling (pgbench, {args.clients} clients, {PGBENCH_SECONDS} s each):", flush=True)
        single = pgbench_rate(database_url, SINGLE_INSERT_SCRIPT, args.clients)
        shaped = pgbench_rate(database_url, CLAIM_SHAPED_SCRIPT, args.clients)
        print(f"  one-row insert transactions: {single:,.0f}/s")
        print(f"  claim-shaped transactions (9 inserts + 1 update): {shaped:,.0f}/s")


if __name__ == "__main__":
    main()
