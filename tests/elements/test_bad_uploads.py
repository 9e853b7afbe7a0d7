"""Every bad file of the issue, sent through the services that store media: a typed error,
and no row and no file left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from elements import services
from tests.support.elements import CONSENT, refused
from tests.support.media import image_bytes, image_upload, png_header_only

pytestmark = pytest.mark.django_db


def bad_images() -> list[tuple[str, bytes, str]]:
    jpeg = image_bytes()
    return [
        ("truncated JPEG", jpeg[: len(jpeg) // 2], "IMAGE_CORRUPT"),
        ("PNG decompression bomb", png_header_only(30_000, 30_000), "IMAGE_TOO_MANY_PIXELS"),
        ("text renamed .png", b"just some notes, not a picture\n" * 4, "IMAGE_UNSUPPORTED_FORMAT"),
        (
            "SVG",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900"></svg>',
            "IMAGE_UNSUPPORTED_FORMAT",
        ),
        ("1x1 image", image_bytes(width=1, height=1, fmt="PNG"), "IMAGE_TOO_SMALL"),
        ("empty file", b"", "EMPTY_FILE"),
    ]


@pytest.mark.parametrize(("label", "data", "code"), bad_images(), ids=lambda v: str(v)[:24])
def test_bad_main_image(user, label, data, code):
    upload = SimpleUploadedFile("photo.png", data, content_type="image/png")
    refused(
        code,
        services.element_create,
        owner=user,
        name="Scholar",
        element_type="character",
        main_image=upload,
        extra_images=[image_upload()],
    )


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, bytes]:
    folder: Path = tmp_path_factory.mktemp("audio")
    exe = imageio_ffmpeg.get_ffmpeg_exe()

    def make(name: str, *args: str) -> bytes:
        out = folder / name
        subprocess.run([exe, "-loglevel", "error", "-y", *args, str(out)], check=True)
        return out.read_bytes()

    return {
        "2 s clip": make("short.mp3", "-f", "lavfi", "-i", "sine=frequency=300:duration=2"),
        "40 s clip": make("long.mp3", "-f", "lavfi", "-i", "sine=frequency=300:duration=40"),
        "video without sound": make(
            "silent.mp4",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=6",
            "-pix_fmt",
            "yuv420p",
        ),
    }


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("2 s clip", "AUDIO_TOO_SHORT"),
        ("40 s clip", "AUDIO_TOO_LONG"),
        ("video without sound", "AUDIO_NO_AUDIO_TRACK"),
    ],
)
def test_bad_voice_sample(user, audio, label, code):
    sample = services.VoiceUpload(
        file=SimpleUploadedFile("voice.bin", audio[label]),
        name="Voice",
        consent_statement=CONSENT,
    )
    refused(code, services.voice_upload, owner=user, upload=sample)
    refused(
        code,
        services.element_create,
        owner=user,
        name="Scholar",
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload()],
        voice_upload=sample,
    )
