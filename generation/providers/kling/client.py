"""A small HTTP client for the Kling API: the JWT, the envelope, and the error table.

Standard library only (urllib): the API is plain JSON over HTTPS. The token is an HS256 JWT
minted from the access key (`iss`) and signed with the secret key; it is cached per key pair
and minted again a margin before it expires, or at once when the server answers 1003/1004.

Errors carry the provider's `code` and are sorted into what we do about them
(`KlingError.kind`): `retry` (1302, 1303, 5000–5002 and network failures: exponential
back-off from `KLING_RETRY_BASE_SECONDS`, at least 1 s in production), `reauth` (1003/1004:
mint again, retry once), `auth`/`account`/`access`/`missing` (fatal, staff are alerted),
`invalid` (1200/1201) and `policy` (1300/1301, shown to the user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(access_key: str, secret_key: str, *, now: float, ttl: int) -> str:
    """An HS256 JWT: `iss` the access key, `exp` now + ttl, `nbf` now − 5 (clock skew)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iss": access_key, "exp": int(now) + ttl, "nbf": int(now) - 5}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret_key.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


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
        access_key = getattr(settings, "KLING_ACCESS_KEY", "")
        secret_key = getattr(settings, "KLING_SECRET_KEY", "")
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
            base_url=str(getattr(settings, "KLING_BASE_URL", "")).rstrip("/"),
            callback_base_url=str(getattr(settings, "KLING_CALLBACK_BASE_URL", "")).rstrip("/"),
            token_ttl=int(getattr(settings, "KLING_TOKEN_TTL_SECONDS", 1800)),
            retry_base=float(getattr(settings, "KLING_RETRY_BASE_SECONDS", 1.0)),
            retry_max=float(getattr(settings, "KLING_RETRY_MAX_SECONDS", 60.0)),
            retry_max_wait=float(getattr(settings, "KLING_RETRY_MAX_WAIT_SECONDS", 1800.0)),
            poll_interval=float(getattr(settings, "KLING_POLL_SECONDS", 2.0)),
            poll_max_interval=float(getattr(settings, "KLING_POLL_MAX_SECONDS", 30.0)),
            task_timeout=float(getattr(settings, "KLING_TASK_TIMEOUT_SECONDS", 3600.0)),
            http_timeout=float(getattr(settings, "KLING_HTTP_TIMEOUT_SECONDS", 30.0)),
            hold_worker_for=float(getattr(settings, "KLING_WORKER_HOLD_SECONDS", 300.0)),
        )


Waiter = Callable[[float], None]


def _http_url(url: str) -> str:
    """Only http(s): a `file:` URL in a result must never read our disk."""
    if not url.lower().startswith(("http://", "https://")):
        raise KlingError(0, 1200, f"not an http(s) URL: {url[:80]}")
    return url


def plain_sleep(seconds: float) -> None:
    time.sleep(seconds)


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

    def _cache_key(self) -> str:
        raw = f"{self.config.access_key}\0{self.config.secret_key}".encode()
        return hashlib.sha256(raw).hexdigest()

    def token(self, *, fresh: bool = False) -> str:
        """The cached token, minted again when fewer than a sixth of its life (at most 5
        minutes) is left, or when `fresh`."""
        key = self._cache_key()
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

    def _once(self, method: str, path: str, body: dict[str, Any] | None, token: str) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - _http_url allows http(s) only
            _http_url(self.config.base_url + path),
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.http_timeout) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise KlingError(0, -1, f"no answer: {exc}") from exc
        try:
            envelope = json.loads(raw or b"{}")
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
        and network failures are retried with exponential back-off (base, doubling, capped)
        for at most `KLING_RETRY_MAX_WAIT_SECONDS`; anything else is raised."""
        delay = self.config.retry_base
        waited = 0.0
        reauthed = False
        fresh = False
        while True:
            try:
                return self._once(method, path, body, self.token(fresh=fresh))
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
                if exc.kind != "retry" or waited + delay > self.config.retry_max_wait:
                    raise
                fresh = False
                self.wait(delay)
                waited += delay
                delay = min(self.config.retry_max, delay * 2)

    def download(self, url: str, target: Any, *, max_bytes: int = 1024 * 1024 * 1024) -> int:
        """Stream a result file into the open binary file `target`; retried like a call."""
        delay = self.config.retry_base
        waited = 0.0
        while True:
            try:
                opened = urllib.request.urlopen(  # noqa: S310 - _http_url allows http(s) only
                    _http_url(url), timeout=self.config.http_timeout
                )
                with opened as response:
                    size = 0
                    while chunk := response.read(1024 * 1024):
                        size += len(chunk)
                        if size > max_bytes:
                            raise KlingError(0, 1200, "result file too large")
                        target.write(chunk)
                    return size
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                status = getattr(exc, "code", 0) or 0
                if status and status < 500:
                    raise KlingError(status, 1203, f"download failed: {exc}") from exc
                if waited + delay > self.config.retry_max_wait:
                    raise KlingError(status, -1, f"download failed: {exc}") from exc
                target.seek(0)
                target.truncate()
                self.wait(delay)
                waited += delay
                delay = min(self.config.retry_max, delay * 2)
