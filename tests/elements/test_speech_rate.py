"""`speech.at_vad_rate`: the voice pipeline's 24 kHz → the detector's 16 kHz with numpy, byte
for byte what `audioop.ratecv` gives (which it replaced); other rates go through audioop."""

from __future__ import annotations

import numpy as np
import pytest

from elements.media.audio import audioop
from elements.media.speech import VAD_RATE, at_vad_rate
from tests.support.media import speechlike_pcm


def _ratecv(pcm: bytes, rate: int) -> bytes:
    return audioop.ratecv(pcm, 2, 1, rate, VAD_RATE, None)[0]


@pytest.mark.parametrize("samples", [*range(12), 24_000 * 3 + 1, 720_002])
def test_24_khz_is_converted_as_ratecv_converts_it(samples: int) -> None:
    rng = np.random.default_rng(samples)
    noise = rng.integers(-32768, 32768, samples, dtype=np.int16).astype("<i2").tobytes()
    loudest = np.full(samples, 32767, dtype="<i2").tobytes()
    lowest = np.full(samples, -32768, dtype="<i2").tobytes()
    for pcm in (noise, loudest, lowest):
        assert at_vad_rate(pcm, 24_000) == _ratecv(pcm, 24_000)


def test_speech_and_other_rates() -> None:
    pcm = speechlike_pcm(3.0)  # 16 kHz
    assert at_vad_rate(pcm, VAD_RATE) == pcm
    for rate in (8_000, 22_050, 24_000, 44_100, 48_000):
        assert at_vad_rate(pcm, rate) == _ratecv(pcm, rate)
    with pytest.raises(audioop.error):
        at_vad_rate(b"\x00\x01\x02", 24_000)  # half a sample, refused as before
