"""The `local` provider's renderer: real images (Pillow) and MP4 videos (the ffmpeg binary of
imageio-ffmpeg), on one machine, with no account anywhere.

Pure functions over files: no database, no Django. The job machinery decides what to render
(which layers, which shots, which voices) and where to put the result; this module only draws.

Video (`render_video`)
- H.264 (yuv420p, BT.709) + AAC in MP4, `fps` frames per second (24 by default), 1280x720 by
  default. Each shot is one segment of exactly `round(duration * fps)` frames, so the video
  lasts the sum of its shots (to the frame), and the audio track lasts exactly as long.
- Each shot's frame composes its layers: the first `background` layer scaled to cover the
  frame (a soft gradient, coloured from the shot's text, when there is none); the `subject`
  layers side by side in front, about 70 % of the frame's height, aspect kept, alpha-aware,
  on a soft shadow. Extra background layers are ignored.
- The camera move (`ShotSpec.camera`, or `camera_move(text)` when it is None) is a smooth
  crop over a composition drawn 20 % larger than the frame: push in, pull back, pan left or
  right, follow (a drifting track), static.
- Subtitle and voice-cue times are relative to the start of their shot. Subtitles are burned
  in (`speaker: text`), wrapped to at most three lines. Voice cues are decoded with pydub,
  placed on a silent track at their time and cut at the end of their shot.
- A start frame opens the video: the first shot's first half-second eases from it (the very
  first frame is the start frame). An end frame closes it the same way (the very last frame
  is the end frame).
- `progress(fraction)` is called as frames are written (at most about 100 times, fractions
  up to 0.99) and with 1.0 once the file is in place. A callback that raises aborts the
  render: ffmpeg is stopped, nothing is left behind, and the exception propagates (the job
  machinery can cancel a render that way).

Text: each block is drawn with the first font that has a glyph for every character of it
(or for the most of them), among the system fonts of `FONT_PATHS` that exist (DejaVu Sans
from Debian's fonts-dejavu-core: Latin with accents, Greek, Cyrillic; a CJK font such as
fonts-noto-cjk when installed) and, always last, the font inside Pillow
(`ImageFont.load_default(size=…)`), which has basic Latin only: not even "é". A character no
font has (Chinese, Japanese or Korean where no CJK font is installed, as on our machines
today) is drawn as an empty box; that never raises, and the text is still wrapped and placed.

Errors: an unreadable input (layer, start/end frame, voice, video) or an ffmpeg failure raise
`RenderError` (with the tail of ffmpeg's stderr when ffmpeg failed), and leave no output and
no temporary file. Invalid arguments (no shots, a non-positive duration, an odd frame size)
raise `ValueError`.
"""

from __future__ import annotations

import colorsys
import contextlib
import functools
import io
import math
import re
import shutil
import subprocess
import tempfile
import unicodedata
import warnings
import wave
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

with warnings.catch_warnings():
    # pydub looks for an `ffmpeg` on PATH when imported and warns when there is none; there is
    # none on purpose, the converter is set just below.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
AudioSegment.converter = FFMPEG

ROLES = ("background", "subject")
CAMERA_MOVES = ("push_in", "pull_back", "pan_left", "pan_right", "follow", "static")
DEFAULT_CAMERA = "push_in"

# Encoder settings, shared with the benchmark's baseline so that the two compare like for like.
VIDEO_CODEC_ARGS: tuple[str, ...] = (
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-profile:v", "high",
    "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
)  # fmt: skip
AUDIO_RATE = 48_000
AUDIO_CHANNELS = 2
AUDIO_SAMPLE_WIDTH = 2  # bytes: 16-bit
AUDIO_CODEC_ARGS: tuple[str, ...] = ("-c:a", "aac", "-b:a", "128k")
MUX_ARGS: tuple[str, ...] = ("-movflags", "+faststart")

OVERSCAN = 1.2  # the composition is this much larger than the frame: room for the camera
SUBJECT_HEIGHT = 0.7  # subjects' height, as a fraction of the composition's
SUBJECT_FLOOR = 0.95  # where subjects stand, as a fraction of the composition's height
SUBJECT_MAX_WIDTH = 0.92  # all subjects together fit this fraction of the width
EASE_SECONDS = 0.5  # start/end frame transitions
SUBTITLE_MAX_LINES = 3
CAPTION_MAX_LINES = 3
STDERR_TAIL = 2000  # characters of ffmpeg's stderr quoted in a RenderError

FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # fonts-dejavu-core
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
MAX_IMAGE_PIXELS = 40_000_000  # inputs are validated uploads; this is a last guard


class RenderError(Exception):
    """A render failed: an unreadable input, or ffmpeg refused. The message says which."""


# --- Inputs and results ------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    path: Path
    role: str  # "background" | "subject"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"layer role must be one of {ROLES}, not {self.role!r}")


@dataclass(frozen=True)
class Subtitle:
    start: float  # seconds from the start of the shot
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class VoiceCue:
    """A voice sample placed on the track at `start` (seconds from the start of the shot),
    cut at the end of the shot."""

    audio_path: Path
    start: float
    text: str


@dataclass(frozen=True)
class ShotSpec:
    duration: float  # seconds
    text: str
    layers: Sequence[Layer]
    subtitles: Sequence[Subtitle] = ()
    voice_cues: Sequence[VoiceCue] = ()
    camera: str | None = None  # None: from the text, see camera_move()

    def __post_init__(self) -> None:
        if self.camera is not None and self.camera not in CAMERA_MOVES:
            raise ValueError(f"camera must be one of {CAMERA_MOVES}, not {self.camera!r}")


@dataclass(frozen=True)
class VideoResult:
    path: Path
    duration: float  # seconds: frames / fps
    width: int
    height: int
    fps: int
    has_audio: bool  # an audio track is always muxed (silent where no voice is placed)


@dataclass(frozen=True)
class ImageResult:
    path: Path
    width: int
    height: int


# --- Camera ------------------------------------------------------------------------------

# Latin keywords start at a word boundary; Chinese ones can't (no spaces between words).
_CAMERA_PATTERNS: tuple[tuple[str, str], ...] = (
    ("push_in", r"\bpush(?:es|ed|ing)?[\s-]+in|\bzoom(?:s|ed|ing)?[\s-]+in"
     r"|\bclose[\s-]?ups?\b|\bdolly(?:ing)?[\s-]+in|推进|推近|特写"),
    ("pull_back", r"\bpull(?:s|ed|ing)?[\s-]+(?:back|out)|\bzoom(?:s|ed|ing)?[\s-]+out"
     r"|\breveal|\bdolly(?:ing)?[\s-]+out|拉远|拉开"),
    ("pan_left", r"\bpan(?:s|ned|ning)?[\s-]+(?:to[\s-]+(?:the[\s-]+)?)?left|向左摇|左摇"),
    ("pan_right", r"\bpan(?:s|ned|ning)?[\s-]+(?:to[\s-]+(?:the[\s-]+)?)?right|向右摇|右摇"),
    ("follow", r"\bfollow(?:s|ed|ing)?\b|\btracking\b|跟随|跟拍"),
    ("static", r"\bstatic\b|\blocked[\s-]off\b|\b(?:still|fixed) camera\b|固定镜头"),
)  # fmt: skip
_CAMERA_RE = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in _CAMERA_PATTERNS), re.IGNORECASE
)


def camera_move(text: str) -> str:
    """The camera move a shot's text asks for; the earliest keyword wins, and a slow push in
    when there is none. "push in / zoom in / close-up" → push_in, "pull back / zoom out /
    reveal" → pull_back, "pan left/right" → pan_left/pan_right, "follow / tracking" →
    follow, "static / locked-off" → static (and a few Chinese equivalents: 推进, 拉远, 左摇,
    右摇, 跟随, 固定镜头)."""
    match = _CAMERA_RE.search(text)
    if match is None or match.lastgroup is None:
        return DEFAULT_CAMERA
    return match.lastgroup


