"""The one way services build a typed error for GraphQL clients."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str | None, message: str, code: str) -> ValidationError:
    """A ValidationError whose code reaches the client: the code sits on the inner error
    (an outer dict error loses it, see PITFALLS.md); `field` is the input it is about, or
    None for the request as a whole."""
    inner = ValidationError(message, code=code)
    return inner if field is None else ValidationError({field: inner})
