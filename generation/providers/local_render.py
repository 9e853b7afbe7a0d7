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
- The camera move (`ShotSpec.camera`, any member of `generation.camera.CameraMove`, or
  `camera_move(text)` when it is None) is a smooth crop over a composition drawn 20 % larger
  than the frame: push in / pull back (a zoom), pan left/right, tilt up/down, handheld (a
  small shake), static. Moves with parallax draw the scene and the subjects as two planes:
  dolly in/out (the subjects grow faster than the scene), crane up/down (they sink faster),
  follow (they stay, the scene slides past), orbit (they turn in perspective while the
  scene sweeps behind them).
- Subtitle and voice-cue times are relative to the start of their shot. Subtitles are burned
  in (`speaker: text`), wrapped to at most three lines. Voice cues are decoded and resampled
  with PyAV (libswresample's filter), fitted to the cue's time (cut at the quietest 10 ms
  near its end, never past its shot), faded in and out, on a track that is silent elsewhere.
- Frames are drawn as numpy arrays, in one reused buffer piped to ffmpeg as it is: each
  shot's images (composition or planes, subtitle blocks) are prepared once, then a frame is
  one camera transform with OpenCV (a bilinear warp while the crop changes size; a copied
  window of the source scaled once, at whole pixels, while it keeps its size) and the
  overlays laid with premultiplied alpha. x264 runs a preview preset (`VIDEO_CODEC_ARGS`).
  Each shot starts on a keyframe (the preset turns x264's own cut detection off, so it would
  make one keyframe for the whole video): a player or the consistency pass
  (`generation.consistency`) seeks to a shot without decoding the shots before it, for about
  7 % more bytes and no measurable encoding time.
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
import cv2
import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from generation.camera import CameraMove, find_move

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

ROLES = ("background", "subject")
CAMERA_MOVES: tuple[CameraMove, ...] = tuple(CameraMove)  # the one vocabulary: every move
DEFAULT_CAMERA = CameraMove.PUSH_IN
# Moves in which the subjects and the scene behind them move apart (parallax, a turn): the
# frame is drawn from two planes. Every other move crops one flat composition (cheaper).
LAYERED_MOVES = frozenset(
    {
        CameraMove.DOLLY_IN,
        CameraMove.DOLLY_OUT,
        CameraMove.ORBIT,
        CameraMove.CRANE_UP,
        CameraMove.CRANE_DOWN,
        CameraMove.FOLLOW,
    }
)

# Encoder settings. The output is a preview (an animatic of the shots), so x264 runs its
# cheapest preset with the two tools that buy most of the size back: CABAC and B-frames. On
# bench/render.py's 10 s 720p video that encodes in 1.4 s of CPU where `veryfast` took 2.7 s,
# into 1.0 MB (veryfast: 0.55 MB, plain ultrafast: 1.7 MB) at a slightly higher PSNR (crf 20).
VIDEO_CODEC_ARGS: tuple[str, ...] = (
    "-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "cabac=1:bframes=3:b-adapt=0",
    "-crf", "20", "-profile:v", "high",
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
    """A voice sample heard from `start` to `end` (seconds from the start of the shot; None:
    as long as the sample, up to the shot's end): the sample is cut at its quietest moment
    near `end`, so a word is not cut in half, and faded in and out."""

    audio_path: Path
    start: float
    text: str
    end: float | None = None


@dataclass(frozen=True)
class ShotSpec:
    duration: float  # seconds
    text: str
    layers: Sequence[Layer]
    subtitles: Sequence[Subtitle] = ()
    voice_cues: Sequence[VoiceCue] = ()
    camera: str | None = None  # a CameraMove; None: from the text, see camera_move()

    def __post_init__(self) -> None:
        if self.camera is not None and self.camera not in CAMERA_MOVES:
            raise ValueError(
                f"camera must be one of {', '.join(CAMERA_MOVES)}, not {self.camera!r}"
            )


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


def camera_move(text: str) -> CameraMove:
    """The camera move a shot's text asks for, read with the compiler's vocabulary
    (`generation.camera.find_move`): the earliest move named wins; a pan that names no
    direction pans right (the layout reads left to right); a slow push in when the text
    names none."""
    found = find_move(text.lower())
    if found is None:
        return DEFAULT_CAMERA
    return found.move or CameraMove.PAN_RIGHT


def _smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


_Box = tuple[float, float, float, float]
TOP_ZOOM = OVERSCAN * 0.96  # never quite 1:1 pixels, keeps the resize smooth
ORBIT_DEGREES = 38.0  # the subjects turn from this much to one side to as much to the other
PARALLAX = 1.8  # how much faster the subjects' plane moves than the scene's (crane)


@dataclass(frozen=True)
class _View:
    """Where the camera looks at one instant: the crop of the scene's plane (composition
    pixels) and, for a layered move, the crop of the subjects' plane and their turn."""

    box: _Box
    subject_box: _Box | None = None
    turn: float = 0.0  # radians about the subjects' vertical axis


def _crop(canvas: tuple[int, int], zoom: float, shift_x: float = 0.0, shift_y: float = 0.0) -> _Box:
    """A crop `zoom` times smaller than the canvas, moved by `shift_*` (fractions of the
    slack on each side: -1..1 keeps it inside the canvas)."""
    cw, ch = canvas
    w, h = cw / zoom, ch / zoom
    cx = cw / 2 + shift_x * (cw - w) / 2
    cy = ch / 2 + shift_y * (ch - h) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _shake(t: float, phase: float) -> float:
    """A hand's drift and tremor: incommensurate sines, so it never visibly repeats."""
    return 0.22 * math.sin(2 * math.pi * 0.83 * t + phase) + 0.09 * math.sin(
        2 * math.pi * 2.9 * t + 2.1 * phase
    )


def _camera_view(move: str, u: float, t: float, canvas: tuple[int, int]) -> _View:
    """The view at fraction `u` (0..1) of the shot, `t` seconds into it."""
    s = _smooth(u)
    if move == CameraMove.PUSH_IN:
        return _View(_crop(canvas, 1.0 + (TOP_ZOOM - 1.0) * s))
    if move == CameraMove.PULL_BACK:
        return _View(_crop(canvas, TOP_ZOOM - (TOP_ZOOM - 1.0) * s))
    if move == CameraMove.PAN_LEFT:
        return _View(_crop(canvas, TOP_ZOOM, 1 - 2 * s))
    if move == CameraMove.PAN_RIGHT:
        return _View(_crop(canvas, TOP_ZOOM, 2 * s - 1))
    if move == CameraMove.TILT_UP:  # the view rises: the crop goes from the bottom up
        return _View(_crop(canvas, TOP_ZOOM, 0.0, 1 - 2 * s))
    if move == CameraMove.TILT_DOWN:
        return _View(_crop(canvas, TOP_ZOOM, 0.0, 2 * s - 1))
    if move == CameraMove.HANDHELD:
        return _View(_crop(canvas, 1.12, _shake(t, 0.3), _shake(t, 1.7)))
    if move == CameraMove.FOLLOW:
        # Alongside the subjects: they stay in frame (a gentle walking bob), the scene
        # slides past behind them.
        return _View(
            _crop(canvas, TOP_ZOOM, -0.9 + 1.8 * u),
            _crop(canvas, 1.08, 0.0, 0.12 * math.sin(2 * math.pi * 1.6 * t)),
        )
    if move in (CameraMove.DOLLY_IN, CameraMove.DOLLY_OUT):
        # The camera travels: the near subjects grow much faster than the far scene.
        k = s if move == CameraMove.DOLLY_IN else 1 - s
        return _View(_crop(canvas, 1.0 + 0.08 * k), _crop(canvas, 1.0 + 0.35 * k))
    if move in (CameraMove.CRANE_UP, CameraMove.CRANE_DOWN):
        # Rising, the camera sees everything sink in the frame, the near subjects faster.
        shift = 1 - 2 * s if move == CameraMove.CRANE_UP else 2 * s - 1
        return _View(
            _crop(canvas, TOP_ZOOM, 0.0, shift), _crop(canvas, TOP_ZOOM, 0.0, PARALLAX * shift)
        )
    if move == CameraMove.ORBIT:
        # Around the subjects: they turn in place while the scene sweeps behind them.
        return _View(
            _crop(canvas, TOP_ZOOM, 1 - 2 * s),
            _crop(canvas, 1.04),
            math.radians(ORBIT_DEGREES) * (1 - 2 * s),
        )
    return _View(_crop(canvas, 1.0))  # static


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


@dataclass(frozen=True)
class _Planes:
    """A composition as two planes: the scene (RGB, the canvas's size) and the subjects
    with their contact shadows (RGBA, cropped to what they cover) placed at `at`."""

    scene: Image.Image
    subjects: Image.Image | None
    at: tuple[int, int]

    def flat(self) -> Image.Image:
        if self.subjects is None:
            return self.scene
        canvas = self.scene.copy()
        canvas.paste(self.subjects, self.at, self.subjects)
        return canvas


def _planes(
    layers: Sequence[Layer],
    size: tuple[int, int],
    seed: str,
    load: Callable[[Path], Image.Image],
    *,
    floor: float,
    subject_height: float,
    scenes: dict[tuple[Path, tuple[int, int]], Image.Image] | None = None,
) -> _Planes:
    """Background (cover) or gradient; the subjects side by side standing at `floor` (a y in
    pixels), each `subject_height` pixels tall (less if they don't fit). `scenes` keeps the
    covered backgrounds between calls (the shots of a video mostly share their scene)."""
    width, height = size
    background = next((layer for layer in layers if layer.role == "background"), None)
    if background is None:
        scene = _gradient(size, seed)
    else:
        key = (Path(background.path), size)
        cached = None if scenes is None else scenes.get(key)
        if cached is None:
            cached = ImageOps.fit(
                load(background.path).convert("RGB"), size, Image.Resampling.BICUBIC
            )
            if scenes is not None:
                scenes[key] = cached
        scene = cached  # never drawn on: `flat()` copies it first
    subjects = [load(layer.path) for layer in layers if layer.role == "subject"]
    if not subjects:
        return _Planes(scene, None, (0, 0))
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
    # A soft contact shadow under each subject, then the subjects, on a plane that covers
    # them all (and the shadow's blur).
    blur = max(1.0, height * 0.012)
    ellipses = []
    for image, left, top in placed:
        rx, ry = image.width * 0.45, max(2.0, image.height * 0.035)
        cx, cy = left + image.width / 2, top + image.height
        ellipses.append((cx - rx, cy - ry, cx + rx, cy + ry))
    margin = math.ceil(3 * blur)
    x0 = math.floor(min([left for _, left, _ in placed] + [e[0] for e in ellipses])) - margin
    y0 = math.floor(min([top for _, _, top in placed] + [e[1] for e in ellipses])) - margin
    x1 = math.ceil(max([x + i.width for i, x, _ in placed] + [e[2] for e in ellipses])) + margin
    y1 = math.ceil(max([y + i.height for i, _, y in placed] + [e[3] for e in ellipses])) + margin
    shadow = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(shadow)
    for ex0, ey0, ex1, ey1 in ellipses:
        draw.ellipse((ex0 - x0, ey0 - y0, ex1 - x0, ey1 - y0), fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(blur))
    black = Image.new("L", shadow.size, 0)
    plane = Image.merge("RGBA", (black, black, black, shadow))
    for image, left, top in placed:
        plane.alpha_composite(image, (left - x0, top - y0))
    return _Planes(scene, plane, (x0, y0))


def _compose(
    layers: Sequence[Layer],
    size: tuple[int, int],
    seed: str,
    load: Callable[[Path], Image.Image],
    *,
    floor: float,
    subject_height: float,
) -> Image.Image:
    """The layers composed into one RGB image (see `_planes`)."""
    return _planes(layers, size, seed, load, floor=floor, subject_height=subject_height).flat()


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


def _decode_voice(path: Path, seconds: float) -> np.ndarray:
    """The first `seconds` of a voice sample as float32 samples (frames x channels) at the
    track's rate. PyAV's resampler (libswresample behind ffmpeg's `aresample`) filters as it
    converts: going from 24 kHz to 48 kHz leaves no mirror images of the voice at 12-24 kHz,
    which a plain interpolation (pydub's `set_frame_rate`) leaves at almost full level."""
    path = Path(path)
    layout = "stereo" if AUDIO_CHANNELS == 2 else "mono"
    limit = max(1, math.ceil(seconds * AUDIO_RATE))
    chunks: list[np.ndarray] = []
    have = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RenderError(f"voice {path.name} has no audio track")
            resampler = av.AudioResampler(format="flt", layout=layout, rate=AUDIO_RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, AUDIO_CHANNELS))
                    have += chunks[-1].shape[0]
                if have >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1, AUDIO_CHANNELS))
    except RenderError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise RenderError(f"cannot read voice {path.name}: {exc}") from exc
    if not chunks:
        raise RenderError(f"voice {path.name} has no sound in it")
    return np.concatenate(chunks)[:limit].astype(np.float32, copy=False)