def _smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _camera_box(move: str, u: float, canvas: tuple[int, int]) -> tuple[float, float, float, float]:
    """The crop (in composition pixels) at fraction `u` (0..1) of the shot."""
    cw, ch = canvas
    top_zoom = OVERSCAN * 0.96  # never quite 1:1 pixels, keeps the resize smooth
    s = _smooth(u)
    shift_x = shift_y = 0.0  # fractions of the available slack, -1..1
    if move == "push_in":
        zoom = 1.0 + (top_zoom - 1.0) * s
    elif move == "pull_back":
        zoom = top_zoom - (top_zoom - 1.0) * s
    elif move in ("pan_left", "pan_right"):
        zoom = top_zoom
        shift_x = (1 - 2 * s) if move == "pan_left" else (2 * s - 1)
    elif move == "follow":
        zoom = 1.06 + 0.06 * s
        shift_x = -0.8 + 1.6 * u  # a steady track alongside the subject
        shift_y = 0.25 * math.sin(u * 2 * math.pi)  # and a gentle walking bob
    else:  # static
        zoom = 1.0
    w, h = cw / zoom, ch / zoom
    cx = cw / 2 + shift_x * (cw - w) / 2
    cy = ch / 2 + shift_y * (ch - h) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


# --- Images and text ---------------------------------------------------------------------


def _open_image(path: Path, what: str) -> Image.Image:
    """An input image, decoded, EXIF orientation applied, as RGBA."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(Path(path), formats=IMAGE_FORMATS) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise RenderError(
                        f"{what} {Path(path).name} is too large "
                        f"({image.width}x{image.height} pixels)"
                    )
                image.load()
                oriented = ImageOps.exif_transpose(image)
                return oriented.convert("RGBA")
    except RenderError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise RenderError(f"cannot read {what} {Path(path).name}: {exc}") from exc


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=16)
def _fonts(size: int) -> tuple[_Font, ...]:
    """The fonts of `FONT_PATHS` that exist, then Pillow's own, at `size` pixels."""
    size = max(8, size)
    fonts: list[_Font] = []
    for path in FONT_PATHS:
        if Path(path).is_file():
            with contextlib.suppress(OSError):
                fonts.append(ImageFont.truetype(path, size))
    fonts.append(ImageFont.load_default(size=size))
    return tuple(fonts)


_NOT_A_CHARACTER = "\U0010fffd"  # private use: no font draws it, every font shows .notdef


