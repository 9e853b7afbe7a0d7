"""Spoken lines for the local provider: espeak-ng (its library and voice data ship inside the
`espeakng-loader` wheel: nothing is downloaded, no system package) says a line's words in the
line's language, shifted toward the measured median pitch and loudness of the voice bound to
its speaker, or in a neutral default voice.

Pure: no Django, no database. `speak` writes a WAV that the renderer places like any voice cue
(in the line's time inside its shot, faded in and out).

- Language: a line with Han characters is Mandarin (`cmn`), anything else English (`en`): the
  guide's lines are English and Chinese.
- Pitch: `median_pitch` is a YIN estimate (cumulative mean normalised difference, 60-500 Hz,
  40 ms frames every 10 ms, voiced frames only). espeak-ng's pitch parameter (0-100) moves a
  voice over about one octave, so the line is first said with a male or a female variant
  (whichever is nearer the target), its parameter set from a measurement of the variant, then
  the remaining ratio is applied by declaring the WAV's rate that much higher or lower: the
  renderer's resampler (libswresample, filtered) turns that into a pitch shift.
- Loudness: the RMS of the line's voiced part is set to that of the sample's (peaks kept below
  full scale).
- Length: espeak-ng's rate is set so the line fills about 92 % of its time (130 to 450 words
  a minute; the renderer cuts a line still too long at a pause).
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

MIN_HZ, MAX_HZ = 60.0, 500.0
NEUTRAL_LEVEL_DB = -20.0  # RMS of a voiced line said in the default voice, in dBFS
PEAK = 0.95
DEFAULT_WPM, MIN_WPM, MAX_WPM = 175, 130, 450
FILL = 0.92  # the share of the line's time a line is said in, when the rate allows
MAX_SHIFT = 1.5  # the resampling part of a pitch shift, either way (formants move with it)
YIN_THRESHOLD = 0.2
PROFILE_SECONDS = 10.0  # of a voice sample measured (about 0.3 s of CPU)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# espeak-ng's C API (speak_lib.h).
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come back through the callback
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH = 1, 2, 3
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class SpeechError(Exception):
    """The speech engine could not be loaded or refused a line."""


@dataclass(frozen=True)
class VoiceProfile:
    pitch_hz: float | None  # None: the engine's own (the neutral default)
    level_db: float  # RMS of the voiced part, dBFS


NEUTRAL = VoiceProfile(None, NEUTRAL_LEVEL_DB)


def language_of(text: str) -> str:
    """espeak-ng's voice for the line: Mandarin when it has Han characters, else English."""
    return "cmn" if _HAN.search(text) else "en"


# --- Measuring a voice ----------------------------------------------------------------------


def _frames(samples: np.ndarray, size: int, hop: int) -> np.ndarray:
    if samples.shape[0] < size:
        return np.zeros((0, size), dtype=np.float64)
    count = 1 + (samples.shape[0] - size) // hop
    view = np.lib.stride_tricks.sliding_window_view(samples, size)[::hop][:count]
    return view.astype(np.float64)


def _voiced_rms(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """30 ms frames every 10 ms and their RMS; frames above 10 % of the loud ones (the 95th
    percentile) are the voiced part."""
    frames = _frames(samples, round(0.03 * rate), round(0.01 * rate))
    rms = np.sqrt(np.mean(np.square(frames), axis=1)) if frames.size else np.zeros(0)
    if not rms.size:
        return rms, rms.astype(bool)
    loud = float(np.percentile(rms, 95))
    return rms, (rms > max(1e-3, 0.1 * loud))


def level_db(samples: np.ndarray, rate: int) -> float | None:
    """RMS of the voiced part in dBFS (None when there is no sound)."""
    rms, voiced = _voiced_rms(samples, rate)
    if not voiced.any():
        return None
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(rms[voiced])))))


