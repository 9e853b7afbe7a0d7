"""The local provider's spoken lines (generation.providers.speech): espeak-ng from its wheel,
the pitch estimate, the shift toward a voice, the fit to a line's time. Checked on the WAVs
it writes, with WebRTC's speech detector and the module's own pitch estimate (itself checked
first on signals of known pitch)."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np
import pytest
import webrtcvad

from generation.providers import speech
from tests.support.media import wav_bytes


def semitones(a: float, b: float) -> float:
    return abs(12 * math.log2(a / b))


def pcm(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as f:
        return np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float32) / 32768


def speech_share(samples: np.ndarray, rate: int = 16_000) -> float:
    """The share of 30 ms frames WebRTC's detector (aggressiveness 3) hears as speech."""
    vad = webrtcvad.Vad(3)
    data = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    step = round(0.03 * rate)
    frames = [data[i : i + step] for i in range(0, len(data) - step + 1, step)]
    return sum(vad.is_speech(f.tobytes(), rate) for f in frames) / max(1, len(frames))


def test_the_pitch_estimate_on_signals_of_known_pitch() -> None:
    assert semitones(speech.median_pitch(pcm(wav_bytes(seconds=3, freq=220.0)), 16_000), 220) < 0.1
    assert semitones(speech.median_pitch(pcm(wav_bytes(seconds=3, freq=110.0)), 16_000), 110) < 0.1
    # voiced, like speech: 20 harmonics of a pitch gliding from 120 to 160 Hz (median 140),
    # in syllables of 0.25 s with a pause every fourth
    t = np.arange(4 * 16_000) / 16_000
    pitch = 120 + 40 * t / 4
    phase = 2 * np.pi * np.cumsum(pitch) / 16_000
    voice = sum(np.sin(k * phase) / k for k in range(1, 21))
    syllables = np.sin(np.pi * (t % 0.25) / 0.25) ** 2 * ((t // 0.25) % 4 != 3)
    glide = (0.3 * voice * syllables / np.abs(voice).max()).astype(np.float32)
    assert semitones(speech.median_pitch(glide, 16_000), 140) < 0.3
    assert speech.median_pitch(np.zeros(16_000, dtype=np.float32), 16_000) is None
    noise = np.random.default_rng(1).standard_normal(16_000).astype(np.float32) * 0.1
    assert speech.median_pitch(noise, 16_000) is None  # no period: no voiced frame


def test_the_line_language_is_read_from_its_text() -> None:
    assert speech.language_of("I see food, and I eat it.") == "en"
    assert speech.language_of("我看到食物，我就吃。") == "cmn"
    assert speech.language_of("Ann: 你好!") == "cmn"
    assert speech.language_of("Café au lait") == "en"


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("I see food, and I eat it.", 220.0),
        ("I see food, and I eat it.", 110.0),
        ("我看到食物，我就吃。", 180.0),
        ("我看到食物，我就吃。", 130.0),
    ],
)
def test_a_line_is_said_in_the_voice_pitch_and_loudness(
    text: str, target: float, tmp_path: Path
) -> None:
    profile = speech.VoiceProfile(target, -18.0)
    spoken = speech.speak(text, profile, tmp_path / "line.wav", max_seconds=2.5)
    assert spoken is not None
    heard = speech.decode_mono(spoken.path, 16_000)
    assert 1.0 < len(heard) / 16_000 <= 2.5  # fills most of its time, never more
    assert abs(spoken.seconds - len(heard) / 16_000) < 0.02
    assert speech_share(heard) > 0.6  # speech, not a tone or noise
    said = speech.median_pitch(heard, 16_000)
    assert said is not None and semitones(said, target) < 1
    level = speech.level_db(heard, 16_000)
    assert level is not None and abs(level + 18) < 1.5


def test_a_long_line_is_said_faster_to_fit_its_time(tmp_path: Path) -> None:
    text = "We should have left an hour ago, before the rain and the traffic."
    calm = speech.speak(text, speech.NEUTRAL, tmp_path / "calm.wav", max_seconds=10.0)
    hurried = speech.speak(text, speech.NEUTRAL, tmp_path / "hurried.wav", max_seconds=2.0)
    assert calm is not None and hurried is not None
    assert hurried.seconds < 2.2 < calm.seconds


def test_the_neutral_voice_is_the_engine_own(tmp_path: Path) -> None:
    spoken = speech.speak("Hello there.", speech.NEUTRAL, tmp_path / "n.wav", max_seconds=1.5)
    assert spoken is not None
    heard = speech.decode_mono(spoken.path, 16_000)
    said = speech.median_pitch(heard, 16_000)
    assert said is not None and 70 < said < 140
    level = speech.level_db(heard, 16_000)
    assert level is not None and abs(level - speech.NEUTRAL_LEVEL_DB) < 1.5


def test_a_voice_profile_is_measured_from_its_sample(tmp_path: Path) -> None:
    sample = tmp_path / "voice.wav"
    sample.write_bytes(wav_bytes(seconds=4, freq=180.0, volume=0.25))
    profile = speech.profile_of(sample)
    assert profile.pitch_hz is not None and semitones(profile.pitch_hz, 180) < 0.1
    # a sine of amplitude 0.25 has an RMS of 0.177: -15 dBFS
    assert abs(profile.level_db - 20 * math.log10(0.25 / math.sqrt(2))) < 0.5
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(speech.SpeechError, match=r"bad\.wav"):
        speech.profile_of(bad)


def test_a_line_with_nothing_to_say_gives_no_file(tmp_path: Path) -> None:
    assert speech.speak("…", speech.NEUTRAL, tmp_path / "x.wav", max_seconds=1.0) is None
    assert not (tmp_path / "x.wav").exists()
