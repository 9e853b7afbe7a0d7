"""Search text typed by clients: the one check it gets before it reaches a query."""

from __future__ import annotations

from elementsite.error_codes import ListErrorCode
from elementsite.errors import ClientError

# Longer than any name or phrase worth finding; a 1 MB `search` reached SQLite's LIKE and
# failed with "LIKE or GLOB pattern too complex", which then reached the client.
SEARCH_MAX_LENGTH = 200


def search_text(value: str | None, *, argument: str = "search") -> str | None:
    """The text stripped, or None when blank; SEARCH_TOO_LONG over SEARCH_MAX_LENGTH."""
    if value is None:
        return None
    if len(value) > SEARCH_MAX_LENGTH:
        raise ClientError(
            f"`{argument}` can be at most {SEARCH_MAX_LENGTH} characters.",
            ListErrorCode.SEARCH_TOO_LONG,
            argument=argument,
            maxLength=SEARCH_MAX_LENGTH,
        )
    return value.strip() or None
