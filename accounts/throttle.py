"""Login throttling, on django-axes.

axes counts failed logins per user name and per client address (AXES_LOCKOUT_PARAMETERS) in
its `AccessAttempt` rows and, past AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME, refuses the
next ones in its authentication backend. This module adapts it to our API: user names are
compared ignoring case (as logins are), a refused GraphQL login keeps our typed answer, and
the wait is worked out from the same rows axes reads. Staff unlock by deleting the attempt
rows in the admin ("Access attempts").
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' lock check for logins made by a client. An authentication with no request
    (a management command, the test client's `login`) has no client to throttle; axes's own
    backend would refuse it outright."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: logins ignore case, so "Alice" and "alice" share one count."""
    username = (credentials or {}).get("username")
    return username.strip().casefold() if isinstance(username, str) else None


def lock_wait_seconds(*, request: HttpRequest, username: str) -> int:
    """Seconds until the lock on this user name or this client's address lifts: the latest
    failure that counts plus the cool-off (at least 1)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    address = getattr(request, "axes_ip_address", None)
    latest = AccessAttempt.objects.filter(
        Q(username=login_username(request, {"username": username})) | Q(ip_address=address)
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return math.ceil(cool_off.total_seconds())
    return max(1, math.ceil((latest + cool_off - timezone.now()).total_seconds()))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, called by AxesMiddleware on a refused login. The GraphQL
    `login` has already answered TOO_MANY_ATTEMPTS with the wait: keep that answer. Elsewhere
    (the admin's login page) a plain 429."""
    if original_response is not None and request.path.rstrip("/").endswith("/graphql"):
        return original_response
    return HttpResponse(
        "Too many failed logins: try again later.", status=429, content_type="text/plain"
    )
