"""Reading the codes out of a service's `ValidationError`."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def error_codes(exc: ValidationError) -> list[str]:
    """Every code the error carries, keyed by field or not."""
    if hasattr(exc, "error_dict"):
        return [e.code for errors in exc.error_dict.values() for e in errors]
    return [e.code for e in exc.error_list]
