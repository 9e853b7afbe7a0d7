"""The built-in assists: real analysis of the image, no model weights, nothing invented.

Subject type, from what `vision.detect` and a few image statistics measure:

- a human face (frontal or profile) → `character`; a cat face → `animal`. Faces are dlib's
  HOG detector's first (reported as frontal faces; about 10–50 ms), the face cascades'
  (frontal and profile, about 280 ms) only where dlib finds none (`vision.detect(hog_first=
  True)`);
- a plain border (low colour spread) around a centre that differs from it → `prop`;
- a wide image with a horizon-like line (a row of strong vertical change across most of the
  width, smoother above it than below, as sky over ground) → `scene`;
- anything else → `other`, with a low confidence.

The description reports only those measurements and the colours by name. The derived views
are honest transformations of the main image (mirrored, a close-up crop around the face or
subject, the figure padded with its own background), never a new angle.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from elements.assists import vision
from elements.assists.base import (
    DESCRIPTION_MAX,
    AssistProvider,
    DerivedView,
    SubjectSuggestion,
)

# Statistics are computed on a copy this wide: enough for borders and edges, fast.
STATS_WIDTH = 256
BORDER_FRACTION = 0.06
# A border whose colour spread (norm of the RGB standard deviations) is below this is plain.
PLAIN_BORDER_STD = 25.0
# Share of the centre that must differ clearly from a plain border for a centred object.
SALIENT_CENTRE = 0.3
# Horizon: the strongest row of vertical change, at least this many times the mean row,
# crossing at least this share of the width, in an image at least this much wider than high.
HORIZON_STRENGTH = 3.5
HORIZON_COVERAGE = 0.6
WIDE_ASPECT = 1.2
# Face height over image height: a close-up above the first, a full figure below the second.
CLOSE_UP = 0.3
FULL_BODY = 0.12
MIN_SIDE = 300  # what the element image validation accepts


@dataclass(frozen=True)
class Horizon:
    strength: float  # peak row / mean row of vertical change
    coverage: float  # share of the width the line crosses
    position: float  # its height, 0 top … 1 bottom
    smoother_above: bool


@dataclass(frozen=True)
class Analysis:
    width: int
    height: int
    detections: vision.Detections
    transparent_border: bool
    border_std: float
    centre_salient: float
    horizon: Horizon
    colours: tuple[str, ...]
    subject_box: vision.Box | None  # the salient region when the background is plain

    @property
    def plain_border(self) -> bool:
        return self.transparent_border or self.border_std < PLAIN_BORDER_STD

    @property
    def orientation(self) -> str:
        ratio = self.width / self.height
        return "square" if 0.9 <= ratio <= 1.1 else ("landscape" if ratio > 1 else "portrait")


def _small_size(image: Image.Image) -> tuple[int, int]:
    return STATS_WIDTH, max(8, round(image.height * STATS_WIDTH / image.width))


# Modes whose RGBA conversion only copies channels and adds an opaque alpha: shrinking before
# converting gives the same pixels (Pillow resizes RGBA premultiplied, which an alpha of 255
# leaves alone, and every channel on its own), without converting the whole image first.
_OPAQUE_MODES = ("RGB", "L")


def _shrunk_rgba(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image.convert("RGBA").resize(size, BILINEAR)`, the same pixels (compared in
    tests/elements/test_assists_local_stats.py), shrunk first where that changes nothing."""
    if image.mode in _OPAQUE_MODES:
        return image.resize(size, Image.Resampling.BILINEAR).convert("RGBA")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    return rgba.resize(size, Image.Resampling.BILINEAR)


def _border(array: np.ndarray) -> np.ndarray:
    h, w = array.shape[:2]
    b = max(2, int(BORDER_FRACTION * min(h, w)))
    parts = [array[:b], array[-b:], array[:, :b], array[:, -b:]]
    return np.concatenate([p.reshape(-1, array.shape[2]) for p in parts])


def _horizon(gray: np.ndarray) -> Horizon:
    h = gray.shape[0]
    gy = np.abs(cv2.Sobel(gray, cv2.CV_64F, 0, 1))
    rows = np.convolve(gy.mean(axis=1), np.ones(3) / 3, mode="same")
    rows[:2] = 0  # the image's own edges are no horizon
    rows[-2:] = 0
    row = int(rows.argmax())
    mean = float(gy.mean()) or 1.0
    band = gy[max(0, row - 2) : row + 3].max(axis=0)
    above = np.abs(np.diff(gray[:row], axis=1)).mean() if row > 1 else 0.0
    below = np.abs(np.diff(gray[row:], axis=1)).mean() if row < h - 1 else 0.0
    return Horizon(
        strength=float(rows[row] / mean),
        coverage=float(np.mean(band > 3 * mean)),
        position=row / h,
        smoother_above=bool(above < below),
    )


