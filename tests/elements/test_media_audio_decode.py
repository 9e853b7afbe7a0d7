"""elements.media.audio decodes in-process with PyAV what pydub decoded through the ffmpeg
binary: the same 16-bit samples, rate and channels, byte for byte, for every container it
takes that way, and the same cut a second past the limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from elements.media import audio
from elements.media.audio import AudioSegment
from tests.support.audio import TONE, VIDEO, ffmpeg, lavfi, square_wave, wav

LOUD = "aevalsrc='1.3*sin(2*PI*220*t)':s=44100:d=6"  # clipped by the encoders' float range
SURROUND = "pan=5.1|FL=c0|FR=0.5*c0|FC=0*c0|LFE=0*c0|BL=0*c0|BR=0.2*c0"


def _inputs(d: Path) -> dict[str, Path]:
    tone_and_video = ["-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", TONE]
    made = {
        "mp3": (TONE, "-c:a", "libmp3lame", "-ac", "2"),
        "mp3_loud": (LOUD, "-c:a", "libmp3lame"),
        "aac": (TONE, "-c:a", "aac", "-f", "adts"),
        "m4a": (TONE, "-c:a", "aac"),
        "m4a_surround": (TONE, "-af", SURROUND, "-c:a", "aac"),
        "ogg": (TONE, "-c:a", "libvorbis"),
        "opus.ogg": (TONE, "-c:a", "libopus"),
        "flac": (TONE, "-c:a", "flac"),
        "flac24.flac": (TONE, "-c:a", "flac", "-sample_fmt", "s32"),
        "long.mp3": ("sine=frequency=220:duration=40",),
    }
    files = {}
    for name, (source, *args) in made.items():
        extension = name.rsplit(".", 1)[-1] if "." in name else name.split("_")[0]
        path = d / f"{name.replace('.', '_')}.{extension}"
        lavfi(path, source, *args)
        files[name] = path
    files["mp4"] = d / "v.mp4"
    ffmpeg(files["mp4"], *tone_and_video, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    files["webm"] = d / "v.webm"
    ffmpeg(files["webm"], *tone_and_video, "-c:v", "libvpx", "-c:a", "libopus")
    square = d / "square.wav"
    square.write_bytes(wav(square_wave(6)))
    files["clipped_mp3"] = d / "clipped.mp3"
    ffmpeg(files["clipped_mp3"], "-i", str(square))
    return files


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _inputs(tmp_path_factory.mktemp("decode"))


NAMES = [
    "mp3",
    "mp3_loud",
    "aac",
    "m4a",
    "m4a_surround",
    "ogg",
    "opus.ogg",
    "flac",
    "flac24.flac",
    "long.mp3",
    "mp4",
    "webm",
    "clipped_mp3",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("max_seconds", [30.0, 5.0])
def test_the_samples_are_those_the_ffmpeg_binary_decodes(
    inputs: dict[str, Path], name: str, max_seconds: float
) -> None:
    path = inputs[name]
    with path.open("rb") as file:
        container = audio._sniff_container(file)
    assert container is not None and container.demuxer != "wav"
    codec, _ = audio._probe(path, container)

    ours = audio._decode(path, container, codec, max_seconds)
    binary = AudioSegment.from_file(
        str(path), format=container.demuxer, codec=codec, duration=max_seconds + 1
    )

    assert (ours.frame_rate, ours.channels, ours.sample_width) == (
        binary.frame_rate,
        binary.channels,
        binary.sample_width,
    )
    assert len(ours) == len(binary)
    assert ours.raw_data == binary.raw_data
