"""The AI-assist interface: subject-type detection, auto-description, multi-view completion.

Like `generation/providers/base.py` for generation, one interface and one module per
implementation, chosen by the `ASSIST_PROVIDER` setting (`elements.assists.registry`). The
built-in `local` provider analyses the image for real (OpenCV's cascades, Pillow/NumPy
statistics); a remote provider (a hosted vision model) implements the same three methods and
may return true novel views. Whatever a provider returns must come from the image: the
services store and show it as a suggestion, never as a fact.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from PIL import Image

# What the `type` of a suggestion may be (the element types the detector can tell apart).
DETECTABLE_TYPES = ("character", "animal", "scene", "prop", "other")
DESCRIPTION_MAX = 100


@dataclass(frozen=True)
class SubjectSuggestion:
    """A suggested element type, how sure the detector is (0–1), and what it saw."""

    type: str
    confidence: float
    evidence: str


@dataclass(frozen=True)
class DerivedView:
    """One additional view of an element, made from its main image."""

    name: str  # e.g. "mirrored", "close-up", "full figure"
    image: Image.Image


class AssistError(Exception):
    """A provider could not do what was asked; `code` is shown to the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AssistProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def detect_subject(self, image: Image.Image) -> SubjectSuggestion:
        """What kind of element the image most likely shows."""

    @abc.abstractmethod
    def describe(self, image: Image.Image, *, element_type: str) -> str:
        """A description of at most DESCRIPTION_MAX characters, only of what was measured."""

    @abc.abstractmethod
    def multiview(self, image: Image.Image, *, count: int) -> list[DerivedView]:
        """Up to `count` additional views of the subject of `image`."""
