"""The one way a client-visible error is built.

Three shapes, one per place an error can surface:
- `field_error`: a mutation's refusal (strawberry-django turns it into `OperationInfo`);
- `ClientError`: a query field's refusal (a GraphQL error with `extensions.code`);
- `http_error`: a request refused before GraphQL runs (a JSON body shaped like a GraphQL
  response, with an HTTP status).
Anything else that reaches the schema's error hook is unexpected and is answered as
`INTERNAL_ERROR` with an id (elementsite.schema), except a database that went away:
`SERVICE_UNAVAILABLE`, which a client may retry (`service_unavailable` at the HTTP level).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from graphql import GraphQLError
from strawberry.exceptions import StrawberryGraphQLError

from elementsite.error_codes import RequestErrorCode

logger = logging.getLogger("elementsite.errors")

# Our codes are UPPER_SNAKE StrEnums; Django's own validation codes ("invalid",
# "max_length") are lower case and come with messages about its internals.
_OUR_CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def field_error(field: str | None, message: str, code: str) -> ValidationError:
    """A ValidationError whose code reaches the client: the code sits on the inner error
    (an outer dict error loses it, see PITFALLS.md); `field` is the input it is about, or
    None for the request as a whole."""
    inner = ValidationError(message, code=code)
    return inner if field is None else ValidationError({field: inner})


class ClientError(Exception):
    """An error a query answers with a stable code; graphql-core copies `extensions` onto
    the GraphQL error it builds from it. Logged at info level, one line: it is the client's
    mistake, not ours."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": str(code), **extensions}


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL-shaped body with one error, for answers given before GraphQL runs."""
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": str(code), **extensions}}],
    }


def http_error(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JsonResponse:
    """A JSON answer to a request refused at the HTTP level (bad body, CSRF, too large)."""
    return JsonResponse(error_body(message, code, **extensions), status=status, headers=headers)


# What a request meets when the database goes away under it: psycopg's "terminating connection
# due to administrator command" and "server closed the connection" are OperationalErrors, a
# connection already found dead is an InterfaceError, SQLite's "database is locked" past the
# busy timeout is an OperationalError. None is the request's fault nor a bug of ours; Django
# replaces the dead connection at the next request (CONN_HEALTH_CHECKS).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 1
SERVICE_UNAVAILABLE_MESSAGE = "The service is briefly unavailable; try again in a moment."


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def service_unavailable(where: str, exc: BaseException | None) -> JsonResponse:
    """A request that met no database: 503 with Retry-After, logged as a warning with an id
    (the cause in the log, never in the answer)."""
    error_id = _log_unavailable(where, exc)
    return http_error(
        503,
        RequestErrorCode.SERVICE_UNAVAILABLE,
        SERVICE_UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        errorId=error_id,
    )


def _log_unavailable(where: str, exc: BaseException | None) -> str:
    error_id = uuid.uuid4().hex[:16]
    logger.warning(
        "database unavailable %s at %s: %s: %s",
        error_id,
        where,
        type(exc).__name__,
        _one_line(str(exc)),
    )
    return error_id


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _client_code(original: BaseException) -> str | None:
    """The stable code of an error a client caused, or None for an unexpected one."""
    extensions = getattr(original, "extensions", None)
    if isinstance(extensions, dict) and extensions.get("code"):
        return str(extensions["code"])
    if isinstance(original, (GraphQLError, StrawberryGraphQLError)):
        # graphql-core's and strawberry's own input errors (a variable of the wrong type, an
        # unreadable global id): about the request, and worded for its author.
        return RequestErrorCode.INVALID_INPUT
    code = getattr(original, "code", None)
    if isinstance(original, (PermissionDenied, ValidationError)) and isinstance(code, str):
        return code if _OUR_CODE.match(code) else None
    if isinstance(original, ObjectDoesNotExist):
        return RequestErrorCode.NOT_FOUND
    return None


def prepare_graphql_error(error: GraphQLError) -> None:
    """Make one GraphQL error fit to send, in place, and log it.

    A client's mistake keeps its message, gets a code if it had none, and is logged at info
    level on one line. Anything else is our bug or an outage: the client gets INTERNAL_ERROR
    and an error id, never the exception's text; the log gets the id with the traceback.
    """
    original = error.original_error
    extensions = dict(error.extensions or {})
    if original is None:
        # Syntax, validation and limits: the query text itself is at fault.
        extensions.setdefault("code", RequestErrorCode.GRAPHQL_VALIDATION_FAILED.value)
        code: str | None = extensions["code"]
    else:
        code = _client_code(original)
        if code is not None:
            extensions["code"] = code
            if isinstance(original, ObjectDoesNotExist):
                error.message = "Not found."
    if code is None and database_unavailable(original):
        error_id = _log_unavailable(".".join(str(p) for p in error.path or ()) or "-", original)
        error.message = SERVICE_UNAVAILABLE_MESSAGE
        error.extensions = {
            "code": RequestErrorCode.SERVICE_UNAVAILABLE.value,
            "errorId": error_id,
        }
        return
    if code is not None:
        error.extensions = extensions
        logger.info(
            "client error %s at %s: %s",
            code,
            ".".join(str(p) for p in error.path or ()) or "-",
            _one_line(error.message),
        )
        return
    error_id = uuid.uuid4().hex[:16]
    logger.error(
        "internal error %s at %s",
        error_id,
        ".".join(str(p) for p in error.path or ()) or "-",
        exc_info=(type(original), original, original.__traceback__) if original else None,
    )
    error.message = f"Internal error; quote {error_id} to support."
    error.extensions = {"code": RequestErrorCode.INTERNAL_ERROR.value, "errorId": error_id}
