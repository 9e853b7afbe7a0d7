"""The check of a likeness claim's selfie video: pure media work on a temporary file;
`elements.likeness.services` stores the verdict. In order, the first failure is the verdict:

- **Duration**: 3–8 s (LIKENESS_DURATION).
- **Speech**: the sound, decoded to 16 kHz mono, through WebRTC's voice-activity detector
  (`elements.media.speech`): at least `MIN_SPEECH_SECONDS` of speech (LIKENESS_NO_SPEECH).
- **The phrase**: without a speech recogniser we can't hear *which* words were said, only how
  many syllables: the loudness envelope (10 ms frames, smoothed over 50 ms) of the voiced
  stretches is walked with a 6 dB hysteresis, and each rise-and-fall above the floor (30 dB
  under the loudest frame) is one burst, a syllable nucleus. The phrase's words have known
  syllable counts (`phrases.WORDS`); the bursts must number between half and twice that
  (LIKENESS_PHRASE_MISMATCH). It refuses silence-with-a-cough, a sentence read at length, a
  music track; it can't refuse another phrase of about as many syllables.
- **One face**: the face cascades on frames sampled at 3 a second (`elements.media.clips`):
  never two confident faces in a frame (LIKENESS_MULTIPLE_FACES), a face in at least
  `MIN_FACE_SHARE` of them (LIKENESS_NO_FACE).
- **Motion**: consecutive sampled frames, grey at 64×48, must differ by at least
  `MIN_MOTION` grey levels on average (the 90th percentile over the pairs): a photo on a
  tripod, or a picture looped into a video, has none (LIKENESS_STILL_IMAGE). A photo waved in
  front of the camera moves; the spoken phrase is what it can't fake.
- **Descriptors**: the identity engine describes the face of up to 4 keyframes
  (`clips.pick_keyframes`, `clips.keyframe_face`); all must be one person (else
  LIKENESS_MULTIPLE_FACES), and at least one described (else LIKENESS_NO_FACE).
"""

from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import imageio_ffmpeg
import numpy as np
from PIL import Image

from elements.identity.base import IdentityEngine
from elements.likeness.error_codes import LikenessErrorCode
from elements.media import clips
from elements.media.speech import speech_report
from elements.media.video import DEMUXERS

MIN_SECONDS = 3.0
MAX_SECONDS = 8.0
DURATION_TOLERANCE = 0.05
MIN_SPEECH_SECONDS = 0.6
MIN_FACE_SHARE = 0.8
MIN_MOTION = 1.0  # grey levels (0–255), 90th percentile of consecutive frame differences
BURST_HYSTERESIS_DB = 6.0
BURST_FLOOR_DB = 30.0
PCM_RATE = 16_000
DECODE_TIMEOUT = 60


@dataclass
class Verdict:
    code: str = ""
    message: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    descriptors: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return not self.code


def duration_of(path: Path, extension: str) -> float:
    with av.open(str(path), format=DEMUXERS[extension]) as container:
        return (container.duration or 0) / 1_000_000


