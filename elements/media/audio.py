"""Validation and normalization of uploaded voice samples.

The container is recognized from its magic bytes (never from the client's name or content
type), the file is saved under a name we choose, probed with PyAV using the sniffed demuxer,
decoded in-process with PyAV to the samples pydub's decode through the ffmpeg binary of
imageio-ffmpeg gave (WAV by pydub itself, a stream whose format changes part-way by pydub
and the binary), and stored as WAV, mono, 24 kHz, 16-bit, with a quality report whose
warnings do not block the upload.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import io
import math
import tempfile
import warnings
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import av
import imageio_ffmpeg
import numpy as np
from django.conf import settings

from elements.media._upload import copy_capped
from elements.media.errors import AudioWarningCode, MediaErrorCode, media_error

with warnings.catch_warnings():
    # pydub looks for an `ffmpeg` on PATH when its module is imported and warns when there is
    # none; there is none on purpose, the converter is set just below.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError
    from pydub.utils import audioop  # the stdlib module, or its backport after Python 3.12

AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()

SAMPLE_RATE = 24_000
SAMPLE_WIDTH = 2  # bytes: 16-bit
FRAME_MS = 50
SILENCE_DBFS = -50.0
# What a 16-bit sample can express; digital silence (-inf) is reported as this.
DBFS_FLOOR = -96.0
MOSTLY_SILENT_RATIO = 0.6
CLIPPING_RATIO = 0.001
TOO_QUIET_DBFS = -35.0
NOISY_FLOOR_DBFS = -40.0
NOISE_FLOOR_PERCENTILE = 0.10
# PyAV reads this many packets at most to find one that decodes.
PROBE_PACKETS = 200
# Bytes after an ID3 tag searched for the first audio frame (encoders may pad).
ID3_SLACK = 4096


@dataclass(frozen=True)
class QualityWarning:
    code: str
    message: str


@dataclass(frozen=True)
class AudioQuality:
    silence_ratio: float
    clipping_ratio: float
    loudness_dbfs: float
    noise_floor_dbfs: float
    warnings: tuple[QualityWarning, ...]
    # Share of 30 ms frames WebRTC's voice-activity detector calls speech.
    speech_ratio: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = [asdict(warning) for warning in self.warnings]
        return data


@dataclass(frozen=True)
class ProcessedAudio:
    content: bytes
    extension: str
    content_type: str
    duration_ms: int
    sha256: str
    source_format: str
    quality: AudioQuality
    # What WebRTC's detector said of `content` (elements.media.speech.SpeechReport), for
    # callers that need more of it than the ratio; None when the analysis was not run.
    speech: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Container:
    demuxer: str  # ffmpeg's name, forced on PyAV and on the ffmpeg binary
    source_format: str
    extension: str


# --- Sniffing -------------------------------------------------------------------------------


def _is_adts(header: bytes) -> bool:
    # 12-bit sync, layer 00, and a sampling-frequency index that exists.
    return (
        len(header) >= 3
        and header[0] == 0xFF
        and header[1] & 0xF6 == 0xF0
        and (header[2] >> 2) & 0x0F < 13
    )


def _is_mpeg_audio(header: bytes) -> bool:
    # 11-bit sync; version, layer, bitrate and sample-rate fields not reserved or invalid.
    return (
        len(header) >= 3
        and header[0] == 0xFF
        and header[1] & 0xE0 == 0xE0
        and (header[1] >> 3) & 0x03 != 0x01
        and (header[1] >> 1) & 0x03 != 0x00
        and header[2] >> 4 != 0x0F
        and (header[2] >> 2) & 0x03 != 0x03
    )


MP3 = _Container("mp3", "mp3", "mp3")
AAC = _Container("aac", "aac", "aac")
FLAC = _Container("flac", "flac", "flac")


def _sniff_raw_stream(data: bytes) -> _Container | None:
    if data.startswith(b"fLaC"):
        return FLAC
    if _is_adts(data):
        return AAC
    if _is_mpeg_audio(data):
        return MP3
    return None


def _sniff_after_id3(file: IO[bytes], head: bytes) -> _Container | None:
    """An ID3v2 tag may front an MP3, an ADTS AAC or a FLAC stream: look past it."""
    if len(head) < 10 or head[5] & 0x0F or any(byte & 0x80 for byte in head[6:10]):
        return None
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    footer = 10 if head[5] & 0x10 else 0
    file.seek(10 + size + footer)
    following = file.read(ID3_SLACK)
    for offset in range(max(0, len(following) - 3)):
        if following[offset] in (0xFF, 0x66):  # a frame sync or the "f" of "fLaC"
            found = _sniff_raw_stream(following[offset : offset + 4])
            if found is not None:
                return found
        elif following[offset] != 0:  # only zero padding may come before the first frame
            return None
    return None


def _sniff_container(file: IO[bytes]) -> _Container | None:
    """The container of an audio file from its first bytes, or None when it isn't one we
    accept (text, a playlist, an image…)."""
    file.seek(0)
    head = file.read(64)
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return _Container("wav", "wav", "wav")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _Container("aiff", "aiff", "aiff")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return _Container("mov", "mov", "mov")
        if brand in (b"M4A ", b"M4B "):
            return _Container("mov", "m4a", "m4a")
        if brand.startswith(b"3g"):
            return _Container("mov", "3gp", "3gp")
        return _Container("mov", "mp4", "mp4")
    if head[:4] == b"OggS":
        return _Container("ogg", "ogg", "ogg")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head:
            return _Container("matroska", "webm", "webm")
        return _Container("matroska", "mkv", "mkv")
    if head[:3] == b"ID3":
        return _sniff_after_id3(file, head)
    return _sniff_raw_stream(head)


# --- Errors ---------------------------------------------------------------------------------


def _unsupported() -> Exception:
    return media_error(
        "This file is not a supported audio file: upload MP3, WAV, M4A, AAC, OGG, FLAC, "
        "or an MP4, MOV or WebM video with sound.",
        MediaErrorCode.AUDIO_UNSUPPORTED_FORMAT,
    )


def _corrupt() -> Exception:
    return media_error(
        "The audio could not be decoded: the file is damaged or incomplete.",
        MediaErrorCode.AUDIO_CORRUPT,
    )


def _seconds(value: float, rounding: Any = round) -> str:
    """Tenths of a second; `math.ceil` / `math.floor` so that 30.03 s reads "30.1 s", never
    "30 s", when the limit is 30."""
    return f"{rounding(value * 10) / 10:.1f}".removesuffix(".0")


# --- Probe and decode -----------------------------------------------------------------------


def _probe(path: Path, container: _Container) -> tuple[str, float | None]:
    """The decoder name of the first audio stream and the container's duration in seconds,
    after checking that at least one audio frame decodes."""
    try:
        with av.open(str(path), format=container.demuxer) as media:
            if not media.streams.audio:
                raise media_error(
                    "The file has no audio track: upload a recording, or a video with sound.",
                    MediaErrorCode.AUDIO_NO_AUDIO_TRACK,
                )
            stream = media.streams.audio[0]
            decoded = False
            for count, packet in enumerate(media.demux(stream)):
                # A damaged first packet is not yet a damaged file.
                with contextlib.suppress(av.FFmpegError):
                    decoded = any(True for _ in packet.decode())
                if decoded or count >= PROBE_PACKETS:
                    break
            if not decoded:
                raise _corrupt()
            duration = media.duration / av.time_base if media.duration else None
            return stream.codec_context.name, duration
    except (av.FFmpegError, OSError, ValueError, EOFError):
        raise _corrupt() from None


# Lossy encoders pad a recording by a few tens of ms, which only ever lengthens it: allowed
# past the maximum (README says so), never below the minimum, which is exact (5.0 s accepted,
# 4.99 s refused).
LOSSY_PADDING_SECONDS = 0.1


def _decode(path: Path, container: _Container, codec: str, max_seconds: float) -> AudioSegment:
    """The file's sound as 16-bit PCM at its own rate and channels, at most `max_seconds` + 1 s
    of it (a file longer than its header says costs no more than the limit to decode)."""
    limit = max_seconds + 1
    try:
        if container.demuxer != "wav":
            with contextlib.suppress(_Unusual):
                return _decode_in_process(path, container, limit)
        if container.demuxer == "wav":
            # pydub reads WAV itself from a file object; given a path it would leave the file
            # open on that path.
            with path.open("rb") as file:
                return AudioSegment.from_file(file, format="wav", codec=codec, duration=limit)
        # `codec=` makes pydub skip its ffprobe call (there is no ffprobe); `format=` forces
        # the sniffed demuxer on ffmpeg too; ffmpeg stops after `duration`.
        return AudioSegment.from_file(
            str(path), format=container.demuxer, codec=codec, duration=limit
        )
    except (CouldntDecodeError, OSError, ValueError, audioop.error, av.FFmpegError):
        raise _corrupt() from None


class _Unusual(Exception):
    """A stream `_decode_in_process` leaves to the ffmpeg binary: its rate, channels or sample
    format change part-way."""


def _decode_in_process(path: Path, container: _Container, limit: float) -> AudioSegment:
    """What `AudioSegment.from_file(path, format=…, codec=…, duration=limit)` returns, without
    its ffmpeg process and WAV pipe (about half of a 30 s MP3's processing): PyAV decodes the
    first audio stream with the decoder the binary would use, skipping a packet that fails as
    the binary does (it logs it and goes on), and converts to interleaved 16-bit as the
    binary's automatic conversion to the WAV muxer's `pcm_s16le` does; then the same cut at
    `limit` seconds (`-t`, then pydub's slice), and an MP4's last AAC frame cut to the track's
    length (its edit list), as the binary does. Float samples (MP3, AAC, Vorbis, Opus) are
    converted with numpy as libswresample converts them (`lrintf(x * 32768)`, clipped); other
    formats by libswresample itself. The same bytes as pydub's decode on every container of
    tests/elements/test_media_audio.py (compared there)."""
    floats: list[np.ndarray] = []  # float samples, interleaved
    converted: list[bytes] = []  # 16-bit samples from libswresample, interleaved
    decoded = 0  # samples a channel
    kind: tuple[str, int, int] | None = None  # sample format, rate, channels
    resampler: av.AudioResampler | None = None
    cap = 0
    with av.open(str(path), format=container.demuxer) as media:
        stream = media.streams.audio[0]
        for packet in media.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue
            for frame in frames:
                found = (frame.format.name, frame.sample_rate, frame.layout.nb_channels)
                if kind is None:
                    kind = found
                    cap = round(limit * frame.sample_rate)
                    if container.demuxer == "mov" and stream.duration and stream.time_base:
                        track = round(stream.duration * stream.time_base * frame.sample_rate)
                        cap = min(cap, track)
                    if kind[0] not in ("flt", "fltp"):
                        resampler = av.AudioResampler(
                            format="s16", layout=frame.layout, rate=frame.sample_rate
                        )
                elif found != kind:
                    raise _Unusual
                decoded += frame.samples
                if resampler is None:
                    samples = frame.to_ndarray()  # (channels, n) planar, (1, n × channels) packed
                    floats.append(samples.T.reshape(-1) if kind[0] == "fltp" else samples[0])
                else:
                    converted += _interleaved(resampler.resample(frame), kind[2])
            if kind is not None and decoded >= cap:
                break
    if kind is None:
        raise CouldntDecodeError("no audio frame decoded")
    _, rate, channels = kind
    if resampler is None:
        joined = np.concatenate(floats).astype(np.float32, copy=False)
        scaled = np.rint(joined * np.float32(1 << 15))
        raw = np.clip(scaled, -32768, 32767).astype("<i2").tobytes()
    else:
        raw = b"".join(converted + _interleaved(resampler.resample(None), channels))
    raw = raw[: cap * SAMPLE_WIDTH * channels]
    if not raw:
        raise CouldntDecodeError("no audio sample decoded")
    segment = AudioSegment(data=raw, sample_width=SAMPLE_WIDTH, frame_rate=rate, channels=channels)
    return segment[: limit * 1000]  # type: ignore[misc]  # pydub's own slice, in float ms


def _interleaved(frames: list[av.AudioFrame], channels: int) -> list[bytes]:
    return [bytes(frame.planes[0])[: frame.samples * SAMPLE_WIDTH * channels] for frame in frames]


# --- Normalize ------------------------------------------------------------------------------


def _mono(raw: bytes, channels: int) -> bytes:
    if channels == 1:
        return raw
    if channels == 2:
        return audioop.tomono(raw, SAMPLE_WIDTH, 0.5, 0.5)
    # pydub's own mix of more than two channels is a Python loop over every sample.
    samples = array.array("h", raw)  # only sliced, never read: byte order doesn't matter
    mixed = b""
    for channel in range(channels):
        part = audioop.mul(samples[channel::channels].tobytes(), SAMPLE_WIDTH, 1 / channels)
        mixed = part if not mixed else audioop.add(mixed, part, SAMPLE_WIDTH)
    return mixed


def _resample(mono: bytes, rate: int) -> bytes:
    """16-bit mono PCM at `rate` → SAMPLE_RATE, with libswresample's filtered resampler
    (pydub's `set_frame_rate` interpolates without a low-pass filter, which folds everything
    above 12 kHz back into the voice band)."""
    if rate == SAMPLE_RATE:
        return mono
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    out = bytearray()

    def collect(frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            out.extend(bytes(frame.planes[0])[: frame.samples * SAMPLE_WIDTH])

    step = rate * SAMPLE_WIDTH  # one second per frame
    for offset in range(0, len(mono), step):
        chunk = mono[offset : offset + step]
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // SAMPLE_WIDTH)
        frame.sample_rate = rate
        frame.planes[0].update(chunk)
        collect(resampler.resample(frame))
    collect(resampler.resample(None))
    return bytes(out)


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return buffer.getvalue()


# --- Quality --------------------------------------------------------------------------------


def _dbfs(rms: float) -> float:
    if rms <= 0:
        return DBFS_FLOOR
    return max(DBFS_FLOOR, 20 * math.log10(rms / 32768))


def _clipping_ratio(raw: bytes) -> float:
    """Share of samples (all channels, before mixing) at full scale: within 0.07 dB of it,
    where lossy decoders leave a clipped waveform."""
    if not raw:
        return 0.0
    # The high byte of each 16-bit sample, in C: 0x7F or 0x80 is |x| >= 32512. Counting the
    # samples one by one in Python costs more than decoding the file.
    high = audioop.lin2lin(raw, SAMPLE_WIDTH, 1)
    return (high.count(b"\x7f") + high.count(b"\x80")) / len(high)


def _quality(pcm: bytes, clipping_ratio: float) -> tuple[AudioQuality, Any]:
    frame_bytes = SAMPLE_RATE * FRAME_MS // 1000 * SAMPLE_WIDTH
    levels = [
        _dbfs(audioop.rms(pcm[offset : offset + frame_bytes], SAMPLE_WIDTH))
        for offset in range(0, len(pcm) - frame_bytes + 1, frame_bytes)
    ] or [_dbfs(audioop.rms(pcm, SAMPLE_WIDTH))]
    silence_ratio = sum(level < SILENCE_DBFS for level in levels) / len(levels)
    loudness = _dbfs(audioop.rms(pcm, SAMPLE_WIDTH))
    noise_floor = sorted(levels)[int(NOISE_FLOOR_PERCENTILE * (len(levels) - 1))]

    found: list[QualityWarning] = []
    mostly_silent = silence_ratio > MOSTLY_SILENT_RATIO
    if mostly_silent:
        found.append(
            QualityWarning(
                AudioWarningCode.MOSTLY_SILENT,
                f"{silence_ratio:.0%} of the recording is silent (more than "
                f"{MOSTLY_SILENT_RATIO:.0%}): the voice may not be cloned well.",
            )
        )
    if clipping_ratio > CLIPPING_RATIO:
        found.append(
            QualityWarning(
                AudioWarningCode.CLIPPING,
                f"The recording is distorted: {clipping_ratio:.1%} of its samples are at full "
                f"scale (more than {CLIPPING_RATIO:.1%}). Record at a lower input level.",
            )
        )
    # A mostly silent recording is quiet and has a low floor by definition: its own warning
    # says it all. Otherwise the quietest tenth of the frames is what lies between words: a
    # recording with no quiet moment at all (a hum, music, a crowd) counts as noisy too.
    if not mostly_silent and loudness < TOO_QUIET_DBFS:
        found.append(
            QualityWarning(
                AudioWarningCode.TOO_QUIET,
                f"The recording is quiet ({loudness:.0f} dBFS, below {TOO_QUIET_DBFS:.0f}): "
                "speak closer to the microphone or raise the input level.",
            )
        )
    if not mostly_silent and noise_floor > NOISY_FLOOR_DBFS:
        found.append(
            QualityWarning(
                AudioWarningCode.NOISY,
                f"The background is noisy (floor {noise_floor:.0f} dBFS, above "
                f"{NOISY_FLOOR_DBFS:.0f}): record in a quieter place.",
            )
        )
    speech = _speech(pcm)
    if speech.two_speakers:
        found.append(
            QualityWarning(
                AudioWarningCode.MULTIPLE_SPEAKERS,
                "The voice seems to change between two clearly different pitches: make sure "
                "only one person speaks in the sample.",
            )
        )
    quality = AudioQuality(
        silence_ratio=round(silence_ratio, 4),
        clipping_ratio=round(clipping_ratio, 6),
        loudness_dbfs=round(loudness, 1),
        noise_floor_dbfs=round(noise_floor, 1),
        warnings=tuple(found),
        speech_ratio=round(speech.ratio, 4),
    )
    return quality, speech.report


@dataclass(frozen=True)
class _Speech:
    ratio: float
    two_speakers: bool
    report: Any = None  # elements.media.speech.SpeechReport


def _speech(pcm: bytes) -> _Speech:
    """How much of the sample is speech, and whether its pitch falls in two separate
    clusters (two speakers of clearly different pitch; see `elements.media.speech`)."""
    from elements.media.speech import (
        VAD_RATE,
        at_vad_rate,
        pitch_clusters,
        pitch_track,
        speech_report,
    )

    # Both analyses work at the detector's rate: convert once (the conversion each made).
    pcm = at_vad_rate(pcm, SAMPLE_RATE)
    report = speech_report(pcm, sample_rate=VAD_RATE)
    clusters = None
    if report.segments:
        clusters = pitch_clusters(pitch_track(pcm, sample_rate=VAD_RATE, segments=report.segments))
    return _Speech(report.speech_ratio, clusters is not None and clusters.two_speakers, report)


# --- Entry point ----------------------------------------------------------------------------


def process_audio(
    upload: Any,
    *,
    min_seconds: float = 5,
    max_seconds: float = 30,
    min_speech_ratio: float | None = None,
) -> ProcessedAudio:
    """Validates an uploaded voice sample and returns it normalized (WAV, mono, 24 kHz,
    16-bit) with its duration and a quality report.

    Raises `ValidationError(message, code=MediaErrorCode.X)`: EMPTY_FILE, FILE_TOO_LARGE,
    AUDIO_UNSUPPORTED_FORMAT, AUDIO_CORRUPT, AUDIO_NO_AUDIO_TRACK, AUDIO_TOO_SHORT,
    AUDIO_TOO_LONG, TOO_LITTLE_SPEECH (less speech than `min_speech_ratio`, by default the
    `VOICE_MIN_SPEECH_RATIO` setting). Other quality problems are warnings in the report.
    """
    max_bytes = int(settings.VOICE_MAX_BYTES)
    with tempfile.TemporaryDirectory(prefix="elements-audio-") as workdir:
        staging = Path(workdir) / "upload"
        with staging.open("wb") as file:
            copy_capped(upload, file, max_bytes=max_bytes, kind="audio")
        with staging.open("rb") as file:
            container = _sniff_container(file)
        if container is None:
            raise _unsupported()
        # The name decides nothing (the demuxer is forced), but a name ffmpeg could read as a
        # playlist or an image sequence must never reach it.
        path = staging.rename(Path(workdir) / f"input.{container.extension}")
        codec, container_seconds = _probe(path, container)
        segment = _decode(path, container, codec, max_seconds)

    seconds = len(segment) / 1000
    # Lossy encoders pad a few tens of ms: a recording of exactly 30 s must not fail on that.
    if seconds > max_seconds + LOSSY_PADDING_SECONDS:
        # Decoding stopped just past the limit; the header tells how long the whole file is.
        found = (
            f"{_seconds(container_seconds, math.ceil)} s long"
            if container_seconds and container_seconds > max_seconds
            else f"longer than {_seconds(max_seconds)} s"
        )
        raise media_error(
            f"The recording is {found}: it must last between {_seconds(min_seconds)} and "
            f"{_seconds(max_seconds)} seconds.",
            MediaErrorCode.AUDIO_TOO_LONG,
        )
    if seconds < min_seconds:
        raise media_error(
            f"The recording is {_seconds(seconds, math.floor)} s long: it must last between "
            f"{_seconds(min_seconds)} and {_seconds(max_seconds)} seconds.",
            MediaErrorCode.AUDIO_TOO_SHORT,
        )

    raw = segment.set_sample_width(SAMPLE_WIDTH).raw_data
    clipping = _clipping_ratio(raw)
    pcm = _resample(_mono(raw, segment.channels), segment.frame_rate)
    quality, speech = _quality(pcm, clipping)
    minimum = float(
        settings.VOICE_MIN_SPEECH_RATIO if min_speech_ratio is None else min_speech_ratio
    )
    if quality.speech_ratio < minimum:
        raise media_error(
            f"Only {quality.speech_ratio:.0%} of the recording is speech (at least "
            f"{minimum:.0%} is needed): upload a recording of someone speaking.",
            MediaErrorCode.TOO_LITTLE_SPEECH,
        )
    content = _wav(pcm)
    return ProcessedAudio(
        content=content,
        extension="wav",
        content_type="audio/wav",
        duration_ms=round(len(pcm) / SAMPLE_WIDTH * 1000 / SAMPLE_RATE),
        sha256=hashlib.sha256(content).hexdigest(),
        source_format=container.source_format,
        quality=quality,
        speech=speech,
    )
