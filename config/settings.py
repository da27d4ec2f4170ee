"""Settings, all from the environment (django-environ); see the table in README.md.

With no DATABASE_URL / REDIS_URL the defaults point at the embedded stack of `make run`.
Production secrets have no defaults: with DATABASE_URL set, SECRET_KEY must be set too.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from embedded import config as embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
embedded.load_dotenv()

EMBEDDED_DATABASE = not env.str("DATABASE_URL", default="")

DEBUG = env.bool("DEBUG", default=False)
# Production serves HTTPS (behind a TLS-terminating proxy) and gets the HTTPS-only settings
# below. `make run` and the tests' throwaway stack (which passes a DATABASE_URL too) serve
# plain HTTP on 127.0.0.1, so they are not production.
PRODUCTION = not DEBUG and not EMBEDDED_DATABASE and not embedded.in_test_stack()
# Production runs behind a TLS-terminating proxy unless told otherwise (see HTTPS below).
BEHIND_TLS_PROXY = PRODUCTION and env.bool("SECURE_PROXY_SSL_HEADER", default=True)

# The thresholds of Django's security.W009 check, enforced at startup in production.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def _strong_secret_key(name: str, key: str) -> str:
    """`key`, or ImproperlyConfigured in production if it is short, low-variety or one of
    Django's `django-insecure-` keys: sessions, CSRF and password-reset links are only as
    safe as it is."""
    if PRODUCTION and (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            f"{name} is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return key


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return _strong_secret_key("SECRET_KEY", key)
    if not EMBEDDED_DATABASE:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set")
    # Embedded mode: one random key per checkout, kept under .local/.
    key_file = embedded.LOCAL_DIR / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Old keys still accepted for signatures (sessions, password-reset links) while a rotation
# settles; docs/runbooks/rotate-secrets.md.
SECRET_KEY_FALLBACKS = [
    _strong_secret_key("SECRET_KEY_FALLBACKS", key)
    for key in env.list("SECRET_KEY_FALLBACKS", default=[])
]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "csp",
    "rest_framework",
    # Kept for its table only, so migration accounts.0003 can hash the keys it held; its
    # plaintext admin is unregistered (accounts.admin) and nothing authenticates with it.
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "waffle",
    "axes",
    "core",
    "accounts",
    "billing",
    "memories",
    "enrichment",
    "reminders",
    "duplicates",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    # Last, as django-axes asks: it turns an admin lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=embedded.default_database_url()),
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# Server-side prepared statements for the raw psycopg statements of hot paths (core.db):
# Django's own cursors never prepare. Off behind a transaction-mode pooler (PgBouncer).
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
    5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None
)
# Web requests only (config/wsgi.py): a statement running longer is cancelled and the request
# answers 503, before gunicorn's 30 s worker timeout. 0 turns it off.
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=25_000)

REDIS_URL = env.str("REDIS_URL", default=embedded.default_redis_url())


def _redis_database(url: str, number: int) -> str:
    """`url` with its logical database replaced by `number`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


# The cache (REDIS_URL) may evict; breaker, AI budget reservations, rate limits and alert
# claims live in STATE_REDIS_URL, which must not (core.redis). In production give it a Redis
# of its own with `maxmemory-policy noeviction` (eviction policies are per server, not per
# logical database); by default it is database 2 of the REDIS_URL server.
STATE_REDIS_URL = env.str("STATE_REDIS_URL", default=_redis_database(REDIS_URL, 2))
_REDIS_OPTIONS = {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": _REDIS_OPTIONS,
    },
    "state": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": STATE_REDIS_URL,
        "OPTIONS": _REDIS_OPTIONS,
    },
}

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out admin login before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)