def decode_pcm(path: Path, extension: str) -> bytes:
    """The first sound track as 16-bit mono PCM at PCM_RATE; b"" when there is none."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin"]
    cmd += ["-protocol_whitelist", "file", "-f", DEMUXERS[extension], "-i", str(path)]
    cmd += ["-map", "0:a:0?", "-vn", "-ac", "1", "-ar", str(PCM_RATE), "-f", "s16le", "pipe:1"]
    result = subprocess.run(  # noqa: S603
        cmd, capture_output=True, timeout=DECODE_TIMEOUT, check=False, stdin=subprocess.DEVNULL
    )
    return result.stdout if result.returncode == 0 else b""


def count_bursts(pcm: bytes, segments: tuple[tuple[float, float], ...], rate: int) -> int:
    """Syllable-like bursts of loudness inside the voiced segments (see the docstring)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    hop = rate // 100
    frames = len(samples) // hop
    if frames == 0:
        return 0
    rms = np.sqrt((samples[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))
    envelope = 20 * np.log10(rms + 1.0)
    envelope = np.convolve(envelope, np.ones(5) / 5, mode="same")
    voiced = np.zeros(frames, dtype=bool)
    for start, end in segments:
        voiced[max(0, int(start * 100) - 5) : int(end * 100) + 5] = True
    floor = envelope.max() - BURST_FLOOR_DB
    bursts, rising, extreme = 0, True, -np.inf
    for level, inside in zip(envelope, voiced, strict=True):
        level = level if inside else floor - BURST_HYSTERESIS_DB
        if rising:
            extreme = max(extreme, level)
            if extreme > floor and level <= extreme - BURST_HYSTERESIS_DB:
                bursts += 1
                rising, extreme = False, level
        else:
            extreme = min(extreme, level)
            if level >= extreme + BURST_HYSTERESIS_DB:
                rising, extreme = True, level
    if rising and extreme > floor:
        bursts += 1  # the sound ended on a syllable
    return bursts


def phrase_plausible(bursts: int, syllables: int) -> bool:
    return syllables / 2 <= bursts <= syllables * 2


def motion(images: list[Image.Image]) -> float:
    """The 90th percentile of mean absolute grey differences of consecutive frames."""
    greys = [
        np.asarray(image.convert("L").resize((64, 48), Image.Resampling.BILINEAR), np.float32)
        for image in images
    ]
    diffs = [float(np.abs(a - b).mean()) for a, b in itertools.pairwise(greys)]
    return float(np.percentile(diffs, 90)) if diffs else 0.0


def check_selfie(path: Path, extension: str, *, syllables: int, engine: IdentityEngine) -> Verdict:
    verdict = Verdict()
    report = verdict.report

    def fail(code: LikenessErrorCode, message: str) -> Verdict:
        verdict.code, verdict.message = code, message
        return verdict

    duration = duration_of(path, extension)
    report["duration"] = round(duration, 3)
    if not MIN_SECONDS - DURATION_TOLERANCE <= duration <= MAX_SECONDS + DURATION_TOLERANCE:
        return fail(
            LikenessErrorCode.LIKENESS_DURATION,
            f"The video lasts {duration:.1f} s: record {MIN_SECONDS:g}–{MAX_SECONDS:g} s.",
        )

    pcm = decode_pcm(path, extension)
    speech = speech_report(pcm, sample_rate=PCM_RATE) if pcm else None
    report["speech_seconds"] = speech.speech_seconds if speech else 0.0
    if speech is None or speech.speech_seconds < MIN_SPEECH_SECONDS or not speech.segments:
        return fail(
            LikenessErrorCode.LIKENESS_NO_SPEECH,
            "No speech was heard in the video: say the phrase aloud while you record.",
        )
    bursts = count_bursts(pcm, speech.segments, PCM_RATE)
    report.update(bursts=bursts, expected_syllables=syllables)
    if not phrase_plausible(bursts, syllables):
        return fail(
            LikenessErrorCode.LIKENESS_PHRASE_MISMATCH,
            f"The speech heard has about {bursts} syllables; the phrase has {syllables}: "
            "say exactly the phrase shown, once.",
        )

    frames = clips.sample_frames(path, demuxer=DEMUXERS[extension])
    readings = clips.analyse(frames).readings
    with_face = sum(r.faces >= 1 for r in readings)
    several = sum(r.confident >= 2 for r in readings)
    report.update(frames=len(readings), with_face=with_face, with_several_faces=several)
    if several:
        return fail(
            LikenessErrorCode.LIKENESS_MULTIPLE_FACES,
            f"{several} of {len(readings)} sampled frames show more than one face: record "
            "yourself alone.",
        )
    if not readings or with_face / len(readings) < MIN_FACE_SHARE:
        return fail(
            LikenessErrorCode.LIKENESS_NO_FACE,
            f"A face was found in {with_face} of {len(readings)} sampled frames; at least "
            f"{MIN_FACE_SHARE:.0%} are needed: keep your face in the picture, well lit.",
        )
    moved = motion([image for _, image in frames])
    report["motion"] = round(moved, 2)
    if moved < MIN_MOTION:
        return fail(
            LikenessErrorCode.LIKENESS_STILL_IMAGE,
            "Nothing moves in the video: it looks like a filmed photo. Record yourself live.",
        )

    chosen = clips.pick_keyframes(readings, duration)
    faces = [clips.keyframe_face(engine, r, frames[r.index][1]) for r in chosen]
    described = [f for f in faces if f is not None and f.descriptor is not None]
    report["described_keyframes"] = len(described)
    if not described:
        return fail(
            LikenessErrorCode.LIKENESS_NO_FACE,
            "Your face could not be described: face the camera, closer and well lit.",
        )
    main = described[0]
    far = [engine.face_distance(main, f) for f in described[1:]]
    if any(d > engine.face_threshold for d in far):
        return fail(
            LikenessErrorCode.LIKENESS_MULTIPLE_FACES,
            "The video shows more than one person: record yourself alone.",
        )
    verdict.descriptors = np.asarray([f.descriptor for f in described], dtype=np.float32)
    return verdict
