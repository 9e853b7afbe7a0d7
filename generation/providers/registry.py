"""Which provider serves which model: `GENERATION_PROVIDERS` maps a model code (or `*`) to a
provider name; `local` is the default and needs no account."""

from __future__ import annotations

from django.conf import settings

from elementsite.errors import field_error
from generation.error_codes import GenerationErrorCode
from generation.providers.base import Provider

# Jobs of the AI assists name their assist provider after this prefix (`assist:local`).
ASSIST_PREFIX = "assist:"


def provider_name_for(model: str) -> str:
    table: dict[str, str] = settings.GENERATION_PROVIDERS
    return table.get(model) or table.get("*") or "local"


def get_provider(name: str) -> Provider:
    if name.startswith(ASSIST_PREFIX):
        from generation.providers.assist import AssistMultiviewProvider

        return AssistMultiviewProvider(name.removeprefix(ASSIST_PREFIX))
    if name == "local":
        from generation.providers.local import LocalProvider

        return LocalProvider()
    if name == "kling":
        from generation.providers.kling.provider import KlingProvider

        return KlingProvider()
    raise LookupError(f"No generation provider named {name!r} is installed.")


def provider_for_submit(name: str) -> Provider:
    """The provider a job is about to be submitted to, ready to take it: a provider whose
    settings are missing or whose credentials are refused, or one that is not installed (an
    assist provider's setting naming no class), is a configuration error here, before any
    job exists or any credit moves (else the job would be charged and fail in the worker)."""
    if name == "kling":
        from generation.providers.kling.provider import make_provider

        provider = make_provider()
        provider.verify_credentials()
        return provider
    try:
        return get_provider(name)
    except LookupError as exc:
        raise field_error(
            None,
            f"{exc} Nothing was charged.",
            GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
        ) from exc