@functools.lru_cache(maxsize=8192)
def _glyph(font: _Font, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def _has_glyph(font: _Font, char: str) -> bool:
    """Pillow can't tell whether a font has a character; a font without it draws its
    .notdef glyph, the same as for a character no font has."""
    return char.isspace() or _glyph(font, char) != _glyph(font, _NOT_A_CHARACTER)


def _font_for(text: str, size: int) -> _Font:
    """The first font that covers `text` (or covers the most of it)."""
    fonts = _fonts(size)
    chars = set(text)
    best, best_score = fonts[-1], -1
    for font in fonts:
        score = sum(_has_glyph(font, char) for char in chars)
        if score == len(chars):
            return font
        if score > best_score:
            best, best_score = font, score
    return best


def _clean_text(text: str) -> str:
    """Control characters (other than newlines) can't be drawn."""
    return "".join(
        char for char in text if char == "\n" or unicodedata.category(char)[0] != "C"
    ).strip()


def _wrap(text: str, font: _Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; words wider than a line (and scripts without spaces, such as
    Chinese) break between characters. Past `max_lines` the last line ends with "…"."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and font.getlength(word) > max_width:
                cut = 1
                while cut < len(word) and font.getlength(word[: cut + 1]) <= max_width:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines


def _text_block(
    text: str, width: int, font_size: int, max_lines: int, *, background: tuple[int, ...]
) -> Image.Image | None:
    """White text with a dark outline on a translucent box, at most `width` wide, as RGBA;
    None when there is nothing to draw."""
    text = _clean_text(text)
    font = _font_for(text, font_size)
    pad = max(2, font_size // 3)
    lines = _wrap(text, font, width - 2 * pad, max_lines)
    if not lines:
        return None
    sample = font.getbbox("Ag")
    line_height = round((sample[3] - sample[1]) * 1.3) or font_size
    widths = [font.getlength(line) for line in lines]
    box_w = min(width, math.ceil(max(widths)) + 2 * pad)
    box_h = line_height * len(lines) + 2 * pad
    block = Image.new("RGBA", (box_w, box_h), background)
    draw = ImageDraw.Draw(block)
    stroke = max(1, font_size // 14)
    for n, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
        x = (box_w - line_w) / 2
        y = pad + n * line_height + (line_height - (sample[3] - sample[1])) / 2 - sample[1]
        draw.text(
            (x, y),
            line,
            font=font,
            fill=(255, 255, 255, 255),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    return block


def _gradient(size: tuple[int, int], seed: str) -> Image.Image:
    """A soft vertical gradient whose hue comes from `seed` (the shot's text)."""
    hue = (zlib.crc32(seed.encode("utf-8", "replace")) % 360) / 360
    top = tuple(round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.30, 0.80))
    bottom = tuple(round(c * 255) for c in colorsys.hsv_to_rgb((hue + 0.08) % 1, 0.55, 0.30))
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _compose(
    layers: Sequence[Layer],
    size: tuple[int, int],
    seed: str,
    load: Callable[[Path], Image.Image],
    *,
    floor: float,
    subject_height: float,
) -> Image.Image:
    """Background (cover) or gradient, then the subjects side by side standing at `floor`
    (a y in pixels), each `subject_height` pixels tall (less if they don't fit), as RGB."""
    width, height = size
    background = next((layer for layer in layers if layer.role == "background"), None)
    if background is None:
        canvas = _gradient(size, seed)
    else:
        canvas = ImageOps.fit(load(background.path).convert("RGB"), size, Image.Resampling.BICUBIC)
    subjects = [load(layer.path) for layer in layers if layer.role == "subject"]
    if not subjects:
        return canvas
    gap = width * 0.03
    widths = [image.width * subject_height / image.height for image in subjects]
    total = sum(widths) + gap * (len(subjects) - 1)
    scale = min(1.0, width * SUBJECT_MAX_WIDTH / total)
    x = (width - total * scale) / 2
    placed: list[tuple[Image.Image, int, int]] = []
    for image, w in zip(subjects, widths, strict=True):
        w_px = max(1, round(w * scale))
        h_px = max(1, round(subject_height * scale))
        resized = image.resize((w_px, h_px), Image.Resampling.LANCZOS)
        placed.append((resized, round(x), round(floor - h_px)))
        x += w_px + gap * scale
    # A soft contact shadow under each subject, then the subjects.
    shadow = Image.new("L", size, 0)
    draw = ImageDraw.Draw(shadow)
    for image, left, top in placed:
        rx, ry = image.width * 0.45, max(2.0, image.height * 0.035)
        cx, cy = left + image.width / 2, top + image.height
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(1.0, height * 0.012)))
    canvas.paste((0, 0, 0), (0, 0), shadow)
    for image, left, top in placed:
        canvas.paste(image, (left, top), image)
    return canvas


def _save_image(
    image: Image.Image, out_path: Path, *, fmt: str | None = None, default: str = "PNG"
) -> None:
    """Save as `fmt`, or by the name's extension (.jpg/.jpeg JPEG, .webp WEBP, .png PNG, else
    `default`); whole or not at all."""
    if fmt is None:
        suffix = out_path.suffix.lower()
        fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".png": "PNG"}.get(suffix, default)
    if fmt == "JPEG" and image.mode != "RGB":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, (0, 0), image if image.mode == "RGBA" else None)
        image = flat
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {"optimize": False}
    image.save(buffer, fmt, **options)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        out_path.write_bytes(buffer.getvalue())
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise


def render_image(
    layers: Sequence[Layer], caption: str, out_path: Path, *, width: int = 1024, height: int = 1024
) -> ImageResult:
    """A PNG: the background (or a gradient), the subjects in front, and `caption` (the
    prompt) in a band at the bottom, wrapped to three lines at most."""
    if width < 16 or height < 16:
        raise ValueError("image too small")
    out_path = Path(out_path)
    cache: dict[Path, Image.Image] = {}

    def load(path: Path) -> Image.Image:
        if path not in cache:
            cache[path] = _open_image(path, "layer image")
        return cache[path]

    font_size = max(10, round(height * 0.032))
    band = _text_block(caption, width, font_size, CAPTION_MAX_LINES, background=(0, 0, 0, 0))
    band_height = 0 if band is None else band.height + 2 * max(2, font_size // 2)
    stage = height - band_height
    image = _compose(
        layers,
        (width, height),
        caption,
        load,
        floor=stage - height * 0.04,
        subject_height=stage * SUBJECT_HEIGHT,
    )
    if band is not None:
        shade = Image.new("RGBA", (width, band_height), (0, 0, 0, 170))
        shade.alpha_composite(band, ((width - band.width) // 2, (band_height - band.height) // 2))
        image.paste(shade, (0, stage), shade)
    _save_image(image, out_path, fmt="PNG")
    return ImageResult(path=out_path, width=width, height=height)


def make_thumbnail(image_path: Path, out_path: Path, size: int = 320) -> ImageResult:
    """The image scaled to fit `size`x`size` (aspect kept, never enlarged); JPEG unless the
    output name says .png or .webp."""
    image = _open_image(Path(image_path), "image")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    _save_image(image, Path(out_path), default="JPEG")
    return ImageResult(path=Path(out_path), width=image.width, height=image.height)


# --- Frames from a video -----------------------------------------------------------------


def _video_duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    return 0.0


def _decode_frame_at(video_path: Path, at: float | None) -> Image.Image:
    """The frame shown at `at` seconds (clamped to the video); when `at` is None, 1 s in, or
    the middle of a video shorter than 2 s (the poster's frame)."""
    try:
        with av.open(str(video_path)) as container:
            if not container.streams.video:
                raise RenderError(f"{Path(video_path).name} has no video stream")
            stream = container.streams.video[0]
            duration = _video_duration(container, stream)
            rate = float(stream.average_rate or 24)
            if at is None:
                at = 1.0 if duration >= 2.0 else duration / 2
            at = min(max(0.0, at), max(0.0, duration - 1 / rate))
            time_base = stream.time_base
            if time_base is not None:
                start = float(stream.start_time * time_base) if stream.start_time else 0.0
                container.seek(int((at + start) / time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                if frame.time is not None and chosen is not None and frame.time > at + 1e-3:
                    break
                chosen = frame
            if chosen is None:
                raise RenderError(f"no frame decodes in {Path(video_path).name}")
            return chosen.to_image().convert("RGB")
    except RenderError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise RenderError(f"cannot read video {Path(video_path).name}: {exc}") from exc


def extract_frame(video_path: Path, at: float, out_path: Path) -> ImageResult:
    """The frame shown at `at` seconds (clamped to the video), as PNG (or JPEG/WebP by the
    output name's extension)."""
    image = _decode_frame_at(Path(video_path), at)
    _save_image(image, Path(out_path), default="PNG")
    return ImageResult(path=Path(out_path), width=image.width, height=image.height)


def make_poster(video_path: Path, out_path: Path) -> ImageResult:
    """A JPEG of the frame 1 s in, or of the middle frame of a video shorter than 2 s."""
    image = _decode_frame_at(Path(video_path), None)
    _save_image(image, Path(out_path), fmt="JPEG")
    return ImageResult(path=Path(out_path), width=image.width, height=image.height)


# --- Audio -------------------------------------------------------------------------------


def _decode_voice(path: Path, seconds: float) -> Any:
    """The first `seconds` of a voice sample, as a pydub AudioSegment at the track's format.
    PyAV probes the container and codec first, so pydub never calls ffprobe (absent)."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RenderError(f"voice {path.name} has no audio track")
            demuxer = container.format.name.split(",")[0]
            codec = container.streams.audio[0].codec_context.name
        limit = seconds + 0.5
        if demuxer == "wav":
            # From a file object: given a path, pydub would leave the file open.
            with path.open("rb") as file:
                segment = AudioSegment.from_file(file, format="wav", codec=codec, duration=limit)
        else:
            segment = AudioSegment.from_file(str(path), format=demuxer, codec=codec, duration=limit)
    except RenderError:
        raise
    except (CouldntDecodeError, av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise RenderError(f"cannot read voice {path.name}: {exc}") from exc
    return (
        segment.set_sample_width(AUDIO_SAMPLE_WIDTH)
        .set_frame_rate(AUDIO_RATE)
        .set_channels(AUDIO_CHANNELS)
    )


def _audio_track(shots: Sequence[ShotSpec], frames: Sequence[int], fps: int, path: Path) -> None:
    """A WAV of exactly the video's length, silent but for the voice cues."""
    total_samples = round(sum(frames) * AUDIO_RATE / fps)
    frame_bytes = AUDIO_CHANNELS * AUDIO_SAMPLE_WIDTH
    track = AudioSegment(
        data=bytes(total_samples * frame_bytes),
        sample_width=AUDIO_SAMPLE_WIDTH,
        frame_rate=AUDIO_RATE,
        channels=AUDIO_CHANNELS,
    )
    offset = 0
    for shot, count in zip(shots, frames, strict=True):
        shot_start, shot_end = offset / fps, (offset + count) / fps
        offset += count
        for cue in shot.voice_cues:
            start = shot_start + max(0.0, cue.start)
            room_ms = math.floor((shot_end - start) * 1000)
            if room_ms <= 0:
                continue
            voice = _decode_voice(cue.audio_path, room_ms / 1000)[:room_ms]
            track = track.overlay(voice, position=round(start * 1000))
    data = track.raw_data[: total_samples * frame_bytes]
    data += bytes(total_samples * frame_bytes - len(data))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(AUDIO_CHANNELS)
        out.setsampwidth(AUDIO_SAMPLE_WIDTH)
        out.setframerate(AUDIO_RATE)
        out.writeframes(data)


# --- Video -------------------------------------------------------------------------------


def ffmpeg_command(width: int, height: int, fps: int, audio: Path, out: Path) -> list[str]:
    """ffmpeg reading raw RGB frames on stdin and a WAV, writing H.264/AAC MP4 (public: the
    benchmark's baseline encodes through the same command)."""
    return [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
        "-i", "-",
        "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        *VIDEO_CODEC_ARGS, *AUDIO_CODEC_ARGS, *MUX_ARGS,
        str(out),
    ]  # fmt: skip


@dataclass
class _Shot:
    spec: ShotSpec
    frames: int
    canvas: Image.Image
    move: str
    subtitles: list[tuple[float, float, Image.Image]]


def _subtitle_images(
    shot: ShotSpec, width: int, height: int
) -> list[tuple[float, float, Image.Image]]:
    font_size = max(10, round(height * 0.05))
    images = []
    for subtitle in shot.subtitles:
        if subtitle.end <= subtitle.start:
            continue
        text = f"{subtitle.speaker}: {subtitle.text}" if subtitle.speaker else subtitle.text
        block = _text_block(
            text,
            round(width * 0.86),
            font_size,
            SUBTITLE_MAX_LINES,
            background=(0, 0, 0, 140),
        )
        if block is not None:
            images.append((subtitle.start, subtitle.end, block))
    return images


def _frames(
    shots: Sequence[_Shot],
    width: int,
    height: int,
    fps: int,
    start_frame: Image.Image | None,
    end_frame: Image.Image | None,
) -> Iterator[Image.Image]:
    ease = max(1, round(EASE_SECONDS * fps))
    opening = min(ease, max(1, shots[0].frames // 2))  # frames easing from the start frame
    closing = min(ease, max(1, shots[-1].frames // 2))  # frames easing into the end frame
    total = sum(shot.frames for shot in shots)
    n = 0
    for shot in shots:
        still = None  # a static camera: the crop is scaled once (the scaling is the main cost)
        if shot.move == "static":
            box = _camera_box(shot.move, 0.0, shot.canvas.size)
            still = shot.canvas.resize((width, height), Image.Resampling.BILINEAR, box=box)
        for i in range(shot.frames):
            if still is not None:
                frame = still.copy()
            else:
                u = i / (shot.frames - 1) if shot.frames > 1 else 0.0
                box = _camera_box(shot.move, u, shot.canvas.size)
                frame = shot.canvas.resize((width, height), Image.Resampling.BILINEAR, box=box)
            t = i / fps
            bottom = height - round(height * 0.06)
            for start, end, block in shot.subtitles:
                if start <= t < end:
                    top = bottom - block.height
                    frame.paste(block, ((width - block.width) // 2, top), block)
                    bottom = top - round(height * 0.01)
            if start_frame is not None and n < opening:
                frame = Image.blend(start_frame, frame, _smooth(n / opening))
            left = total - 1 - n
            if end_frame is not None and left < closing:
                frame = Image.blend(end_frame, frame, _smooth(left / closing))
            n += 1
            yield frame


def _fit_frame(path: Path, what: str, size: tuple[int, int]) -> Image.Image:
    image = _open_image(path, what)
    flat = Image.new("RGB", image.size, (0, 0, 0))
    flat.paste(image, (0, 0), image)
    return ImageOps.fit(flat, size, Image.Resampling.BICUBIC)


def _stderr_tail(stderr: IO[bytes]) -> str:
    stderr.flush()
    stderr.seek(0)
    text = stderr.read().decode("utf-8", "replace").strip()
    return text[-STDERR_TAIL:] or "(no output)"


def render_video(
    shots: Sequence[ShotSpec],
    out_path: Path,
    *,
    width: int = 1280,
    height: int = 720,
    fps: int = 24,
    start_frame: Path | None = None,
    end_frame: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> VideoResult:
    """Render `shots` to an H.264/AAC MP4 at `out_path` (see the module's docstring)."""
    if not shots:
        raise ValueError("a video needs at least one shot")
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"frame size must be even and at least 16x16, not {width}x{height}")
    if fps < 1:
        raise ValueError("fps must be positive")
    for number, shot in enumerate(shots, 1):
        if not shot.duration > 0 or not math.isfinite(shot.duration):
            raise ValueError(f"shot {number} has a non-positive duration: {shot.duration}")
    out_path = Path(out_path)
    frames = [max(1, round(shot.duration * fps)) for shot in shots]
    total = sum(frames)

    # Every input is read before ffmpeg starts: a bad one costs no encoding.
    cache: dict[Path, Image.Image] = {}

    def load(path: Path) -> Image.Image:
        key = Path(path)
        if key not in cache:
            cache[key] = _open_image(key, "layer image")
        return cache[key]

    canvas_size = (round(width * OVERSCAN), round(height * OVERSCAN))
    prepared = [
        _Shot(
            spec=shot,
            frames=count,
            canvas=_compose(
                shot.layers,
                canvas_size,
                shot.text,
                load,
                floor=canvas_size[1] * SUBJECT_FLOOR,
                subject_height=canvas_size[1] * SUBJECT_HEIGHT,
            ),
            move=shot.camera or camera_move(shot.text),
            subtitles=_subtitle_images(shot, width, height),
        )
        for shot, count in zip(shots, frames, strict=True)
    ]
    cache.clear()
    opening = (
        None if start_frame is None else _fit_frame(start_frame, "start frame", (width, height))
    )
    closing = None if end_frame is None else _fit_frame(end_frame, "end frame", (width, height))

    with tempfile.TemporaryDirectory(prefix="local-render-") as workdir:
        audio = Path(workdir) / "audio.wav"
        _audio_track(shots, frames, fps, audio)
        encoded = Path(workdir) / "video.mp4"
        with (Path(workdir) / "ffmpeg.log").open("w+b") as stderr:
            try:
                process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
                    ffmpeg_command(width, height, fps, audio, encoded),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            except OSError as exc:
                raise RenderError(f"cannot start ffmpeg ({FFMPEG}): {exc}") from exc
            try:
                assert process.stdin is not None
                reported = -1.0
                for n, frame in enumerate(
                    _frames(prepared, width, height, fps, opening, closing), 1
                ):
                    try:
                        process.stdin.write(frame.tobytes())
                    except (BrokenPipeError, ValueError):
                        break  # ffmpeg died: its exit code and stderr say why
                    fraction = 0.99 * n / total
                    if progress is not None and (fraction - reported >= 0.01 or n == total):
                        progress(fraction)
                        reported = fraction
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
                code = process.wait()
            finally:
                if process.poll() is None:  # aborted: a raising callback, an interrupt
                    process.kill()
                    process.wait()
                if process.stdin is not None and not process.stdin.closed:
                    with contextlib.suppress(OSError):
                        process.stdin.close()
            if code != 0 or not encoded.exists():
                raise RenderError(f"ffmpeg failed (exit {code}): {_stderr_tail(stderr)}")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(encoded, out_path)
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
    if progress is not None:
        progress(1.0)
    return VideoResult(
        path=out_path, duration=total / fps, width=width, height=height, fps=fps, has_audio=True
    )