# The PWA's session (POST /api/v1/auth/login): cookies sent on top-level navigation from other
# sites but not on their requests; the session cookie is out of scripts' reach, the CSRF
# cookie is not (the PWA sends it back as X-CSRFToken). *_SECURE: see the end of this file.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# Password guessing (README "Accounts and access"; rates like "30/min", fixed windows, counted
# in STATE_REDIS_URL). Every signup/login/token request per client IP:
AUTH_THROTTLE_IP_RATE = env.str("AUTH_THROTTLE_IP_RATE", default="30/min")
# Wrong passwords per (email, client IP), then per email from any IP:
AUTH_THROTTLE_FAILURES_RATE = env.str("AUTH_THROTTLE_FAILURES_RATE", default="10/min")
AUTH_THROTTLE_EMAIL_FAILURES_RATE = env.str("AUTH_THROTTLE_EMAIL_FAILURES_RATE", default="100/hour")
# Reverse proxies in front of the app that append to X-Forwarded-For: the client address is
# the one the outermost of them saw. 0: X-Forwarded-For is ignored (a client can forge it).
# Behind the production TLS proxy the default is 1: otherwise every client would share the
# proxy's address, and one guesser would lock everyone out of login and the admin. Then the
# app must only be reachable through that proxy (a direct client could pick its address).
TRUSTED_PROXY_COUNT = int(
    env.str("TRUSTED_PROXY_COUNT", default="") or (1 if BEHIND_TLS_PROXY else 0)
)
# API tokens one account may hold; past it, creating one answers 409 too_many_tokens.
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=100)
# GET /api/v1/export per user.
EXPORT_THROTTLE_RATE = env.str("EXPORT_THROTTLE_RATE", default="10/hour")

# Admin logins: django-axes locks an account out of the admin site after this many wrong
# passwords, for AXES_COOLOFF_MINUTES after the last one (README "Accounts and access").
# Keyed by the account, whatever the address (the admin accounts are few and worth the most),
# and separately by the address, whatever the account (one client trying many of them).
# `manage.py axes_reset_username <email>` / `axes_reset_ip <ip>` lift a lockout early.
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "accounts.lockout.AdminOnlyAxesHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field and authenticate()'s keyword
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_CLIENT_IP_CALLABLE = "core.throttles.client_ip"
AXES_RESET_ON_SUCCESS = True
DEFAULT_PLAN = env.str("DEFAULT_PLAN", default="free")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The PWA's build (frontend/, `make run` builds it): WhiteNoise serves its files at the site's
# root (/assets/…), hashed assets with a year's cache; config.views.frontend_index answers
# index.html for `/` and the client routes.
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
WHITENOISE_ROOT = FRONTEND_DIST


def _vite_hashed_asset(path: str, url: str) -> bool:
    """Vite names built assets `/assets/<name>-<hash>.<ext>`: their content never changes."""
    return bool(re.match(r"^/assets/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$", url))


WHITENOISE_IMMUTABLE_FILE_TEST = _vite_hashed_asset
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies above this are refused with 413 before anything reads them.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# A memory's content above this many characters is refused with 413 content_too_large.
MEMORY_CONTENT_MAX_CHARS = env.int("MEMORY_CONTENT_MAX_CHARS", default=100_000)
# GET /api/v1/memories/changes (docs/api.md, "Changes feed"): the last page's cursor stays
# this many seconds behind now, so a write stamped earlier but committed later is still sent;
# a cursor issued longer ago than the days below answers 410 cursor_expired (deletions are
# promised to the feed that long).
CHANGES_SETTLE_SECONDS = env.int("CHANGES_SETTLE_SECONDS", default=10)
CHANGES_CURSOR_MAX_AGE_DAYS = env.int("CHANGES_CURSOR_MAX_AGE_DAYS", default=30)

# Idempotency-Key: how long a stored answer is replayed; answers larger than this are stored
# as a small marker; how many keys a user may have stored (past it a new key answers 429);
# how many expired keys the hourly purge deletes per statement (docs/api.md).
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
IDEMPOTENCY_MAX_ANSWER_BYTES = env.int("IDEMPOTENCY_MAX_ANSWER_BYTES", default=64 * 1024)
IDEMPOTENCY_MAX_KEYS_PER_USER = env.int("IDEMPOTENCY_MAX_KEYS_PER_USER", default=10_000)
IDEMPOTENCY_PURGE_BATCH_SIZE = env.int("IDEMPOTENCY_PURGE_BATCH_SIZE", default=5_000)

