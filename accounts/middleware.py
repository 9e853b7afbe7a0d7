"""Bearer-token authentication for client apps.

`Authorization: Bearer <token>` replaces the cookie session for that request and exempts it
from CSRF checks: a browser never attaches the header by itself, so a forged cross-site
request can't carry it. A header that does not hold a valid token is refused with 401 and a
typed GraphQL error instead of silently falling back to the session.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts.services import ApiTokenError, api_token_authenticate
from elementsite.errors import http_error


class ApiTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            try:
                user = api_token_authenticate(raw=credentials)
            except ApiTokenError as exc:
                return http_error(
                    401,
                    exc.code,
                    exc.message,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            request.user = user
            request.auth_method = "token"  # type: ignore[attr-defined]
            # Consulted by CsrfViewMiddleware.process_view, which runs after this hook.
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)