_NAMED_GRAYS = ((0.18, "black"), (0.45, "dark gray"), (0.8, "gray"), (1.01, "white"))
_NAMED_HUES = (
    (15, "red"),
    (40, "orange"),
    (68, "yellow"),
    (165, "green"),
    (195, "teal"),
    (255, "blue"),
    (290, "purple"),
    (340, "pink"),
    (361, "red"),
)


def colour_name(rgb: tuple[float, float, float]) -> str:
    """A plain-English name for an sRGB colour (0–255 channels)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    if v < 0.18:
        return "black"
    if s < 0.18:
        return next(name for limit, name in _NAMED_GRAYS if v < limit)
    hue = h * 360
    name = next(name for limit, name in _NAMED_HUES if hue < limit)
    if name in ("orange", "red", "yellow") and v < 0.6 and 10 <= hue < 50:
        return "brown"
    if name == "orange" and s < 0.45:
        return "beige" if v > 0.7 else "brown"
    return name


def dominant_colours(image: Image.Image, *, limit: int = 3, min_share: float = 0.1) -> list[str]:
    """Names of the colours covering at least `min_share` of the opaque pixels, largest
    first, from a median-cut palette of 8."""
    rgba = _shrunk_rgba(image, (96, 96))
    pixels = np.asarray(rgba).reshape(-1, 4)
    opaque = pixels[pixels[:, 3] >= 128][:, :3]
    if len(opaque) == 0:
        return []
    strip = Image.fromarray(opaque.reshape(1, -1, 3).astype(np.uint8), "RGB")
    quantized = strip.quantize(8, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    shares: dict[str, float] = {}
    for count, index in quantized.getcolors() or []:
        start = int(index) * 3  # type: ignore[arg-type]
        red, green, blue = palette[start : start + 3]
        name = colour_name((red, green, blue))
        shares[name] = shares.get(name, 0.0) + count / len(opaque)
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    return [name for name, share in ranked if share >= min_share][:limit]


def analyse(image: Image.Image) -> Analysis:
    """Every measurement the assists use, from one pass over the image."""
    image = vision.upright(image)
    detections = vision.detect(image, hog_first=True)
    small = _shrunk_rgba(image, _small_size(image))
    rgba = np.asarray(small, dtype=float)
    border_alpha = _border(rgba[:, :, 3:])
    transparent_border = bool(np.mean(border_alpha < 128) > 0.5)
    rgb = rgba[:, :, :3]
    border = _border(rgb)
    border_std = float(np.linalg.norm(border.std(axis=0)))
    h, w = rgb.shape[:2]
    if transparent_border:
        differs = rgba[:, :, 3] >= 128
    else:
        distance = np.linalg.norm(rgb - border.mean(axis=0), axis=2)
        differs = distance > 3 * max(border_std, 10.0)
    centre = differs[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    subject_box = None
    if differs.any():
        ys, xs = np.nonzero(differs)
        back = image.width / w
        subject_box = vision.Box(
            round(xs.min() * back),
            round(ys.min() * back),
            round((xs.max() - xs.min() + 1) * back),
            round((ys.max() - ys.min() + 1) * back),
        )
    gray = np.asarray(small.convert("L"), dtype=float)
    return Analysis(
        width=image.width,
        height=image.height,
        detections=detections,
        transparent_border=transparent_border,
        border_std=round(border_std, 1),
        centre_salient=round(float(centre.mean()) if centre.size else 0.0, 3),
        horizon=_horizon(gray),
        colours=tuple(dominant_colours(image)),
        subject_box=subject_box,
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _face_evidence(found: vision.Detections) -> list[str]:
    parts = []
    if found.frontal_faces:
        parts.append(_count(len(found.frontal_faces), "frontal face"))
    if found.profile_faces:
        parts.append(_count(len(found.profile_faces), "profile face"))
    if found.upper_bodies:
        parts.append("upper body")
    if found.full_bodies:
        parts.append("full body")
    return parts


def suggest_type(analysis: Analysis) -> SubjectSuggestion:
    found = analysis.detections
    if found.faces:
        confidence = 0.9 if found.frontal_faces else 0.75
        if found.upper_bodies or found.full_bodies:
            confidence += 0.05
        return SubjectSuggestion("character", confidence, ", ".join(_face_evidence(found)))
    if found.cat_faces:
        return SubjectSuggestion("animal", 0.8, _count(len(found.cat_faces), "cat face"))
    if analysis.plain_border and analysis.centre_salient >= SALIENT_CENTRE:
        background = "transparent" if analysis.transparent_border else "plain"
        return SubjectSuggestion(
            "prop",
            round(min(0.85, 0.5 + 0.4 * analysis.centre_salient), 2),
            f"no face; one object on a {background} background "
            f"({analysis.centre_salient:.0%} of the centre)",
        )
    horizon = analysis.horizon
    if (
        analysis.width >= WIDE_ASPECT * analysis.height
        and horizon.strength >= HORIZON_STRENGTH
        and horizon.coverage >= HORIZON_COVERAGE
        and horizon.smoother_above
    ):
        return SubjectSuggestion(
            "scene",
            round(min(0.85, 0.5 + 0.3 * horizon.coverage), 2),
            f"no face; wide image with a horizon-like line across {horizon.coverage:.0%} "
            f"of the width at {horizon.position:.0%} of the height, smoother above",
        )
    reasons = ["no face", "no plain background" if not analysis.plain_border else "no object"]
    if analysis.width >= WIDE_ASPECT * analysis.height:
        reasons.append("no horizon-like line")
    return SubjectSuggestion("other", 0.3, "; ".join(reasons))


_TYPE_LABELS = {
    "character": "Character",
    "animal": "Animal",
    "prop": "Prop",
    "costume": "Costume",
    "scene": "Scene",
    "effect": "Effect",
    "other": "Subject",
}


def framing(analysis: Analysis) -> str | None:
    """close-up / half-body / full-body from the largest face's height, when there is one."""
    faces = analysis.detections.faces or analysis.detections.cat_faces
    if analysis.detections.full_bodies:
        return "full-body"
    if not faces:
        return None
    share = faces[0].h / analysis.height
    if share >= CLOSE_UP:
        return "close-up"
    return "half-body" if share >= FULL_BODY else "full-body"


