"""Audio files for the media tests, drawn by ffmpeg's lavfi sources or written sample by
sample: tones, speech-like bursts, a test-card video with sound, square waves as WAV."""

from __future__ import annotations

import array
import io
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg

__all__ = ["FFMPEG", "SPEECHLIKE", "TONE", "VIDEO", "ffmpeg", "lavfi", "square_wave", "wav"]

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
TONE = "sine=frequency=220:sample_rate=44100:duration=8"
# Bursts of tone and pauses, like speech: neither silent nor a flat drone.
SPEECHLIKE = "aevalsrc='0.3*sin(2*PI*220*t)*lt(mod(t\\,1)\\,0.6)':s=44100:d=6"
VIDEO = "testsrc=size=160x120:rate=10:duration=8"


def ffmpeg(out: Path, *args: str) -> bytes:
    subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", *args, str(out)],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    return out.read_bytes()


def lavfi(out: Path, source: str, *args: str) -> bytes:
    return ffmpeg(out, "-f", "lavfi", "-i", source, *args)


def wav(samples: array.array[int], *, rate: int = 44100, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()


def square_wave(seconds: float, *, rate: int = 44100, freq: int = 220) -> array.array[int]:
    period = rate // freq
    return array.array(
        "h",
        (32767 if n % period < period // 2 else -32768 for n in range(int(seconds * rate))),
    )
