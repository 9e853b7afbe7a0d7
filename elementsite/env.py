"""The environment, parsed and checked once at start-up (pydantic-settings).

Every variable the service reads is a typed field here with its one default; the settings
module reads `Env()` and nothing else reads the environment for configuration. A value that
does not parse stops the start with the variable's name and what was wrong
(`KLING_POLL_SECONDS='abc': Input should be a valid number…`), never a bare ValueError from
deep inside the settings or, worse, at the first request that reads it.

An empty variable counts as unset (`FOO=` in a `.env` or a compose file means "the default"),
as the hand-written helpers this replaces did. Lists are comma-separated, not JSON. Booleans
take 1/0, true/false, yes/no, on/off; anything else is refused rather than read as false.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent.parent

CommaList = Annotated[list[str], NoDecode]
Seconds = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


class Env(BaseSettings):
    """The service's environment variables (README.md documents each one)."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore")

    # --- Core
    DEBUG: bool = False
    SECRET_KEY: str = ""
    DATA_DIR: Path = BASE_DIR / "data"
    # None: decided by DEBUG (elementsite/settings.py).
    ALLOWED_HOSTS: CommaList | None = None
    CSRF_TRUSTED_ORIGINS: CommaList = []
    TIME_ZONE: str = "UTC"
    LOG_LEVEL: str = "INFO"
    BEHIND_TLS_PROXY: bool = False
    SECURE_COOKIES: bool | None = None

    # --- Database; None: SQLite in DATA_DIR.
    DATABASE_URL: str | None = None
    SQLITE_BUSY_TIMEOUT: Count = 30
    DB_CONN_MAX_AGE: Count = 60

    # --- Static files and media; None: under BASE_DIR / DATA_DIR.
    WEB_DIST: Path | None = None
    STATIC_ROOT: Path | None = None
    MEDIA_ROOT: Path | None = None
    MEDIA_URL_TTL: Count = 900
    ELEMENT_IMAGE_MAX_BYTES: Count = 20 * 1024 * 1024
    # A 12-megapixel phone photo (4032×3024) and a 48-megapixel one (8064×6048, 48.8 Mpx)
    # pass; decoding one costs at most 50M × 4 bytes = 200 MB of memory. Below Pillow's own
    # warning threshold (~89 Mpx), so our cap is the one that bites.
    ELEMENT_IMAGE_MAX_PIXELS: Count = 50_000_000
    ELEMENT_IMAGE_MIN_SIDE: Count = 300
    VOICE_MAX_BYTES: Count = 50 * 1024 * 1024
    ELEMENT_BUNDLE_MAX_BYTES: Count = 2 * 1024 * 1024 * 1024
    ELEMENT_BUNDLE_MAX_UNPACKED_BYTES: Count = 4 * 1024 * 1024 * 1024
    ELEMENT_EXPORT_TTL_SECONDS: Count = 24 * 3600
    ELEMENT_EXPORT_INLINE_MAX: Count = 10
    VOICE_MIN_SPEECH_RATIO: Annotated[float, Field(ge=0, le=1)] = 0.3
    INPUT_VIDEO_MAX_BYTES: Count = 200 * 1024 * 1024
    ASSIST_PROVIDER: str = "local"
    IDENTITY_ENGINE: str = "local"
    MULTIVIEW_PRICE_CREDITS: Count = 5
    VIDEO_ELEMENT_MAX_BYTES: Count = 200 * 1024 * 1024
    VIDEO_ELEMENT_MAX_SIDE: Count = 4096
    VIDEO_ELEMENT_MAX_SECONDS: Seconds = 120

    # --- Task queue
    REDIS_URL: str = ""
    Q_CLUSTER_NAME: str = "elementsite"
    Q_WORKERS: Count = 2
    Q_TIMEOUT: Count = 600
    Q_RETRY: Count = 720
    Q_MAX_ATTEMPTS: Count = 3
    Q_SYNC: bool = False
    Q_QUEUE: Literal["", "tasks", "webhooks"] = ""

    # --- Web server
    WEB_WORKERS: Count = 2
    WEB_THREADS: Count = 8

    # --- GraphQL; None: on with DEBUG (elementsite/settings.py).
    GRAPHIQL: bool | None = None
    GRAPHQL_INTROSPECTION: bool | None = None
    GRAPHQL_MAX_PAGE_SIZE: Count = 100
    GRAPHQL_MAX_DEPTH: Count = 12
    GRAPHQL_MAX_ALIASES: Count = 15
    GRAPHQL_MAX_TOKENS: Count = 2000
    # None: on unless DEBUG.
    GRAPHQL_TRUSTED_DOCUMENTS_ONLY: bool | None = None

    # --- Accounts
    LOGIN_FAILURE_LIMIT: Count = 5
    LOGIN_LOCKOUT_SECONDS: Count = 900
    API_TOKENS_PER_USER: Count = 20
    DAILY_GRANT_CATCH_UP_DAYS: Count = 7
    FREE_USE_RETENTION_DAYS: Count = 30

    # --- Generation
    GENERATION_PROVIDERS: CommaList = ["*=local"]
    GENERATION_HEARTBEAT_STALE_SECONDS: Count = 60
    GENERATION_SWEEP_INTERVAL_MINUTES: Count = 1
    GENERATION_MAX_ATTEMPTS: Count = 3
    GENERATION_OUTAGE_GRACE_SECONDS: Count = 900
    GENERATION_STORAGE_RETRY_DELAYS: Annotated[list[int], NoDecode] = [2, 4, 8, 16]
    GENERATION_WORK_DIR: str = ""
    GENERATION_CONSISTENCY: bool = True
    GENERATION_CONSISTENCY_TIMEOUT_SECONDS: Count = 900
    IDEMPOTENCY_KEY_TTL_HOURS: Count = 24
    JANITOR_ORPHAN_MIN_AGE_SECONDS: Count = 3600
    JANITOR_INTERVAL_MINUTES: Count = 15

    # --- Explore
    EXPLORE_MODERATION: Literal["pre", "post"] = "post"

    # --- Webhooks; WEBHOOK_REQUIRE_HTTPS None: on unless DEBUG.
    PUBLIC_BASE_URL: str = ""
    WEBHOOK_ENDPOINTS_PER_USER: Count = 10
    WEBHOOK_REQUIRE_HTTPS: bool | None = None
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: bool = False
    WEBHOOK_TIMEOUT_SECONDS: Count = 10
    WEBHOOK_RETRY_BASE_SECONDS: Count = 30
    WEBHOOK_RETRY_MAX_INTERVAL_SECONDS: Count = 3600
    WEBHOOK_RETRY_WINDOW_SECONDS: Count = 24 * 3600
    WEBHOOK_MAX_ATTEMPTS: Count = 20
    WEBHOOK_CONNECT_TIMEOUT_SECONDS: Count = 3
    WEBHOOK_WORKERS: Count = 2

    # --- Kling; KLING_CALLBACK_BASE_URL None: PUBLIC_BASE_URL.
    KLING_ACCESS_KEY: str = ""
    KLING_SECRET_KEY: str = ""
    KLING_BASE_URL: str = "https://api-singapore.klingai.com"
    KLING_CALLBACK_BASE_URL: str | None = None
    KLING_TOKEN_TTL_SECONDS: Count = 1800
    KLING_RETRY_BASE_SECONDS: Seconds = 1
    KLING_RETRY_MAX_SECONDS: Seconds = 60
    KLING_RETRY_MAX_WAIT_SECONDS: Seconds = 1800
    KLING_POLL_SECONDS: Seconds = 2
    KLING_POLL_MAX_SECONDS: Seconds = 30
    KLING_TASK_TIMEOUT_SECONDS: Seconds = 3600
    KLING_HTTP_TIMEOUT_SECONDS: Seconds = 30
    KLING_CREDENTIALS_CHECK_SECONDS: Count = 300
    KLING_WORKER_HOLD_SECONDS: Seconds = 300
    # JSON: {"<our preset's name>": "<Kling's preset voice_id>"}.
    KLING_PRESET_VOICES: dict[str, str] = {}

    @field_validator(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "GENERATION_PROVIDERS",
        "GENERATION_STORAGE_RETRY_DELAYS",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("Q_QUEUE", "EXPLORE_MODERATION", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("ASSIST_PROVIDER", "IDENTITY_ENGINE", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return (value.strip() or "local") if isinstance(value, str) else value

    @field_validator("PUBLIC_BASE_URL", "KLING_CALLBACK_BASE_URL", mode="after")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None


def describe(error: ValidationError) -> str:
    """One line per bad variable: its name, the value given and what is wrong with it."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "environment"
        lines.append(f"{name}={item.get('input')!r}: {item['msg']}")
    return "Invalid environment variable(s): " + "; ".join(lines)


def load_env() -> Env:
    """The environment, checked: ImproperlyConfigured naming each bad variable otherwise."""
    try:
        return Env()
    except ValidationError as exc:
        raise ImproperlyConfigured(describe(exc)) from None