# AI enrichment (enrichment app). The provider is "local" (sentence-transformers, offline)
# unless an OpenAI key is set; OPENAI_BASE_URL points the SDK at any OpenAI-compatible server.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or None
OPENAI_EMBEDDING_MODEL = env.str("OPENAI_EMBEDDING_MODEL", default="text-embedding-3-small")
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=20.0)
# Tokens per input of the embedding model (8,191 for text-embedding-3-*): longer texts are cut.
OPENAI_MAX_INPUT_TOKENS = env.int("OPENAI_MAX_INPUT_TOKENS", default=8191)
# Tokens summed over one provider request (OpenAI allows 300,000): a batch is split under it.
AI_MAX_TOKENS_PER_REQUEST = env.int("AI_MAX_TOKENS_PER_REQUEST", default=300_000)
AI_PROVIDER = env.str("AI_PROVIDER", default="openai" if OPENAI_API_KEY else "local")
# Every embedding has this many dimensions (OpenAI's text-embedding-3 models shorten to it).
EMBEDDING_DIMENSIONS = env.int("EMBEDDING_DIMENSIONS", default=384)
# USD per 1,000 input tokens, by model: the ledger's costs come from here (Decimal, exact).
AI_PRICES_PER_1K_TOKENS = {
    "text-embedding-3-small": Decimal("0.00002"),
    "text-embedding-3-large": Decimal("0.00013"),
    "all-MiniLM-L6-v2": Decimal("0"),
    **{
        model: Decimal(price)
        for model, price in env.dict("AI_EXTRA_PRICES_PER_1K_TOKENS", default={}).items()
    },
}
# Global AI budgets (USD); per-user budgets come from the plan.
AI_BUDGET_USD_PER_DAY = Decimal(env.str("AI_BUDGET_USD_PER_DAY", default="10"))
AI_BUDGET_USD_PER_MONTH = Decimal(env.str("AI_BUDGET_USD_PER_MONTH", default="100"))
AI_BUDGET_WARN_RATIO = Decimal("0.8")
# Circuit breaker: open after this many failures within the window; probe after the cool-down.
AI_BREAKER_FAILURES = env.int("AI_BREAKER_FAILURES", default=5)
AI_BREAKER_WINDOW_SECONDS = env.int("AI_BREAKER_WINDOW_SECONDS", default=60)
AI_BREAKER_COOLDOWN_SECONDS = env.int("AI_BREAKER_COOLDOWN_SECONDS", default=30)
# Search (DESIGN §4, §5): HNSW candidate list size (recall vs speed), how long a search waits
# for the query's embedding before it answers from full-text, how long query embeddings stay
# cached, and the k of reciprocal rank fusion.
SEARCH_HNSW_EF_SEARCH = env.int("SEARCH_HNSW_EF_SEARCH", default=100)
SEARCH_QUERY_EMBED_TIMEOUT_SECONDS = env.float("SEARCH_QUERY_EMBED_TIMEOUT_SECONDS", default=2.0)
SEARCH_QUERY_CACHE_SECONDS = env.int("SEARCH_QUERY_CACHE_SECONDS", default=86400)
SEARCH_RRF_K = env.int("SEARCH_RRF_K", default=60)
# The full-text configuration (language) of keyword search. The tsvector column is generated
# with it: after changing this, run `manage.py textsearch apply` (docs/enrichment-and-search.md).
SEARCH_TEXT_CONFIG = env.str("SEARCH_TEXT_CONFIG", default="english")
ENRICHMENT_BATCH_SIZE = env.int("ENRICHMENT_BATCH_SIZE", default=64)

