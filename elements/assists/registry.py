"""Which assist provider serves this deployment: `ASSIST_PROVIDER` is `local` (the default,
built in) or the dotted path of an `AssistProvider` subclass (`package.module.ClassName`)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from elements.assists.base import AssistProvider


def get_assist_provider(name: str | None = None) -> AssistProvider:
    name = name or settings.ASSIST_PROVIDER or "local"
    if name == "local":
        from elements.assists.local import LocalAssistProvider

        return LocalAssistProvider()
    try:
        cls = import_string(name)
    except ImportError as exc:
        raise LookupError(f"No assist provider named {name!r} is installed.") from exc
    if not (isinstance(cls, type) and issubclass(cls, AssistProvider)):
        raise LookupError(f"{name!r} is not an AssistProvider.")
    return cls()
