"""Media made in the tests: images with Pillow, speech-like audio as WAV with the stdlib."""

from __future__ import annotations

import io
import math
import struct
import wave

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
