"""Helpline settings: one module, every value from the environment (django-environ).

Safe production defaults: DEBUG is off unless asked, cookies are secure unless DEBUG, and without
DEBUG a SECRET_KEY must be given. `.env.example` documents every variable.
"""

from __future__ import annotations

from pathlib import Path

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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# The hot statements of config/rawsql.py are prepared per connection; turn off behind a pooler
# in transaction mode (it cannot keep prepared statements across transactions).
PREPARE_HOT_SQL = env.bool("HELPLINE_PREPARE", default=True)
if PREPARE_HOT_SQL:
    # psycopg prepares nothing while the threshold is None (Django's default). Django's own
    # cursors bind client-side and never prepare; only config.rawsql's cursor asks to.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
    # Their plans are key lookups that do not depend on the values; with `auto` PostgreSQL kept
    # re-planning the ANY(array) reads (a generic plan guesses ten elements, so it looked dearer),
    # ~1.5 ms a time. Only prepared statements (and PL/pgSQL's) follow this setting.
    DATABASES["default"]["OPTIONS"]["options"] = "-c plan_cache_mode=force_generic_plan"
DATABASES["default"].setdefault("TEST", {})
DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME", default="test_helpline")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _redis_db(url: str, db: int) -> str:
    """The same Redis server with another logical database number."""
    head, _, tail = url.rpartition("/")
    return f"{head}/{db}" if tail.isdigit() and head.count("/") >= 2 else f"{url.rstrip('/')}/{db}"


REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if TESTING:
    # The suite uses its own logical database so it never touches a running desk's keys.
    REDIS_URL = env.str("TEST_REDIS_URL", default=_redis_db(REDIS_URL, 15))


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="helpline"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_URL],
            # Redis pub/sub ignores the database number: the suite needs a prefix of its own.
            "prefix": env.str(
                "CHANNELS_PREFIX",
                default=f"helpline-test{REDIS_URL.rsplit('/', 1)[-1]}" if TESTING else "helpline",
            ),
        },
    }
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL: str = REDIS_URL if TESTING else env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND: str | None = (
    REDIS_URL if TESTING else env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
)
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_QUEUE", default="helpline")
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
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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

WS_PUBLIC_URL: str = env.str("WS_PUBLIC_URL", default="ws://127.0.0.1:8001")
# Origins whose pages may open a WebSocket with the session cookie (Channels' OriginValidator
# patterns: "https://desk.example.com" matches that scheme, host and port; a bare host such as
# "127.0.0.1" or ".example.com" matches any scheme and port). Default: ALLOWED_HOSTS, so in
# development the UI on :8000 reaches the sockets on :8001. A handshake without Origin is not a
# browser's and authenticates by token only.
WS_ALLOWED_ORIGINS: list[str] = env.list("WS_ALLOWED_ORIGINS", default=ALLOWED_HOSTS)

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

from config.logging import configure_structlog  # noqa: E402

configure_structlog(json=env.bool("LOG_JSON", default=not DEBUG))

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
