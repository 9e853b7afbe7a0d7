"""Real detectors for the built-in assists: OpenCV's Haar cascades, dlib's HOG face detector
and image statistics.

The cascades ship as XML inside `opencv-python-headless` 4.x (gone from 5.x, hence the pin),
so nothing is downloaded at run time. They are old and fast: good at upright frontal faces,
fair at profiles and cat faces, weak at bodies. Callers treat what they return as evidence
to report, never as certainty, and say what was found ("1 frontal face").

`detect(hog_first=True)` (the subject suggestion, `elements.assists.local.analyse`) searches
faces with dlib's HOG detector first (`elements.identity.local.frame_faces`, which serialises
dlib's use), about 10 ms on the 512 px analysis copy and 40 ms more upsampled, where the three
face cascades cost about 280 ms of CPU; the cascades search only where dlib finds no face.

Classifiers are loaded once per thread: `CascadeClassifier` keeps scratch buffers and is not
documented as safe to share between threads (django-q2 workers and the dev server use threads).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from elements.identity.local import frame_faces

# Detection runs on a copy whose long side is at most this many pixels: the cascades' cost
# grows with the pixels, and the smallest face searched (8% of the short side) is still 30 px
# at 512×384, above the face cascades' 24 px window (at 640 px the same search cost 1.5×, with
# the same results on the real photos of tests/elements/test_assists_local.py).
ANALYSIS_SIDE = 512

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

# Windows that agree on a real face in our test clips: 13–30 (frontal); on the sporadic false
# faces of background texture (a shuttle model, a flag): 7–8.
CONFIDENT_NEIGHBORS = 10

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
class _Found:
    """A cascade's detections as OpenCV grouped them, each with the number of detection
    windows that agree on it, in the coordinates of the image that was passed in."""

    boxes: tuple[tuple[Box, int], ...]

    def kept(self, min_neighbors: int) -> list[Box]:
        """What `detectMultiScale(minNeighbors=min_neighbors)` returns, merged, for any
        `min_neighbors` at least the one the search ran with: OpenCV's grouping keeps a group
        of more than `minNeighbors` windows, and drops one inside a larger group only when
        that group has more windows than it, so a stricter pass keeps exactly the groups of
        this pass that have enough windows (checked against OpenCV in tests/elements/
        test_vision.py)."""
        return merge_boxes([box for box, windows in self.boxes if windows > min_neighbors])


class Detections:
    """What the detectors found in one image, each list largest first.

    Faces are searched for at once; cat faces and bodies when first asked for (the subject
    suggestion needs no cat face once it has a human face), on the same gray copy.

    `hog_first`: dlib's HOG detector searches the copy first, at its own size (faces from
    about 80 px of it) and, when that finds none, upsampled once (found from about 50 px in
    the tests: 13 % of the short side of a 512×384 copy; the cascades' smallest is 8 %, 30 px,
    so smaller faces still reach them). Its faces are the frontal faces (`search == "hog"`:
    its five filters are frontal and moderately turned faces) and no profile cascade runs;
    where it finds none, the three face cascades search as without it (`search ==
    "cascades"`), so an image without a face, or with faces too small or too turned for
    dlib, gets the cascades' answer."""

    def __init__(
        self,
        width: int,
        height: int,
        gray: np.ndarray,
        back: float,
        *,
        bodies: bool = True,
        cats: bool = True,
        hog_first: bool = False,
    ) -> None:
        self.width = width
        self.height = height
        self._gray = gray
        self._back = back
        self._bodies = bodies
        self._cats = cats
        hog = _hog_faces(gray, back) if hog_first else []
        self.search = "hog" if hog else "cascades"
        if hog:
            self.frontal_faces = hog
            self.profile_faces: list[Box] = []
            return
        self._frontal = _search("frontal_face", gray, back)
        self._profile = _search("profile_face", gray, back)
        mirrored = _search("profile_face", np.ascontiguousarray(gray[:, ::-1]), back)
        self._mirrored = _Found(
            tuple((Box(width - b.x - b.w, b.y, b.w, b.h), n) for b, n in mirrored.boxes)
        )
        neighbors = _PARAMS["frontal_face"][1]
        self.frontal_faces = self._frontal.kept(neighbors)
        profiles = self._profile.kept(neighbors) + self._mirrored.kept(neighbors)
        # A face seen by both cascades is a frontal face.
        self.profile_faces = [
            p for p in merge_boxes(profiles) if all(p.iou(f) < 0.3 for f in self.frontal_faces)
        ]

    @functools.cached_property
    def cat_faces(self) -> list[Box]:
        return _run("cat_face", self._gray, self._back) if self._cats else []

    @functools.cached_property
    def upper_bodies(self) -> list[Box]:
        return _run("upper_body", self._gray, self._back) if self._bodies else []

    @functools.cached_property
    def full_bodies(self) -> list[Box]:
        return _run("full_body", self._gray, self._back) if self._bodies else []

    @property
    def faces(self) -> list[Box]:
        """Frontal and profile faces merged: one box per person's head, largest first."""
        return merge_boxes(self.frontal_faces + self.profile_faces)

    def confident_faces(self, min_neighbors: int = CONFIDENT_NEIGHBORS) -> list[Box]:
        """`confident_faces(image)` from this search's windows, without searching again."""
        if self.search != "cascades":
            raise ValueError("confident faces need the cascades' windows: detect(hog_first=False)")
        if min_neighbors < _PARAMS["frontal_face"][1]:
            raise ValueError("a stricter pass only: min_neighbors below the search's own")
        frontal = self._frontal.kept(min_neighbors)
        profiles = self._profile.kept(min_neighbors) + self._mirrored.kept(min_neighbors)
        return merge_boxes(frontal + profiles)


