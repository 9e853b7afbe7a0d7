"""The GraphQL endpoint's HTTP layer: every answer is JSON with a stable code.

Strawberry's view answers a body it can't read with plain text, and a body of `null`, `"x"`,
invalid UTF-8 or a multipart `map` that is not an object made it raise (HTTP 500, a Django
traceback page under DEBUG). Django's CSRF refusal is an HTML page. Here each is a JSON body
shaped like a GraphQL response, built by `elementsite.errors.http_error`.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Callable
from typing import Any, cast

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views import csrf, defaults
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    get_nullable_type,
    parse,
)
from graphql.utilities import type_from_ast
from strawberry.django.views import GraphQLView as StrawberryGraphQLView
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData

from elementsite.error_codes import RequestErrorCode
from elementsite.errors import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    http_error,
    service_unavailable,
)
from elementsite.trusted_documents import REQUEST_ATTRIBUTE, trusted_documents
from elementsite.web import graphiql_page

logger = logging.getLogger("elementsite.errors")

_STATUS_CODES = {
    404: RequestErrorCode.NOT_FOUND,
    405: RequestErrorCode.METHOD_NOT_ALLOWED,
    413: RequestErrorCode.REQUEST_TOO_LARGE,
}


class BadRequest(Exception):
    """A body that is not a GraphQL request we accept; the message goes to the client."""


class Refused(Exception):
    """A well-formed request the service will not run; status, code and message go to the
    client."""

    def __init__(self, status: int, code: RequestErrorCode, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


UNKNOWN_DOCUMENT = (
    "This page was built for another version of the service and asked for an operation the "
    "service does not know (`documentId`). Reload the page."
)
TEXT_REFUSED = (
    "A signed-in browser session runs only the web studio's own operations, sent by "
    "`documentId`. To send GraphQL text, authenticate with an API token "
    "(`Authorization: Bearer <token>`)."
)


def _text_refused(request: HttpRequest) -> bool:
    """Whether `request` may not send GraphQL text (GRAPHQL_TRUSTED_DOCUMENTS_ONLY): it came
    with the session cookie and no API token. A request with no cookie can reach only what
    anyone can (dropping the cookie is all it takes), so it may; one with a token is an API
    client's."""
    if not settings.GRAPHQL_TRUSTED_DOCUMENTS_ONLY:
        return False
    if getattr(request, "auth_method", None) == "token":
        return False
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _body_error(exc: BaseException) -> HttpResponse | None:
    """The JSON answer for Django's own refusals of a body, None for anything else."""
    if isinstance(exc, RequestDataTooBig):
        return http_error(413, RequestErrorCode.REQUEST_TOO_LARGE, "The request body is too large.")
    if isinstance(exc, TooManyFilesSent):
        return http_error(
            400,
            RequestErrorCode.BAD_REQUEST,
            f"Too many files: at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} in one request.",
        )
    if isinstance(exc, TooManyFieldsSent):
        return http_error(400, RequestErrorCode.BAD_REQUEST, "Too many form fields.")
    if isinstance(exc, (MultiPartParserError, SuspiciousOperation)):
        return http_error(
            400, RequestErrorCode.BAD_REQUEST, "The body is not the multipart form it claims."
        )
    return None


def _json(raw: str | bytes | None, what: str) -> Any:
    if raw is None:
        raise BadRequest(f"{what} is missing.")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text)
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8.") from None
    except (ValueError, RecursionError):
        raise BadRequest(f"{what} is not JSON.") from None


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _document_of(operations: dict[str, Any]) -> DocumentNode | None:
    """The document a multipart request's `operations` names, by id or as text; None when
    there is none to read (the request is then refused for that, and no file is used)."""
    document_id = operations.get("documentId")
    if document_id is not None:
        trusted = trusted_documents().get(document_id) if isinstance(document_id, str) else None
        return trusted.document if trusted is not None else None
    query = operations.get("query")
    if not isinstance(query, str):
        return None
    try:
        # Bounded like the schema's own parse (MaxTokensLimiter), which runs later.
        return parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError:
        return None


def _is_upload_variable(
    schema: GraphQLSchema, document: DocumentNode | None, operation_name: Any, parts: list[str]
) -> bool | None:
    """Whether `variables.<parts>` is declared as an `Upload` by the operation; None when the
    document can't be read (GraphQL itself then refuses it, and no file is used)."""
    if document is None or (operation_name is not None and not isinstance(operation_name, str)):
        return None
    operation = _operation(document, operation_name)
    if operation is None:
        return None
    definition = next(
        (v for v in operation.variable_definitions or () if v.variable.name.value == parts[0]),
        None,
    )
    if definition is None:
        return False
    gql_type: Any = type_from_ast(schema, definition.type)
    for part in parts[1:]:
        gql_type = get_nullable_type(gql_type)
        if isinstance(gql_type, GraphQLList):
            if not part.isdigit():
                return False
            gql_type = gql_type.of_type
        elif isinstance(gql_type, GraphQLInputObjectType):
            field = gql_type.fields.get(part)
            if field is None:
                return False
            gql_type = field.type
        else:
            return False
    if isinstance(get_nullable_type(gql_type), GraphQLList) or gql_type is None:
        return False
    named: GraphQLNamedType | None = get_named_type(gql_type)
    return named is not None and named.name == "Upload"


