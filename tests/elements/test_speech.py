"""WebRTC's voice-activity detector on signals we can reason about."""

import numpy as np

from elements.media.speech import speech_report
from tests.elements.samples import speechlike_pcm

RATE = 16_000


def test_speechlike_signal_is_mostly_speech():
    report = speech_report(speechlike_pcm(8.0, RATE), sample_rate=RATE)

    assert report.speech_ratio > 0.8
    assert 6.0 < report.speech_seconds <= 8.0
    assert report.frames == 266
    # Pauses of a quarter second between words are merged into one run of speech.
    assert report.segments == ((0.0, 7.98),)


def test_any_input_rate_is_resampled_for_the_detector():
    at_24k = speech_report(speechlike_pcm(8.0, 24_000), sample_rate=24_000)

    assert at_24k.speech_ratio > 0.8
    assert at_24k.frames == 266


def test_silence_and_a_steady_tone_are_not_speech():
    t = np.arange(RATE * 5) / RATE
    tone = (np.sin(2 * np.pi * 220 * t) * 12000).astype("<i2").tobytes()

    assert speech_report(bytes(RATE * 2 * 5), sample_rate=RATE).speech_ratio == 0.0
    assert speech_report(tone, sample_rate=RATE).speech_ratio < 0.05


def test_quiet_hiss_is_not_speech_but_loud_hiss_fools_it():
    # A known limit of the detector, recorded: callers pair it with the noise-floor check.
    noise = np.random.default_rng(0).standard_normal(RATE * 5)

    quiet = speech_report((noise * 300).astype("<i2").tobytes(), sample_rate=RATE)
    loud = speech_report((noise * 3000).astype("<i2").tobytes(), sample_rate=RATE)

    assert quiet.speech_ratio < 0.05
    assert loud.speech_ratio > 0.9


def test_empty_input():
    report = speech_report(b"", sample_rate=RATE)

    assert (report.speech_ratio, report.frames, report.segments) == (0.0, 0, ())
