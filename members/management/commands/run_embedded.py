"""Run RightsDesk on its embedded default: one command, no services to install.

Without DATABASE_URL and CELERY_BROKER_URL the settings already choose SQLite and a
file-system broker under ``var/`` (or RIGHTSDESK_VAR_DIR); with them set, this command uses
whatever they point at. It prepares the database (migrations, static files, stale
translations, demo data when there is no organisation yet), prints the demo logins and then
supervises two children, the development web server and a Celery worker with beat, until
Ctrl-C or SIGTERM. If either child dies the other is stopped and the command fails.
"""

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from members.models import Organisation

from .seed_demo import demo_logins_table

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to the child if this supervisor dies without cleaning up."""
    # Elsewhere there is no prctl: the supervisor's own shutdown still stops the children.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One supervised process, in its own process group, with its output prefixed."""

    def __init__(self, name: str, command: list[str], *, env: dict, cwd: Path, write_line, ready_marker: str):
        self.name = name
        self.command = command
        self.ready = threading.Event()
        self._write_line = write_line
        self._ready_marker = ready_marker
        # A new session keeps the terminal's Ctrl-C away from the children: the supervisor
        # alone decides how they stop, in order, so a worker is never hit twice.
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._reader = threading.Thread(target=self._relay, name=f"{name}-output", daemon=True)
        self._reader.start()

    def _relay(self):
        for line in self.process.stdout:
            self._write_line(f"{self.name:>6} | {line.rstrip()}")
            if self._ready_marker in line:
                self.ready.set()

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self):
        """Ask the child to stop (SIGTERM: a Celery worker finishes its current tasks)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> int:
        """Wait until the deadline, then kill; finally sweep up anything left in its group."""
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._write_line(f"{self.name:>6} | did not stop in time; killing it")
        # The worker's pool and beat processes share its process group: none may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        returncode = self.process.wait()
        self._reader.join(timeout=2)
        return returncode


class Command(BaseCommand):
    help = (
        "Prepare the database (migrate, static files, demo data when empty) and run the web server "
        "and a Celery worker with beat until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("RUN_PORT", "8000")),
            help="Port of the web server (default: RUN_PORT or 8000).",
        )
        parser.add_argument(
            "--host",
            default=os.environ.get("RUN_HOST", "127.0.0.1"),
            help="Address of the web server (default: RUN_HOST or 127.0.0.1).",
        )
        parser.add_argument(
            "--cases", type=int, default=200, help="Demo cases to create in an empty database (default 200)."
        )
        parser.add_argument("--no-demo", action="store_true", help="Never create demo data.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2).")
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=20.0,
            help="Seconds to wait for the children to stop before killing them (default 20).",
        )

    def handle(self, *args, **options):
        self._output_lock = threading.Lock()
        self._describe_backends()
        self._prepare(cases=options["cases"], seed=not options["no_demo"])
        self.stdout.write("")
        self.stdout.write(demo_logins_table())
        self.stdout.write("")
        self._supervise(
            host=options["host"],
            port=options["port"],
            concurrency=options["concurrency"],
            stop_timeout=options["stop_timeout"],
        )

    # --- Preparation ------------------------------------------------------------------------

    def _describe_backends(self):
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            self.stdout.write(f"Database: SQLite {database['NAME']} (set DATABASE_URL to use PostgreSQL)")
        else:
            self.stdout.write(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME')}")
        broker = settings.CELERY_BROKER_URL
        if broker.startswith("filesystem://"):
            self.stdout.write(
                f"Broker:   files in {settings.CELERY_BROKER_DIR} (set CELERY_BROKER_URL to use Redis)"
            )
        else:
            self.stdout.write(f"Broker:   {broker.split('://', 1)[0]}")

    def _prepare(self, *, cases: int, seed: bool):
        self.stdout.write("Applying migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._compile_stale_messages()
        if seed and not Organisation.objects.exists():
            self.stdout.write(f"Empty database: creating demo data ({cases} cases, about half a minute)…")
            try:
                call_command("seed_demo", cases=cases, no_logins=True)
            except KeyboardInterrupt:
                raise CommandError(
                    "Interrupted while creating the demo data, which is now incomplete. Delete "
                    f"{settings.VAR_DIR} (make clean-var) to start again.",
                    returncode=130,
                ) from None

    def _compile_stale_messages(self):
        """Compile .po files newer than their .mo; the repository normally ships both."""
        stale = []
        for locale_dir in settings.LOCALE_PATHS:
            for po_file in Path(locale_dir).rglob("*.po"):
                mo_file = po_file.with_suffix(".mo")
                if not mo_file.exists() or mo_file.stat().st_mtime < po_file.stat().st_mtime:
                    stale.append(po_file)
        if not stale:
            return
        if shutil.which("msgfmt") is None:
            self.stderr.write(
                f"{len(stale)} translation file(s) changed but msgfmt (gettext) is not installed; "
                "the previously compiled translations are used."
            )
            return
        call_command("compilemessages", ignore_patterns=[".venv", "var", "node_modules"], verbosity=0)

    # --- Supervision ------------------------------------------------------------------------

    def _write_line(self, line: str):
        with self._output_lock:
            self.stdout.write(line)
            self.stdout.flush()

    def _supervise(self, *, host: str, port: int, concurrency: int, stop_timeout: float):
        stop_requested = threading.Event()

        def request_stop(signum, frame):
            stop_requested.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        env = dict(os.environ, PYTHONUNBUFFERED="1", RIGHTSDESK_VAR_DIR=str(settings.VAR_DIR))
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env.setdefault("SITE_URL", f"http://{host}:{port}")  # links in the emails the worker prints
        base_dir = Path(settings.BASE_DIR)
        children = [
            Child(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "--loglevel",
                    "info",
                    "--concurrency",
                    str(concurrency),
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                    "--hostname",
                    f"embedded-{port}@%h",
                ],
                env=env,
                cwd=base_dir,
                write_line=self._write_line,
                ready_marker=" ready.",
            ),
            Child(
                "web",
                [sys.executable, str(base_dir / "manage.py"), "runserver", f"{host}:{port}", "--noreload"],
                env=env,
                cwd=base_dir,
                write_line=self._write_line,
                ready_marker="Starting development server",
            ),
        ]
        announced = False
        failed: Child | None = None
        while not stop_requested.wait(0.3):
            failed = next((child for child in children if child.poll() is not None), None)
            if failed is not None:
                break
            if not announced and all(child.ready.is_set() for child in children):
                announced = True
                url = f"http://{host}:{port}/"
                self._write_line(self.style.SUCCESS(f"RightsDesk is running on {url}; the worker is ready."))
                self._write_line("Press Ctrl-C to stop both.")
        if failed is not None:
            self._write_line(
                self.style.ERROR(
                    f"The {failed.name} process exited (code {failed.poll()}); stopping the others."
                )
            )
        else:
            self._write_line("Stopping…")
        # The web server first, so no new work arrives while the worker finishes its tasks.
        for child in reversed(children):
            child.terminate()
        deadline = time.monotonic() + stop_timeout
        for child in reversed(children):
            child.wait_or_kill(deadline)
        if failed is not None:
            raise CommandError(f"The {failed.name} process stopped unexpectedly.", returncode=1)
        self._write_line("Stopped.")
