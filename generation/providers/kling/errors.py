"""Kling's error codes mapped to ours; the ones staff must act on raise a `ProviderAlert`."""

from __future__ import annotations

import logging

from generation.error_codes import GenerationErrorCode
from generation.models import (
    GenerationJob,
)
from generation.providers.base import (
    ProviderError,
)
from generation.providers.kling.client import (
    ALERT_KINDS,
    PROVIDER,
    KlingError,
)
from generation.providers.kling.models import ProviderAlert

logger = logging.getLogger("generation.kling")


def alert(exc: KlingError, job: GenerationJob | None = None) -> None:
    logger.error(
        "Kling refused us (HTTP %s code %s): %s request_id=%s job=%s",
        exc.status,
        exc.code,
        exc.message,
        exc.request_id,
        job.pk if job else None,
    )
    ProviderAlert.objects.create(
        provider=PROVIDER,
        code=str(exc.code),
        message=exc.message[:500] or "(no message)",
        request_id=exc.request_id[:64],
        job=job,
    )


def as_provider_error(exc: KlingError, job: GenerationJob | None = None) -> ProviderError:
    kind = exc.kind
    if kind in ALERT_KINDS or kind == "reauth":
        alert(exc, job)
        return ProviderError(
            GenerationErrorCode.PROVIDER_ACCOUNT_ERROR,
            "The generation service is unavailable right now; staff were told and your "
            "credits were refunded.",
        )
    if kind == "policy":
        return ProviderError(
            GenerationErrorCode.CONTENT_POLICY,
            f"Kling refused the content: {exc.message or 'content safety'}. "
            "Change the prompt or the images and try again.",
        )
    if kind == "retry":
        return ProviderError(
            GenerationErrorCode.PROVIDER_UNAVAILABLE,
            "The generation service stayed busy too long; your credits were refunded.",
        )
    return ProviderError(
        GenerationErrorCode.PROVIDER_REJECTED, f"Kling refused the request: {exc.message}"
    )
