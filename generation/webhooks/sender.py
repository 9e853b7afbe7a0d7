"""Webhooks on the wire: signing, checking where a URL leads, and the POST itself.

No database here (the outbox, retries and records are in `generation.webhooks.services`).

**Signature.** Each attempt is signed anew: `Webhook-Timestamp` is the attempt's Unix time,
`Webhook-Signature` is `v1=` + hex HMAC-SHA256, keyed with the endpoint's secret, of
`"{timestamp}.{body}"`. A receiver recomputes it, compares in constant time and refuses a
timestamp far from its clock, so a captured request can't be replayed later. `Webhook-Id` is
the event id, the same on every attempt: receivers de-duplicate on it. This is our documented
contract, not the Standard Webhooks scheme it resembles (that one signs `"{id}.{timestamp}.
{body}"`, as `v1,` + base64, keyed with the base64-decoded secret), so the `standardwebhooks`
library would change what every receiver checks; it is not used.

**Addresses.** A webhook is a request our servers make to a URL a user typed, so the URL
must not reach our own network (server-side request forgery). The host is resolved and
*every* address it resolves to is checked: loopback, private, link-local (cloud metadata at
169.254.169.254), unspecified, multicast, reserved, shared, documentation ranges — IPv4 and
IPv6, and IPv4 inside IPv6 (mapped, 6to4, Teredo, NAT64) — are refused. At delivery the
check runs again on a fresh resolution and the connection goes to the very address that was
checked (the Host header and TLS name stay the URL's), so a DNS answer that changes between
the check and the connection (rebinding) gains nothing. Redirects are never followed.

**The POST** is httpx's, with its timeouts, on a transport whose connections go to the checked
addresses (`_PinnedBackend`); the whole attempt also ends by one deadline.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from generation.webhooks.error_codes import WebhookErrorCode

SECRET_PREFIX = "whsec_"  # noqa: S105 (a public prefix, not a secret)
SIGNATURE_VERSION = "v1"
USER_AGENT = "ElementLibrary-Webhooks/1"
MAX_URL_LENGTH = 2000
_EXCERPT = 500
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookURLError(Exception):
    """A URL we won't send to; `code` is a `WebhookErrorCode`."""

    def __init__(self, code: WebhookErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` header: `v1=` + hex HMAC-SHA256 of `"{timestamp}.{body}"`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signed_headers(*, secret: str, event_id: str, event_type: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        "Webhook-Event": event_type,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, timestamp, body),
    }


# --- Where a URL leads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A checked URL taken apart: the connection goes to an address, the rest is sent."""

    scheme: str
    host: str
    port: int
    request_target: str

    @property
    def url(self) -> str:
        """The URL again (without what `parse_url` refused): its host names the Host header
        and the TLS name, while the connection goes to a checked address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        netloc = host if self.port == default else f"{host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.request_target}"


def parse_url(url: str, *, require_https: bool) -> Target:
    """Take a webhook URL apart, or refuse it: http(s) only (https only when required), a
    host, no user name or password, printable ASCII without spaces."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise WebhookURLError(
            WebhookErrorCode.URL_INVALID, f"Give a URL of at most {MAX_URL_LENGTH} characters."
        )
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        raise WebhookURLError(
            WebhookErrorCode.URL_INVALID,
            "The URL may hold only printable ASCII without spaces (percent-encode the rest).",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookURLError(WebhookErrorCode.URL_INVALID, "This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookURLError(WebhookErrorCode.URL_INVALID, "The URL must start with https://.")
    if require_https and scheme != "https":
        raise WebhookURLError(
            WebhookErrorCode.HTTPS_REQUIRED, "Webhook URLs must use https:// here."
        )
    if parts.username is not None or parts.password is not None:
        raise WebhookURLError(
            WebhookErrorCode.URL_INVALID,
            "Leave the user name and password out of the URL; check our signature instead.",
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookURLError(WebhookErrorCode.URL_INVALID, "The URL has no host.")
    if port == 0:
        raise WebhookURLError(WebhookErrorCode.URL_INVALID, "The URL's port is not valid.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        request_target=target,
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries to an IPv4 host."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found += list(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_refusal(ip: IPAddress) -> str | None:
    """Why we won't connect to `ip` ("loopback", "private"…), or None for a public address."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates += _embedded_ipv4(ip)
    for address in candidates:
        for reason, refused in (
            ("unspecified", address.is_unspecified),
            ("loopback", address.is_loopback),
            ("link-local", address.is_link_local),
            ("private", address.is_private),
            ("multicast", address.is_multicast),
            ("reserved", address.is_reserved),
            ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
            # Shared (100.64/10, carrier NAT), documentation and benchmark ranges…
            ("non-public", not address.is_global),
        ):
            if refused:
                return reason
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(target: Target) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal is itself), in resolver order."""
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise WebhookURLError(
            WebhookErrorCode.URL_UNRESOLVABLE, f"The host {target.host} could not be resolved."
        ) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 link-local answer may carry a zone (`fe80::1%eth0`); the address is refused
        # anyway, the zone only has to parse.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookURLError(
            WebhookErrorCode.URL_UNRESOLVABLE, f"The host {target.host} has no address."
        )
    return addresses


def checked_addresses(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """Resolve the host and refuse it if any address it resolves to is not public (one bad
    answer among good ones is how a rebinding attack starts), unless `allow_private`."""
    addresses = resolve(target)
    if allow_private:
        return addresses
    for address in addresses:
        reason = address_refusal(address)
        if reason is not None:
            shown = target.host if str(address) == target.host else f"{target.host} ({address})"
            raise WebhookURLError(
                WebhookErrorCode.ADDRESS_REFUSED,
                f"Webhooks can't be sent to {shown}: a {reason} address.",
            )
    return addresses


# --- The POST ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str
    excerpt: str
    address: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _ConnectFailed(httpcore.ConnectError):
    """No address accepted a connection; the message names each one's error."""


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the attempt's deadline, and whose TLS
    handshake ends by the connection's: httpx's timeouts are per operation, and a receiver
    that drips one byte at a time must not hold the worker past its lease."""

    def __init__(self, inner: httpcore.NetworkStream, pinned: _PinnedBackend) -> None:
        self._inner, self._pinned = inner, pinned

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._pinned.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._pinned.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # The name checked against the certificate (and sent as SNI) is the URL's host,
        # which httpcore passes here; the socket is the one connected to the pinned address.
        left = self._pinned.left(timeout, httpcore.ConnectTimeout, by=self._pinned.connected_by)
        tls = self._inner.start_tls(ssl_context, server_hostname, left)
        return _DeadlineStream(tls, self._pinned)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.SyncBackend):
    """httpcore's network backend, except that a connection goes to the addresses we checked
    (the first that accepts), never to what the host name resolves to now: a DNS answer
    that changed since the check (rebinding) is never asked for. Everything above the socket
    (the Host header, TLS with the URL's name, HTTP/1.1) is httpx's and httpcore's."""

    def __init__(self, addresses: list[IPAddress], *, deadline: float, connected_by: float):
        self.addresses = addresses
        self.deadline, self.connected_by = deadline, connected_by
        self.address = ""

    def left(
        self, timeout: float | None, error: type[Exception], *, by: float | None = None
    ) -> float:
        """The operation's timeout, cut to what is left until `by` (the attempt's deadline)."""
        remaining = (self.deadline if by is None else by) - time.monotonic()
        if remaining <= 0:
            raise error("The deadline passed.")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        errors: list[str] = []
        for candidate in self.addresses:
            self.address = str(candidate)
            left = self.left(timeout, httpcore.ConnectTimeout, by=self.connected_by)
            try:
                # A literal address: no DNS lookup happens here.
                stream = super().connect_tcp(
                    self.address, port, left, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                cause = exc.__cause__
                reason = cause.strerror if isinstance(cause, OSError) else None
                errors.append(f"{self.address}: {reason or cause or exc}")
                continue
            return _DeadlineStream(stream, self)
        raise _ConnectFailed("Could not connect: " + "; ".join(errors))


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose connections go to the pinned addresses.

    httpx 0.28 has no parameter for httpcore's `network_backend` (encode/httpx#3749 adds
    one), so the pool `HTTPTransport` made is replaced by one built the same way with ours;
    `test_delivery_connects_to_the_address_it_checked` fails if it is ever not used."""

    def __init__(self, backend: _PinnedBackend, tls_context: ssl.SSLContext) -> None:
        super().__init__(verify=tls_context, trust_env=False, http1=True, http2=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context,
            max_connections=1,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            network_backend=backend,
        )


def _root(exc: BaseException) -> BaseException:
    """The error at the bottom of httpx's and httpcore's wrapping (an `ssl.SSLError`…):
    each wraps the one below as its cause or, where a pool re-raised it, as its argument."""
    while True:
        below = exc.__cause__ or next(
            (arg for arg in exc.args if isinstance(arg, BaseException)), None
        )
        if below is None:
            return exc
        exc = below


def post(
    target: Target,
    addresses: list[IPAddress],
    *,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    connect_timeout: float | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> PostResult:
    """POST `body` to the first of `addresses` that accepts a connection, all of it (connect,
    TLS, send, status line) within `timeout` seconds, the connection (TCP and TLS) within
    `connect_timeout` of them. Only the status line, the headers and what of the body arrives
    in time (up to the excerpt) are read; a 3xx is an answer like any other (no redirect is
    followed)."""
    started = time.monotonic()
    connect_within = min(timeout, connect_timeout or timeout)
    pinned = _PinnedBackend(
        addresses, deadline=started + timeout, connected_by=started + connect_within
    )

    def result(code: int | None, error: str, excerpt: str = "") -> PostResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return PostResult(code, error[:300], excerpt[:_EXCERPT], pinned.address, elapsed)

    # The request as httpx builds it, on our transport: only our headers, the Host header
    # (the URL's host and port) and the Content-Length; no client's defaults (Accept…).
    request = httpx.Request(
        "POST",
        target.url,
        headers={**headers, "Connection": "close"},
        content=body,
        extensions={"timeout": httpx.Timeout(timeout, connect=connect_within).as_dict()},
    )
    if target.scheme == "https":
        tls_context = tls_context or ssl.create_default_context()
    else:
        # Never used over plain http; loading the CA store would cost a good part of a short
        # timeout.
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with _PinnedTransport(pinned, tls_context) as transport:
        try:
            response = transport.handle_request(request)
            try:
                return result(response.status_code, "", _read_excerpt(response))
            finally:
                response.close()
        except httpx.ConnectTimeout:
            return result(None, f"Could not connect within {connect_within:g} s.")
        except httpx.TimeoutException:
            return result(None, f"No answer within {timeout:g} s.")
        except httpx.RemoteProtocolError:
            return result(None, "The receiver did not answer with HTTP.")
        except httpx.TransportError as exc:
            root = _root(exc)
            if isinstance(root, _ConnectFailed):
                return result(None, str(root))
            if isinstance(root, ssl.SSLError):
                return result(None, f"TLS failed: {root.reason or root}")
            if isinstance(root, OSError):
                return result(None, f"Connection failed: {root.strerror or root}")
            return result(None, f"Connection failed: {root}")


def _read_excerpt(response: httpx.Response) -> str:
    """The start of the answer's body, for the record: what fits in the excerpt and arrives
    before the deadline (the status is known already, so a slow body costs nothing more)."""
    excerpt = b""
    try:
        for chunk in response.iter_raw():
            excerpt += chunk
            if len(excerpt) >= _EXCERPT:
                break
    except httpx.HTTPError:
        pass
    return excerpt[:_EXCERPT].decode("utf-8", "replace")
