"""How much of a clip is speech, from WebRTC's voice-activity detector.

`webrtcvad-wheels` ships the detector compiled in its wheel: no model file, no download. It
reads 16-bit mono PCM at 8, 16, 32 or 48 kHz in frames of 10, 20 or 30 ms and says, per frame,
whether it holds speech. It is a statistical detector tuned for telephony: music and tones can
pass as speech, whispering can fail; callers report its ratio as evidence, not as truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import webrtcvad

from elements.media.audio import audioop

VAD_RATE = 16_000
FRAME_MS = 30
# 0 is the most permissive, 3 the most aggressive at calling frames "not speech".
DEFAULT_AGGRESSIVENESS = 2


@dataclass(frozen=True)
class SpeechReport:
    speech_ratio: float  # of 30 ms frames the detector called speech
    speech_seconds: float
    frames: int
    # (start, end) seconds of runs of speech of at least 0.3 s, merged across short pauses.
    segments: tuple[tuple[float, float], ...]


def speech_report(
    pcm: bytes,
    *,
    sample_rate: int,
    sample_width: int = 2,
    aggressiveness: int = DEFAULT_AGGRESSIVENESS,
) -> SpeechReport:
    """Run the detector over mono PCM (`sample_width` bytes a sample) at any rate."""
    if sample_width != 2:
        pcm = audioop.lin2lin(pcm, sample_width, 2)
    if sample_rate != VAD_RATE:
        pcm, _ = audioop.ratecv(pcm, 2, 1, sample_rate, VAD_RATE, None)
    vad = webrtcvad.Vad(aggressiveness)
    frame_bytes = VAD_RATE * FRAME_MS // 1000 * 2
    flags = [
        vad.is_speech(pcm[start : start + frame_bytes], VAD_RATE)
        for start in range(0, len(pcm) - frame_bytes + 1, frame_bytes)
    ]
    voiced = sum(flags)
    return SpeechReport(
        speech_ratio=voiced / len(flags) if flags else 0.0,
        speech_seconds=voiced * FRAME_MS / 1000,
        frames=len(flags),
        segments=_segments(flags),
    )


def _segments(flags: list[bool], *, min_s: float = 0.3, gap_s: float = 0.3) -> tuple:
    runs: list[list[float]] = []
    for index, speech in enumerate(flags):
        if not speech:
            continue
        start = index * FRAME_MS / 1000
        end = start + FRAME_MS / 1000
        if runs and start - runs[-1][1] <= gap_s:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return tuple((round(a, 2), round(b, 2)) for a, b in runs if b - a >= min_s)
