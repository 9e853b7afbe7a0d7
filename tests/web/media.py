"""Real media files for the browser to upload, made by the suites' own generators."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.support import videos
from tests.support.media import pcm_wav_bytes, speechlike_pcm
from tests.support.photos import photo, photo_bytes


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_media(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = photo("astronaut")
    files: dict[str, bytes] = {
        "astronaut.jpg": photo_bytes("astronaut"),
        # Two more angles of the same subject: a closer crop and a mirrored one.
        "astronaut-close.jpg": _jpeg(astronaut.crop((96, 0, 416, 320)).resize((512, 512))),
        "astronaut-mirror.jpg": _jpeg(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        "rocket.jpg": photo_bytes("rocket_on_white"),
        "voice.wav": pcm_wav_bytes(speechlike_pcm(8.0)),
        "voice-2s.wav": pcm_wav_bytes(speechlike_pcm(2.0)),
        "voice-40s.wav": pcm_wav_bytes(speechlike_pcm(40.0)),
        "not-an-image.png": b"This is a text file that only says it is a PNG.\n" * 20,
        "tiny.png": _png(Image.new("RGB", (200, 200), (120, 90, 200))),
    }
    paths = {}
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths[name] = path
    return paths


def write_videos(folder: Path) -> dict[str, Path]:
    """WebM (VP8/Opus), which Chromium plays whatever codecs its build has: one person
    speaking for 10 s (long enough for a 9 s window), and a cup of coffee with no face."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = {
        "astronaut.webm": videos.make_video(
            videos.zoom_and_pan("astronaut", 10.0), 10.0, container="webm"
        ),
        "coffee.webm": videos.make_video(videos.zoom_and_pan("coffee", 6.0), 6.0, container="webm"),
    }
    paths = {}
    for name, content in clips.items():
        path = folder / name
        path.write_bytes(content)
        paths[name] = path
    return paths


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
