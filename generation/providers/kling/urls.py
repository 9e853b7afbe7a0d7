"""URLs of ours that Kling calls (task callbacks) or fetches (voices, clips, input videos):
signed, expiring tokens."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.urls import reverse

from generation.error_codes import GenerationErrorCode
from generation.providers.base import (
    ProviderError,
)

CALLBACK_SALT = "generation.kling.callback"
MEDIA_SALT = "generation.kling.media"
MEDIA_TTL = 24 * 3600


def _public_base() -> str:
    return str(settings.KLING_CALLBACK_BASE_URL).rstrip("/")


def callback_url(kind: str, key: str) -> str | None:
    """Where Kling POSTs status changes of one task of ours; None without a public base."""
    base = _public_base()
    if not base:
        return None
    token = signing.dumps({"k": kind, "id": key}, salt=CALLBACK_SALT, compress=True)
    return base + reverse("kling-callback", args=[token])


def read_callback_token(token: str) -> tuple[str, str]:
    data = signing.loads(token, salt=CALLBACK_SALT)
    return str(data["k"]), str(data["id"])


def media_url(name: str) -> str:
    """A URL Kling can fetch a stored file from: the storage's own (presigned) URL, or for
    local storage a signed, expiring link to `kling_media` under the public base. Either
    path ends with the file's extension (`…/file.wav`): Kling takes voices and videos by
    their extension (.mp3/.wav/.mp4/.mov), and the token alone has none."""
    if not isinstance(default_storage, FileSystemStorage | InMemoryStorage):
        return default_storage.url(name)
    base = _public_base()
    if not base:
        raise ProviderError(
            GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
            "KLING_CALLBACK_BASE_URL is needed to send voices and videos to Kling.",
        )
    token = signing.dumps(name, salt=MEDIA_SALT, compress=True)
    filename = "file" + PurePosixPath(name).suffix.lower()
    return base + reverse("kling-media", args=[token, filename])


def read_media_token(token: str) -> str:
    return str(signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_TTL))
