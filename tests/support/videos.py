"""Test videos made with the ffmpeg binary of imageio-ffmpeg from scikit-image's photographs.

Frames are drawn here with Pillow (a zoom and pan over a photo, two photos side by side…)
and piped to ffmpeg as raw RGB; the sound is speech-like PCM from `samples.speechlike_pcm`,
silence, or none. Clips are small (480×360, 12 fps) so the detectors run fast.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from tests.support.media import pcm_wav_bytes, speechlike_pcm

WIDTH, HEIGHT = 480, 360
FPS = 12

Frame = Callable[[float], Image.Image]  # seconds → a WIDTH×HEIGHT RGB image


@functools.cache
def photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _crop(image: Image.Image, cx: float, cy: float, width: float) -> Image.Image:
    """A WIDTH:HEIGHT window `width` px wide centred on (cx, cy), kept inside the image."""
    height = width * HEIGHT / WIDTH
    width, height = min(width, image.width), min(height, image.height)
    left = min(max(cx - width / 2, 0), image.width - width)
    top = min(max(cy - height / 2, 0), image.height - height)
    box = (round(left), round(top), round(left + width), round(top + height))
    return image.crop(box).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)


def zoom_and_pan(name: str, seconds: float) -> Frame:
    """A slow push-in from the whole photo to its upper half, panning a little sideways."""
    image = photo(name)

    def frame(t: float) -> Image.Image:
        k = t / seconds
        width = image.width * (1.0 - 0.35 * k)
        cx = image.width / 2 + image.width * 0.06 * np.sin(2 * np.pi * k)
        cy = image.height * (0.5 - 0.12 * k)
        return _crop(image, cx, cy, width)

    return frame


def side_by_side(name: str) -> Frame:
    """The same photo twice, next to each other: two people in every frame."""
    image = photo(name)
    half = image.resize((WIDTH // 2, round(image.height * (WIDTH // 2) / image.width)))
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (30, 30, 30))
    top = (HEIGHT - half.height) // 2
    canvas.paste(half, (0, top))
    canvas.paste(half, (WIDTH // 2, top))
    return lambda t: canvas


def still(name: str) -> Frame:
    image = photo(name)
    framed = _crop(image, image.width / 2, image.height / 2, image.width)
    return lambda t: framed


def make_video(
    frames: Frame,
    seconds: float,
    *,
    audio: str | bytes | None = "speech",
    container: str = "mp4",
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> bytes:
    """An mp4 (H.264/AAC), mov or webm (VP8/Opus) clip of `frames`; `audio` is "speech",
    "silence", 16 kHz mono PCM bytes, or None for no audio track."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="test-video-") as workdir:
        out = Path(workdir) / f"clip.{container}"
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y"]
        cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}"]
        cmd += ["-r", str(FPS), "-i", "pipe:0"]
        if audio is not None:
            if isinstance(audio, bytes):
                pcm = audio
            elif audio == "speech":
                pcm = speechlike_pcm(seconds)
            else:
                pcm = bytes(2 * int(16000 * seconds))
            wav = Path(workdir) / "sound.wav"
            wav.write_bytes(pcm_wav_bytes(pcm))
            cmd += ["-i", str(wav)]
        if container == "webm":
            cmd += ["-c:v", "libvpx", "-b:v", "600k", "-c:a", "libopus"]
        else:
            cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            cmd += ["-c:a", "aac"]
        cmd += ["-t", f"{seconds}", str(out)]
        raw = b"".join(
            np.asarray(frames(n / FPS).resize(size), dtype=np.uint8).tobytes()
            for n in range(round(seconds * FPS))
        )
        subprocess.run(cmd, input=raw, check=True, timeout=120)
        return out.read_bytes()


def make_audio_only_mp4(seconds: float = 6.0) -> bytes:
    """An mp4 with one AAC track and no picture: an audio file sent as a video."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="test-audio-") as workdir:
        wav = Path(workdir) / "sound.wav"
        wav.write_bytes(pcm_wav_bytes(speechlike_pcm(seconds)))
        out = Path(workdir) / "sound.mp4"
        subprocess.run(
            [exe, "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), "-vn", str(out)],
            check=True,
            timeout=60,
        )
        return out.read_bytes()


@functools.cache
def astronaut_clip() -> bytes:
    """One person, 8 s, zooming and panning, speech-like sound."""
    return make_video(zoom_and_pan("astronaut", 8.0), 8.0)


@functools.cache
def two_astronauts_clip() -> bytes:
    return make_video(side_by_side("astronaut"), 6.0)


@functools.cache
def coffee_clip() -> bytes:
    return make_video(zoom_and_pan("coffee", 6.0), 6.0)


@functools.cache
def rocket_clip() -> bytes:
    return make_video(zoom_and_pan("rocket", 6.0), 6.0)


@functools.cache
def silent_astronaut_clip() -> bytes:
    return make_video(zoom_and_pan("astronaut", 6.0), 6.0, audio="silence")


def letterboxed(name: str) -> Frame:
    """The whole photo, scaled to the frame's height, on grey."""
    image = photo(name)
    scaled = image.resize((round(image.width * HEIGHT / image.height), HEIGHT))
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(scaled, ((WIDTH - scaled.width) // 2, 0))
    return lambda t: canvas


@functools.cache
def frontal_then_profile_clip() -> bytes:
    """3 s of the astronaut (a frontal face), then 3 s of the cameraman (a face in profile).
    Two people to us; one face per frame to the cascades, which can't tell faces apart."""
    astronaut, camera = zoom_and_pan("astronaut", 6.0), letterboxed("camera")
    return make_video(lambda t: astronaut(t) if t < 3.0 else camera(t), 6.0)


@functools.cache
def lfw_face(index: int) -> Image.Image:
    """Face `index` of scikit-image's LFW subset (25×25 grey), enlarged to 240 px, in the
    middle of a grey frame: another person than the astronaut (descriptor distance ≈ 0.8)."""
    from skimage import data

    grey = data.lfw_subset()[index]
    face = Image.fromarray((grey * 255).astype(np.uint8)).resize(
        (240, 240), Image.Resampling.BICUBIC
    )
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    canvas.paste(face.convert("RGB"), ((WIDTH - 240) // 2, (HEIGHT - 240) // 2))
    return canvas


@functools.cache
def person_change_clip() -> bytes:
    """3 s of the astronaut, then a cut to 3 s of another person's face (LFW face 1): one
    frontal face in every frame, so the cascades see one person; the descriptors see two."""
    astronaut, other = zoom_and_pan("astronaut", 6.0), lfw_face(1)
    return make_video(lambda t: astronaut(t) if t < 3.0 else other, 6.0)


@functools.cache
def astronaut_beside_another_clip() -> bytes:
    """The astronaut's photo (her face ≈ 50 px) beside LFW face 1 (≈ 100 px), each on half
    of the frame: two people in every frame, of whom dlib's HOG at the frame's size finds
    only the larger face."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (30, 30, 30))
    other = lfw_face(1).crop(
        ((WIDTH - 240) // 2, (HEIGHT - 240) // 2, (WIDTH + 240) // 2, (HEIGHT + 240) // 2)
    )
    for x, image in ((0, photo("astronaut")), (WIDTH // 2, other)):
        half = image.resize((WIDTH // 2, round(image.height * (WIDTH // 2) / image.width)))
        canvas.paste(half, (x, (HEIGHT - half.height) // 2))
    return make_video(lambda t: canvas, 6.0, audio=None)
