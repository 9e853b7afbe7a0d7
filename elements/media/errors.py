"""Error codes of media validation, shared by every upload path (images and audio).

Each failure is raised as a single `ValidationError(message, code=MediaErrorCode.X)`; the
caller puts it under its own field name, so the code reaches the client on the inner error.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class MediaErrorCode(StrEnum):
    EMPTY_FILE = "EMPTY_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    IMAGE_UNSUPPORTED_FORMAT = "IMAGE_UNSUPPORTED_FORMAT"
    IMAGE_CORRUPT = "IMAGE_CORRUPT"
    IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
    IMAGE_TOO_SMALL = "IMAGE_TOO_SMALL"
    IMAGE_BAD_ASPECT_RATIO = "IMAGE_BAD_ASPECT_RATIO"
    AUDIO_UNSUPPORTED_FORMAT = "AUDIO_UNSUPPORTED_FORMAT"
    AUDIO_CORRUPT = "AUDIO_CORRUPT"
    AUDIO_NO_AUDIO_TRACK = "AUDIO_NO_AUDIO_TRACK"
    AUDIO_TOO_SHORT = "AUDIO_TOO_SHORT"
    AUDIO_TOO_LONG = "AUDIO_TOO_LONG"
    TOO_LITTLE_SPEECH = "TOO_LITTLE_SPEECH"
    VIDEO_UNSUPPORTED_FORMAT = "VIDEO_UNSUPPORTED_FORMAT"
    VIDEO_CORRUPT = "VIDEO_CORRUPT"
    VIDEO_TOO_SHORT = "VIDEO_TOO_SHORT"
    VIDEO_TOO_LONG = "VIDEO_TOO_LONG"
    VIDEO_BAD_RESOLUTION = "VIDEO_BAD_RESOLUTION"
    VIDEO_BAD_FRAME_RATE = "VIDEO_BAD_FRAME_RATE"
    VIDEO_NO_VIDEO_STREAM = "VIDEO_NO_VIDEO_STREAM"


class AudioWarningCode(StrEnum):
    """Remarks on a voice sample's quality (`QualityWarning.code`); they never refuse it."""

    MOSTLY_SILENT = "MOSTLY_SILENT"
    CLIPPING = "CLIPPING"
    TOO_QUIET = "TOO_QUIET"
    NOISY = "NOISY"
    MULTIPLE_SPEAKERS = "MULTIPLE_SPEAKERS"


def media_error(message: str, code: MediaErrorCode) -> ValidationError:
    return ValidationError(message, code=code)


def human_size(size: int) -> str:
    """`20971520` → "20 MB": limits are binary multiples, shown the way people read them."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"
