"""Webhooks on the wire: signing, checking where a URL leads, and the POST itself.

No database here (the outbox, retries and records are in `generation.webhooks.services`).

**Signature.** Each attempt is signed anew: `Webhook-Timestamp` is the attempt's Unix time,
`Webhook-Signature` is `v1=` + hex HMAC-SHA256, keyed with the endpoint's secret, of
`"{timestamp}.{body}"`. A receiver recomputes it, compares in constant time and refuses a
timestamp far from its clock, so a captured request can't be replayed later. `Webhook-Id` is
the event id, the same on every attempt: receivers de-duplicate on it.

**Addresses.** A webhook is a request our servers make to a URL a user typed, so the URL
must not reach our own network (server-side request forgery). The host is resolved and
*every* address it resolves to is checked: loopback, private, link-local (cloud metadata at
169.254.169.254), unspecified, multicast, reserved, shared, documentation ranges — IPv4 and
IPv6, and IPv4 inside IPv6 (mapped, 6to4, Teredo, NAT64) — are refused. At delivery the
check runs again on a fresh resolution and the connection goes to the very address that was
checked (the Host header and TLS name stay the URL's), so a DNS answer that changes between
the check and the connection (rebinding) gains nothing. Redirects are never followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from generation.webhooks.error_codes import WebhookErrorCode

SECRET_PREFIX = "whsec_"  # noqa: S105 (a public prefix, not a secret)
SIGNATURE_VERSION = "v1"
USER_AGENT = "ElementLibrary-Webhooks/1"
MAX_URL_LENGTH = 2000
_MAX_RESPONSE_HEAD = 16 * 1024
_EXCERPT = 500
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.I)

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
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


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


def _request_bytes(target: Target, headers: dict[str, str], body: bytes) -> bytes:
    lines = [
        f"POST {target.request_target} HTTP/1.1",
        f"Host: {target.host_header}",
        *(f"{name}: {value}" for name, value in headers.items()),
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def _read_excerpt(
    sock: socket.socket, headers: bytes, body: bytes, remaining: Callable[[], float]
) -> bytes:
    """The start of the answer's body, for the record: what fits in the excerpt and arrives
    before the deadline (the status is known already, so a slow body costs nothing more)."""
    length = _CONTENT_LENGTH.search(headers)
    wanted = min(_EXCERPT, int(length.group(1))) if length else _EXCERPT
    try:
        while len(body) < wanted:
            sock.settimeout(remaining())
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except (TimeoutError, OSError):
        pass
    return body[:_EXCERPT]


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
    `connect_timeout` of them. Only the status line and what came with the headers are read;
    a 3xx is an answer like any other (no redirect is followed)."""
    started = time.monotonic()
    deadline = started + timeout
    connected_by = started + min(timeout, connect_timeout or timeout)

    def remaining(by: float = deadline) -> float:
        left = by - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def result(code: int | None, error: str, excerpt: str = "", address: str = "") -> PostResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return PostResult(code, error[:300], excerpt[:_EXCERPT], address, elapsed)

    sock: socket.socket | None = None
    address = ""
    connecting = True
    try:
        errors: list[str] = []
        for candidate in addresses:
            address = str(candidate)
            try:
                # A literal address: create_connection does no DNS lookup of its own.
                sock = socket.create_connection(
                    (address, target.port), timeout=remaining(connected_by)
                )
                break
            except TimeoutError:
                raise
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc}")
        if sock is None:
            return result(None, "Could not connect: " + "; ".join(errors), address=address)
        if target.scheme == "https":
            context = tls_context or ssl.create_default_context()
            sock.settimeout(remaining(connected_by))
            # The certificate is checked against the URL's host, not the address.
            sock = context.wrap_socket(sock, server_hostname=target.host)
        connecting = False
        sock.settimeout(remaining())
        sock.sendall(_request_bytes(target, headers, body))
        head = b""
        while b"\r\n\r\n" not in head and len(head) < _MAX_RESPONSE_HEAD:
            sock.settimeout(remaining())
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        match = _STATUS_LINE.match(head)
        if match is None:
            return result(None, "The receiver did not answer with HTTP.", address=address)
        status = int(match.group(1))
        response_head, _, rest = head.partition(b"\r\n\r\n")
        rest = _read_excerpt(sock, response_head, rest, remaining)
        return result(status, "", rest.decode("utf-8", "replace"), address)
    except TimeoutError:
        if connecting:
            waited = min(timeout, connect_timeout or timeout)
            return result(None, f"Could not connect within {waited:g} s.", address=address)
        return result(None, f"No answer within {timeout:g} s.", address=address)
    except ssl.SSLError as exc:
        return result(None, f"TLS failed: {exc.reason or exc}", address=address)
    except OSError as exc:
        return result(None, f"Connection failed: {exc.strerror or exc}", address=address)
    finally:
        if sock is not None:
            sock.close()