# Reminders (docs/reminders.md): the hour of a detected date without a time of day, how many
# pending reminders a memory may have, and how late a delivery is called overdue.
REMINDER_DEFAULT_HOUR = env.int("REMINDER_DEFAULT_HOUR", default=9)
REMINDERS_PER_MEMORY = env.int("REMINDERS_PER_MEMORY", default=20)
REMINDER_OVERDUE_AFTER_SECONDS = env.int("REMINDER_OVERDUE_AFTER_SECONDS", default=300)
REMINDER_DELIVERY_BATCH = env.int("REMINDER_DELIVERY_BATCH", default=5000)  # rows a transaction
# A memory whose enrichment was tried this many times is marked failed (a poison message).
ENRICHMENT_MAX_ATTEMPTS = env.int("ENRICHMENT_MAX_ATTEMPTS", default=5)
# How long a worker owns the memories it claimed; longer than the task's hard time limit.
ENRICHMENT_LEASE_SECONDS = env.int("ENRICHMENT_LEASE_SECONDS", default=300)
ENRICHMENT_TASK_TIME_LIMIT = env.int("ENRICHMENT_TASK_TIME_LIMIT", default=240)
ENRICHMENT_BACKLOG_ALERT = env.int("ENRICHMENT_BACKLOG_ALERT", default=5000)
# A web process that saw the enrichment kick flag set skips asking Redis again for this long;
# the task that clears the flag claims once more at least this long after (enrichment.tasks).
ENRICHMENT_KICK_DEBOUNCE_SECONDS = env.float("ENRICHMENT_KICK_DEBOUNCE_SECONDS", default=0.5)
# Alerts go to Slack when a bot token is set, else to the log.
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_CHANNEL = env.str("SLACK_CHANNEL", default="#memory-connector-ops")
SLACK_API_URL = env.str("SLACK_API_URL", default="https://slack.com/api/")
SLACK_TIMEOUT_SECONDS = env.float("SLACK_TIMEOUT_SECONDS", default=5.0)
# Where an alert's runbook link points (core.alerts): the repository's docs/runbooks/ by
# default, or wherever an operator publishes them.
RUNBOOK_BASE_URL = env.str("RUNBOOK_BASE_URL", default="docs/runbooks/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.ActsForTheNamedAccount",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.problems.problem_exception_handler",
    # Every unsafe request counts toward the plan's writes_per_minute; views with throttles
    # of their own (auth) name them.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.WritesThrottle",
        "core.throttles.ScopedUserThrottle",  # views with a throttle_scope, e.g. export
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Memory Connector API",
    "DESCRIPTION": "Capture, enrich, search and resurface memories. Errors are RFC 9457 "
    "problem+json documents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two models call a field `state`: each enum gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ReminderStateEnum": "reminders.models.Reminder.State",
        "PairStateEnum": "duplicates.models.Pair.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.throttles.declare_scoped_throttles",
        "core.schema.problem_responses",
        "core.schema.request_constraints",
    ],
}