def _check_placeholder(operations: dict[str, Any], path: str) -> None:
    """A map path must lead to a `null` the client left for the file."""
    target: Any = operations
    for part in path.split("."):
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            raise BadRequest(f"The map points at `{path}`, which the operations do not hold.")
    if target is not None:
        raise BadRequest(f"The map points at `{path}`, which is not a `null` left for a file.")


class GraphQLView(StrawberryGraphQLView):
    """Strawberry's sync view, reading request bodies strictly and answering JSON always.

    Browsers get our own build of GraphiQL: strawberry's template loads it from a public CDN,
    so offline it never loads; ours is built from the `graphiql` npm package into web/dist
    with the web studio. The page sets the CSRF cookie: GraphiQL sends `csrftoken` back as
    `X-CSRFToken`, and nothing else sets that cookie for a browser that has never visited a
    Django form, so its first `login` would be refused.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.run(request=request)
        except BadRequest as exc:
            return http_error(400, RequestErrorCode.BAD_REQUEST, str(exc))
        except Refused as exc:
            return http_error(exc.status, exc.code, exc.message)
        except HTTPException as exc:
            code = _STATUS_CODES.get(exc.status_code, RequestErrorCode.BAD_REQUEST)
            return http_error(exc.status_code, code, exc.reason)
        except (MultiPartParserError, SuspiciousOperation) as exc:
            response = _body_error(exc)
            assert response is not None
            return response

    def process_result(self, request: HttpRequest, result: Any) -> Any:
        data = super().process_result(request, result)
        errors = cast("list[dict[str, Any]]", data.get("errors") or [])
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        if (
            data.get("data") is None
            and codes
            and set(codes) == {RequestErrorCode.NOT_AUTHENTICATED.value}
        ):
            # Nothing could be answered because no one is logged in: say so in HTTP too.
            # (A view instance serves one request, so this attribute is this request's.)
            self._unauthenticated = True
        if (
            data.get("data") is None
            and codes
            and set(codes) == {RequestErrorCode.SERVICE_UNAVAILABLE.value}
        ):
            # Nothing could be answered because the database was away: a retryable 503.
            self._unavailable = True
        return data

    def create_response(self, response_data: Any, sub_response: Any) -> Any:
        if getattr(self, "_unauthenticated", False):
            sub_response.status_code = 401
            sub_response["WWW-Authenticate"] = "Bearer"
        elif getattr(self, "_unavailable", False):
            sub_response.status_code = 503
            sub_response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return super().create_response(response_data, sub_response)

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return graphiql_page(request)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a trusted document is a query, not a browser opening the IDE.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("documentId") is None
        )

    def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            if request.query_params.get("documentId") is not None:
                return self._request_data(request, self.parse_query_params(request.query_params))
            by_text = super().parse_http_body(request)
            if _text_refused(request.request):
                raise Refused(403, RequestErrorCode.TRUSTED_DOCUMENT_REQUIRED, TEXT_REFUSED)
            return by_text
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            # The adapter's `body` decodes as UTF-8 and raises on anything else: read the
            # bytes of the Django request and decode them ourselves.
            data = _json(request.request.body, "The body")
        elif content_type == "multipart/form-data" and self.multipart_uploads_enabled:
            data = self._multipart(request)
        else:
            raise BadRequest(
                "Send the request as application/json, or as multipart/form-data with files."
            )
        if not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object with a `query` or a `documentId`.")
        return self._request_data(request, data)

    def _request_data(self, request: Any, data: dict[str, Any]) -> GraphQLRequestData:
        """The request's GraphQL parts, checked; a `documentId` (trusted documents) becomes
        the listed text, and the document travels to the schema's caches on the request."""
        query, variables = data.get("query"), data.get("variables")
        extensions, operation_name = data.get("extensions"), data.get("operationName")
        document_id = data.get("documentId")
        if document_id is not None:
            if not isinstance(document_id, str):
                raise BadRequest("`documentId` must be a string.")
            if query is not None:
                raise BadRequest("Send either `query` or `documentId`, not both.")
            trusted = trusted_documents().get(document_id)
            if trusted is None:
                raise Refused(400, RequestErrorCode.PERSISTED_DOCUMENT_NOT_FOUND, UNKNOWN_DOCUMENT)
            setattr(request.request, REQUEST_ATTRIBUTE, trusted)
            query = trusted.text
        elif not isinstance(query, str):
            raise BadRequest("`query` must be a string.")
        elif _text_refused(request.request):
            raise Refused(403, RequestErrorCode.TRUSTED_DOCUMENT_REQUIRED, TEXT_REFUSED)
        if not isinstance(variables, (dict, type(None))):
            raise BadRequest("`variables` must be an object.")
        if not isinstance(extensions, (dict, type(None))):
            raise BadRequest("`extensions` must be an object.")
        if not isinstance(operation_name, (str, type(None))):
            raise BadRequest("`operationName` must be a string.")
        return GraphQLRequestData(
            query=query, variables=variables, operation_name=operation_name, extensions=extensions
        )

    def _multipart(self, request: Any) -> dict[str, Any]:
        """The GraphQL multipart request spec, checked: each file sent goes to exactly one
        place, that place is a `null` left for it, and it is declared as an `Upload`."""
        operations = _json(request.post_data.get("operations"), "The `operations` part")
        files_map = _json(request.post_data.get("map"), "The `map` part")
        if not isinstance(operations, dict):
            raise BadRequest("The `operations` part must be one JSON object (no batches).")
        if not isinstance(files_map, dict):
            raise BadRequest("The `map` part must be a JSON object of file names to paths.")
        files = request.files
        schema = self.schema._schema  # type: ignore[attr-defined]
        document = _document_of(operations) if files_map else None
        places: set[str] = set()
        for name, paths in files_map.items():
            if name not in files:
                raise BadRequest(f"The map names a file `{name}` that was not sent.")
            if not (isinstance(paths, list) and len(paths) == 1 and isinstance(paths[0], str)):
                raise BadRequest(f"The file `{name}` must go to exactly one place.")
            path = paths[0]
            if path in places:
                raise BadRequest(f"Two files go to `{path}`.")
            places.add(path)
            parts = path.split(".")
            if parts[0] != "variables" or len(parts) < 2:
                raise BadRequest(f"The map points at `{path}`, which is not a variable.")
            _check_placeholder(operations, path)
            is_upload = _is_upload_variable(
                schema, document, operations.get("operationName"), parts[1:]
            )
            if is_upload is False:
                raise BadRequest(f"The map points at `{path}`, which is not an `Upload`.")
        return replace_placeholders_with_files(operations, files_map, files)


