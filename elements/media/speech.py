"""How much of a clip is speech, from WebRTC's voice-activity detector.

`webrtcvad-wheels` ships the detector compiled in its wheel: no model file, no download. It
reads 16-bit mono PCM at 8, 16, 32 or 48 kHz in frames of 10, 20 or 30 ms and says, per frame,
whether it holds speech. It is a statistical detector tuned for telephony: music and tones can
pass as speech, whispering can fail; callers report its ratio as evidence, not as truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from elements.media.audio import audioop

VAD_RATE = 16_000
FRAME_MS = 30
# 0 is the most permissive, 3 the most aggressive at calling frames "not speech".
DEFAULT_AGGRESSIVENESS = 2


def at_vad_rate(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono PCM at `sample_rate` → VAD_RATE: `audioop.ratecv(pcm, 2, 1, sample_rate,
    VAD_RATE, None)[0]`, byte for byte. From the voice pipeline's 24 kHz (3 samples in, 2
    out) that is, per 3 samples a, b, c: a, then floor((b + c) / 2) (ratecv's linear
    weights at that ratio, in its 32-bit fixed point), which numpy does at once; any other
    rate goes through audioop (compared in tests/elements/test_speech.py)."""
    if sample_rate == VAD_RATE:
        return pcm
    if sample_rate != 3 * VAD_RATE // 2 or len(pcm) % 2:
        return audioop.ratecv(pcm, 2, 1, sample_rate, VAD_RATE, None)[0]
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.int32)
    firsts = samples[0::3]
    pairs = min(len(samples[1::3]), len(samples[2::3]))
    out = np.empty(len(firsts) + pairs, dtype="<i2")
    out[0::2] = firsts
    out[1::2] = (samples[1::3][:pairs] + samples[2::3][:pairs]) >> 1
    return out.tobytes()


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
    pcm = at_vad_rate(pcm, sample_rate)
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


# --- More than one speaker ----------------------------------------------------------------
#
# Without a speaker-embedding model, the one honest cue is pitch: two people whose voices
# sit far apart (a typical man near 100–150 Hz, a woman or child near 200–300 Hz) give two
# separate clusters of pitch across the speech, with little in between. One speaker's
# intonation glides continuously and fills the gap. Two speakers of similar pitch are NOT
# told apart; the warning is a hint, never a refusal.

PITCH_WINDOW_MS = 40
PITCH_HOP_MS = 20
PITCH_MIN_HZ = 60.0
PITCH_MAX_HZ = 400.0
# A window is voiced when its normalized autocorrelation at the pitch period reaches this.
VOICED_CORRELATION = 0.5
PITCH_BLOCK = 128
MIN_VOICED_WINDOWS = 40
# Two clusters: centres at least this many semitones apart, each with this share of the
# voiced windows, and at most this share of the windows in the middle third between them.
SPEAKER_GAP_SEMITONES = 7.0
SPEAKER_MIN_SHARE = 0.2
SPEAKER_MAX_VALLEY = 0.08


@dataclass(frozen=True)
class PitchClusters:
    voiced_windows: int
    low_hz: float
    high_hz: float
    high_share: float
    valley_share: float

    @property
    def gap_semitones(self) -> float:
        return 12 * float(np.log2(self.high_hz / self.low_hz)) if self.low_hz > 0 else 0.0

    @property
    def two_speakers(self) -> bool:
        return (
            self.voiced_windows >= MIN_VOICED_WINDOWS
            and self.gap_semitones >= SPEAKER_GAP_SEMITONES
            and SPEAKER_MIN_SHARE <= self.high_share <= 1 - SPEAKER_MIN_SHARE
            and self.valley_share <= SPEAKER_MAX_VALLEY
        )


def pitch_track(pcm: bytes, *, sample_rate: int, segments: tuple = ()) -> np.ndarray:
    """Pitch (Hz) of each voiced 40 ms window, by autocorrelation, inside `segments` (all of
    the clip when empty). The shortest period whose correlation is near the best one wins,
    which avoids the usual octave-down errors."""
    pcm = at_vad_rate(pcm, sample_rate)
    signal = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    window = VAD_RATE * PITCH_WINDOW_MS // 1000
    hop = VAD_RATE * PITCH_HOP_MS // 1000
    low_lag = int(VAD_RATE / PITCH_MAX_HZ)
    high_lag = int(VAD_RATE / PITCH_MIN_HZ)
    spans = [(int(a * VAD_RATE), int(b * VAD_RATE)) for a, b in segments] or [(0, len(signal))]
    offsets = np.asarray(
        [
            offset
            for start, end in spans
            for offset in range(start, min(end, len(signal)) - window + 1, hop)
        ],
        dtype=np.intp,
    )
    # Windows a block at a time (rows of a strided view), the per-window arithmetic of the loop
    # this replaced row by row, so each pitch is the one that loop found. Blocks of
    # PITCH_BLOCK rows keep the arrays in cache: one block of a 30 s clip's 1,500 windows is
    # about twice as slow.
    view = np.lib.stride_tricks.sliding_window_view(signal, window)
    pitches = [np.asarray([], dtype=np.float64)]
    for first in range(0, len(offsets), PITCH_BLOCK):
        frames = view[offsets[first : first + PITCH_BLOCK]]
        frames = frames - frames.mean(axis=1, keepdims=True)
        energy = np.einsum("ij,ij->i", frames, frames)
        loud = energy >= window * 100.0**2  # below about -50 dBFS: not a voice
        frames, energy = frames[loud], energy[loud]
        spectrum = np.fft.rfft(frames, 2 * window, axis=1)
        # |X|², the same values as X·conj(X) (its imaginary part is exactly 0) without the
        # complex product.
        power = spectrum.real**2 + spectrum.imag**2
        ac = np.fft.irfft(power, 2 * window, axis=1)[:, : high_lag + 1]
        lags = ac[:, low_lag : high_lag + 1] / energy[:, None]
        best = lags.max(axis=1, initial=-np.inf)
        voiced = best >= VOICED_CORRELATION
        lag = low_lag + np.argmax(lags[voiced] >= 0.9 * best[voiced, None], axis=1)
        pitches.append(VAD_RATE / lag.astype(np.float64))
    return np.concatenate(pitches)


def pitch_clusters(pitches: np.ndarray) -> PitchClusters | None:
    """Two-means of the pitches on a log scale; None with too few voiced windows."""
    if len(pitches) < MIN_VOICED_WINDOWS:
        return None
    logs = np.log2(pitches)
    low, high = float(np.percentile(logs, 20)), float(np.percentile(logs, 80))
    for _ in range(20):
        split = (low + high) / 2
        below, above = logs[logs < split], logs[logs >= split]
        if not len(below) or not len(above):
            break
        low, high = float(below.mean()), float(above.mean())
    split = (low + high) / 2
    third = (high - low) / 6
    valley = float(np.mean(np.abs(logs - split) <= third))
    return PitchClusters(
        voiced_windows=len(pitches),
        low_hz=round(2**low, 1),
        high_hz=round(2**high, 1),
        high_share=round(float(np.mean(logs >= split)), 3),
        valley_share=round(valley, 3),
    )
