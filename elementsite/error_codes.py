"""Stable error codes of the request as a whole: transport, pagination, ids and the unexpected.

The apps' own codes live in their `error_codes.py`; these belong to no app because any
request, query or list can meet them.
"""

from enum import StrEnum


class RequestErrorCode(StrEnum):
    # The HTTP body is not a GraphQL request: unparsable, not an object, a multipart map that
    # does not place each file once at an `Upload` variable, too many files.
    BAD_REQUEST = "BAD_REQUEST"
    # The query text is not valid GraphQL, or does not fit the schema or its limits.
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # A variable or argument of the wrong shape (e.g. a string where a number goes).
    INVALID_INPUT = "INVALID_INPUT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    CSRF_FAILED = "CSRF_FAILED"
    # A `documentId` the service does not list (trusted documents): the page was built for
    # another version of the service; reloading it fetches the current one.
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    # Query text from a cookie session while GRAPHQL_TRUSTED_DOCUMENTS_ONLY is on: a browser
    # session runs only the web studio's operations; other clients use an API token.
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    # Our bug: the message carries an id that the log line carries too.
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # The database was unreachable for this request (restarted, failed over, its connections
    # ended, a SQLite file locked past the busy timeout): nothing was done, try again (HTTP
    # 503 with Retry-After when nothing at all could be answered).
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class ListErrorCode(StrEnum):
    INVALID_CURSOR = "INVALID_CURSOR"
    PAGE_SIZE_TOO_LARGE = "PAGE_SIZE_TOO_LARGE"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    SEARCH_TOO_LONG = "SEARCH_TOO_LONG"