def upright(image: Image.Image) -> Image.Image:
    """`ImageOps.exif_transpose(image)`, without its copy of an image already upright."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        orientation = None  # let exif_transpose decide, as before
    return image if orientation == 1 else ImageOps.exif_transpose(image)


def analysis_copy(image: Image.Image) -> tuple[np.ndarray, float]:
    """The image as an equalized 8-bit gray array at most ANALYSIS_SIDE on its long side,
    and the factor that maps its coordinates back to the original."""
    image = upright(image)
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


def _search(kind: str, gray: np.ndarray, back: float) -> _Found:
    scale_factor, neighbors, min_fraction = _PARAMS[kind]
    side = max(12, int(min(gray.shape[:2]) * min_fraction))
    found, windows = _classifier(kind).detectMultiScale2(
        gray, scaleFactor=scale_factor, minNeighbors=neighbors, minSize=(side, side)
    )
    return _Found(
        tuple(
            (Box(round(x * back), round(y * back), round(w * back), round(h * back)), int(n))
            for (x, y, w, h), n in zip(
                found if len(found) else [], windows if len(found) else [], strict=True
            )
        )
    )


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


def _hog_faces(gray: np.ndarray, back: float) -> list[Box]:
    """dlib's faces in the analysis copy, in the original's pixels, largest first: at the
    copy's own size, then upsampled once only when that finds none."""
    found = frame_faces(gray) or frame_faces(gray, upsample=True)
    return [
        Box(round(x * back), round(y * back), round(w * back), round(h * back))
        for (x, y, w, h), _ in found
    ]


def detect(
    image: Image.Image, *, bodies: bool = True, cats: bool = True, hog_first: bool = False
) -> Detections:
    """Run the cascades over `image`. Profiles are searched on the image and its mirror,
    since the profile cascade only knows faces turned one way. `hog_first`: dlib's HOG
    detector first, the face cascades only where it finds no face (see `Detections`)."""
    gray, back = analysis_copy(image)
    width, height = image.size
    return Detections(width, height, gray, back, bodies=bodies, cats=cats, hog_first=hog_first)


def sharpness(image: Image.Image, box: Box | None = None) -> float:
    """Variance of the Laplacian (higher is sharper), over `box` when given."""
    if box is not None:
        image = image.crop((box.x, box.y, box.x + box.w, box.y + box.h))
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


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
