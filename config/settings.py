"""RightsDesk settings: every value comes from the environment.

With no environment at all the project runs on its embedded default: SQLite in
``var/`` and a file-system Celery broker, so ``make run`` needs no services.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and friends.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("RIGHTSDESK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "[::1]"]),
)

DEBUG = env("DEBUG")
SECRET_KEY = env.str("SECRET_KEY", default="insecure-embedded-default-change-me-in-production")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_htmx",
    "axes",
    "members",
    "claims",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "members.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "members.idempotency.IdempotencyMiddleware",
    "members.throttling.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_count",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rightsdesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker share one file: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock at BEGIN (so no transaction fails half-way on
    # an upgrade) and busy_timeout makes a second writer wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "claims:home"  # a provider lands on its due-next queue
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"

# --- I18n / time ----------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ja")
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # evidence is served only through the permission-checked view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE", default="django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=100 * 1024 * 1024)
# Two pictures (or video frames) whose 64-bit perceptual hashes differ in at most this many bits
# show the same output: the cases holding them are linked (claims/integrity, 0-16).
EVIDENCE_NEAR_DUPLICATE_BITS = env.int("EVIDENCE_NEAR_DUPLICATE_BITS", default=8)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
BULK_FILING_MAX_ROWS = env.int("BULK_FILING_MAX_ROWS", default=5000)
# POST /api/v1/cases/bulk/ takes at most this many filings per request.
API_BULK_FILING_MAX_CASES = env.int("API_BULK_FILING_MAX_CASES", default=100)
# The public transparency summary withholds any figure resting on fewer cases than this.
TRANSPARENCY_MIN_CELL = max(1, env.int("TRANSPARENCY_MIN_CELL", default=5))
TRANSPARENCY_CACHE_SECONDS = env.int("TRANSPARENCY_CACHE_SECONDS", default=900)

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_DIR = VAR_DIR / "broker"
# "localhost" only names the (unused) host, so kombu does not warn that none was given.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# ETA tasks further ahead than this are left to the periodic scheduler (see claims.sla.clocks).
SLA_ETA_HORIZON_SECONDS = env.int("SLA_ETA_HORIZON_SECONDS", default=600)
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=30.0)
# Policies and closure days are cached per process for this long (an edit in the same process clears it).
SLA_SETTINGS_CACHE_SECONDS = env.float("SLA_SETTINGS_CACHE_SECONDS", default=60.0)
# The daily digest: at DIGEST_HOUR:00 Tokyo time, the deadlines of the next DIGEST_WINDOW_HOURS.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=8)
DIGEST_WINDOW_HOURS = env.int("DIGEST_WINDOW_HOURS", default=48)
DIGEST_MAX_ITEMS = env.int("DIGEST_MAX_ITEMS", default=100)  # a longer list ends with "and N more"
# Sincerity: a response at least this similar (Jaccard of character 3-grams, 0-1) to one of the
# same provider's earlier responses to another case is flagged "templated".
SINCERITY_TEMPLATED_THRESHOLD = env.float("SINCERITY_TEMPLATED_THRESHOLD", default=0.85)
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {"task": "claims.tasks.sla_sweep", "schedule": SLA_SWEEP_SECONDS},
    "sla-schedule-upcoming": {
        "task": "claims.tasks.sla_schedule_upcoming",
        "schedule": SLA_ETA_HORIZON_SECONDS / 2,
    },
    # Every morning in CELERY_TIMEZONE (Asia/Tokyo); DigestRun keeps it to one digest a person a day.
    "daily-digest": {
        "task": "notifications.tasks.send_daily_digest",
        "schedule": crontab(minute=0, hour=DIGEST_HOUR),
    },
}
if CELERY_BROKER_URL.startswith("redis"):
    # Longer than any ETA we queue, so Redis does not redeliver a task that is merely waiting.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(3600, 2 * SLA_ETA_HORIZON_SECONDS)}
# Notifications and webhooks leave through an outbox written with the event (notifications.outbox):
# a commit queues the dispatcher at most once per OUTBOX_KICK_SECONDS per process (the longest a
# notification waits for it), and beat runs it every OUTBOX_SWEEP_SECONDS for kicks that were lost.
OUTBOX_KICK_SECONDS = env.float("OUTBOX_KICK_SECONDS", default=0.2)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["outbox-dispatch"] = {
    "task": "notifications.tasks.dispatch_outbox",
    "schedule": OUTBOX_SWEEP_SECONDS,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Dashboards (claims.dashboards) ----------------------------------------
# The roll-up re-reads the months of the cases changed since its last run this often, and is
# rebuilt from scratch every night at DASHBOARD_REBUILD_HOUR:30 Tokyo time.
DASHBOARD_REFRESH_SECONDS = env.float("DASHBOARD_REFRESH_SECONDS", default=60.0)
DASHBOARD_REBUILD_HOUR = env.int("DASHBOARD_REBUILD_HOUR", default=3)
CELERY_BEAT_SCHEDULE["dashboards-refresh"] = {
    "task": "claims.dashboards.tasks.dashboards_refresh",
    "schedule": DASHBOARD_REFRESH_SECONDS,
}
CELERY_BEAT_SCHEDULE["dashboards-rebuild"] = {
    "task": "claims.dashboards.tasks.dashboards_rebuild",
    "schedule": crontab(minute=30, hour=DASHBOARD_REBUILD_HOUR),
}
# The public transparency summary is recomputed into the cache before the cached one expires, so
# no visitor waits for it (in production, where the web processes share the Redis cache).
CELERY_BEAT_SCHEDULE["transparency-warm"] = {
    "task": "claims.reports.tasks.transparency_warm",
    "schedule": max(60.0, TRANSPARENCY_CACHE_SECONDS * 0.8),
}

# --- Webhooks (notifications.webhooks) ------------------------------------
# Seconds to connect, send and wait for the receiver's answer, each; slower counts as failed.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# An endpoint is disabled when this many deliveries in a row gave up after 24 h of retries.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=1)
# Retries further ahead than an ETA task may wait in Redis are queued by this sweep when due.
CELERY_BEAT_SCHEDULE["webhooks-retry-due"] = {
    "task": "notifications.webhooks.tasks.webhooks_retry_due",
    "schedule": 60.0,
}

# --- Email ----------------------------------------------------------------
# EMAIL_URL examples: consolemail:// (the default), smtp+tls://user:password@host:587 (STARTTLS),
# smtp+ssl://user:password@host:465; percent-encode "@", ":" and "/" inside the user or password.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds before an unanswering SMTP server fails the send (Django waits forever by default),
# so a stuck server makes the Celery task retry instead of holding a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="RightsDesk <no-reply@rightsdesk.invalid>")

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    # Machine clients send a token; the browser (and the interactive docs) use the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["members.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "claims.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "claims.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RightsDesk API",
    "DESCRIPTION": (
        "Cases between rights holders and generative-AI providers. Authenticate with "
        "`Authorization: Bearer <token>`; every 4xx answer has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from the drf-spectacular-sidecar package through static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ResponseOutcomeEnum": "claims.models.Outcome",
        "CloseOutcomeEnum": "claims.models.CloseOutcome",
        "DisputeReasonEnum": "claims.models.DisputeReason",
        "CaseStateEnum": "claims.models.CaseState",
        "CaseKindEnum": "claims.models.CaseKind",
        "ClockKindEnum": "claims.sla.models.ClockKind",
        "OrganisationKindEnum": "members.models.OrganisationKind",
        "WorkKindEnum": "members.models.WorkKind",
    },
}

# --- API tokens, throttling, idempotency ----------------------------------
# The throttle counters live in this cache: locmem in the embedded default (one process), Redis
# in production so that every gunicorn worker counts against the same budget.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://rightsdesk")}
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
# A retried POST with the same Idempotency-Key within this many hours gets the first answer back.
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# A request still "in progress" after this long died with its worker; a retry may run it again.
IDEMPOTENCY_STALE_SECONDS = env.int("IDEMPOTENCY_STALE_SECONDS", default=300)
IDEMPOTENCY_PATH_PREFIX = env.str("IDEMPOTENCY_PATH_PREFIX", default="/api/")
CELERY_BEAT_SCHEDULE["idempotency-purge"] = {"task": "members.tasks.idempotency_purge", "schedule": 3600.0}

# --- Security -------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