class GraphQLBodyGuard:
    """Reads a form body for the GraphQL view before CsrfViewMiddleware does.

    Django's CSRF check reads `request.POST` of every cookie request, so a multipart body it
    can't parse (a lying Content-Type, 101 files) raised there, before our view, and became
    an HTML error page. Placed ahead of CsrfViewMiddleware, this answers those with JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "view_class", None)
        if request.method != "POST" or not (
            isinstance(view_class, type) and issubclass(view_class, GraphQLView)
        ):
            return None
        try:
            request.POST  # noqa: B018 (parsing is the point)
            request.FILES  # noqa: B018
        except (MultiPartParserError, SuspiciousOperation) as exc:
            return _body_error(exc)
        return None


class DatabaseOutageGuard:
    """First in MIDDLEWARE: a GraphQL request that met a dead database connection outside the
    schema (the bearer token's lookup, the session, the view) answers 503 SERVICE_UNAVAILABLE
    JSON, not Django's 500 page (a traceback page under DEBUG, which `make run` sets).

    Django turns an exception into a response in the middleware layer it was raised in, so
    no outer middleware ever sees it raised; `got_request_exception` is sent while it is
    being handled, with `sys.exc_info()` set, and marks the request for this layer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(
            _note_database_outage, dispatch_uid="elementsite.views.database_outage"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        outage = getattr(request, "_database_outage", None)
        if outage is not None and _is_graphql(request):
            return service_unavailable(request.path, outage)
        return response


def _note_database_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    exc = sys.exc_info()[1]
    if request is not None and database_unavailable(exc):
        request._database_outage = exc  # type: ignore[attr-defined]


def _is_graphql(request: HttpRequest) -> bool:
    return request.path.rstrip("/").endswith("/graphql")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON for the API, Django's page for the admin.

    With a session cookie the request is cookie-authenticated and its token is missing or
    wrong: CSRF_FAILED. With no session cookie and no bearer token it carries no credentials
    at all: NOT_AUTHENTICATED, saying both ways in.
    """
    if not _is_graphql(request):
        return csrf.csrf_failure(request, reason=reason)
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return http_error(
            403,
            RequestErrorCode.CSRF_FAILED,
            "A cookie-session request needs the CSRF token in an X-CSRFToken header "
            "(the `csrfToken` query gives one).",
        )
    return http_error(
        401,
        RequestErrorCode.NOT_AUTHENTICATED,
        "No credentials: send `Authorization: Bearer <token>`, or log in with the CSRF "
        "token in an X-CSRFToken header (the `csrfToken` query gives one).",
        headers={"WWW-Authenticate": "Bearer"},
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (DEBUG off): JSON for the API."""
    if _is_graphql(request):
        return _body_error(exception) or http_error(
            400, RequestErrorCode.BAD_REQUEST, "The request could not be read."
        )
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (DEBUG off): JSON with an error id for the API; the id is logged with the
    traceback (Django calls this while handling the exception)."""
    if not _is_graphql(request):
        return defaults.server_error(request)
    error_id = uuid.uuid4().hex[:16]
    logger.error("internal error %s at %s", error_id, request.path, exc_info=sys.exc_info())
    return http_error(
        500,
        RequestErrorCode.INTERNAL_ERROR,
        f"Internal error; quote {error_id} to support.",
        errorId=error_id,
    )
