"""The identity interface: what an image shows that must stay the same across images.

Like the assists (`elements.assists.base`), one interface and one module per implementation,
chosen by the `IDENTITY_ENGINE` setting (`elements.identity.registry`). An engine turns an
image into `ImageDescriptors` — the faces it found, each with a descriptor (a vector whose
distance to another face's says whether they are one person), and an appearance signature
(a perceptual hash, a colour histogram, keypoints) for everything that is not a face — and
compares two of them. Descriptors are kept with each reference image
(`elements.models.ImageDescriptor`) and never leave the service: the API shows only what was
concluded from them (`elements.identity.services`).
"""

from __future__ import annotations

import abc
import base64
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from PIL import Image

# A face whose box is narrower than this, in the image's own pixels, is found but not
# described: the descriptor of so few pixels says little about who it is.
MIN_FACE_SIDE = 40


@dataclass(frozen=True)
class Face:
    """One face: its box (left, top, width, height, in the image's pixels), how sure the
    detector was, and its descriptor (None when the face is too small to describe)."""

    box: tuple[int, int, int, int]
    score: float
    descriptor: tuple[float, ...] | None

    @property
    def side(self) -> int:
        return min(self.box[2], self.box[3])

    @property
    def described(self) -> bool:
        return self.descriptor is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "score": round(self.score, 4),
            "descriptor": [round(v, 6) for v in self.descriptor] if self.descriptor else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Face:
        box = tuple(int(v) for v in data["box"])
        descriptor = data.get("descriptor")
        return cls(
            box=(box[0], box[1], box[2], box[3]),
            score=float(data.get("score", 0.0)),
            descriptor=tuple(float(v) for v in descriptor) if descriptor else None,
        )


@dataclass(frozen=True)
class ImageDescriptors:
    """What an engine measured in one image: faces largest first, and its appearance."""

    engine: str
    width: int
    height: int
    faces: tuple[Face, ...] = ()
    # 64-bit perceptual hash (DCT of the 32×32 grey image), as 16 hex digits.
    phash: str = ""
    # A normalised colour histogram (sums to 1).
    histogram: tuple[float, ...] = ()
    # Keypoint descriptors, engine-specific bytes (ORB: 32 bytes each).
    keypoints: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def described_faces(self) -> tuple[Face, ...]:
        return tuple(f for f in self.faces if f.described)

    @property
    def small_faces(self) -> tuple[Face, ...]:
        return tuple(f for f in self.faces if not f.described)

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "width": self.width,
            "height": self.height,
            "faces": [f.as_dict() for f in self.faces],
            "phash": self.phash,
            "histogram": [round(v, 6) for v in self.histogram],
            "keypoints": base64.b64encode(self.keypoints).decode("ascii"),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageDescriptors:
        return cls(
            engine=str(data.get("engine", "")),
            width=int(data.get("width", 0)),
            height=int(data.get("height", 0)),
            faces=tuple(Face.from_dict(f) for f in data.get("faces") or []),
            phash=str(data.get("phash", "")),
            histogram=tuple(float(v) for v in data.get("histogram") or []),
            keypoints=base64.b64decode(data.get("keypoints") or ""),
            extra=dict(data.get("extra") or {}),
        )


class IdentityEngine(abc.ABC):
    """Describes images and compares what it described (only its own descriptors)."""

    name: str
    # Two faces at or below this descriptor distance are taken for one person.
    face_threshold: float
    # An appearance similarity (0–1) below this means "not the same thing".
    appearance_threshold: float

    @abc.abstractmethod
    def describe(self, image: Image.Image, *, frame: bool = False) -> ImageDescriptors:
        """Faces and appearance of `image` (any size, any mode; EXIF orientation applied),
        as opened by Pillow: an engine may decode it at a reduced scale (`Image.draft`).
        Face boxes and the size are in the original's pixels. `frame`: a video frame, where
        speed matters more than the smallest faces (the local engine searches it once, at
        its own size up to 1280 px, without the upsampled second pass)."""

    def describe_frame(
        self, image: Image.Image, *, faces: bool = True, appearance: bool = True
    ) -> ImageDescriptors:
        """A video frame's descriptors (`describe(image, frame=True)`) when the caller needs
        only its `faces` or only its `appearance`: an engine may leave out what is not asked
        for (no faces; an empty hash, histogram and keypoints), and what it measures must be
        what `describe` would. This default leaves nothing out."""
        return self.describe(image, frame=True)

    @abc.abstractmethod
    def face_distance(self, a: Face, b: Face) -> float:
        """How far apart two described faces are (0: identical)."""

    @abc.abstractmethod
    def appearance_similarity(self, a: ImageDescriptors, b: ImageDescriptors) -> float:
        """How alike two images look, 0–1, for what is not a face (props, scenes…)."""

    def face_similarity(self, distance: float) -> float:
        """A face distance as a 0–1 score: 1 identical, 0.5 at the threshold, 0 far apart."""
        if distance <= self.face_threshold:
            return 1.0 - 0.5 * distance / self.face_threshold
        return max(0.0, 0.5 - 0.5 * (distance - self.face_threshold) / self.face_threshold)

    def start_up_problems(self) -> list[str]:
        """What stops the engine from working offline (checked when the service starts)."""
        return []


class IdentityWarningCode(StrEnum):
    """Remarks on an element's images (`ElementWarning.code`); they never refuse an image."""

    # An image of a character whose faces are all far from the main image's face.
    IMAGES_DIFFERENT_IDENTITY = "IMAGES_DIFFERENT_IDENTITY"
    # An image of a character whose only faces are too small to describe (< MIN_FACE_SIDE).
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
