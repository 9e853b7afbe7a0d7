"""elements.media.audio: every input is made here, with the ffmpeg binary of imageio-ffmpeg
(lavfi sources) or with the `wave` module, once per module."""

from __future__ import annotations

import array
import hashlib
import io
import json
import math
import re
import tempfile
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from elements.media import audio
from elements.media.audio import ProcessedAudio, process_audio
from elements.media.errors import MediaErrorCode
from tests.support.audio import SPEECHLIKE, TONE, VIDEO, ffmpeg, lavfi, square_wave, wav


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every file of this module, generated once."""
    d = tmp_path_factory.mktemp("audio")
    tone_and_video = ["-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", TONE]
    files = {
        "mp3": lavfi(d / "a.mp3", TONE, "-c:a", "libmp3lame"),
        "wav": lavfi(d / "a.wav", TONE),
        "m4a": lavfi(d / "a.m4a", TONE, "-c:a", "aac"),
        "aac": lavfi(d / "a.aac", TONE, "-c:a", "aac", "-f", "adts"),
        "ogg": lavfi(d / "a.ogg", TONE, "-c:a", "libvorbis"),
        "flac": lavfi(d / "a.flac", TONE, "-c:a", "flac"),
        "mp4": ffmpeg(
            d / "v.mp4", *tone_and_video, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"
        ),
        "mov": ffmpeg(d / "v.mov", *tone_and_video, "-c:v", "libx264", "-c:a", "aac"),
        "webm": ffmpeg(d / "v.webm", *tone_and_video, "-c:v", "libvpx", "-c:a", "libopus"),
        "video_without_sound": lavfi(
            d / "silent-film.mp4", VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p"
        ),
        "short": lavfi(d / "short.mp3", "sine=frequency=220:duration=2"),
        "long": lavfi(d / "long.mp3", "sine=frequency=220:duration=40"),
        "silent": lavfi(d / "silent.mp3", "anullsrc=r=44100:cl=mono", "-t", "6"),
        "speechlike": lavfi(d / "speech.wav", SPEECHLIKE),
        "quiet": lavfi(d / "quiet.wav", SPEECHLIKE, "-af", "volume=-25dB"),
        "noisy": lavfi(
            d / "noisy.wav",
            SPEECHLIKE.replace("lt(mod(t\\,1)\\,0.6)", "lt(mod(t\\,1)\\,0.6)+0.1*(random(0)-0.5)"),
        ),
        # 15 kHz is above what 24 kHz can hold: a proper resampler filters it out.
        "high_tone": lavfi(
            d / "high.wav", "sine=frequency=15000:sample_rate=48000:duration=6", "-ac", "2"
        ),
    }
    clipped = wav(square_wave(6))
    files["clipped_wav"] = clipped
    (d / "clipped.wav").write_bytes(clipped)
    files["clipped_mp3"] = ffmpeg(d / "clipped.mp3", "-i", str(d / "clipped.wav"))
    # Six channels, as some camera footage has: 220 Hz on the first, silence elsewhere.
    files["surround"] = lavfi(
        d / "surround.wav", TONE, "-af", "pan=5.1|FL=c0|FR=0*c0|FC=0*c0|LFE=0*c0|BL=0*c0|BR=0*c0"
    )
    return files


@pytest.fixture(autouse=True)
def private_tempdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], list[str]]]:
    """Every temporary file of the code under test goes here, and must be gone afterwards,
    on every path: success and each kind of refusal."""
    workdir = tmp_path / "tempdir"
    workdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(workdir))
    yield lambda: sorted(p.name for p in workdir.iterdir())
    assert sorted(p.name for p in workdir.iterdir()) == []


def refused(data: bytes | object, **kwargs: float) -> ValidationError:
    upload = io.BytesIO(data) if isinstance(data, bytes) else data
    with pytest.raises(ValidationError) as caught:
        process_audio(upload, **kwargs)
    error = caught.value
    assert not hasattr(error, "error_dict"), "a single error: the caller names the field"
    return error


def read_wav(content: bytes) -> tuple[wave._wave_params, bytes]:
    with wave.open(io.BytesIO(content), "rb") as reader:
        return reader.getparams(), reader.readframes(reader.getnframes())


def warning_codes(result: ProcessedAudio) -> set[str]:
    return {warning.code for warning in result.quality.warnings}


# --- accepted --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source_format"),
    [
        ("mp3", "mp3"),
        ("wav", "wav"),
        ("m4a", "m4a"),
        ("aac", "aac"),
        ("ogg", "ogg"),
        ("flac", "flac"),
        ("mp4", "mp4"),
        ("mov", "mov"),
        ("webm", "webm"),
    ],
)
def test_accepted_containers_are_normalized(
    media: dict[str, bytes], name: str, source_format: str
) -> None:
    # given: a client whose file name and type say something else
    upload = SimpleUploadedFile("voice.m3u8", media[name], content_type="text/plain")

    # when
    result = process_audio(upload)

    # then
    assert result.source_format == source_format
    assert abs(result.duration_ms - 8000) <= 50
    assert (result.extension, result.content_type) == ("wav", "audio/wav")
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    params, _ = read_wav(result.content)
    assert (params.nchannels, params.framerate, params.sampwidth) == (1, 24000, 2)
    assert abs(params.nframes * 1000 / 24000 - result.duration_ms) <= 1
    # the tone survived: lavfi's sine is at 1/8 of full scale, about -21 dBFS
    assert -23 < result.quality.loudness_dbfs < -19
    assert result.quality.silence_ratio == 0


def test_pydub_never_calls_ffprobe(media: dict[str, bytes], monkeypatch) -> None:
    def no_ffprobe(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffprobe was called")

    monkeypatch.setattr("pydub.audio_segment.mediainfo_json", no_ffprobe)
    monkeypatch.setattr("pydub.utils.mediainfo_json", no_ffprobe)

    assert process_audio(io.BytesIO(media["m4a"])).source_format == "m4a"


def test_speech_like_clip_has_no_warnings(media: dict[str, bytes]) -> None:
    result = process_audio(io.BytesIO(media["speechlike"]))

    assert result.quality.warnings == ()
    assert 0.35 < result.quality.silence_ratio < 0.45
    assert result.quality.noise_floor_dbfs == -96.0
    assert result.quality.clipping_ratio == 0


def test_silent_clip_is_refused_as_too_little_speech(media: dict[str, bytes]) -> None:
    error = refused(media["silent"])

    assert error.code == "TOO_LITTLE_SPEECH"
    assert "0% of the recording is speech" in error.message


def test_silent_clip_warns_when_speech_is_not_required(media: dict[str, bytes]) -> None:
    result = process_audio(io.BytesIO(media["silent"]), min_speech_ratio=0)

    assert abs(result.duration_ms - 6000) <= 50
    assert warning_codes(result) == {"MOSTLY_SILENT"}
    assert result.quality.silence_ratio == 1.0
    assert result.quality.loudness_dbfs == -96.0
    assert "silent" in result.quality.warnings[0].message


@pytest.mark.parametrize("name", ["clipped_wav", "clipped_mp3"])
def test_clipped_square_wave_warns_of_clipping(media: dict[str, bytes], name: str) -> None:
    result = process_audio(io.BytesIO(media[name]))

    assert "CLIPPING" in warning_codes(result)
    assert result.quality.clipping_ratio > 0.001
    assert "full scale" in next(w.message for w in result.quality.warnings if w.code == "CLIPPING")


def test_quiet_clip_warns(media: dict[str, bytes]) -> None:
    result = process_audio(io.BytesIO(media["quiet"]))

    assert warning_codes(result) == {"TOO_QUIET"}
    assert result.quality.loudness_dbfs < -35


def test_noisy_clip_warns(media: dict[str, bytes]) -> None:
    # Hiss over tone bursts: WebRTC's detector adapts to the noise and hears 8% speech, so
    # this sample would be refused; the noise check is measured on its own here.
    result = process_audio(io.BytesIO(media["noisy"]), min_speech_ratio=0)

    assert warning_codes(result) == {"NOISY"}
    assert result.quality.noise_floor_dbfs > -40
    assert result.quality.speech_ratio < 0.3


def test_quality_report_is_json(media: dict[str, bytes]) -> None:
    quality = process_audio(io.BytesIO(media["silent"]), min_speech_ratio=0).quality

    data = json.loads(json.dumps(quality.as_dict()))

    assert data["silence_ratio"] == 1.0
    assert data["warnings"] == [{"code": "MOSTLY_SILENT", "message": quality.warnings[0].message}]
    assert set(data) == {
        "silence_ratio",
        "clipping_ratio",
        "loudness_dbfs",
        "noise_floor_dbfs",
        "warnings",
        "speech_ratio",
    }
    assert data["speech_ratio"] == 0.0


def test_resampling_filters_what_24_khz_cannot_hold(media: dict[str, bytes]) -> None:
    # given: a 15 kHz stereo tone at 48 kHz, at -21 dBFS
    result = process_audio(io.BytesIO(media["high_tone"]), min_speech_ratio=0)

    # then: not folded back into the voice band (a bare interpolation leaves it at -21 dBFS)
    _, frames = read_wav(result.content)
    samples = array.array("h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert 20 * math.log10(max(rms, 1) / 32768) < -60


def test_more_than_two_channels_are_mixed_down(media: dict[str, bytes]) -> None:
    result = process_audio(io.BytesIO(media["surround"]))

    params, _ = read_wav(result.content)
    assert params.nchannels == 1
    # one channel of six carries the tone: the mix is 1/6 of it, about 15.6 dB lower
    assert -39 < result.quality.loudness_dbfs < -35


def test_duration_limits_are_arguments(media: dict[str, bytes]) -> None:
    assert process_audio(io.BytesIO(media["short"]), min_seconds=1).duration_ms > 1900
    error = refused(media["mp3"], min_seconds=3, max_seconds=8 - 0.5)
    assert error.code == MediaErrorCode.AUDIO_TOO_LONG
    assert "between 3 and 7.5 seconds" in error.messages[0]


# --- refused ---------------------------------------------------------------------------------


def test_two_second_clip_is_too_short(media: dict[str, bytes]) -> None:
    error = refused(media["short"])

    assert error.code == MediaErrorCode.AUDIO_TOO_SHORT
    assert re.search(r"is (1\.9|2) s long", error.messages[0])
    assert "between 5 and 30 seconds" in error.messages[0]


def test_forty_second_clip_is_too_long(media: dict[str, bytes], monkeypatch) -> None:
    decoded: list[float] = []
    real_decode = audio._decode

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        segment = real_decode(*args, **kwargs)
        decoded.append(len(segment) / 1000)
        return segment

    monkeypatch.setattr(audio, "_decode", spy)

    error = refused(media["long"])

    assert error.code == MediaErrorCode.AUDIO_TOO_LONG
    assert re.search(r"is 40(\.1)? s long", error.messages[0])
    assert "between 5 and 30 seconds" in error.messages[0]
    # decoding stopped a second past the limit, not at the end of the file
    assert decoded == [31.0]


def test_video_without_sound_has_no_audio_track(media: dict[str, bytes]) -> None:
    error = refused(media["video_without_sound"])

    assert error.code == MediaErrorCode.AUDIO_NO_AUDIO_TRACK


def picture() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Hello, this is my voice, honestly.\n" * 50, id="text"),
        pytest.param(
            b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
            b"#EXTINF:10.0,\nhttp://169.254.169.254/latest/meta-data/\n#EXT-X-ENDLIST\n",
            id="m3u8-playlist",
        ),
        pytest.param(b"file 'http://127.0.0.1/secret.wav'\n", id="ffconcat"),
        pytest.param(picture(), id="png-image"),
        pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00This is not a frame", id="id3-then-text"),
    ],
)
def test_not_audio_is_unsupported(data: bytes) -> None:
    upload = SimpleUploadedFile("voice.mp3", data, content_type="audio/mpeg")

    error = refused(upload)

    assert error.code == MediaErrorCode.AUDIO_UNSUPPORTED_FORMAT
    assert "MP3, WAV, M4A" in error.messages[0]


GARBAGE = bytes((n * 7919 + 13) % 251 for n in range(20_000))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda m: b"RIFF\x00\x00\x00\x00WAVE" + GARBAGE, id="wav-magic"),
        pytest.param(lambda m: b"fLaC" + GARBAGE, id="flac-magic"),
        pytest.param(lambda m: b"OggS" + GARBAGE, id="ogg-magic"),
        pytest.param(lambda m: b"\x00\x00\x00\x18ftypisom" + GARBAGE, id="mp4-magic"),
        pytest.param(lambda m: b"\x1a\x45\xdf\xa3" + GARBAGE, id="webm-magic"),
        pytest.param(lambda m: m["mp3"][:100] + GARBAGE, id="mp3-head-then-garbage"),
        pytest.param(lambda m: m["m4a"][:2000], id="truncated-m4a"),
    ],
)
def test_garbage_after_valid_magic_is_corrupt(
    media: dict[str, bytes], make: Callable[[dict[str, bytes]], bytes]
) -> None:
    assert refused(make(media)).code == MediaErrorCode.AUDIO_CORRUPT


def test_empty_file() -> None:
    assert refused(b"").code == MediaErrorCode.EMPTY_FILE


def test_over_the_byte_cap(media: dict[str, bytes], settings) -> None:
    settings.VOICE_MAX_BYTES = 10_000

    error = refused(media["mp3"])

    assert error.code == MediaErrorCode.FILE_TOO_LARGE
    assert "9.8 KB" in error.messages[0]


def test_temporary_files_live_in_a_directory_of_ours_while_working(
    media: dict[str, bytes], monkeypatch, private_tempdir: Callable[[], list[str]]
) -> None:
    # given: a look inside the working directory at probe time
    seen: list[tuple[list[str], list[str], str]] = []
    real_probe = audio._probe

    def spy(path: Path, container: object):  # type: ignore[no-untyped-def]
        seen.append((private_tempdir(), sorted(p.name for p in path.parent.iterdir()), path.name))
        return real_probe(path, container)

    monkeypatch.setattr(audio, "_probe", spy)

    # when
    process_audio(SimpleUploadedFile("../../etc/passwd.m3u8", media["mp3"], "audio/mpeg"))

    # then: our own directory, our own name, the extension of what the bytes are
    [(tempdir_entries, workdir_entries, name)] = seen
    assert len(tempdir_entries) == 1 and tempdir_entries[0].startswith("elements-audio-")
    assert workdir_entries == ["input.mp3"] and name == "input.mp3"


# --- The 5–30 s limit is exact at the bottom ------------------------------------------------


def test_a_sample_of_exactly_five_seconds_is_accepted_and_4_99_refused() -> None:
    from tests.support.media import pcm_wav_bytes, speechlike_pcm

    five = pcm_wav_bytes(speechlike_pcm(10.0)[: 2 * 16000 * 5])
    short = pcm_wav_bytes(speechlike_pcm(10.0)[: 2 * 16000 * 499 // 100])

    assert process_audio(io.BytesIO(five)).duration_ms == 5000
    error = refused(short)
    assert error.code == MediaErrorCode.AUDIO_TOO_SHORT
    assert "between 5 and 30 seconds" in error.messages[0]