def median_pitch(samples: np.ndarray, rate: int) -> float | None:
    """The median F0 (Hz) of the voiced frames of mono `samples` (YIN), None if none is."""
    size, hop = round(0.04 * rate), round(0.01 * rate)
    lo, hi = max(2, int(rate / MAX_HZ)), min(size - 2, math.ceil(rate / MIN_HZ))
    frames = _frames(samples, size + hi, hop)
    if not frames.size:
        return None
    energy = np.sqrt(np.mean(np.square(frames[:, :size]), axis=1))
    loud = float(np.percentile(energy, 95))
    frames = frames[energy > max(1e-3, 0.1 * loud)]
    if not frames.size:
        return None
    frames -= frames.mean(axis=1, keepdims=True)
    # The difference function d(tau) = sum_j (x_j - x_{j+tau})^2 over the first `size`
    # samples, from energies and one FFT cross-correlation per frame.
    n = 1 << math.ceil(math.log2(2 * (size + hi)))
    head = np.fft.rfft(frames[:, :size], n)
    whole = np.fft.rfft(frames, n)
    cross = np.fft.irfft(np.conj(head) * whole, n)[:, : hi + 1]
    squares = np.concatenate(
        [np.zeros((frames.shape[0], 1)), np.cumsum(np.square(frames), axis=1)], axis=1
    )
    taus = np.arange(hi + 1)
    shifted = squares[:, taus + size] - squares[:, taus]
    diff = squares[:, size : size + 1] + shifted - 2 * cross
    diff[:, 0] = 0
    running = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, hi + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, 1e-12)
    pitches = []
    for row in cmnd:
        below = np.nonzero(row[lo : hi + 1] < YIN_THRESHOLD)[0]
        if not below.size:
            continue
        tau = lo + int(below[0])
        while tau + 1 <= hi and row[tau + 1] < row[tau]:  # down to the dip's bottom
            tau += 1
        a, b, c = row[tau - 1], row[tau], row[min(tau + 1, hi)]
        bend = a - 2 * b + c
        exact = tau + (0.5 * (a - c) / bend if bend > 0 else 0.0)
        pitches.append(rate / exact)
    if not pitches:
        return None
    return float(np.median(pitches))


def decode_mono(path: Path, rate: int = 16_000, seconds: float = 20.0) -> np.ndarray:
    """The first `seconds` of an audio file as mono float32 at `rate` (PyAV)."""
    chunks: list[np.ndarray] = []
    have, limit = 0, round(seconds * rate)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise SpeechError(f"{Path(path).name} has no audio track")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    have += chunks[-1].shape[0]
                if have >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
    except SpeechError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise SpeechError(f"cannot read voice {Path(path).name}: {exc}") from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks)[:limit].astype(np.float32, copy=False)


def profile_of(path: Path) -> VoiceProfile:
    """The median pitch and loudness of the first `PROFILE_SECONDS` of a voice sample; the
    neutral default for what it lacks."""
    samples = decode_mono(Path(path), seconds=PROFILE_SECONDS)
    level = level_db(samples, 16_000)
    return VoiceProfile(median_pitch(samples, 16_000), NEUTRAL_LEVEL_DB if level is None else level)


# --- espeak-ng ---------------------------------------------------------------------------


