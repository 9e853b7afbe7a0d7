"""Validation of an uploaded video (a generation job's input video).

The container is recognised from its bytes (MP4/MOV only: `ftyp`), written under a name
chosen here, probed with PyAV with the demuxer forced, and checked against the provider's
rules: the model's input-video length (generation/catalog.py), 720–2160 px a side, 24–60 fps,
at most `INPUT_VIDEO_MAX_BYTES`. The file is kept as uploaded: it is not re-encoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from django.conf import settings

from elements.media._upload import copy_capped
from elements.media.errors import MediaErrorCode, media_error

MIN_SIDE, MAX_SIDE = 720, 2160
MIN_FPS, MAX_FPS = 24, 60


@dataclass(frozen=True)
class ProcessedVideo:
    content: bytes
    extension: str  # "mp4" or "mov"
    content_type: str
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    sha256: str


def _brand(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    return "mov" if head[8:12] == b"qt  " else "mp4"


def _probe_first_video(container: Any) -> tuple[int, int, float, bool]:
    """Width, height, duration (s) and whether there is sound, of an open container's first
    video track; decoding one frame proves the track is readable, not just its header."""
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if container.duration is not None:
        duration = container.duration / 1_000_000
    elif stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    else:
        duration = 0.0
    if next(container.decode(stream), None) is None:
        _corrupt()
    return width, height, duration, bool(container.streams.audio)


# A container's duration can run a frame's worth past its last frame (an AAC track's priming
# samples): a 10.00 s recording may probe as 10.02 s. Allowed past the maximum only.
CONTAINER_SLACK_SECONDS = 0.05


def process_video(upload: Any, *, min_seconds: float, max_seconds: float) -> ProcessedVideo:
    """An input video for a model taking `min_seconds`–`max_seconds` (generation/catalog.py
    `input_video_seconds`); the minimum is exact, the maximum allows CONTAINER_SLACK_SECONDS."""
    max_bytes = int(settings.INPUT_VIDEO_MAX_BYTES)
    with tempfile.TemporaryDirectory(prefix="video-") as workdir:
        staging = Path(workdir) / "upload.bin"
        with staging.open("wb") as out:
            copy_capped(upload, out, max_bytes=max_bytes, kind="video")
        data = staging.read_bytes()
        extension = _brand(data[:12])
        if extension is None:
            raise media_error(
                "This file is not a supported video: upload an MP4 or MOV.",
                MediaErrorCode.VIDEO_UNSUPPORTED_FORMAT,
            )
        path = staging.rename(Path(workdir) / f"input.{extension}")
        try:
            with av.open(str(path), format="mov") as container:
                if not container.streams.video:
                    raise media_error(
                        "This file holds no video track.", MediaErrorCode.VIDEO_CORRUPT
                    )
                stream = container.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate or Fraction(0)
                width, height, duration, has_audio = _probe_first_video(container)
        except av.FFmpegError:
            _corrupt()
    if duration < min_seconds:
        raise media_error(
            f"The video is {duration:.1f} s long: it must last at least {min_seconds:g} s.",
            MediaErrorCode.VIDEO_TOO_SHORT,
        )
    if duration > max_seconds + CONTAINER_SLACK_SECONDS:
        raise media_error(
            f"The video is {duration:.1f} s long: this model takes at most {max_seconds:g} s.",
            MediaErrorCode.VIDEO_TOO_LONG,
        )
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        raise media_error(
            f"The video is {width}×{height}: each side must be {MIN_SIDE}–{MAX_SIDE} px.",
            MediaErrorCode.VIDEO_BAD_RESOLUTION,
        )
    fps = float(rate)
    if not MIN_FPS - 0.5 <= fps <= MAX_FPS + 0.5:
        raise media_error(
            f"The video runs at {fps:.0f} fps: it must be {MIN_FPS}–{MAX_FPS} fps.",
            MediaErrorCode.VIDEO_BAD_FRAME_RATE,
        )
    return ProcessedVideo(
        content=data,
        extension=extension,
        content_type="video/quicktime" if extension == "mov" else "video/mp4",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        has_audio=has_audio,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _corrupt() -> Any:
    raise media_error("This video can't be read: it may be damaged.", MediaErrorCode.VIDEO_CORRUPT)


# --- Videos a character element is made from ------------------------------------------------
#
# Broader than a generation input (any frame rate, 300 px and up, WebM too) but capped, since
# the whole upload is stored until the processing job has trimmed it: bytes
# (`VIDEO_ELEMENT_MAX_BYTES`), the long side (`VIDEO_ELEMENT_MAX_SIDE`) and the length
# (`VIDEO_ELEMENT_MAX_SECONDS`). The short side and the aspect ratio follow the reference
# image rules, since keyframes become reference images.

ELEMENT_VIDEO_MIN_SIDE = 300
ELEMENT_VIDEO_MAX_ASPECT = 2.5
# Container → ffmpeg's demuxer, forced on PyAV and on the ffmpeg binary.
DEMUXERS = {"mp4": "mov", "mov": "mov", "webm": "matroska"}


@dataclass(frozen=True)
class ElementVideo:
    """An uploaded video that passed the checks, in a temporary file."""

    path: Path
    extension: str  # "mp4", "mov" or "webm"
    duration: float
    width: int
    height: int
    has_audio: bool


def sniff_element_video(head: bytes) -> str | None:
    """ "mp4", "mov" or "webm" from the first bytes, or None."""
    brand = _brand(head)
    if brand is not None:
        return brand
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in head[:64]:
        return "webm"
    return None


@contextlib.contextmanager
def open_element_video(upload: Any) -> Iterator[ElementVideo]:
    """Check an uploaded video for a video element and yield it as a temporary file.

    Raises `ValidationError(message, code=MediaErrorCode.X)`: EMPTY_FILE, FILE_TOO_LARGE,
    VIDEO_UNSUPPORTED_FORMAT, VIDEO_CORRUPT, VIDEO_NO_VIDEO_STREAM, VIDEO_BAD_RESOLUTION,
    VIDEO_TOO_LONG.
    """
    max_bytes = int(settings.VIDEO_ELEMENT_MAX_BYTES)
    max_side = int(settings.VIDEO_ELEMENT_MAX_SIDE)
    max_seconds = float(settings.VIDEO_ELEMENT_MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="element-video-") as workdir:
        staging = Path(workdir) / "upload.bin"
        with staging.open("wb") as out:
            copy_capped(upload, out, max_bytes=max_bytes, kind="video")
        with staging.open("rb") as handle:
            extension = sniff_element_video(handle.read(64))
        if extension is None:
            raise media_error(
                "This file is not a supported video: upload an MP4, MOV or WebM.",
                MediaErrorCode.VIDEO_UNSUPPORTED_FORMAT,
            )
        # A name we chose: ffmpeg must never read a playlist or an image sequence here.
        path = staging.rename(Path(workdir) / f"source.{extension}")
        video = _probe_element_video(path, extension)
        if max(video.width, video.height) > max_side:
            raise media_error(
                f"The video is {video.width}×{video.height}: its long side may be at most "
                f"{max_side} px.",
                MediaErrorCode.VIDEO_BAD_RESOLUTION,
            )
        short, long = sorted((video.width, video.height))
        if short < ELEMENT_VIDEO_MIN_SIDE or long / short > ELEMENT_VIDEO_MAX_ASPECT:
            raise media_error(
                f"The video is {video.width}×{video.height}: each side must be at least "
                f"{ELEMENT_VIDEO_MIN_SIDE} px, and the long side at most "
                f"{ELEMENT_VIDEO_MAX_ASPECT:g} times the short one.",
                MediaErrorCode.VIDEO_BAD_RESOLUTION,
            )
        if video.duration > max_seconds + 0.05:
            raise media_error(
                f"The video is {video.duration:.1f} s long: upload at most {max_seconds:g} s "
                "(trim it first).",
                MediaErrorCode.VIDEO_TOO_LONG,
            )
        yield video


def _probe_element_video(path: Path, extension: str) -> ElementVideo:
    try:
        with av.open(str(path), format=DEMUXERS[extension]) as container:
            if not container.streams.video:
                raise media_error(
                    "This file has no picture, only sound: upload a video of the person.",
                    MediaErrorCode.VIDEO_NO_VIDEO_STREAM,
                )
            width, height, duration, has_audio = _probe_first_video(container)
    except (av.FFmpegError, OSError, ValueError, EOFError):
        _corrupt()
    if not width or not height or duration <= 0:
        _corrupt()
    return ElementVideo(path, extension, duration, width, height, has_audio)
