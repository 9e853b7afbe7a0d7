"""Media made in the tests: images with Pillow, speech-like audio as WAV with the stdlib."""

from __future__ import annotations

import array
import io
import math
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(
    width: int = 640, height: int = 800, color: tuple[int, int, int] = (200, 80, 40), fmt="JPEG"
) -> bytes:
    buffer = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    # A little structure, so encoders don't make every image identical.
    for x in range(0, width, 37):
        for y in range(0, height, 41):
            img.putpixel((x, y), (x % 255, y % 255, (x + y) % 255))
    img.save(buffer, fmt)
    return buffer.getvalue()


def image_upload(name: str = "photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/jpeg")


def wav_bytes(seconds: float = 8.0, freq: float = 220.0, rate: int = 16000, volume=0.4) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            # Bursts of tone with short pauses, like speech: neither silent nor a flat drone.
            envelope = 1.0 if (n % int(0.45 * rate)) < int(0.3 * rate) else 0.0
            value = volume * envelope * math.sin(2 * math.pi * freq * n / rate)
            frames += struct.pack("<h", int(value * 32767))
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def audio_upload(name: str = "voice.wav", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(**kwargs), content_type="audio/wav")


def speechlike_pcm(
    seconds: float = 8.0, rate: int = 16000, *, f0: float = 140.0, seed: int = 1
) -> bytes:
    """16-bit mono PCM shaped like speech: a glottal pulse train whose pitch wanders around
    `f0`, through three vowel formants that change every syllable, in ~4 syllables a second
    with short pauses. WebRTC's detector hears it as speech; a steady tone or hiss it doesn't."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = f0 * (
        1 + 0.08 * np.sin(2 * np.pi * 0.7 * t) + 0.03 * rng.standard_normal(n).cumsum() / n
    )
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    source = np.sum([np.sin(k * phase) / k for k in range(1, 30)], axis=0)
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480), (300, 870, 2240)]
    syllable = 0.25
    out = np.zeros(n)
    for index, start in enumerate(np.arange(0, seconds, syllable)):
        a, b = int(start * rate), min(n, int((start + syllable) * rate))
        if index % 7 == 6:  # a pause between words
            continue
        formants = vowels[rng.integers(len(vowels))]
        seg_t = t[a:b] - start
        envelope = np.sin(np.pi * seg_t / syllable) ** 2
        shaped = sum(
            source[a:b] * np.cos(2 * np.pi * f * seg_t) * (0.6**i) for i, f in enumerate(formants)
        )
        out[a:b] = shaped * envelope
    out /= np.abs(out).max() or 1.0
    return (out * 0.5 * 32767).astype("<i2").tobytes()


def pcm_wav_bytes(pcm: bytes, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def voiced_pcm(
    seconds: float = 8.0, rate: int = 16000, *, f0: float = 140.0, seed: int = 1
) -> bytes:
    """16-bit mono PCM of a voice with a real pitch: harmonics of a wandering `f0` whose
    amplitudes follow three vowel formants that change every syllable (a source-filter
    model, summed additively so the signal stays periodic at its pitch), ~4 syllables a
    second with a pause between words. For pitch-based tests; the detector calls it speech."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = f0 * (1 + 0.06 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480), (300, 870, 2240)]
    syllable = 0.25
    out = np.zeros(n)
    harmonics = int(3500 // f0)
    for index, start in enumerate(np.arange(0, seconds, syllable)):
        a, b = int(start * rate), min(n, int((start + syllable) * rate))
        if index % 7 == 6:
            continue
        formants = vowels[rng.integers(len(vowels))]
        seg = np.zeros(b - a)
        for k in range(1, harmonics + 1):
            amp = 0.15 / k + sum(
                np.exp(-(((k * f0 - f) / 120.0) ** 2)) * 0.6**i for i, f in enumerate(formants)
            )
            seg += amp * np.sin(k * phase[a:b])
        seg_t = t[a:b] - start
        out[a:b] = seg * np.sin(np.pi * seg_t / syllable) ** 2
    out /= np.abs(out).max() or 1.0
    return (out * 0.5 * 32767).astype("<i2").tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG declaring `width`×`height` 1-bit pixels, all black, deflated: a few
    kilobytes that would decode to hundreds of megabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def audio_rms_by_second(container: Any) -> list[float]:
    """The loudness (RMS) of each second of a decoded container's first audio stream."""
    buckets: dict[int, list[float]] = {}
    stream = container.streams.audio[0]
    container.seek(0)
    for frame in container.decode(stream):
        # AAC decodes to planar 32-bit floats; the first channel is enough.
        samples = array.array("f", bytes(frame.planes[0]))[: frame.samples]
        second = int(float(frame.pts * stream.time_base))
        mean_square = sum(x * x for x in samples) / max(1, len(samples))
        buckets.setdefault(second, []).append(mean_square**0.5)
    return [sum(v) / len(v) for _, v in sorted(buckets.items())]


def media_files() -> set[str]:
    """Every file under the test MEDIA_ROOT, to prove bad input left none behind."""
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