class _Engine:
    """espeak-ng loaded once per process; its state is global, so one line at a time."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            self.lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise SpeechError(f"espeak-ng is not available: {exc}") from exc
        self.rate = int(self.lib.espeak_Initialize(_SYNCHRONOUS, 0, data.encode(), 0))
        if self.rate <= 0:
            raise SpeechError("espeak-ng did not initialise")
        self.chunks: list[np.ndarray] = []
        self.callback = _CALLBACK(self._collect)  # kept: the library holds the pointer
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lock = threading.Lock()

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def say(self, text: str, voice: str, *, pitch: int, wpm: int) -> np.ndarray:
        """Mono float32 samples at `self.rate`, leading and trailing silence cut."""
        with self.lock:
            self.chunks = []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SpeechError(f"espeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_PITCH, max(0, min(100, pitch)), 0)
            self.lib.espeak_SetParameter(_RATE, max(80, min(MAX_WPM, wpm)), 0)
            self.lib.espeak_SetParameter(_VOLUME, 100, 0)
            data = text.encode("utf-8") + b"\0"
            code = self.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            if code != 0:
                raise SpeechError(f"espeak-ng refused the line (error {code})")
            chunks, self.chunks = self.chunks, []
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        samples = np.concatenate(chunks).astype(np.float32) / 32768
        heard = np.nonzero(np.abs(samples) > 10 ** (-50 / 20))[0]
        if not heard.size:
            return np.zeros(0, dtype=np.float32)
        return samples[heard[0] : heard[-1] + 1]


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


# The pitch parameter's effect on espeak-ng's F0, relative to the parameter 50 (measured on
# the en and cmn voices: flat below 25, about an octave from 25 to 100).
_PITCH_PARAMETERS = (0, 25, 50, 75, 100)
_PITCH_FACTORS = (0.80, 0.80, 1.0, 1.30, 1.71)
FEMALE_ABOVE_HZ = 150.0


def _parameter_for(factor: float) -> int:
    return round(float(np.interp(factor, _PITCH_FACTORS[1:], _PITCH_PARAMETERS[1:])))


@dataclass(frozen=True)
class Spoken:
    path: Path
    seconds: float
    pitch_hz: float | None  # the line's median pitch as written (after the shift)


def speak(text: str, profile: VoiceProfile, out_path: Path, *, max_seconds: float) -> Spoken | None:
    """Say `text` into a mono 16-bit WAV at `out_path` in `profile`'s pitch and loudness,
    at most about `max_seconds` long (the renderer cuts what is left over at a pause). None,
    and no file, when there is nothing to say (a line of punctuation only)."""
    engine = _get_engine()
    language = language_of(text)
    target = profile.pitch_hz
    voice = language
    if target is not None and target >= FEMALE_ABOVE_HZ:
        voice = f"{language}+f3"
    samples = engine.say(text, voice, pitch=50, wpm=DEFAULT_WPM)
    if not samples.size:
        return None
    pitch, measured = 50, median_pitch(samples, engine.rate)
    if target is not None and measured is not None:
        pitch = _parameter_for(target / measured)
    shift = 1.0
    seconds = samples.shape[0] / engine.rate
    wpm = DEFAULT_WPM
    if target is not None and measured is not None:
        expected = (
            measured
            * _PITCH_FACTORS[2]
            * float(np.interp(pitch, _PITCH_PARAMETERS, _PITCH_FACTORS))
        )
        shift = min(MAX_SHIFT, max(1 / MAX_SHIFT, target / expected))
    if max_seconds > 0:
        # Faster to fit the line's time, slower (not below MIN_WPM) to fill most of it.
        wanted = DEFAULT_WPM * seconds / shift / (max_seconds * FILL)
        wpm = max(MIN_WPM, min(MAX_WPM, math.ceil(wanted)))
    for _ in range(3):  # the rate's effect on the length is not exact: measure, correct
        if pitch != 50 or wpm != DEFAULT_WPM:
            samples = engine.say(text, voice, pitch=pitch, wpm=wpm)
            said = median_pitch(samples, engine.rate)
            if target is not None and said is not None:
                shift = min(MAX_SHIFT, max(1 / MAX_SHIFT, target / said))
        seconds = samples.shape[0] / engine.rate / shift
        if max_seconds <= 0 or seconds <= max_seconds or wpm >= MAX_WPM:
            break
        wpm = min(MAX_WPM, math.ceil(wpm * seconds / (max_seconds * FILL)))
    level = level_db(samples, engine.rate)
    if level is not None:
        samples = samples * 10 ** ((profile.level_db - level) / 20)
        peak = float(np.abs(samples).max())
        if peak > PEAK:
            samples *= PEAK / peak
    rate = round(engine.rate * shift)  # played at this rate: pitch and tempo times `shift`
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    out_path = Path(out_path)
    with wave.open(str(out_path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    said_pitch = median_pitch(samples, engine.rate)
    return Spoken(out_path, pcm.shape[0] / rate, None if said_pitch is None else said_pitch * shift)
