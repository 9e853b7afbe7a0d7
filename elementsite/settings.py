"""Settings for the Element Library service.

Everything comes from the environment with embedded defaults, so the service runs on one
machine with nothing but Python (SQLite, local media, django-q2's ORM broker) and scales by
setting variables (PostgreSQL, Redis broker, S3). Every variable is documented in README.md.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from elementsite import localenv
from elementsite.env import load_env

BASE_DIR = Path(__file__).resolve().parent.parent

# A checkout's `.env` (written by `make run`) fills in what the environment leaves unset; a
# server without the file reads only its environment (elementsite/localenv.py).
localenv.load()


# Parsed and checked once: a bad value stops the start here, naming the variable
# (elementsite/env.py holds every variable, its type and its one default).
env = load_env()

DEBUG = env.DEBUG

SECRET_KEY = env.SECRET_KEY
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for a local run)."
        )
    # Only ever used with DEBUG on: a fixed key keeps sessions alive across restarts.
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"  # noqa: S105

DATA_DIR = env.DATA_DIR

LOCAL_HOSTS = ["127.0.0.1", "localhost"]

ALLOWED_HOSTS: list[str] = (
    env.ALLOWED_HOSTS if env.ALLOWED_HOSTS is not None else LOCAL_HOSTS if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "strawberry_django",
    "django_q",
    "axes",
    "accounts",
    "elements",
    "generation",
    "generation.webhooks",
    "generation.explore",
    "generation.providers.kling",
]

MIDDLEWARE = [
    # Outermost: a request whose database connection died anywhere inside answers JSON 503.
    "elementsite.views.DatabaseOutageGuard",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Reads a GraphQL form body before the CSRF check does, so one Django can't parse gets a
    # JSON answer instead of an error page.
    "elementsite.views.GraphQLBodyGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware (a valid bearer token replaces the session user) and,
    # being a request-phase hook, still before CsrfViewMiddleware.process_view runs.
    "accounts.middleware.ApiTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a refused admin login into a 429 (accounts.throttle).
    "axes.middleware.AxesMiddleware",
]

# Static files from the app process, whatever the web server: the collected files with DEBUG
# off, the apps' own folders (no collectstatic, changes seen at once) with DEBUG on, as
# runserver did; granian serves only what the application answers.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

ROOT_URLCONF = "elementsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Templates shared by the apps' admins (elementsite/admin_buttons.py).
        "DIRS": [BASE_DIR / "elementsite" / "templates"],
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

WSGI_APPLICATION = "elementsite.wsgi.application"
ASGI_APPLICATION = "elementsite.asgi.application"

# --- Database -------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = DATA_DIR / "elementsite.sqlite3"
DATABASE_URL = env.DATABASE_URL or f"sqlite:///{DEFAULT_SQLITE_PATH}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on the
    # busy timeout instead of failing with "database is locked" halfway through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.SQLITE_BUSY_TIMEOUT,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
# Connections are kept between requests. On SQLite this matters too: django-q2's ORM broker
# calls close_old_connections() before each enqueue, which with a max age of 0 closed and
# reopened the database (and re-ran the PRAGMAs) for every task queued after a commit.
DATABASES["default"]["CONN_MAX_AGE"] = env.DB_CONN_MAX_AGE
# A kept connection the server ended (a PostgreSQL restart, pg_terminate_backend) is tested
# before a request reuses it and replaced, so only the requests running at that moment fail
# (SERVICE_UNAVAILABLE, elementsite.errors) and the service recovers without a restart
# (tests/test_live_database_outage.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# The login throttle's lock check comes first (accounts.throttle).
AUTHENTICATION_BACKENDS = [
    "accounts.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The service time zone: the day of the daily free-use counters and the midnight reset.
TIME_ZONE = env.TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
# The web studio's build output (`npm run build` in web/), served at `/` (elementsite/web.py).
WEB_DIST = env.WEB_DIST or BASE_DIR / "web" / "dist"
STATIC_ROOT = env.STATIC_ROOT or BASE_DIR / "staticfiles"
MEDIA_ROOT = env.MEDIA_ROOT or DATA_DIR / "media"
MEDIA_URL = "/media/"
MEDIA_URL_TTL = env.MEDIA_URL_TTL
# Uploads, checked by elements/media: a reference image's bytes, its pixels (read from the
# header before any is decoded; a 48-megapixel photo passes) and its shortest side, and a
# voice sample's bytes.
ELEMENT_IMAGE_MAX_BYTES = env.ELEMENT_IMAGE_MAX_BYTES
ELEMENT_IMAGE_MAX_PIXELS = env.ELEMENT_IMAGE_MAX_PIXELS
ELEMENT_IMAGE_MIN_SIDE = env.ELEMENT_IMAGE_MIN_SIDE
VOICE_MAX_BYTES = env.VOICE_MAX_BYTES
# Element bundles (elements.bundles): the zip's bytes, what it may unpack to (each entry's
# ratio is capped at 100 besides), how long an export stays downloadable, and up to how many
# elements an export is written in the request rather than by a worker.
ELEMENT_BUNDLE_MAX_BYTES = env.ELEMENT_BUNDLE_MAX_BYTES
ELEMENT_BUNDLE_MAX_UNPACKED_BYTES = env.ELEMENT_BUNDLE_MAX_UNPACKED_BYTES
ELEMENT_EXPORT_TTL_SECONDS = env.ELEMENT_EXPORT_TTL_SECONDS
ELEMENT_EXPORT_INLINE_MAX = env.ELEMENT_EXPORT_INLINE_MAX
# A voice sample whose share of speech (WebRTC's voice-activity detector) is below this is
# refused (TOO_LITTLE_SPEECH).
VOICE_MIN_SPEECH_RATIO = env.VOICE_MIN_SPEECH_RATIO
# An input video attached to a job (elements.media.video).
INPUT_VIDEO_MAX_BYTES = env.INPUT_VIDEO_MAX_BYTES
# AI assists (subject type, description, multi-view): `local` is the built-in analysis; a
# remote one is the dotted path of an `elements.assists.base.AssistProvider` subclass.
ASSIST_PROVIDER = env.ASSIST_PROVIDER
IDENTITY_ENGINE = env.IDENTITY_ENGINE
# Credits a multi-view completion costs once the day's free uses (the tier's) are gone.
MULTIVIEW_PRICE_CREDITS = env.MULTIVIEW_PRICE_CREDITS
# The video a character element is made from (kept until its processing job has trimmed it).
VIDEO_ELEMENT_MAX_BYTES = env.VIDEO_ELEMENT_MAX_BYTES
VIDEO_ELEMENT_MAX_SIDE = env.VIDEO_ELEMENT_MAX_SIDE
VIDEO_ELEMENT_MAX_SECONDS = env.VIDEO_ELEMENT_MAX_SECONDS


def s3_storage_options(env: Mapping[str, str]) -> dict[str, Any] | None:
    """django-storages' S3Storage options from the AWS_* variables in `env`, or None when
    no bucket is set (media then stays on the local filesystem). The S3 test builds its
    storage with this function, so it tests the options the service runs with."""
    bucket = env.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not bucket:
        return None
    expire = env.get("AWS_QUERYSTRING_EXPIRE", "").strip() or "900"
    try:
        querystring_expire = int(expire)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"AWS_QUERYSTRING_EXPIRE must be an integer, got {expire!r}"
        ) from exc
    return {
        "bucket_name": bucket,
        "endpoint_url": env.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": env.get("AWS_S3_REGION_NAME") or None,
        "access_key": env.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env.get("AWS_SECRET_ACCESS_KEY") or None,
        # User uploads must never silently replace one another.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": querystring_expire,
        # botocore presigns S3 URLs with the deprecated Signature Version 2 unless told;
        # regions opened since 2014 accept only version 4.
        "signature_version": "s3v4",
    }


_s3_options = s3_storage_options(os.environ)
if _s3_options is not None:
    MEDIA_STORAGE: dict = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
else:
    MEDIA_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Sessions and CSRF ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE: bool = env.SECURE_COOKIES if env.SECURE_COOKIES is not None else not DEBUG
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused /graphql request gets JSON (CSRF_FAILED, or NOT_AUTHENTICATED with no
# credentials at all); the admin keeps Django's page.
CSRF_FAILURE_VIEW = "elementsite.views.csrf_failure"

# --- Task queue (django-q2) -------------------------------------------------------------------
REDIS_URL = env.REDIS_URL
Q_CLUSTER: dict = {
    "name": env.Q_CLUSTER_NAME,
    "workers": env.Q_WORKERS,
    # A task's timeout stays below retry, or a slow task is re-delivered while it still runs.
    "timeout": env.Q_TIMEOUT,
    "retry": env.Q_RETRY,
    "max_attempts": env.Q_MAX_ATTEMPTS,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Task queue",
    "time_zone": TIME_ZONE,
    "sync": env.Q_SYNC,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Web server (`manage.py serve`) -------------------------------------------------------------
# granian worker processes and the threads running Django in each (measured in bench/README.md,
# "Load"). Each thread keeps a database connection: workers × threads connections per server.
WEB_WORKERS = env.WEB_WORKERS
WEB_THREADS = env.WEB_THREADS

# --- GraphQL ------------------------------------------------------------------------------------
STRAWBERRY_DJANGO = {
    "MUTATIONS_DEFAULT_HANDLE_ERRORS": True,
    "FIELD_DESCRIPTION_FROM_HELP_TEXT": True,
    "TYPE_DESCRIPTION_FROM_MODEL_DOCSTRING": True,
    "MAP_AUTO_ID_AS_GLOBAL_ID": True,
    "PAGINATION_DEFAULT_LIMIT": 50,
    "PAGINATION_MAX_LIMIT": 100,
}
# The in-browser IDE at /graphql; on with DEBUG unless set.
GRAPHIQL: bool = env.GRAPHIQL if env.GRAPHIQL is not None else DEBUG
GRAPHQL_MAX_PAGE_SIZE = env.GRAPHQL_MAX_PAGE_SIZE
GRAPHQL_MAX_DEPTH = env.GRAPHQL_MAX_DEPTH
GRAPHQL_MAX_ALIASES = env.GRAPHQL_MAX_ALIASES
GRAPHQL_MAX_TOKENS = env.GRAPHQL_MAX_TOKENS
# `__schema`/`__type` queries; on with DEBUG unless set (GraphiQL needs them).
GRAPHQL_INTROSPECTION: bool = (
    env.GRAPHQL_INTROSPECTION if env.GRAPHQL_INTROSPECTION is not None else DEBUG
)

# Cookie-session requests may run only the web studio's own operations, sent by id (trusted
# documents, elementsite/trusted_documents.py); API-token and cookie-less requests may send
# any text. On unless DEBUG (where GraphiQL runs with the session) unless set.
GRAPHQL_TRUSTED_DOCUMENTS_ONLY: bool = (
    env.GRAPHQL_TRUSTED_DOCUMENTS_ONLY
    if env.GRAPHQL_TRUSTED_DOCUMENTS_ONLY is not None
    else not DEBUG
)

# --- Accounts -----------------------------------------------------------------------------------
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one user name
# or from one address, logins from either wait LOGIN_LOCKOUT_SECONDS after the last failure.
# Refused attempts during the lock do not extend it, so a guesser can't keep an account shut.
AXES_FAILURE_LIMIT = env.LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(seconds=env.LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "accounts.throttle.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
# Successful logins are not worth a row each; failures are kept in `AccessAttempt`.
AXES_DISABLE_ACCESS_LOG = True
# Its start-up banner goes to stdout of every process, `TOKEN=$(manage.py createapitoken …)` too.
AXES_VERBOSE = False
API_TOKENS_PER_USER = env.API_TOKENS_PER_USER
# How many days back a late or missed daily reset still applies the tier's daily grant.
DAILY_GRANT_CATCH_UP_DAYS = env.DAILY_GRANT_CATCH_UP_DAYS
# Free-use counters are kept this many days for support and audit, then pruned by the reset.
FREE_USE_RETENTION_DAYS = env.FREE_USE_RETENTION_DAYS

# --- Generation -------------------------------------------------------------------------------
# Which provider renders which model: `local` (built in, renders on the worker) unless set,
# e.g. GENERATION_PROVIDERS="*=local" or "VIDEO_3_0_OMNI=kling,*=local".
GENERATION_PROVIDERS = dict(item.split("=", 1) for item in env.GENERATION_PROVIDERS if "=" in item)
# A running job writes a heartbeat; one silent this long is taken again (its worker died).
# GraphQL shows such a job `stalled: true` until a sweep has it taken again; the sweep runs
# every GENERATION_SWEEP_INTERVAL_MINUTES (a cron schedule: `manage.py ensure_schedules`).
# Worst-case recovery of a killed worker's job: stale + 5 s heartbeat + interval (README).
GENERATION_HEARTBEAT_STALE_SECONDS = env.GENERATION_HEARTBEAT_STALE_SECONDS
GENERATION_SWEEP_INTERVAL_MINUTES = env.GENERATION_SWEEP_INTERVAL_MINUTES
GENERATION_MAX_ATTEMPTS = env.GENERATION_MAX_ATTEMPTS
# A job that meets a database outage is queued again without spending an attempt for this
# long after it started (generation.tasks._retry_after_outage); later tries count.
GENERATION_OUTAGE_GRACE_SECONDS = env.GENERATION_OUTAGE_GRACE_SECONDS
# A render whose storage is unavailable tries again after each of these waits (seconds), then
# fails (refunded): a storage restart of up to their sum (30 s) costs no job.
GENERATION_STORAGE_RETRY_DELAYS = env.GENERATION_STORAGE_RETRY_DELAYS
# Renders' temporary folders (`job-*`); empty: the system's temporary folder.
GENERATION_WORK_DIR = env.GENERATION_WORK_DIR
# After a job succeeds, measure how its shots show the elements they mention
# (generation.consistency).
GENERATION_CONSISTENCY = env.GENERATION_CONSISTENCY
# A succeeded job's generation.succeeded webhook event waits for its consistency report at most
# this long after the job ended; then the sweep sends it with `consistency: null`.
GENERATION_CONSISTENCY_TIMEOUT_SECONDS = env.GENERATION_CONSISTENCY_TIMEOUT_SECONDS
# A retried submit/recreate/multi-view with the same idempotencyKey returns the same job for
# this long (never less than 24 h).
IDEMPOTENCY_KEY_TTL_HOURS = env.IDEMPOTENCY_KEY_TTL_HOURS
# The janitor (`manage.py janitor`, scheduled every JANITOR_INTERVAL_MINUTES) removes stored
# files no row names once they are this old (a file is written before its row commits), and
# the temporary folders of dead workers.
JANITOR_ORPHAN_MIN_AGE_SECONDS = env.JANITOR_ORPHAN_MIN_AGE_SECONDS
JANITOR_INTERVAL_MINUTES = env.JANITOR_INTERVAL_MINUTES

# --- Explore ----------------------------------------------------------------------------------
# "post": a shared work is in the feed at once and staff hide it if need be; "pre": it waits
# for a staff approval before anyone else sees it.
EXPLORE_MODERATION = env.EXPLORE_MODERATION


# --- Webhooks for client apps -------------------------------------------------------------------
# The service's own address, to make absolute the media URLs a webhook carries (e.g.
# https://api.example.com); empty leaves them as paths on this service.
PUBLIC_BASE_URL = env.PUBLIC_BASE_URL
WEBHOOK_ENDPOINTS_PER_USER = env.WEBHOOK_ENDPOINTS_PER_USER
# Plain http only where it can't leave the machine unnoticed: off in production by default.
WEBHOOK_REQUIRE_HTTPS: bool = (
    env.WEBHOOK_REQUIRE_HTTPS if env.WEBHOOK_REQUIRE_HTTPS is not None else not DEBUG
)
# Private, loopback, link-local and other non-public addresses are refused at registration
# and at delivery unless this is on (a receiver on the same network, tests).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
# One attempt: connecting, sending and reading the status line, all within this.
WEBHOOK_TIMEOUT_SECONDS = env.WEBHOOK_TIMEOUT_SECONDS
# Retries wait base, 2×base, 4×base… (at most the max interval), for at most the window.
WEBHOOK_RETRY_BASE_SECONDS = env.WEBHOOK_RETRY_BASE_SECONDS
WEBHOOK_RETRY_MAX_INTERVAL_SECONDS = env.WEBHOOK_RETRY_MAX_INTERVAL_SECONDS
WEBHOOK_RETRY_WINDOW_SECONDS = env.WEBHOOK_RETRY_WINDOW_SECONDS
WEBHOOK_MAX_ATTEMPTS = env.WEBHOOK_MAX_ATTEMPTS
# Connecting (TCP and TLS) must take at most this, within WEBHOOK_TIMEOUT_SECONDS: an address
# that drops packets gives its worker back after seconds.
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.WEBHOOK_CONNECT_TIMEOUT_SECONDS
# Webhooks are sent by a cluster of their own (`Q_QUEUE=webhooks manage.py qcluster`; `serve`
# starts it), on the queue `<Q_CLUSTER_NAME>-webhooks`: a receiver that never answers holds
# one of these workers for WEBHOOK_TIMEOUT_SECONDS, never a render worker. Measured in
# bench/README.md ("Webhooks and renders").
WEBHOOK_WORKERS = env.WEBHOOK_WORKERS
Q_QUEUE = env.Q_QUEUE
if Q_QUEUE == "webhooks":
    Q_CLUSTER.update(
        cluster_name=f"{Q_CLUSTER['name']}-webhooks",
        workers=WEBHOOK_WORKERS,
        # One attempt takes at most WEBHOOK_TIMEOUT_SECONDS; the lease covers a minute more.
        timeout=WEBHOOK_TIMEOUT_SECONDS + 30,
        retry=WEBHOOK_TIMEOUT_SECONDS + 90,
    )


# --- Kling (only read when GENERATION_PROVIDERS names `kling` for a model) --------------------
KLING_ACCESS_KEY = env.KLING_ACCESS_KEY
KLING_SECRET_KEY = env.KLING_SECRET_KEY
KLING_BASE_URL = env.KLING_BASE_URL
# This site's public address, for Kling's callbacks and for the voices/videos it fetches.
KLING_CALLBACK_BASE_URL: str = (
    env.KLING_CALLBACK_BASE_URL if env.KLING_CALLBACK_BASE_URL is not None else PUBLIC_BASE_URL
)
KLING_TOKEN_TTL_SECONDS = env.KLING_TOKEN_TTL_SECONDS
KLING_RETRY_BASE_SECONDS = env.KLING_RETRY_BASE_SECONDS
KLING_RETRY_MAX_SECONDS = env.KLING_RETRY_MAX_SECONDS
KLING_RETRY_MAX_WAIT_SECONDS = env.KLING_RETRY_MAX_WAIT_SECONDS
KLING_POLL_SECONDS = env.KLING_POLL_SECONDS
KLING_POLL_MAX_SECONDS = env.KLING_POLL_MAX_SECONDS
KLING_TASK_TIMEOUT_SECONDS = env.KLING_TASK_TIMEOUT_SECONDS
KLING_HTTP_TIMEOUT_SECONDS = env.KLING_HTTP_TIMEOUT_SECONDS
KLING_CREDENTIALS_CHECK_SECONDS = env.KLING_CREDENTIALS_CHECK_SECONDS
# Voice Library presets Kling has a preset voice for, as JSON: {"<our preset's name>": "<the
# voice_id Kling lists at /v1/general/presets-voices>"}. A mapped preset is bound by Kling's
# id instead of being uploaded as a custom voice.
KLING_PRESET_VOICES: dict[str, str] = env.KLING_PRESET_VOICES
# A job waiting on Kling gives its worker back after this long and is queued again (keep it
# well below Q_TIMEOUT, or the queue kills the worker first).
KLING_WORKER_HOLD_SECONDS = env.KLING_WORKER_HOLD_SECONDS

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.BEHIND_TLS_PROXY else None