def describe(analysis: Analysis, *, element_type: str) -> str:
    """E.g. "Character, half-body, 1 face; white, gray and black; busy background; square"."""
    head = [_TYPE_LABELS.get(element_type, "Subject")]
    if (shot := framing(analysis)) is not None:
        head.append(shot)
    faces = len(analysis.detections.faces)
    if faces:
        head.append(_count(faces, "face"))
    parts = [", ".join(head)]
    colours = list(analysis.colours)
    if colours:
        parts.append(
            colours[0] if len(colours) == 1 else f"{', '.join(colours[:-1])} and {colours[-1]}"
        )
    if analysis.transparent_border:
        background = "transparent"
    else:
        background = "plain" if analysis.plain_border else "busy"
    parts.append(f"{background} background")
    parts.append(analysis.orientation)
    text = "; ".join(parts)
    while len(text) > DESCRIPTION_MAX and len(parts) > 1:
        parts.pop()
        text = "; ".join(parts)
    return text[:DESCRIPTION_MAX]


def _at_least(image: Image.Image, side: int = MIN_SIDE) -> Image.Image:
    short = min(image.size)
    if short >= side:
        return image
    scale = side / short
    size = (max(side, round(image.width * scale)), max(side, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _focus_box(analysis: Analysis) -> vision.Box:
    found = analysis.detections
    boxes = found.faces or found.cat_faces
    if boxes:
        face = boxes[0]
        # Head and shoulders: the face with room around it, more below than above.
        side = round(face.w * 2.4)
        cx, cy = face.center
        return vision.Box(round(cx - side / 2), round(cy - side * 0.4), side, side)
    if analysis.plain_border and analysis.subject_box is not None:
        box = analysis.subject_box
        margin = round(0.08 * max(box.w, box.h))
        return vision.Box(box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin)
    # No subject found: the middle of the picture.
    w, h = round(analysis.width * 0.6), round(analysis.height * 0.6)
    return vision.Box((analysis.width - w) // 2, (analysis.height - h) // 2, w, h)


def close_up(image: Image.Image, analysis: Analysis) -> Image.Image:
    box = _focus_box(analysis)
    left, top = max(0, box.x), max(0, box.y)
    right, bottom = min(image.width, box.x + box.w), min(image.height, box.y + box.h)
    return _at_least(image.crop((left, top, right, bottom)))


def padded(image: Image.Image, analysis: Analysis) -> Image.Image:
    """The whole figure with room around it, on its own border colour (or transparent)."""
    pad_x, pad_y = round(image.width * 0.15), round(image.height * 0.15)
    size = (image.width + 2 * pad_x, image.height + 2 * pad_y)
    if analysis.transparent_border:
        canvas = Image.new("RGBA", size, (0, 0, 0, 0))
        canvas.paste(image.convert("RGBA"), (pad_x, pad_y))
        return canvas
    rgb = np.asarray(image.convert("RGB"), dtype=float)
    fill = tuple(int(c) for c in np.median(_border(rgb), axis=0))
    canvas = Image.new("RGB", size, fill)  # type: ignore[arg-type]
    canvas.paste(image.convert("RGB"), (pad_x, pad_y))
    return canvas


class LocalAssistProvider(AssistProvider):
    name = "local"

    def detect_subject(self, image: Image.Image) -> SubjectSuggestion:
        return suggest_type(analyse(image))

    def describe(self, image: Image.Image, *, element_type: str) -> str:
        return describe(analyse(image), element_type=element_type)

    def multiview(self, image: Image.Image, *, count: int) -> list[DerivedView]:
        image = ImageOps.exif_transpose(image)
        analysis = analyse(image)
        views = [
            DerivedView("mirrored", ImageOps.mirror(image)),
            DerivedView("close-up", close_up(image, analysis)),
            DerivedView("full figure", padded(image, analysis)),
        ]
        return views[: max(0, count)]
