"""The local provider's renderer, checked on real files: inputs drawn with Pillow and written
with `wave`, outputs decoded with PyAV. One small video (320x180, 4 s) is rendered once for
the module and inspected by many tests."""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from generation.providers import local_render
from generation.providers.local_render import (
    Layer,
    RenderError,
    ShotSpec,
    Subtitle,
    VideoResult,
    VoiceCue,
    camera_move,
    extract_frame,
    make_poster,
    make_thumbnail,
    render_image,
    render_video,
)

W, H, FPS = 320, 180, 24
FRAME = 1 / FPS
RED, GRAY, BLUE, YELLOW, GREEN = (
    (200, 40, 40),
    (128, 128, 128),
    (0, 0, 255),
    (255, 230, 0),
    (0, 170, 0),
)


def solid(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def figure(path: Path) -> Path:
    """A green figure on a transparent background."""
    image = Image.new("RGBA", (60, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((0, 0, 59, 119), fill=(*GREEN, 255))
    image.save(path)
    return path


def tone(path: Path, seconds: float, *, rate: int = 24_000, channels: int = 1) -> Path:
    """A 440 Hz sine at half scale."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (
            round(16_000 * math.sin(2 * math.pi * 440 * n / rate))
            for n in range(round(seconds * rate))
        )
        out.writeframes(b"".join(struct.pack("<h", s) * channels for s in samples))
    return path


def corner(image: Image.Image) -> tuple[float, ...]:
    """Mean colour of the top-left corner (away from subjects and subtitles)."""
    return tuple(ImageStat.Stat(image.convert("RGB").crop((4, 4, 40, 30))).mean)


def close(color: tuple[float, ...], expected: tuple[int, int, int], tolerance: float = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected, strict=True))


@dataclass
class Rendered:
    result: VideoResult
    progress: list[float]
    scratch: Path  # the temporary folder the render used
    workdir: Path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    d = tmp_path_factory.mktemp("render")
    scratch = d / "scratch"
    scratch.mkdir()
    red, gray = solid(d / "red.png", RED), solid(d / "gray.png", GRAY)
    hero = figure(d / "hero.png")
    shots = [
        ShotSpec(
            1.0,
            "Close-up: push in on the hero",
            [Layer(red, "background"), Layer(hero, "subject")],
            # 1.5 s of sound starting 0.8 s in: cut at the end of the 1 s shot
            voice_cues=[VoiceCue(tone(d / "long.wav", 1.5, rate=44_100, channels=2), 0.8, "Hm")],
        ),
        ShotSpec(
            2.0,
            "The two talk",
            [Layer(gray, "background"), Layer(hero, "subject"), Layer(hero, "subject")],
            subtitles=[Subtitle(0.5, 1.5, "Hello there!", "Ann")],
            voice_cues=[VoiceCue(tone(d / "hello.wav", 0.4), 0.5, "Hello there!")],
            camera="static",
        ),
        ShotSpec(
            1.0,
            "Pan left across the empty room",  # no layers: a gradient
            [],
            subtitles=[Subtitle(0.0, 1.0, "你好，世界 — こんにちは", "小明")],  # no CJK glyphs
        ),
    ]
    progress: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        result = render_video(
            shots,
            d / "out" / "video.mp4",
            width=W,
            height=H,
            fps=FPS,
            start_frame=solid(d / "start.png", BLUE, (64, 36)),
            end_frame=solid(d / "end.png", YELLOW, (64, 36)),
            progress=progress.append,
        )
    yield Rendered(result, progress, scratch, d)


def decoded_audio(path: Path) -> tuple[float, array]:
    """(start time, mono 16-bit samples at 48 kHz) of the first audio stream."""
    samples = array("h")
    start = None
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for frame in container.decode(stream):
            if start is None:
                start = frame.time or 0.0
            for out in resampler.resample(frame):
                samples.frombytes(bytes(out.planes[0])[: out.samples * 2])
        for out in resampler.resample(None):
            samples.frombytes(bytes(out.planes[0])[: out.samples * 2])
    return start or 0.0, samples


def test_video_streams_and_duration(rendered: Rendered) -> None:
    result = rendered.result
    assert result.path.is_file()
    assert (result.duration, result.width, result.height, result.fps) == (4.0, W, H, FPS)
    assert result.has_audio
    with av.open(str(result.path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.duration is not None and video.time_base is not None
        assert audio.duration is not None and audio.time_base is not None
        assert container.duration is not None
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.width, video.height) == (W, H)
        assert video.average_rate == FPS
        assert video.frames == 96
        assert abs(float(video.duration * video.time_base) - 4.0) <= FRAME
        assert audio.codec_context.name == "aac"
        assert abs(float(audio.duration * audio.time_base) - 4.0) <= FRAME
        assert abs(container.duration / av.time_base - 4.0) <= FRAME
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 96


def test_voice_is_placed_at_its_cue_and_cut_at_its_shot(rendered: Rendered) -> None:
    start, samples = decoded_audio(rendered.result.path)
    assert abs(start) < 0.01
    assert abs(len(samples) / 48_000 - 4.0) <= FRAME

    def rms(a: float, b: float) -> float:
        window = samples[round(a * 48_000) : round(b * 48_000)]
        return math.sqrt(sum(s * s for s in window) / len(window))

    loud, quiet = 3000, 100  # the tone's RMS is about 11,000
    assert rms(0.05, 0.7) < quiet  # before the first cue
    assert rms(0.85, 0.97) > loud  # shot 1's cue, 0.8 s in
    assert rms(1.06, 1.45) < quiet  # ...cut at the end of shot 1
    assert rms(1.55, 1.85) > loud  # shot 2's cue, 0.5 s into shot 2
    assert rms(1.96, 3.95) < quiet  # after it (0.4 s long)


def test_start_and_end_frames_open_and_close_the_video(rendered: Rendered) -> None:
    with av.open(str(rendered.result.path)) as container:
        images = [frame.to_image() for frame in container.decode(video=0)]
    assert close(corner(images[0]), BLUE)
    assert close(corner(images[-1]), YELLOW)
    # and ease: the first shot shows through soon after, the last just before
    assert close(corner(images[20]), RED)
    assert not close(corner(images[-20]), YELLOW)


def test_extract_frame_at_a_time(rendered: Rendered, tmp_path: Path) -> None:
    video = rendered.result.path
    result = extract_frame(video, 0.6, tmp_path / "red.png")
    assert (result.width, result.height) == (W, H)
    with Image.open(result.path) as image:
        assert image.format == "PNG"
        assert close(corner(image), RED)
    with Image.open(extract_frame(video, 1.25, tmp_path / "gray.jpg").path) as image:
        assert image.format == "JPEG"
        assert close(corner(image), GRAY)
    with Image.open(extract_frame(video, 99, tmp_path / "last.png").path) as image:
        assert close(corner(image), YELLOW)  # clamped to the last frame


def test_subtitle_is_burned_in(rendered: Rendered, tmp_path: Path) -> None:
    # Shot 2 has a static camera: 0.25 s in (no subtitle) and 1.0 s in (subtitle) differ only
    # where the subtitle is.
    video = rendered.result.path
    with (
        Image.open(extract_frame(video, 1.25, tmp_path / "without.png").path) as without,
        Image.open(extract_frame(video, 2.0, tmp_path / "with.png").path) as with_subtitle,
    ):
        difference = ImageChops.difference(without.convert("L"), with_subtitle.convert("L"))

    def changed(box: tuple[int, int, int, int]) -> int:
        return sum(difference.crop(box).histogram()[60:])  # pixels that changed a lot

    assert changed((0, H * 3 // 4, W, H)) > 400  # the subtitle: a box and its letters
    assert changed((0, 0, W, H // 2)) == 0


def test_progress_is_monotonic_and_reaches_one(rendered: Rendered) -> None:
    progress = rendered.progress
    assert len(progress) > 10
    assert progress == sorted(progress)
    assert all(0 <= p <= 1 for p in progress)
    assert progress[-1] == 1.0
    assert progress[-2] < 1.0  # 1.0 only once the file is in place


def test_no_temporary_files_left(rendered: Rendered) -> None:
    assert list(rendered.scratch.iterdir()) == []
    assert sorted(p.name for p in rendered.result.path.parent.iterdir()) == ["video.mp4"]


def test_poster_and_thumbnail(rendered: Rendered, tmp_path: Path) -> None:
    poster = make_poster(rendered.result.path, tmp_path / "poster.jpg")
    assert (poster.width, poster.height) == (W, H)
    with Image.open(poster.path) as image:
        assert image.format == "JPEG"
        assert close(corner(image), GRAY)  # 1 s in: the first frame of shot 2

    thumbnail = make_thumbnail(poster.path, tmp_path / "thumb.jpg", size=100)
    assert (thumbnail.width, thumbnail.height) == (100, 56)
    with Image.open(thumbnail.path) as image:
        assert image.format == "JPEG"
        assert image.size == (100, 56)


def test_poster_of_a_short_video_is_its_middle(tmp_path: Path) -> None:
    shots = [
        ShotSpec(0.5, "static", [Layer(solid(tmp_path / "r.png", RED), "background")]),
        ShotSpec(0.5, "static", [Layer(solid(tmp_path / "g.png", GRAY), "background")]),
    ]
    video = render_video(shots, tmp_path / "short.mp4", width=64, height=36)
    assert video.duration == 1.0
    with Image.open(make_poster(video.path, tmp_path / "poster.jpg").path) as image:
        assert close(corner(image), GRAY)  # 0.5 s in


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("Slow push in on her face", "push_in"),
        ("Zoom in to the window", "push_in"),
        ("A close-up of the ring", "push_in"),
        ("Pull back to show the city", "pull_back"),
        ("zoom out slowly", "pull_back"),
        ("A wide reveal of the valley", "pull_back"),
        ("Camera pans left across the room", "pan_left"),
        ("pan to the right", "pan_right"),
        ("The camera follows the dog", "follow"),
        ("Tracking shot along the river", "follow"),
        ("Static shot of the table", "static"),
        ("Pan left, then push in", "pan_left"),  # the first keyword wins
        ("A cat sleeps on a sofa", "push_in"),  # the default: a slow push
        ("", "push_in"),
        ("He walks along the race track", "push_in"),  # "track" alone is not a camera move
        ("镜头缓缓推进", "push_in"),
        ("镜头拉远，露出整座城市", "pull_back"),
        ("镜头跟随小狗", "follow"),
        ("Japan, left behind", "push_in"),
    ],
)
def test_camera_move_keywords(text: str, move: str) -> None:
    assert camera_move(text) == move


def test_fonts_are_chosen_by_the_glyphs_they_have() -> None:
    pillows_own = local_render._fonts(20)[-1]
    assert local_render._has_glyph(pillows_own, "A")
    assert not local_render._has_glyph(pillows_own, "你")
    assert not local_render._has_glyph(pillows_own, "é")  # basic Latin only
    if Path(local_render.FONT_PATHS[0]).is_file():  # DejaVu Sans (fonts-dejavu-core)
        assert local_render._has_glyph(local_render._font_for("Café", 20), "é")
    local_render._font_for("你好 — \U0001f600", 20)  # no font has them all: no error


def test_render_image_with_caption_band(tmp_path: Path) -> None:
    white = solid(tmp_path / "white.png", (255, 255, 255))
    layers = [Layer(white, "background"), Layer(figure(tmp_path / "hero.png"), "subject")]
    result = render_image(layers, "A hero in a white room " * 10, tmp_path / "image.png",
                          width=256, height=192)  # fmt: skip
    assert (result.width, result.height) == (256, 192)
    with Image.open(result.path) as image:
        assert image.format == "PNG"
        assert image.size == (256, 192)
        rgb = image.convert("RGB")
    assert ImageStat.Stat(rgb.crop((0, 186, 256, 192))).mean[0] < 120  # the band
    assert close(corner(rgb), (255, 255, 255), 3)  # the background above it
    assert any(close(rgb.getpixel((x, 96)), GREEN, 40) for x in range(256))  # the subject

    bare = render_image(layers, "  ", tmp_path / "bare.png", width=256, height=192)
    with Image.open(bare.path) as image:
        assert ImageStat.Stat(image.convert("RGB").crop((0, 186, 20, 192))).mean[0] > 200


def test_render_image_without_background_uses_a_gradient(tmp_path: Path) -> None:
    result = render_image([], "A quiet morning", tmp_path / "g.png", width=64, height=64)
    with Image.open(result.path) as image:
        top, bottom = image.getpixel((32, 1)), image.getpixel((32, 40))
    assert top != bottom


def test_corrupt_layer_raises_and_leaves_nothing(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    out = tmp_path / "out.mp4"
    shots = [ShotSpec(1.0, "push in", [Layer(bad, "subject")])]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        with pytest.raises(RenderError, match=r"bad\.png"):
            render_video(shots, out, width=64, height=36)
        with pytest.raises(RenderError, match=r"bad\.png"):
            render_image([Layer(bad, "background")], "x", tmp_path / "out.png")
    assert not out.exists()
    assert not (tmp_path / "out.png").exists()
    assert list(scratch.iterdir()) == []


def test_corrupt_voice_raises(tmp_path: Path) -> None:
    bad = tmp_path / "voice.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    shots = [ShotSpec(1.0, "static", [], voice_cues=[VoiceCue(bad, 0.0, "hi")])]
    with pytest.raises(RenderError, match=r"voice\.wav"):
        render_video(shots, tmp_path / "out.mp4", width=64, height=36)
    assert not (tmp_path / "out.mp4").exists()


def test_ffmpeg_failure_raises_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(local_render, "VIDEO_CODEC_ARGS", ("-c:v", "no_such_encoder"))
    with pytest.raises(RenderError, match="no_such_encoder"):
        render_video([ShotSpec(1.0, "x", [])], tmp_path / "out.mp4", width=64, height=36)
    assert not (tmp_path / "out.mp4").exists()
    assert list(scratch.iterdir()) == []


def test_a_raising_progress_callback_aborts_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    class Canceled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0.3:
            raise Canceled

    with pytest.raises(Canceled):
        render_video(
            [ShotSpec(2.0, "x", [])], tmp_path / "out.mp4", width=64, height=36, progress=cancel
        )
    assert not (tmp_path / "out.mp4").exists()
    assert list(scratch.iterdir()) == []


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shot"):
        render_video([], tmp_path / "out.mp4")
    with pytest.raises(ValueError, match="even"):
        render_video([ShotSpec(1.0, "x", [])], tmp_path / "out.mp4", width=65, height=36)
    with pytest.raises(ValueError, match="duration"):
        render_video([ShotSpec(0.0, "x", [])], tmp_path / "out.mp4")
    with pytest.raises(ValueError, match="role"):
        Layer(tmp_path / "x.png", "foreground")
    with pytest.raises(ValueError, match="camera"):
        ShotSpec(1.0, "x", [], camera="dolly_zoom")


# --- The voice track: fitted to the line, filtered, faded ---------------------------------


def track_of(shots: list[ShotSpec], path: Path, fps: int = 24) -> list[float]:
    """`_audio_track`'s WAV (before the AAC encode) as mono floats."""
    frames = [max(1, round(shot.duration * fps)) for shot in shots]
    local_render._audio_track(shots, frames, fps, path)
    with wave.open(str(path), "rb") as f:
        assert (f.getframerate(), f.getnchannels()) == (48_000, 2)
        data = array("h", f.readframes(f.getnframes()))
    return [data[i] / 32768 for i in range(0, len(data), 2)]


def test_a_24_khz_voice_is_resampled_with_a_filter(tmp_path: Path) -> None:
    """A 9 kHz tone at 24 kHz leaves a mirror image at 15 kHz when upsampled without a
    filter (pydub's interpolation kept it at about -7 dB of the tone); ours is gone."""
    rate = 24_000
    with wave.open(str(tmp_path / "v.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", round(12_000 * math.sin(2 * math.pi * 9000 * n / rate)))
                for n in range(2 * rate)
            )
        )
    cue = VoiceCue(tmp_path / "v.wav", 0.0, "x", end=2.0)
    samples = np.array(track_of([ShotSpec(2.0, "", [], voice_cues=[cue])], tmp_path / "t.wav"))
    window = samples[4800 : 4800 + 48_000] * np.hanning(48_000)
    spectrum = np.abs(np.fft.rfft(window))
    freqs = np.fft.rfftfreq(48_000, 1 / 48_000)

    def level(hz: float) -> float:
        i = int(np.argmin(np.abs(freqs - hz)))
        return 20 * math.log10(spectrum[i - 3 : i + 4].max() + 1e-12)

    assert level(9000) - level(15000) > 60


def test_a_voice_is_fitted_to_its_line_cut_at_a_pause_and_faded(tmp_path: Path) -> None:
    # A 3 s sample of 0.3 s bursts and 0.15 s pauses; the line lasts 1.0 s from 0.5 s.
    rate = 16_000
    with wave.open(str(tmp_path / "v.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack(
                    "<h",
                    round(
                        16_000
                        * (n % int(0.45 * rate) < int(0.3 * rate))
                        * math.sin(2 * math.pi * 220 * n / rate)
                    ),
                )
                for n in range(3 * rate)
            )
        )
    cue = VoiceCue(tmp_path / "v.wav", 0.5, "Hello there", end=1.5)
    shots = [ShotSpec(2.0, "", [], voice_cues=[cue]), ShotSpec(1.0, "", [])]
    samples = np.abs(np.array(track_of(shots, tmp_path / "t.wav")))
    heard = np.nonzero(samples > 1e-4)[0]
    first, last = heard[0] / 48_000, heard[-1] / 48_000
    assert abs(first - 0.5) < 0.002
    # cut in the pause at 0.3-0.45 s of the sample before 1.0 s (0.75-0.9 s of it): the
    # bursts end at 0.3 s and 0.75 s, so the cut falls near 0.5 + 0.75 = 1.25 s
    assert 1.2 < last <= 1.5
    assert samples[: round(0.5 * 48_000)].max() == 0  # silent before the line
    assert samples[round(1.5 * 48_000) :].max() == 0  # and after it, the next shot too
    # fades of at least 20 ms: the first 20 ms stay below the full level
    peak = samples.max()
    ramp = samples[heard[0] : heard[0] + 960]
    assert ramp[:240].max() < 0.3 * peak
    assert ramp.max() < peak


def test_a_voice_cue_without_an_end_plays_to_the_shot_end_at_most(tmp_path: Path) -> None:
    cue = VoiceCue(tone(tmp_path / "v.wav", 2.0), 0.2, "Hm")
    shots = [ShotSpec(1.0, "", [], voice_cues=[cue]), ShotSpec(1.0, "", [])]
    samples = np.abs(np.array(track_of(shots, tmp_path / "t.wav")))
    assert samples[round(0.3 * 48_000) : round(0.9 * 48_000)].max() > 0.3
    assert samples[48_000:].max() == 0  # nothing spills into the next shot
