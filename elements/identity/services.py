"""Identity checks of the element library: descriptors of reference images, computed after
upload, and what they say about an element (its images show one person, or not).

Descriptors are computed by a task (`elements.tasks.compute_image_descriptors`) that every
new reference image enqueues once its transaction commits (`elements.services.add_image`),
and stored in `ImageDescriptor`. The element's warnings are derived from them when read, so
reordering, replacing or removing images never leaves a stale warning behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from PIL import Image

from elements.identity.base import (
    MIN_FACE_SIDE,
    Face,
    IdentityEngine,
    IdentityWarningCode,
    ImageDescriptors,
)
from elements.identity.registry import get_identity_engine
from elements.models import Element, ElementType, ImageDescriptor, ImageRole, ReferenceImage

logger = logging.getLogger(__name__)

# Element types whose images must show one person.
FACE_TYPES = (ElementType.CHARACTER,)


def image_descriptors_compute(image_id: int, *, engine: IdentityEngine | None = None) -> bool:
    """Compute and store the descriptors of one reference image; False when the image is
    gone (deleted before the task ran) or already described by this engine."""
    engine = engine or get_identity_engine()
    image = ReferenceImage.objects.filter(pk=image_id).select_related("descriptor").first()
    if image is None:
        return False
    existing = getattr(image, "descriptor", None)
    if existing is not None and existing.engine == engine.name:
        return False
    with image.image.open("rb") as handle, Image.open(handle) as picture:
        found = engine.describe(picture)  # decodes it, at a reduced scale if it can
    with transaction.atomic():
        if not ReferenceImage.objects.filter(pk=image_id).exists():
            return False
        ImageDescriptor.objects.update_or_create(
            image_id=image_id,
            defaults={
                "engine": engine.name,
                "data": found.as_dict(),
                "face_count": len(found.faces),
                "computed_at": timezone.now(),
            },
        )
    return True


def descriptors_of(image: ReferenceImage, engine: IdentityEngine) -> ImageDescriptors | None:
    """The image's stored descriptors if this engine computed them (else None: pending).
    Loaded with the image when it came `select_related("descriptor")`."""
    try:
        row = image.descriptor
    except ImageDescriptor.DoesNotExist:
        return None
    if row.engine != engine.name:
        return None
    return ImageDescriptors.from_dict(row.data)


def images_with_descriptors() -> Prefetch:
    """Prefetch an element's images with their descriptors as `identity_images`."""
    return Prefetch(
        "images",
        queryset=ReferenceImage.objects.select_related("descriptor").order_by("position", "id"),
        to_attr="identity_images",
    )


@dataclass(frozen=True)
class IdentityWarning:
    """A remark on one image of an element: what is wrong and how far off it is."""

    code: IdentityWarningCode
    message: str
    image: ReferenceImage
    distance: float | None = None


@dataclass(frozen=True)
class IdentityCheck:
    """The identity check of an element: pending while some image awaits its descriptors."""

    pending: bool
    warnings: tuple[IdentityWarning, ...]


def _nearest(engine: IdentityEngine, reference: Face, faces: Sequence[Face]) -> float:
    return min(engine.face_distance(reference, face) for face in faces)


def _image_label(image: ReferenceImage) -> str:
    return "The main image" if image.role == ImageRole.MAIN else f"Image {image.position + 1}"


def element_identity_check(
    element: Element,
    images: Sequence[ReferenceImage] | None = None,
    *,
    engine: IdentityEngine | None = None,
) -> IdentityCheck:
    """Whether a character's images show one person: every image whose faces are all far
    from the main image's (largest) face gets IMAGES_DIFFERENT_IDENTITY; an image whose
    faces are all too small to describe gets FACE_TOO_SMALL. Other types: no face check."""
    engine = engine or get_identity_engine()
    if images is None:
        images = getattr(element, "identity_images", None)
    if images is None:
        images = list(element.images.select_related("descriptor").order_by("position", "id"))
    found = {image.pk: descriptors_of(image, engine) for image in images}
    pending = any(d is None for d in found.values())
    if element.type not in FACE_TYPES:
        return IdentityCheck(pending, ())
    warnings: list[IdentityWarning] = []
    main = next((image for image in images if image.role == ImageRole.MAIN), None)
    main_found = found.get(main.pk) if main is not None else None
    reference = main_found.described_faces[0] if main_found and main_found.described_faces else None
    for image in images:
        described = found.get(image.pk)
        if described is None:
            continue
        if described.small_faces and not described.described_faces:
            side = max(face.side for face in described.small_faces)
            warnings.append(
                IdentityWarning(
                    IdentityWarningCode.FACE_TOO_SMALL,
                    f"{_image_label(image)} shows a face of only {side} px: at least "
                    f"{MIN_FACE_SIDE} px are needed to tell who it is. Use a closer or "
                    "larger picture.",
                    image,
                )
            )
            continue
        if reference is None or image.role == ImageRole.MAIN or not described.described_faces:
            continue
        distance = _nearest(engine, reference, described.described_faces)
        if distance > engine.face_threshold:
            warnings.append(
                IdentityWarning(
                    IdentityWarningCode.IMAGES_DIFFERENT_IDENTITY,
                    f"{_image_label(image)} seems to show a different person from the main "
                    "image: generations may mix the two. Replace it with a picture of the "
                    "same person.",
                    image,
                    round(distance, 3),
                )
            )
    return IdentityCheck(pending, tuple(warnings))


def images_without_descriptors(engine: IdentityEngine | None = None) -> QuerySet[ReferenceImage]:
    """Images whose descriptors are missing or were computed by another engine."""
    engine = engine or get_identity_engine()
    return ReferenceImage.objects.exclude(descriptor__engine=engine.name)


def descriptors_of_stored_file(name: str, engine: IdentityEngine | None = None) -> ImageDescriptors:
    """The descriptors of a stored reference image by its file name (what a job pins): the
    ones kept with the image when this engine computed them, else computed now (the element
    changed or is gone, the task has not run yet)."""
    engine = engine or get_identity_engine()
    row = ImageDescriptor.objects.filter(image__image=name, engine=engine.name).first()
    if row is not None:
        return ImageDescriptors.from_dict(row.data)
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as handle, Image.open(handle) as picture:
        return engine.describe(picture)
