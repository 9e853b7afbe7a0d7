"""WebRTC's voice-activity detector on signals we can reason about."""

import numpy as np

from elements.media.speech import speech_report
from tests.support.media import speechlike_pcm

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


def _pitch_track_one_window_at_a_time(pcm: bytes, segments: tuple) -> list[float]:
    """The pitch track as it was first written, a window per iteration: the reference the
    vectorised `pitch_track` must match exactly."""
    from elements.media import speech

    signal = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    window = RATE * speech.PITCH_WINDOW_MS // 1000
    hop = RATE * speech.PITCH_HOP_MS // 1000
    low_lag, high_lag = int(RATE / speech.PITCH_MAX_HZ), int(RATE / speech.PITCH_MIN_HZ)
    spans = [(int(a * RATE), int(b * RATE)) for a, b in segments] or [(0, len(signal))]
    pitches = []
    for start, end in spans:
        for offset in range(start, min(end, len(signal)) - window + 1, hop):
            frame = signal[offset : offset + window]
            frame = frame - frame.mean()
            energy = float(frame @ frame)
            if energy < window * 100.0**2:
                continue
            spectrum = np.fft.rfft(frame, 2 * window)
            ac = np.fft.irfft(spectrum * np.conj(spectrum))[: high_lag + 1] / energy
            lags = ac[low_lag : high_lag + 1]
            best = float(lags.max())
            if best < speech.VOICED_CORRELATION:
                continue
            pitches.append(RATE / (low_lag + int(np.argmax(lags >= 0.9 * best))))
    return pitches


def test_the_pitch_track_finds_the_pitches_a_window_by_window_loop_finds():
    from elements.media.speech import pitch_track
    from tests.support.media import voiced_pcm

    noise = (np.random.default_rng(1).standard_normal(RATE * 3) * 4000).astype("<i2").tobytes()
    two = voiced_pcm(4, f0=110) + voiced_pcm(4, f0=240)
    for pcm in (speechlike_pcm(12.0, RATE), two, noise, bytes(RATE * 2)):
        report = speech_report(pcm, sample_rate=RATE)
        for segments in (report.segments, ()):
            expected = _pitch_track_one_window_at_a_time(pcm, segments)
            found = pitch_track(pcm, sample_rate=RATE, segments=segments)
            assert found.tolist() == expected
    assert len(_pitch_track_one_window_at_a_time(two, ())) > 100
