"""Real detectors for the built-in assists: OpenCV's Haar cascades and image statistics.

The cascades ship as XML inside `opencv-python-headless` 4.x (gone from 5.x, hence the pin),
so nothing is downloaded at run time. They are old and fast: good at upright frontal faces,
fair at profiles and cat faces, weak at bodies. Callers treat what they return as evidence
to report, never as certainty, and say what was found ("1 frontal face").

Classifiers are loaded once per thread: `CascadeClassifier` keeps scratch buffers and is not
documented as safe to share between threads (django-q2 workers and the dev server use threads).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

# Detection runs on a copy whose long side is at most this many pixels: the cascades gain
# nothing from more, and a 12 MP photo would take seconds.
ANALYSIS_SIDE = 640

CASCADES = {
    "frontal_face": "haarcascade_frontalface_default.xml",
    "profile_face": "haarcascade_profileface.xml",
    "cat_face": "haarcascade_frontalcatface_extended.xml",
    "upper_body": "haarcascade_upperbody.xml",
    "full_body": "haarcascade_fullbody.xml",
}

# (scaleFactor, minNeighbors, smallest size as a fraction of the short side). Faces and cat
# faces need several agreeing windows; bodies are rarer and larger.
_PARAMS: dict[str, tuple[float, int, float]] = {
    "frontal_face": (1.1, 6, 0.08),
    "profile_face": (1.1, 6, 0.08),
    "cat_face": (1.05, 5, 0.08),
    "upper_body": (1.05, 4, 0.25),
    "full_body": (1.05, 4, 0.25),
}

_local = threading.local()


def _classifier(kind: str) -> cv2.CascadeClassifier:
    cache: dict[str, cv2.CascadeClassifier] | None = getattr(_local, "cascades", None)
    if cache is None:
        cache = _local.cascades = {}
    if kind not in cache:
        path = Path(cv2.data.haarcascades) / CASCADES[kind]  # type: ignore[attr-defined]
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise RuntimeError(f"OpenCV cascade {path.name} did not load")
        cache[kind] = classifier
    return cache[kind]


@dataclass(frozen=True)
class Box:
    """A detection in the coordinates of the image that was passed in."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def iou(self, other: Box) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass(frozen=True)
class Detections:
    """What the cascades found in one image, each list largest first."""

    width: int
    height: int
    frontal_faces: list[Box] = field(default_factory=list)
    profile_faces: list[Box] = field(default_factory=list)
    cat_faces: list[Box] = field(default_factory=list)
    upper_bodies: list[Box] = field(default_factory=list)
    full_bodies: list[Box] = field(default_factory=list)

    @property
    def faces(self) -> list[Box]:
        """Frontal and profile faces merged: one box per person's head, largest first."""
        return merge_boxes(self.frontal_faces + self.profile_faces)


def analysis_copy(image: Image.Image) -> tuple[np.ndarray, float]:
    """The image as an equalized 8-bit gray array at most ANALYSIS_SIDE on its long side,
    and the factor that maps its coordinates back to the original."""
    image = ImageOps.exif_transpose(image)
    scale = min(1.0, ANALYSIS_SIDE / max(image.size))
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    gray = np.asarray(image.convert("L"))
    return cv2.equalizeHist(gray), 1.0 / scale


def merge_boxes(boxes: list[Box], *, threshold: float = 0.3) -> list[Box]:
    """Greedy non-maximum suppression: keep the largest of boxes that overlap."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.area, reverse=True):
        if all(box.iou(k) < threshold for k in kept):
            kept.append(box)
    return kept


def _run(kind: str, gray: np.ndarray, back: float, min_neighbors: int | None = None) -> list[Box]:
    scale_factor, neighbors, min_fraction = _PARAMS[kind]
    neighbors = neighbors if min_neighbors is None else min_neighbors
    side = max(12, int(min(gray.shape[:2]) * min_fraction))
    found = _classifier(kind).detectMultiScale(
        gray, scaleFactor=scale_factor, minNeighbors=neighbors, minSize=(side, side)
    )
    boxes = [
        Box(round(x * back), round(y * back), round(w * back), round(h * back))
        for (x, y, w, h) in (found if len(found) else [])
    ]
    return merge_boxes(boxes)


def detect(image: Image.Image, *, bodies: bool = True, cats: bool = True) -> Detections:
    """Run the cascades over `image`. Profiles are searched on the image and its mirror,
    since the profile cascade only knows faces turned one way."""
    gray, back = analysis_copy(image)
    width, height = image.size
    profiles = _run("profile_face", gray, back)
    mirrored = _run("profile_face", np.ascontiguousarray(gray[:, ::-1]), back)
    profiles += [Box(width - b.x - b.w, b.y, b.w, b.h) for b in mirrored]
    frontal = _run("frontal_face", gray, back)
    # A face seen by both cascades is a frontal face.
    profiles = [p for p in merge_boxes(profiles) if all(p.iou(f) < 0.3 for f in frontal)]
    return Detections(
        width=width,
        height=height,
        frontal_faces=frontal,
        profile_faces=profiles,
        cat_faces=_run("cat_face", gray, back) if cats else [],
        upper_bodies=_run("upper_body", gray, back) if bodies else [],
        full_bodies=_run("full_body", gray, back) if bodies else [],
    )


def sharpness(image: Image.Image, box: Box | None = None) -> float:
    """Variance of the Laplacian (higher is sharper), over `box` when given."""
    if box is not None:
        image = image.crop((box.x, box.y, box.x + box.w, box.y + box.h))
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


# Windows that agree on a real face in our test clips: 13–30 (frontal); on the sporadic false
# faces of background texture (a shuttle model, a flag): 7–8.
CONFIDENT_NEIGHBORS = 10


def confident_faces(image: Image.Image, *, min_neighbors: int = CONFIDENT_NEIGHBORS) -> list[Box]:
    """Faces (frontal and profile, merged) that at least `min_neighbors` overlapping
    detection windows agree on: fewer than `detect` finds, and far fewer false ones. For
    claims that need to be sure of each face, such as "two people in this frame"."""
    gray, back = analysis_copy(image)
    width = image.size[0]
    frontal = _run("frontal_face", gray, back, min_neighbors)
    profiles = _run("profile_face", gray, back, min_neighbors)
    mirrored = _run("profile_face", np.ascontiguousarray(gray[:, ::-1]), back, min_neighbors)
    profiles += [Box(width - b.x - b.w, b.y, b.w, b.h) for b in mirrored]
    return merge_boxes(frontal + profiles)
