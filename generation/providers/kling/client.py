"""The HTTP client for the Kling API: the JWT, the envelope, the error table, and the retry.

httpx with timeouts; the token is an HS256 JWT (PyJWT) minted from the access key (`iss`) and
signed with the secret key, cached per key pair and minted again a margin before it expires,
or at once when the server answers 1003/1004.

Errors carry the provider's `code` and are sorted into what we do about them
(`KlingError.kind`): `retry` (1302, 1303, 5000–5002 and network failures: retried with the
one back-off policy, `elementsite.backoff`, from `KLING_RETRY_BASE_SECONDS` doubling up to
`KLING_RETRY_MAX_SECONDS`, for at most `KLING_RETRY_MAX_WAIT_SECONDS` of pauses), `reauth`
(1003/1004: mint again, retry once), `auth`/`account`/`access`/`missing` (fatal, staff are
alerted), `invalid` (1200/1201) and `policy` (1300/1301, shown to the user).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import httpx
import jwt
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception

from elementsite.backoff import Backoff

logger = logging.getLogger("generation.kling")

PROVIDER = "kling"

# Routes (kling-api.md §3–§6).
OMNI_VIDEO = "/v1/videos/omni-video"
IMAGE_TO_VIDEO = "/v1/videos/image2video"
TEXT_TO_VIDEO = "/v1/videos/text2video"
OMNI_IMAGE = "/v1/images/omni-image"
ELEMENTS = "/v1/general/advanced-custom-elements"
DELETE_ELEMENTS = "/v1/general/delete-elements"
VOICES = "/v1/general/custom-voices"
DELETE_VOICES = "/v1/general/delete-voices"
PRESET_VOICES = "/v1/general/presets-voices"

RETRY_CODES = frozenset({1302, 1303, 5000, 5001, 5002})
REAUTH_CODES = frozenset({1003, 1004})
AUTH_CODES = frozenset({1000, 1001, 1002})
ACCOUNT_CODES = frozenset({1100, 1101, 1102, 1304})
ACCESS_CODES = frozenset({1103})
INVALID_CODES = frozenset({1200, 1201})
MISSING_CODES = frozenset({1202, 1203})
POLICY_CODES = frozenset({1300, 1301})
# Codes staff must act on: credentials, the account, access, a missing model or route.
ALERT_KINDS = frozenset({"auth", "account", "access", "missing"})


class KlingConfigError(Exception):
    """The Kling provider is chosen but its settings are missing."""


class KlingError(Exception):
    """An answer other than `code` 0, or no answer at all (`code` -1)."""

    def __init__(self, status: int, code: int, message: str, request_id: str = "") -> None:
        super().__init__(f"Kling {status}/{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def kind(self) -> str:
        code = self.code
        if code in RETRY_CODES or code == -1:
            return "retry"
        if code in REAUTH_CODES:
            return "reauth"
        if code in AUTH_CODES:
            return "auth"
        if code in ACCOUNT_CODES:
            return "account"
        if code in ACCESS_CODES:
            return "access"
        if code in INVALID_CODES:
            return "invalid"
        if code in MISSING_CODES:
            return "missing"
        if code in POLICY_CODES:
            return "policy"
        if self.status >= 500:
            return "retry"
        return "invalid"


def mint_token(access_key: str, secret_key: str, *, now: float, ttl: int) -> str:
    """An HS256 JWT: `iss` the access key, `exp` now + ttl, `nbf` now − 5 (clock skew)."""
    claims = {"iss": access_key, "exp": int(now) + ttl, "nbf": int(now) - 5}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


@dataclass
class _Cached:
    token: str
    expires_at: float


_tokens: dict[str, _Cached] = {}
_tokens_lock = threading.Lock()


@dataclass(frozen=True)
class KlingSettings:
    access_key: str
    secret_key: str
    base_url: str
    callback_base_url: str
    token_ttl: int
    retry_base: float
    retry_max: float
    retry_max_wait: float
    poll_interval: float
    poll_max_interval: float
    task_timeout: float
    http_timeout: float
    hold_worker_for: float

    @classmethod
    def load(cls) -> KlingSettings:
        """The provider's settings as `elementsite.settings` parsed them (defaults live there)."""
        access_key, secret_key = settings.KLING_ACCESS_KEY, settings.KLING_SECRET_KEY
        missing = [
            name
            for name, value in (("KLING_ACCESS_KEY", access_key), ("KLING_SECRET_KEY", secret_key))
            if not value
        ]
        if missing:
            raise KlingConfigError(f"The Kling provider needs {' and '.join(missing)}.")
        return cls(
            access_key=access_key,
            secret_key=secret_key,
            base_url=str(settings.KLING_BASE_URL).rstrip("/"),
            callback_base_url=str(settings.KLING_CALLBACK_BASE_URL).rstrip("/"),
            token_ttl=int(settings.KLING_TOKEN_TTL_SECONDS),
            retry_base=float(settings.KLING_RETRY_BASE_SECONDS),
            retry_max=float(settings.KLING_RETRY_MAX_SECONDS),
            retry_max_wait=float(settings.KLING_RETRY_MAX_WAIT_SECONDS),
            poll_interval=float(settings.KLING_POLL_SECONDS),
            poll_max_interval=float(settings.KLING_POLL_MAX_SECONDS),
            task_timeout=float(settings.KLING_TASK_TIMEOUT_SECONDS),
            http_timeout=float(settings.KLING_HTTP_TIMEOUT_SECONDS),
            hold_worker_for=float(settings.KLING_WORKER_HOLD_SECONDS),
        )

    @property
    def retry_backoff(self) -> Backoff:
        """Pauses between retries of one call: from `retry_base`, doubling, capped."""
        return Backoff(first=self.retry_base, cap=self.retry_max, factor=2.0)

    @property
    def poll_backoff(self) -> Backoff:
        """Pauses between status queries of one task: from `poll_interval`, ×1.5, capped."""
        return Backoff(first=self.poll_interval, cap=self.poll_max_interval, factor=1.5)


