"""Which provider serves which model: `GENERATION_PROVIDERS` maps a model code (or `*`) to a
provider name; `local` is the default and needs no account."""

from __future__ import annotations

from django.conf import settings

from generation.providers.base import Provider

# Jobs of the AI assists name their assist provider after this prefix (`assist:local`).
ASSIST_PREFIX = "assist:"


def provider_name_for(model: str) -> str:
    table: dict[str, str] = getattr(settings, "GENERATION_PROVIDERS", {})
    return table.get(model) or table.get("*") or "local"


def get_provider(name: str) -> Provider:
    if name.startswith(ASSIST_PREFIX):
        from generation.providers.assist import AssistMultiviewProvider

        return AssistMultiviewProvider(name.removeprefix(ASSIST_PREFIX))
    if name == "local":
        from generation.providers.local import LocalProvider

        return LocalProvider()
    raise LookupError(f"No generation provider named {name!r} is installed.")
