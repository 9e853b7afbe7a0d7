"""Elements refused: what bad input must leave behind (nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from elements.models import Element, ReferenceImage, Voice
from tests.support.errors import error_codes
from tests.support.media import media_files

CONSENT = "I recorded this myself and may use it."


@contextmanager
def leaves_nothing_behind() -> Iterator[None]:
    """Bad input: no row and no file may be left."""
    counts = (Element.objects.count(), ReferenceImage.objects.count(), Voice.objects.count())
    files = media_files()
    yield
    assert (
        Element.objects.count(),
        ReferenceImage.objects.count(),
        Voice.objects.count(),
    ) == counts
    assert media_files() == files


def refused(code: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """`call` raises a `ValidationError` carrying `code`, and leaves nothing behind."""
    with leaves_nothing_behind(), pytest.raises(ValidationError) as excinfo:
        call(*args, **kwargs)
    assert code in error_codes(excinfo.value), error_codes(excinfo.value)
