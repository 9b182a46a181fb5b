"""Helpline settings: one module, every value from the environment (django-environ).

Safe production defaults: DEBUG is off unless asked, cookies are secure unless DEBUG, and without
DEBUG a SECRET_KEY must be given. `.env.example` documents every variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG: bool = env.bool("DEBUG", default=False)
TESTING: bool = env.bool("HELPLINE_TESTING", default=False)

if DEBUG or TESTING:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
else:
    # No default in production: a forgotten secret must fail loudly, not sign with a public key.
    SECRET_KEY = env.str("SECRET_KEY")

# Reverse proxies in front of the app that append the address they saw to X-Forwarded-For (and
# set X-Forwarded-Proto). 0: the app faces clients directly and believes neither header. One
# number feeds DRF's NUM_PROXIES (throttles), the audit trail's IP (config/clientaddr.py) and
# SECURE_PROXY_SSL_HEADER.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
VERSION = "0.1.0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "pgtrigger",
    "channels",
    "tickets",
    "sla",
    "notifications",
    "exports",
    "saved_views",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    # Before anything that may answer early, so every answer carries the security headers.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.metrics.http.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.input_limits.InputLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "tickets.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Data -------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/helpline")
}
# Django's own PostgreSQL backend (ADR 0009).
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Statements are bound server-side and prepared per connection on their fifth run (Django's
# `server_side_binding` and psycopg's `prepare_threshold`): a repeated statement skips PostgreSQL's
# planner, which cost more than executing the key lookups a request makes (ADR 0017). Turn off
# behind a pooler in transaction mode (it cannot keep prepared statements across transactions).
PREPARE_HOT_SQL = env.bool("HELPLINE_PREPARE", default=True)
if PREPARE_HOT_SQL:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DATABASES["default"].setdefault("TEST", {})
DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME", default="test_helpline")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database_alias(url: str) -> dict[str, Any]:
    """Another alias for `url`, with the primary's engine and options (prepared statements,
    health checks) so it behaves alike; in tests it mirrors the test database."""
    alias = (
        {**DATABASES["default"], **env.db_url_config(url)} if url else dict(DATABASES["default"])
    )
    alias["TEST"] = {"MIRROR": "default"}
    return alias


# A read replica for the heavy reads that tolerate replication lag: the SLA stats, full-text
# search and classifier training read there explicitly (`.using(settings.READ_REPLICA)`); nothing
# writes there. Without DATABASE_REPLICA_URL, READ_REPLICA is the primary's alias.
DATABASE_REPLICA_URL: str = env.str("DATABASE_REPLICA_URL", default="")
DATABASES["replica"] = _database_alias(DATABASE_REPLICA_URL)
READ_REPLICA = "replica" if DATABASE_REPLICA_URL else "default"
# Exports hold a session for minutes (a session advisory lock, a COPY, snapshots shared between
# sessions): behind PgBouncer in transaction mode they need a direct URL to the primary.
EXPORT_DATABASE_URL: str = env.str("EXPORT_DATABASE_URL", default="")
DATABASES["export"] = _database_alias(EXPORT_DATABASE_URL)
EXPORT_DATABASE = "export" if EXPORT_DATABASE_URL else "default"
# The web processes' guard (gunicorn.conf.py marks them with HELPLINE_PROCESS=web): a statement
# that runs longer, or waits on a lock longer, is cancelled and its request answers 503 in the
# envelope; gunicorn's timeout cannot stop a gthread worker's thread. 0 turns a limit off. Celery,
# beat and the socket server keep none (exports and scans run for minutes).
WEB_DB_STATEMENT_TIMEOUT_MS = env.int("WEB_DB_STATEMENT_TIMEOUT_MS", default=20_000)
WEB_DB_LOCK_TIMEOUT_MS = env.int("WEB_DB_LOCK_TIMEOUT_MS", default=5_000)
if env.str("HELPLINE_PROCESS", default="") == "web":
    _guard = (
        f"-c statement_timeout={WEB_DB_STATEMENT_TIMEOUT_MS} "
        f"-c lock_timeout={WEB_DB_LOCK_TIMEOUT_MS}"
    )
    for _alias in ("default", "replica"):
        DATABASES[_alias]["OPTIONS"] = {**DATABASES[_alias].get("OPTIONS", {}), "options": _guard}


def _redis_db(url: str, db: int) -> str:
    """The same Redis server with another logical database number."""
    head, _, tail = url.rpartition("/")
    return f"{head}/{db}" if tail.isdigit() and head.count("/") >= 2 else f"{url.rstrip('/')}/{db}"


REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if TESTING:
    # The suite uses its own logical database so it never touches a running desk's keys.
    REDIS_URL = env.str("TEST_REDIS_URL", default=_redis_db(REDIS_URL, 15))
    # Under pytest-xdist each worker (gw0, gw1, ...) takes the next database down, so one worker's
    # flush, broker queue and channel prefix never reach another's (its processes inherit the URL).
    _xdist_worker = env.str("PYTEST_XDIST_WORKER", default="")
    if _xdist_worker:
        _base = int(REDIS_URL.rsplit("/", 1)[-1] or 0)
        REDIS_URL = _redis_db(REDIS_URL, _base - int(_xdist_worker.removeprefix("gw")))


# Each Redis role may have its own server; every one defaults to REDIS_URL (in tests: the suite's).
CACHE_URL: str = REDIS_URL if TESTING else env.str("CACHE_URL", default=REDIS_URL)
LOCK_REDIS_URL: str = REDIS_URL if TESTING else env.str("LOCK_REDIS_URL", default=REDIS_URL)
# The channel layer shards groups and channels over these servers (channels_redis hashes names).
CHANNEL_REDIS_HOSTS: list[str] = env.list("CHANNEL_REDIS_HOSTS", default=[REDIS_URL])

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="helpline"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": CHANNEL_REDIS_HOSTS,
            # Redis pub/sub ignores the database number: the suite needs a prefix of its own.
            "prefix": env.str(
                "CHANNELS_PREFIX",
                default=f"helpline-test{REDIS_URL.rsplit('/', 1)[-1]}" if TESTING else "helpline",
            ),
        },
    }
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL: str = (
    # A fault test points one server process at a broker that is down.
    env.str("TEST_CELERY_BROKER_URL", default=REDIS_URL)
    if TESTING
    else env.str("CELERY_BROKER_URL", default=REDIS_URL)
)
CELERY_RESULT_BACKEND: str | None = (
    REDIS_URL if TESTING else env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
)
# Where a task goes unless routed (config/celery.py routes the SLA scan to `sla`). A worker's
# own queue list is WORKER_QUEUES (Procfile/compose), separate: a task the SLA worker enqueues
# still lands here, not on the SLA worker's single slot.
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_QUEUE", default="helpline")
WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("WORKER_SOFT_SHUTDOWN_TIMEOUT", default=20)
WORKER_MAX_TASKS_PER_CHILD = env.int("WORKER_MAX_TASKS_PER_CHILD", default=1000)  # 0: never
# `manage.py healthcheck beat` fails when beat sent no task for this long.
BEAT_HEALTH_MAX_AGE_SECONDS = env.int("BEAT_HEALTH_MAX_AGE_SECONDS", default=180)
# Redis redelivers an unacked task after the visibility timeout; every time limit stays below it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1700)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}

# --- Auth and API -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.auth.FastTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.FastJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.openapi.HelplineAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

# Sign-in attempts (token and session): per username from any address, and per client address
# for any username (tickets/api/signin.py).
LOGIN_RATE: str = env.str("LOGIN_RATE", default="10/min")
LOGIN_ADDRESS_RATE: str = env.str("LOGIN_ADDRESS_RATE", default="30/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpline API",
    "DESCRIPTION": "Support desk for teams that live by their SLAs.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets ship in a package: the docs page works with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set, whatever field carries it: the generated TypeScript types use them.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "tickets.models.Role",
        "StaffRoleEnum": ["agent", "lead", "manager", "admin"],
        "PriorityEnum": "tickets.models.Priority",
        "StatusCategoryEnum": "tickets.models.StatusCategory",
        "SlaStateEnum": ["on_track", "near_breach", "breached", "paused", "met", "no_sla"],
        "ClassifierSourceEnum": ["gemini", "local", "keywords"],
        "BulkActionEnum": ["assign", "set_status", "set_priority", "archive"],
        "TriageDecisionEnum": ["applied", "dismissed"],
        "ExportFormatEnum": "exports.models.ExportFormat",
        "ExportStatusEnum": "exports.models.ExportStatus",
        "DeliveryStatusEnum": "notifications.models.OutboxStatus",
        "WebhookEventEnum": "notifications.api.serializers.WEBHOOK_EVENT_CHOICES",
    },
}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG and not TESTING)
# Only a trusted proxy's X-Forwarded-Proto says the request came over HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

# --- i18n, static, media ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# The web UI's build (make ui): index.html served by config.frontend, assets under /static/ui/.
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [("ui", FRONTEND_DIST)]
# Vite's hashed file names (name-8chars.ext) never change content: cache them for a year.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/ui/assets/.+-[A-Za-z0-9_-]{8}\.[a-z0-9]+$"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/media/"

# Object storage: the file system by default, S3 (or any S3-compatible server) when a bucket is set.
AWS_STORAGE_BUCKET_NAME: str = env.str("S3_BUCKET", default="")
AWS_S3_ENDPOINT_URL: str | None = env.str("S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME: str = env.str("S3_REGION", default="us-east-1")
AWS_ACCESS_KEY_ID: str | None = env.str("S3_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY: str | None = env.str("S3_SECRET_ACCESS_KEY", default="") or None
AWS_QUERYSTRING_EXPIRE = env.int("SIGNED_URL_SECONDS", default=300)
AWS_DEFAULT_ACL = None
AWS_S3_SIGNATURE_VERSION = (
    "s3v4"  # SigV4 presigned URLs (SigV2 is deprecated and refused by many regions)
)
STORAGES = {
    "default": (
        {"BACKEND": "storages.backends.s3.S3Storage"}
        if AWS_STORAGE_BUCKET_NAME
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
SIGNED_URL_SECONDS = AWS_QUERYSTRING_EXPIRE
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Hostile input refused at the edge (config/input_limits.py, ADR 0013). gunicorn's own request-line
# cap is lifted (gunicorn.conf.py) so that an oversized query string is a 414 in the envelope.
QUERY_STRING_MAX_BYTES = env.int("QUERY_STRING_MAX_BYTES", default=8192)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# A body refused for its declared size is read and dropped up to this much, so that the client
# gets the 413 instead of a reset connection; anything larger is cut off.
REFUSED_BODY_DRAIN_BYTES = env.int("REFUSED_BODY_DRAIN_BYTES", default=64 * 1024 * 1024)
ATTACHMENT_CONTENT_TYPES: list[str] = env.list(
    "ATTACHMENT_CONTENT_TYPES",
    default=[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/json",
        "application/zip",
    ],
)

# --- Integrations -----------------------------------------------------------------------------
GEMINI_API_KEY: str = env.str("GEMINI_API_KEY", default="")
GEMINI_MODEL: str = env.str("GEMINI_MODEL", default="gemini-2.5-flash")
GEMINI_BASE_URL: str = env.str("GEMINI_BASE_URL", default="")
GEMINI_TIMEOUT_MS = env.int("GEMINI_TIMEOUT_MS", default=10_000)

WEBHOOK_ALLOWED_NETWORKS: list[str] = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Helpline <helpdesk@localhost>")

WS_PORT = env.int("WS_PORT", default=8001)  # uvicorn's port (the Procfile's ws line)
WS_PUBLIC_URL: str = env.str("WS_PUBLIC_URL", default=f"ws://127.0.0.1:{WS_PORT}")

# Origins whose pages may open a WebSocket with the session cookie (Channels' OriginValidator
# patterns: "https://desk.example.com" matches that scheme, host and port; a bare host such as
# "127.0.0.1" or ".example.com" matches any scheme and port). Default: ALLOWED_HOSTS, so in
# development the UI on :8000 reaches the sockets on :8001. A handshake without Origin is not a
# browser's and authenticates by token only.
WS_ALLOWED_ORIGINS: list[str] = env.list("WS_ALLOWED_ORIGINS", default=ALLOWED_HOSTS)

# --- Web server (gunicorn.conf.py reads these) ---------------------------------------------------
HOST: str = env.str("HOST", default="127.0.0.1")
API_PORT = env.int("API_PORT", default=8000)
# Two processes of eight threads (gunicorn's gthread worker): measured with 50 mixed clients on two
# cores (bench/bench_load.py, docs/operations.md "Sizing"). Each thread keeps its own database
# connection (DB_CONN_MAX_AGE): WEB_WORKERS x WEB_THREADS connections per web host.
WEB_WORKERS = env.int("WEB_WORKERS", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=8)
WEB_TIMEOUT = env.int("WEB_TIMEOUT", default=30)
WEB_GRACEFUL_TIMEOUT = env.int("WEB_GRACEFUL_TIMEOUT", default=25)
WEB_KEEPALIVE = env.int("WEB_KEEPALIVE", default=5)
WEB_MAX_REQUESTS = env.int("WEB_MAX_REQUESTS", default=0)  # recycle a worker after N (0: never)
# prometheus-client's multiprocess directory for gunicorn's workers (gunicorn.conf.py makes a
# private one per instance when empty).
PROMETHEUS_MULTIPROC_DIR: str = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO").upper()
LOG_JSON: bool = env.bool("LOG_JSON", default=not DEBUG)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only

from config.logging import configure_structlog, logging_config  # noqa: E402

LOGGING = logging_config(level=LOG_LEVEL, json=LOG_JSON)
configure_structlog(level=LOG_LEVEL)

# Errors to Sentry when a DSN is given (sentry-sdk is a runtime dependency; the import is guarded
# so a slimmed image without it still starts).
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT: str = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE: float = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=VERSION,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

CSRF_FAILURE_VIEW = "config.api.csrf_failure"

# Board event log retention (a beat task prunes it); a client older than this must resync.
BOARD_EVENT_RETENTION_DAYS = env.int("BOARD_EVENT_RETENTION_DAYS", default=7)
BOARD_EVENT_RETENTION_COUNT = env.int("BOARD_EVENT_RETENTION_COUNT", default=100_000)
# Board sockets: heartbeat cadence (carries the current seq), presence and "editing" lifetimes.
BOARD_HEARTBEAT_SECONDS = env.float("BOARD_HEARTBEAT_SECONDS", default=20)
BOARD_PRESENCE_TTL_SECONDS = env.float("BOARD_PRESENCE_TTL_SECONDS", default=60)
BOARD_INDICATOR_TTL_SECONDS = env.float("BOARD_INDICATOR_TTL_SECONDS", default=15)

# --- Notifications and outgoing webhooks (docs/events.md) ---------------------------------------
# Links in e-mails point here when set (the web UI's address, e.g. https://desk.example.com).
FRONTEND_URL: str = env.str("FRONTEND_URL", default="")
NOTIFICATION_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATION_EMAIL_MAX_ATTEMPTS", default=6)
NOTIFICATION_EMAIL_RETRY_BASE_SECONDS = env.float(
    "NOTIFICATION_EMAIL_RETRY_BASE_SECONDS", default=30
)
# A pending outbox row (e-mail or webhook delivery) no task has picked up after this long is
# re-queued by the relay beat task: a crash between commit and enqueue loses nothing.
OUTBOX_RELAY_GRACE_SECONDS = env.float("OUTBOX_RELAY_GRACE_SECONDS", default=120)
# Retries: base * factor^(n-1) seconds, capped, +-25 % jitter; 22 attempts span about 3 days.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5)
WEBHOOK_RETRY_FACTOR = env.float("WEBHOOK_RETRY_FACTOR", default=2)
WEBHOOK_RETRY_CAP_SECONDS = env.float("WEBHOOK_RETRY_CAP_SECONDS", default=8 * 3600)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=22)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env.float("WEBHOOK_RETRY_AFTER_MAX_SECONDS", default=24 * 3600)
# Retries due sooner than this are queued with a countdown; later ones wait for the relay scan.
WEBHOOK_COUNTDOWN_MAX_SECONDS = env.float("WEBHOOK_COUNTDOWN_MAX_SECONDS", default=60)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10)
WEBHOOK_TOTAL_TIMEOUT = env.float("WEBHOOK_TOTAL_TIMEOUT", default=20)
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=1024)
# A worker's lease on a delivery; longer than the worst attempt (connect + total timeouts).
WEBHOOK_CLAIM_SECONDS = env.float("WEBHOOK_CLAIM_SECONDS", default=60)
WEBHOOK_SECRET_OVERLAP_SECONDS = env.int("WEBHOOK_SECRET_OVERLAP_SECONDS", default=24 * 3600)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=False)
# An endpoint is disabled after this many failed attempts in a row spanning at least this long.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=3 * 86400)
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
NOTIFICATION_READ_RETENTION_DAYS = env.int("NOTIFICATION_READ_RETENTION_DAYS", default=180)

# --- Exports (docs/exports.md) -------------------------------------------------------------------
# Upload part size. S3 refuses non-final parts under 5 MiB and allows 10,000 parts, so 8 MiB caps
# one export at ~80 GB while the worker holds at most two parts in memory.
EXPORT_PART_SIZE = env.int("EXPORT_PART_SIZE", default=8 * 1024 * 1024)
# How long a finished file stays downloadable before the retention task deletes it.
EXPORT_RETENTION_HOURS = env.float("EXPORT_RETENTION_HOURS", default=72)
# A job nobody picked up for this long is failed by the watchdog (no worker, lost message).
EXPORT_PENDING_TIMEOUT_SECONDS = env.float("EXPORT_PENDING_TIMEOUT_SECONDS", default=15 * 60)
# A running job older than this is failed even if its worker still answers; above the Celery hard
# time limit (30 min), which kills the task first in the normal case.
EXPORT_MAX_RUNTIME_SECONDS = env.float("EXPORT_MAX_RUNTIME_SECONDS", default=40 * 60)
# A running job whose worker died is re-queued only after this quiet period, so Celery's own
# redelivery (acks_late + reject_on_worker_lost) gets the first chance.
EXPORT_STALL_GRACE_SECONDS = env.float("EXPORT_STALL_GRACE_SECONDS", default=60)
EXPORT_MAX_ATTEMPTS = env.int("EXPORT_MAX_ATTEMPTS", default=3)  # first run + retries
EXPORT_MAX_ACTIVE_PER_USER = env.int("EXPORT_MAX_ACTIVE_PER_USER", default=3)  # beyond: 429
# How long a run waits for a dying predecessor's database session to let go of the job.
EXPORT_LOCK_WAIT_SECONDS = env.float("EXPORT_LOCK_WAIT_SECONDS", default=10)
# Database sessions one export reads its rows on at once (contiguous ranges of the ordered rows in
# one shared snapshot); 1 reads on the job's own session only. At most the database's spare cores.
EXPORT_PARALLEL_SESSIONS = env.int("EXPORT_PARALLEL_SESSIONS", default=2)
# Exports with fewer rows than this read on one session (opening sessions costs more).
EXPORT_PARALLEL_MIN_ROWS = env.int("EXPORT_PARALLEL_MIN_ROWS", default=20_000)

# --- Metrics (GET /metrics, docs/operations.md) ---------------------------------------------------
# A scrape needs `Authorization: Bearer <METRICS_TOKEN>` or a client address in one of these
# networks; with neither configured /metrics answers 404 (nothing is exposed by accident).
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS: list[str] = env.list("METRICS_ALLOWED_NETWORKS", default=[])
