"""Kling's background work that no job runs: deleting a withdrawn voice on Kling."""

from __future__ import annotations

import logging
from typing import Any

from django_q.tasks import async_task

from generation.providers.kling.client import PROVIDER, KlingClient, KlingConfigError
from generation.providers.kling.models import ProviderVoice, SyncState
from generation.providers.kling.sync import voices_delete_withdrawn

logger = logging.getLogger("generation.kling")


def voice_withdrawn_received(sender: Any, *, voice_file: str, **kwargs: Any) -> None:
    """`elements.signals.voice_withdrawn` (sent after the commit): queue the delete on Kling
    when the sample was ever made a Kling voice. Never raises: the withdrawal has happened."""
    try:
        if ProviderVoice.objects.filter(
            provider=PROVIDER, voice_file=voice_file, state=SyncState.READY
        ).exists():
            async_task("generation.providers.kling.tasks.provider_voice_delete", voice_file)
    except Exception:
        logger.exception("could not queue the Kling delete of %s", voice_file)


def provider_voice_delete(voice_file: str) -> int:
    """Delete on Kling the custom voice made from this withdrawn sample (idempotent; a job
    that still pins it deletes it when it ends). A failure is logged and left for the next
    attempt (the row keeps the reason)."""
    try:
        client = KlingClient.from_settings()
    except KlingConfigError as exc:
        logger.error("cannot delete the Kling voice of %s: %s", voice_file, exc)
        return 0
    return voices_delete_withdrawn(client, [voice_file])