FADE_IN_SECONDS = 0.025
FADE_OUT_SECONDS = 0.040
CUT_SEARCH = 0.30  # a cut may come this fraction of the line's time before its end
CUT_WINDOW_SECONDS = 0.010


def _fitted(voice: np.ndarray, samples: int) -> np.ndarray:
    """At most `samples` of `voice`, ending at its quietest 10 ms within the last 30 % of
    that time (a pause between words, rather than a word cut in half), faded in and out
    with raised-cosine ramps, so neither edge clicks."""
    piece = voice[:samples]
    if voice.shape[0] > samples:
        window = max(1, round(CUT_WINDOW_SECONDS * AUDIO_RATE))
        first = max(window, int(samples * (1 - CUT_SEARCH)))
        energy = np.square(piece).sum(axis=1)
        # The energy of each 10 ms window ending at first..samples, by a running sum.
        running = np.concatenate(([0.0], np.cumsum(energy, dtype=np.float64)))
        ends = np.arange(first, samples + 1)
        window_energy = running[ends] - running[ends - window]
        quietest = int(ends[np.argmin(window_energy)]) - window // 2
        piece = piece[: max(quietest, 1)]
    piece = piece.copy()
    count = piece.shape[0]
    fade_in = min(count // 2, round(FADE_IN_SECONDS * AUDIO_RATE))
    fade_out = min(count - fade_in, round(FADE_OUT_SECONDS * AUDIO_RATE))
    if fade_in:
        piece[:fade_in] *= _ramp(fade_in)[:, None]
    if fade_out:
        piece[count - fade_out :] *= _ramp(fade_out)[::-1, None]
    return piece


def _ramp(count: int) -> np.ndarray:
    """0 → 1 over `count` samples, a raised cosine (0 at the first sample)."""
    return (0.5 - 0.5 * np.cos(np.pi * np.arange(count) / count)).astype(np.float32)


def _audio_track(shots: Sequence[ShotSpec], frames: Sequence[int], fps: int, path: Path) -> None:
    """A WAV of exactly the video's length: each voice cue heard in its line's time inside its
    shot, silence (zeros) everywhere else."""
    total = round(sum(frames) * AUDIO_RATE / fps)
    track = np.zeros((total, AUDIO_CHANNELS), dtype=np.float32)
    offset = 0
    for shot, count in zip(shots, frames, strict=True):
        shot_start, shot_seconds = offset / fps, count / fps
        offset += count
        for cue in shot.voice_cues:
            start = min(max(0.0, cue.start), shot_seconds)
            end = shot_seconds if cue.end is None else min(max(cue.end, start), shot_seconds)
            first = round((shot_start + start) * AUDIO_RATE)
            samples = min(round((shot_start + end) * AUDIO_RATE), total) - first
            if samples <= 0:
                continue
            piece = _fitted(_decode_voice(cue.audio_path, samples / AUDIO_RATE), samples)
            track[first : first + piece.shape[0]] += piece
    pcm = np.round(np.clip(track, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(AUDIO_CHANNELS)
        out.setsampwidth(AUDIO_SAMPLE_WIDTH)
        out.setframerate(AUDIO_RATE)
        out.writeframes(pcm.tobytes())


# --- Video -------------------------------------------------------------------------------


def ffmpeg_command(
    width: int,
    height: int,
    fps: int,
    audio: Path,
    out: Path,
    *,
    video_args: Sequence[str] | None = None,
    keyframes: Sequence[int] = (),
) -> list[str]:
    """ffmpeg reading raw RGB frames on stdin and a WAV, writing H.264/AAC MP4 with
    `video_args` (default `VIDEO_CODEC_ARGS`) and a keyframe at each of the `keyframes`
    (frame numbers; the first frame always is one). Public: the benchmark's baseline pipes
    its frames through the same command."""
    if video_args is None:
        video_args = VIDEO_CODEC_ARGS
    forced = [f"{n / fps:.6f}" for n in sorted(set(keyframes)) if n > 0]
    keyframe_args = ("-force_key_frames", ",".join(forced)) if forced else ()
    return [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
        "-i", "-",
        "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        *video_args, *keyframe_args, *AUDIO_CODEC_ARGS, *MUX_ARGS,
        str(out),
    ]  # fmt: skip


# --- Frames: numpy arrays, composed in place --------------------------------------------------
#
# Every image a shot needs is prepared once (the flat composition, or the scene and the
# subjects' plane; the subtitle blocks), as uint8 arrays. A frame is then one camera transform
# of those (cv2) into a preallocated buffer, which is written to ffmpeg as it is: no Pillow
# image or bytes object per frame.


@dataclass(frozen=True)
class _Overlay:
    """An RGBA image ready to be laid over a frame: its colour premultiplied by its alpha, and
    255 - alpha on three channels, so that laying it is `frame * inverse / 255 + colour`."""

    color: np.ndarray  # (h, w, 3) uint8
    inverse: np.ndarray  # (h, w, 3) uint8

    @classmethod
    def of(cls, rgba: np.ndarray) -> _Overlay:
        alpha = rgba[..., 3:4].astype(np.uint16)
        color = ((rgba[..., :3].astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
        inverse = np.repeat(255 - rgba[..., 3:4], 3, axis=2)
        return cls(np.ascontiguousarray(color), np.ascontiguousarray(inverse))

    def lay(self, frame: np.ndarray, left: int, top: int) -> None:
        """Lay the overlay on `frame` with its top-left corner at (left, top), clipped."""
        height, width = frame.shape[:2]
        h, w = self.color.shape[:2]
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(width, left + w), min(height, top + h)
        if x1 <= x0 or y1 <= y0:
            return
        _lay(
            frame[y0:y1, x0:x1],
            self.color[y0 - top : y1 - top, x0 - left : x1 - left],
            self.inverse[y0 - top : y1 - top, x0 - left : x1 - left],
        )


def _lay(region: np.ndarray, color: np.ndarray, inverse: np.ndarray) -> None:
    """region = region * inverse / 255 + color, in place (saturating uint8 arithmetic)."""
    covered = cv2.multiply(region, inverse, scale=1 / 255)
    cv2.add(covered, color, dst=covered)
    region[...] = covered


def _array(image: Image.Image) -> np.ndarray:
    return np.array(image, dtype=np.uint8, copy=True)


def _shrinking(scale: float) -> int:
    """cv2's filter for a one-off resize: area averaging when shrinking (no aliasing, as
    Pillow's resize), bilinear when enlarging."""
    return cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR


class _Lens:
    """Draws a crop box of one source image (the flat composition or the scene's plane) at
    the frame's size. A shot whose crop keeps one size (a pan, a tilt, a handheld shake, a
    follow) has the whole source scaled once and each frame is a copy of an offset window
    (whole pixels, as the subjects' plane was always pasted); a crop that changes size (a
    zoom, a dolly) is one bilinear affine warp a frame."""

    def __init__(self, source: np.ndarray, boxes: Sequence[_Box], size: tuple[int, int]):
        self.source = source
        self.size = size
        sizes = {(round(b[2] - b[0], 6), round(b[3] - b[1], 6)) for b in boxes}
        self.scaled: np.ndarray | None = None
        if len(sizes) == 1:
            (bw, bh), (width, height) = sizes.pop(), size
            ch, cw = source.shape[:2]
            target = (max(width, round(cw * width / bw)), max(height, round(ch * height / bh)))
            self.scaled = cv2.resize(source, target, interpolation=_shrinking(target[0] / cw))

    def draw(self, box: _Box, out: np.ndarray) -> None:
        width, height = self.size
        bx0, by0, bx1, by1 = box
        if self.scaled is not None:
            sh, sw = self.scaled.shape[:2]
            ch, cw = self.source.shape[:2]
            x = min(max(0, round(bx0 * sw / cw)), sw - width)
            y = min(max(0, round(by0 * sh / ch)), sh - height)
            np.copyto(out, self.scaled[y : y + height, x : x + width])
            return
        sx, sy = width / (bx1 - bx0), height / (by1 - by0)
        # Output pixel centres (x + 0.5) map to bx0 + (x + 0.5) / sx in the source, whose
        # pixel centres are at i + 0.5 (Pillow's convention; cv2 puts them at i).
        inverse = np.array(
            [[1 / sx, 0, bx0 + 0.5 / sx - 0.5], [0, 1 / sy, by0 + 0.5 / sy - 0.5]],
            dtype=np.float64,
        )
        cv2.warpAffine(
            self.source,
            inverse,
            (width, height),
            dst=out,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


@dataclass
class _Shot:
    spec: ShotSpec
    frames: int
    planes: _Planes
    move: CameraMove
    subtitles: list[tuple[float, float, Image.Image]]


class _Stage:
    """One shot ready to draw: its views for every frame, its sources as arrays."""

    def __init__(self, shot: _Shot, width: int, height: int, fps: int):
        self.shot = shot
        self.fps = fps
        canvas = shot.planes.scene.size
        self.views = [
            _camera_view(
                shot.move, i / (shot.frames - 1) if shot.frames > 1 else 0.0, i / fps, canvas
            )
            for i in range(shot.frames)
        ]
        layered = shot.move in LAYERED_MOVES and shot.planes.subjects is not None
        source = shot.planes.scene if layered else shot.planes.flat()
        self.lens = _Lens(_array(source), [view.box for view in self.views], (width, height))
        self.plane: np.ndarray | None = None
        if layered:
            assert shot.planes.subjects is not None
            self.plane = _array(shot.planes.subjects)
        self.scaled: dict[tuple[int, int], _Overlay] = {}
        self.subtitles = [
            (start, end, _Overlay.of(_array(block)), block.size)
            for start, end, block in shot.subtitles
        ]

    def draw(self, i: int, out: np.ndarray) -> None:
        """Frame `i` of the shot into `out` (height x width x 3, uint8)."""
        view = self.views[i]
        self.lens.draw(view.box, out)
        if self.plane is not None:
            self._draw_subjects(view, out)
        height, width = out.shape[:2]
        t = i / self.fps
        bottom = height - round(height * 0.06)
        for start, end, overlay, (w, h) in self.subtitles:
            if start <= t < end:
                top = bottom - h
                overlay.lay(out, (width - w) // 2, top)
                bottom = top - round(height * 0.01)

    def _draw_subjects(self, view: _View, frame: np.ndarray) -> None:
        """Paint the subjects' plane on `frame` as `view` sees it: its own crop (it moves
        apart from the scene), turned by `view.turn` about its vertical axis in perspective.
        Without a turn the plane is scaled to each size asked and laid at whole pixels (a
        follow or a crane keeps one size for the whole shot: it is scaled once)."""
        plane = self.plane
        if plane is None or view.subject_box is None:
            return
        planes = self.shot.planes
        height, width = frame.shape[:2]
        ph, pw = plane.shape[:2]
        bx0, by0, bx1, by1 = view.subject_box
        sx, sy = width / (bx1 - bx0), height / (by1 - by0)
        left, top = (planes.at[0] - bx0) * sx, (planes.at[1] - by0) * sy
        if not view.turn:
            size = (max(1, round(pw * sx)), max(1, round(ph * sy)))
            overlay = self.scaled.get(size)
            if overlay is None:
                overlay = _Overlay.of(
                    cv2.resize(plane, size, interpolation=_shrinking(size[0] / pw))
                )
                if len(self.scaled) < 4:  # a dolly asks a new size every frame: keep a few
                    self.scaled[size] = overlay
            overlay.lay(frame, round(left), round(top))
            return
        # Plane pixels → frame pixels, as a 3x3 homogeneous matrix: the turn, then the crop.
        forward = np.array([[sx, 0, left], [0, sy, top], [0, 0, 1]], dtype=np.float64) @ _turn(
            (pw, ph), view.turn
        )
        corners = np.array([[0, 0, 1], [pw, 0, 1], [0, ph, 1], [pw, ph, 1]], dtype=np.float64).T
        mapped = forward @ corners
        xs, ys = mapped[0] / mapped[2], mapped[1] / mapped[2]
        x0, y0 = max(0, math.floor(xs.min())), max(0, math.floor(ys.min()))
        x1, y1 = min(width, math.ceil(xs.max())), min(height, math.ceil(ys.max()))
        if x1 <= x0 or y1 <= y0:
            return
        # Only the part of the frame the plane covers is resampled.
        to_region = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], dtype=np.float64) @ forward
        region = cv2.warpPerspective(
            plane,
            to_region,
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0, 0),
        )
        _Overlay.of(region).lay(frame, x0, y0)


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
) -> Iterator[np.ndarray]:
    """Every frame of the video, in order, as one reused (height, width, 3) uint8 buffer:
    the caller must be done with a frame before asking for the next."""
    ease = max(1, round(EASE_SECONDS * fps))
    opening = min(ease, max(1, shots[0].frames // 2))  # frames easing from the start frame
    closing = min(ease, max(1, shots[-1].frames // 2))  # frames easing into the end frame
    total = sum(shot.frames for shot in shots)
    first = None if start_frame is None else _array(start_frame.convert("RGB"))
    last = None if end_frame is None else _array(end_frame.convert("RGB"))
    frame = np.empty((height, width, 3), dtype=np.uint8)
    n = 0
    for shot in shots:
        stage = _Stage(shot, width, height, fps)
        for i in range(shot.frames):
            stage.draw(i, frame)
            if first is not None and n < opening:
                k = _smooth(n / opening)
                cv2.addWeighted(frame, k, first, 1 - k, 0, dst=frame)
            left = total - 1 - n
            if last is not None and left < closing:
                k = _smooth(left / closing)
                cv2.addWeighted(frame, k, last, 1 - k, 0, dst=frame)
            n += 1
            yield frame


def _turn(size: tuple[int, int], angle: float) -> np.ndarray:
    """The homography of a flat card of `size` turned by `angle` about its vertical centre
    line, seen in perspective from 2.5 card widths away (its near edge grows, its far edge
    shrinks)."""
    w, h = size
    ax, ay = w / 2, h / 2
    d = 2.5 * max(w, 1)
    c, s = math.cos(angle), math.sin(angle)
    # x' = ax + (x - ax) c d / (d + (x - ax) s),  y' = ay + (y - ay) d / (d + (x - ax) s)
    return np.array(
        [
            [ax * s + d * c, 0, ax * d - ax * ax * s - d * c * ax],
            [ay * s, d, -ay * ax * s],
            [s, 0, d - ax * s],
        ],
        dtype=np.float64,
    )


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


def _shot_starts(frames: Sequence[int]) -> list[int]:
    """The first frame of each shot, given each shot's frame count."""
    return [sum(frames[:n]) for n in range(len(frames))]


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
    scenes: dict[tuple[Path, tuple[int, int]], Image.Image] = {}
    prepared = [
        _Shot(
            spec=shot,
            frames=count,
            planes=_planes(
                shot.layers,
                canvas_size,
                shot.text,
                load,
                floor=canvas_size[1] * SUBJECT_FLOOR,
                subject_height=canvas_size[1] * SUBJECT_HEIGHT,
                scenes=scenes,
            ),
            move=CameraMove(shot.camera) if shot.camera else camera_move(shot.text),
            subtitles=_subtitle_images(shot, width, height),
        )
        for shot, count in zip(shots, frames, strict=True)
    ]
    cache.clear()
    scenes.clear()
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
                    ffmpeg_command(
                        width, height, fps, audio, encoded, keyframes=_shot_starts(frames)
                    ),
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
                        process.stdin.write(frame.data)
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
