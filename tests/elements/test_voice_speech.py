"""Voice samples: the speech ratio, TOO_LITTLE_SPEECH, and the two-speaker hint from pitch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.management.commands.seed_demo import DEMO_PRESETS, chirp_wav
from elements import services
from elements.media.audio import process_audio
from elements.media.speech import pitch_clusters, pitch_track, speech_report
from elements.models import Voice
from tests.conftest import media_files
from tests.support.media import pcm_wav_bytes, voiced_pcm

RATE = 16_000
PAUSE = b"\0\0" * (RATE // 2)
CONSENT = "I recorded this myself and may use it."


def clusters(pcm: bytes):
    report = speech_report(pcm, sample_rate=RATE)
    return pitch_clusters(pitch_track(pcm, sample_rate=RATE, segments=report.segments))


@pytest.mark.parametrize("f0", [100, 140, 220, 300])
def test_one_voice_is_one_cluster(f0):
    found = clusters(voiced_pcm(8, f0=f0))

    assert not found.two_speakers, found
    assert found.voiced_windows > 250


@pytest.mark.parametrize(("low", "high"), [(110, 240), (120, 200)])
def test_two_voices_far_apart_in_pitch_are_two_clusters(low, high):
    pcm = voiced_pcm(5, f0=low) + PAUSE + voiced_pcm(5, f0=high, seed=2)

    found = clusters(pcm)

    assert found.two_speakers, found
    assert abs(found.low_hz - low) < 0.1 * low
    assert abs(found.high_hz - high) < 0.1 * high


def test_two_voices_of_similar_pitch_are_not_told_apart():
    # The known limit: pitch is the only cue, so 120 Hz and 135 Hz look like one speaker.
    found = clusters(voiced_pcm(5, f0=120) + PAUSE + voiced_pcm(5, f0=135, seed=2))

    assert not found.two_speakers


def test_speakers_taking_turns_are_flagged_as_a_warning_only():
    turns = b"".join(
        voiced_pcm(2.5, f0=f0, seed=i) + PAUSE for i, f0 in enumerate([115, 230, 115, 230])
    )

    result = process_audio(io.BytesIO(pcm_wav_bytes(turns)))

    assert [w.code for w in result.quality.warnings] == ["MULTIPLE_SPEAKERS"]
    assert result.quality.speech_ratio > 0.7


def test_one_speaker_sample_has_no_warning_and_its_speech_ratio():
    result = process_audio(io.BytesIO(pcm_wav_bytes(voiced_pcm(8, f0=140))))

    assert result.quality.warnings == ()
    assert result.quality.speech_ratio > 0.85


@pytest.mark.parametrize("spec", DEMO_PRESETS, ids=lambda s: s.name)
def test_demo_presets_count_as_speech_of_one_speaker(spec):
    result = process_audio(io.BytesIO(chirp_wav(spec)))

    assert result.quality.speech_ratio > 0.9
    assert result.quality.warnings == ()


def test_a_steady_tone_is_refused_and_nothing_is_stored(user):
    t = np.arange(RATE * 6) / RATE
    tone = (np.sin(2 * np.pi * 220 * t) * 12000).astype("<i2").tobytes()
    before = (Voice.objects.count(), media_files())

    with pytest.raises(Exception) as caught:
        services.voice_upload(
            owner=user,
            upload=services.VoiceUpload(
                file=SimpleUploadedFile("tone.wav", pcm_wav_bytes(tone)),
                name="Tone",
                consent_statement=CONSENT,
            ),
        )

    error = caught.value.error_dict["file"][0]  # type: ignore[attr-defined]
    assert error.code == "TOO_LITTLE_SPEECH"
    assert (Voice.objects.count(), media_files()) == before


def test_the_threshold_is_a_setting(settings):
    half_speech = voiced_pcm(4, f0=140) + b"\0\0" * (RATE * 4)
    upload = pcm_wav_bytes(half_speech)

    settings.VOICE_MIN_SPEECH_RATIO = 0.3
    ratio = process_audio(io.BytesIO(upload)).quality.speech_ratio
    assert 0.4 < ratio < 0.55

    settings.VOICE_MIN_SPEECH_RATIO = 0.6
    with pytest.raises(Exception) as caught:
        process_audio(io.BytesIO(upload))
    assert caught.value.code == "TOO_LITTLE_SPEECH"  # type: ignore[attr-defined]


def test_speech_ratio_reaches_graphql(logged_in, user):
    voice = services.voice_upload(
        owner=user,
        upload=services.VoiceUpload(
            file=SimpleUploadedFile("v.wav", pcm_wav_bytes(voiced_pcm(8))),
            name="Mine",
            consent_statement=CONSENT,
        ),
    ).voice

    data = logged_in()("{ voices(first: 5) { edges { node { quality { speechRatio } } } } }")

    assert data["voices"]["edges"] == [
        {"node": {"quality": {"speechRatio": voice.quality["speech_ratio"]}}}
    ]
    assert voice.quality["speech_ratio"] > 0.85