# Celery: Redis broker by default (the embedded one), SQS in production (sqs://…).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Alerts have a queue of their own: they must not wait behind an enrichment backlog (the very
# thing one of them announces). A worker consumes every queue listed here.
CELERY_ALERTS_QUEUE = "alerts"
# Maintenance jobs have one too, so a backlog of them (a slow purge, a long lexicon rebuild)
# never delays enrichment: a worker takes from each queue in turn.
CELERY_MAINTENANCE_QUEUE = "maintenance"
CELERY_TASK_QUEUES = (
    Queue(CELERY_TASK_DEFAULT_QUEUE),
    Queue(CELERY_ALERTS_QUEUE),
    Queue(CELERY_MAINTENANCE_QUEUE),
)
CELERY_TASK_ROUTES = {
    "core.tasks.deliver_alert": {"queue": CELERY_ALERTS_QUEUE},
    **{
        task: {"queue": CELERY_MAINTENANCE_QUEUE}
        for task in (
            "core.tasks.purge_expired_idempotency_keys",
            "billing.tasks.refresh_ai_spend_views",
            "memories.tasks.refresh_search_lexicon",
            "memories.tasks.rebuild_search_lexicon",
            "enrichment.tasks.reconcile_counters",
        )
    },
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into django-celery-beat's tables when beat starts; editable in admin afterwards.
# A message still queued when its expiry passes is dropped by the worker (a per-minute job
# queued for an hour runs once, not sixty times): the expiry is below each job's period.
# django-celery-beat's scheduler reads `expire_seconds` (it ignores `expires`).
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-keys": {
        "task": "core.tasks.purge_expired_idempotency_keys",
        "schedule": 3600.0,
        "options": {"expire_seconds": 3000},
    },
    "sweep-pending-enrichment": {
        "task": "enrichment.tasks.sweep_pending",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "refresh-ai-spend-views": {
        "task": "billing.tasks.refresh_ai_spend_views",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "refresh-search-lexicon": {
        "task": "memories.tasks.refresh_search_lexicon",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "rebuild-search-lexicon": {
        "task": "memories.tasks.rebuild_search_lexicon",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expire_seconds": 6 * 3600},
    },
    "deliver-due-reminders": {
        "task": "reminders.tasks.deliver_due",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "reconcile-counters": {
        "task": "enrichment.tasks.reconcile_counters",
        "schedule": crontab(hour=4, minute=15),
        "options": {"expire_seconds": 6 * 3600},
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Longer than any task's hard time limit or countdown, so a slow task is not redelivered.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
# Every task stops within its hard time limit, below the visibility timeout: a task still
# running when its message becomes visible again would run twice at once.
CELERY_TASK_TIME_LIMIT = min(900, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] - 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
if CELERY_BROKER_URL.startswith("sqs://"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "region": env.str("AWS_REGION", default="us-east-1"),
            "queue_name_prefix": env.str("SQS_QUEUE_PREFIX", default="memory-connector-"),
            "wait_time_seconds": 10,
        }
    )
    # Poison messages: after this many receives SQS moves a message to the dead-letter queue
    # (`manage.py sqs_queues` creates the queue with this redrive policy).
    SQS_MAX_RECEIVE_COUNT = env.int("SQS_MAX_RECEIVE_COUNT", default=10)
    # An SQS-compatible server (ElasticMQ, moto_server) goes in the broker URL, kombu's way:
    # sqs://KEY:SECRET@host:port; Celery reads CELERY_BROKER_URL from the environment first,
    # so the URL is never rewritten here. SQS_SECURE=false talks plain HTTP to it.
    CELERY_BROKER_TRANSPORT_OPTIONS["is_secure"] = env.bool("SQS_SECURE", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG and not EMBEDDED_DATABASE:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# HTTPS (production only; see PRODUCTION above). The app runs behind a TLS-terminating proxy
# (load balancer, nginx, Caddy) that sets X-Forwarded-Proto: with SECURE_PROXY_SSL_HEADER on,
# Django trusts that header to tell HTTPS requests apart. Only turn it on when the proxy
# overwrites the header a client sends, or clients could claim HTTPS.
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Browsers remember to use HTTPS only; start low (300) on a new domain, then raise it.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# The load balancer's health probe speaks plain HTTP to the container.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]

# Content-Security-Policy (django-csp): scripts, styles, fonts and frames from this origin
# only, no inline script, no plugins, never framed. Django's admin needs nothing more; the
# API docs load their initialiser as a file (core.views.ApiDocsView). The PWA to be served at
# `/` fits in it as long as it is built to files (no inline script or style attributes;
# Vite's default): its manifest (manifest-src), service worker (worker-src) and API calls
# (connect-src) are same-origin and fall back to default-src 'self'; images it makes itself
# need blob: in img-src. Violations: tests/test_browser_api_docs.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Inline <style> only with the request's nonce (django-csp adds it when a template
        # used it: the API docs page, the cost console, the home page).
        "style-src": [SELF, NONCE],
        # data: for the small SVG icons stylesheets embed (admin, Swagger UI).
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
