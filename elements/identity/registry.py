"""Which identity engine serves this deployment: `IDENTITY_ENGINE` is `local` (the default,
built in) or the dotted path of an `IdentityEngine` subclass (`package.module.ClassName`)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from elements.identity.base import IdentityEngine


def get_identity_engine(name: str | None = None) -> IdentityEngine:
    name = name or getattr(settings, "IDENTITY_ENGINE", "") or "local"
    if name == "local":
        from elements.identity.local import LocalIdentityEngine

        return LocalIdentityEngine()
    try:
        cls = import_string(name)
    except ImportError as exc:
        raise LookupError(f"No identity engine named {name!r} is installed.") from exc
    if not (isinstance(cls, type) and issubclass(cls, IdentityEngine)):
        raise LookupError(f"{name!r} is not an IdentityEngine.")
    return cls()
