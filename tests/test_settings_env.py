"""Settings come from the environment; with none set, the embedded default needs no services.

Each case loads the settings in a fresh interpreter, because they are read once at import.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every variable the settings read; all are cleared first so the developer's shell cannot leak in.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "EVIDENCE_MAX_BYTES",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "LANGUAGE_CODE",
    "AXES_ENABLED",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_HOURS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "BEHIND_TLS_PROXY",
    "SITE_URL",
    "LOG_LEVEL",
)
PRINT_SETTINGS = """
import json
import django
from django.conf import settings

django.setup()
print(json.dumps({
    "database": settings.DATABASES["default"],
    "broker": settings.CELERY_BROKER_URL,
    "broker_options": getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None),
    "result_backend": settings.CELERY_RESULT_BACKEND,
    "beat_schedule_file": settings.CELERY_BEAT_SCHEDULE_FILENAME,
    "secret_key": settings.SECRET_KEY,
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "csrf_trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
    "email_backend": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", None),
    "email_port": getattr(settings, "EMAIL_PORT", None),
    "email_use_tls": getattr(settings, "EMAIL_USE_TLS", None),
    "default_from_email": settings.DEFAULT_FROM_EMAIL,
    "evidence_max_bytes": settings.EVIDENCE_MAX_BYTES,
    "media_root": str(settings.MEDIA_ROOT),
    "static_root": str(settings.STATIC_ROOT),
    "language_code": settings.LANGUAGE_CODE,
    "axes_failure_limit": settings.AXES_FAILURE_LIMIT,
}, default=str))
"""


def load_settings(tmp_path, **variables) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", RIGHTSDESK_VAR_DIR=str(tmp_path / "var"))
    env.update(variables)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_come_from_the_environment(tmp_path):
    loaded = load_settings(
        tmp_path,
        DATABASE_URL="postgres://rightsdesk:s3cret@db.internal.example:5433/rightsdesk_prod",
        CELERY_BROKER_URL="redis://redis.internal.example:6380/2",
        CELERY_RESULT_BACKEND="redis://redis.internal.example:6380/3",
        SECRET_KEY="a-long-production-secret",
        DEBUG="false",
        ALLOWED_HOSTS="rightsdesk.example,www.rightsdesk.example",
        CSRF_TRUSTED_ORIGINS="https://rightsdesk.example",
        EMAIL_URL="smtp+tls://mailer:pw@smtp.example:587",
        DEFAULT_FROM_EMAIL="RightsDesk <desk@rightsdesk.example>",
        EVIDENCE_MAX_BYTES="2048",
        MEDIA_ROOT="/srv/rightsdesk/media",
        STATIC_ROOT="/srv/rightsdesk/static",
        LANGUAGE_CODE="en",
        AXES_FAILURE_LIMIT="3",
    )

    database = loaded["database"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal.example",
        5433,
        "rightsdesk_prod",
    )
    assert (database["USER"], database["PASSWORD"]) == ("rightsdesk", "s3cret")
    assert loaded["broker"] == "redis://redis.internal.example:6380/2"
    assert loaded["result_backend"] == "redis://redis.internal.example:6380/3"
    assert "data_folder_in" not in (loaded["broker_options"] or {})
    assert loaded["secret_key"] == "a-long-production-secret"
    assert loaded["debug"] is False
    assert loaded["allowed_hosts"] == ["rightsdesk.example", "www.rightsdesk.example"]
    assert loaded["csrf_trusted_origins"] == ["https://rightsdesk.example"]
    assert loaded["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (loaded["email_host"], loaded["email_port"], loaded["email_use_tls"]) == (
        "smtp.example",
        587,
        True,
    )
    assert loaded["default_from_email"] == "RightsDesk <desk@rightsdesk.example>"
    assert loaded["evidence_max_bytes"] == 2048
    assert loaded["media_root"] == "/srv/rightsdesk/media"
    assert loaded["static_root"] == "/srv/rightsdesk/static"
    assert loaded["language_code"] == "en"
    assert loaded["axes_failure_limit"] == 3


def test_without_environment_the_embedded_default_uses_sqlite_and_files_under_the_var_dir(tmp_path):
    loaded = load_settings(tmp_path)
    var = tmp_path / "var"

    database = loaded["database"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(var / "rightsdesk.sqlite3")
    # The web server and the worker share the file: neither may fail on a locked database.
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert "busy_timeout" in database["OPTIONS"]["init_command"]
    assert loaded["broker"].startswith("filesystem://")
    assert loaded["broker_options"]["data_folder_in"] == str(var / "broker" / "out")
    assert (var / "broker" / "out").is_dir()
    assert loaded["beat_schedule_file"] == str(var / "celerybeat-schedule")
    assert loaded["media_root"] == str(var / "media")
    assert loaded["static_root"] == str(var / "staticfiles")
    assert loaded["debug"] is False
    assert loaded["language_code"] == "ja"
    assert loaded["email_backend"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize("debug", ["true", "1", "on"])
def test_debug_is_switched_on_only_explicitly(tmp_path, debug):
    assert load_settings(tmp_path, DEBUG=debug)["debug"] is True