Waiter = Callable[[float], None]


def _http_url(url: str) -> str:
    """Only http(s): a `file:` URL in a result must never read our disk."""
    if not url.lower().startswith(("http://", "https://")):
        raise KlingError(0, 1200, f"not an http(s) URL: {url[:80]}")
    return url


def plain_sleep(seconds: float) -> None:
    time.sleep(seconds)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, KlingError) and exc.kind == "retry"


class KlingClient:
    def __init__(self, config: KlingSettings, *, wait: Waiter = plain_sleep) -> None:
        self.config = config
        # Called for every back-off pause: a job passes one that keeps its heartbeat and
        # notices a cancel while it waits.
        self.wait = wait

    @classmethod
    def from_settings(cls, *, wait: Waiter = plain_sleep) -> KlingClient:
        return cls(KlingSettings.load(), wait=wait)

    # --- token ----------------------------------------------------------------------------

    def cache_key(self) -> str:
        """One key per key pair (a hash: the secret never becomes a cache key)."""
        raw = f"{self.config.access_key}\0{self.config.secret_key}".encode()
        return hashlib.sha256(raw).hexdigest()

    def token(self, *, fresh: bool = False) -> str:
        """The cached token, minted again when fewer than a sixth of its life (at most 5
        minutes) is left, or when `fresh`."""
        key = self.cache_key()
        now = time.time()
        margin = min(300.0, self.config.token_ttl / 6)
        with _tokens_lock:
            cached = _tokens.get(key)
            if fresh or cached is None or cached.expires_at - margin <= now:
                token = mint_token(
                    self.config.access_key,
                    self.config.secret_key,
                    now=now,
                    ttl=self.config.token_ttl,
                )
                cached = _tokens[key] = _Cached(token, now + self.config.token_ttl)
            return cached.token

    # --- requests -------------------------------------------------------------------------

    def _retrying(self) -> Retrying:
        """The one retry policy (`elementsite.backoff`): retryable errors only, pausing through
        `self.wait`, and giving up before the pauses would pass `retry_max_wait`."""
        budget = self.config.retry_max_wait

        def over_budget(state: RetryCallState) -> bool:
            return state.idle_for + state.upcoming_sleep > budget

        return Retrying(
            retry=retry_if_exception(_retryable),
            wait=self.config.retry_backoff.wait(),
            stop=over_budget,
            sleep=lambda seconds: self.wait(seconds),
            reraise=True,
        )

    def call_once(self, method: str, path: str, body: dict[str, Any] | None, token: str) -> Any:
        """One request, no retry: the envelope's `data`, or a `KlingError`."""
        try:
            with httpx.Client(timeout=self.config.http_timeout) as http:
                response = http.request(
                    method,
                    _http_url(self.config.base_url + path),
                    json=body,
                    # No token, no header (httpx refuses a bare "Bearer "): Kling answers 1001.
                    headers={"Authorization": f"Bearer {token}"} if token else {},
                )
        except httpx.TransportError as exc:
            raise KlingError(0, -1, f"no answer: {exc}") from exc
        status = response.status_code
        try:
            envelope = response.json() if response.content else {}
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "code" not in envelope:
            code = -1 if status >= 500 or status == 0 else 1200
            raise KlingError(status, code, f"unexpected answer (HTTP {status})")
        code = int(envelope.get("code") or 0)
        request_id = str(envelope.get("request_id") or "")
        if code != 0 or status >= 400:
            raise KlingError(status, code or -1, str(envelope.get("message") or ""), request_id)
        logger.debug("kling %s %s ok request_id=%s", method, path, request_id)
        return envelope.get("data")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API call: 1003/1004 mint a new token and try once more; 1302/1303/5000–5002
        and network failures are retried with the back-off policy for at most
        `KLING_RETRY_MAX_WAIT_SECONDS` of pauses; anything else is raised."""
        reauthed = False

        def attempt() -> Any:
            nonlocal reauthed
            fresh = False
            while True:
                try:
                    return self.call_once(method, path, body, self.token(fresh=fresh))
                except KlingError as exc:
                    logger.info(
                        "kling %s %s: HTTP %s code %s %s (request_id=%s)",
                        method,
                        path,
                        exc.status,
                        exc.code,
                        exc.message,
                        exc.request_id,
                    )
                    if exc.kind == "reauth" and not reauthed:
                        reauthed = fresh = True
                        continue
                    raise

        return self._retrying()(attempt)

    def download(self, url: str, target: IO[bytes], *, max_bytes: int = 1024 * 1024 * 1024) -> int:
        """Stream a result file into the open binary file `target`; retried like a call."""

        def attempt() -> int:
            target.seek(0)
            target.truncate()
            try:
                with (
                    httpx.Client(timeout=self.config.http_timeout, follow_redirects=True) as http,
                    http.stream("GET", _http_url(url)) as response,
                ):
                    status = response.status_code
                    if status >= 400:
                        # A missing file stays missing; a failing server may recover.
                        code = -1 if status >= 500 else 1203
                        raise KlingError(status, code, f"download failed: HTTP {status}")
                    size = 0
                    for chunk in response.iter_bytes(1024 * 1024):
                        size += len(chunk)
                        if size > max_bytes:
                            raise KlingError(0, 1200, "result file too large")
                        target.write(chunk)
                    return size
            except httpx.TransportError as exc:
                raise KlingError(0, -1, f"download failed: {exc}") from exc

        return int(self._retrying()(attempt))
