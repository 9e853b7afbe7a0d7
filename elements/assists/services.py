"""Writes and reads of the AI assists: subject-type detection, auto-description, and the
element's side of multi-view completion (the element it completes, locked and checked, and
the views added to it). The completion itself is a generation job of kind `multiview`, made,
priced and charged by generation (`generation.multiview`): elements never imports generation.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from elements.assists.base import AssistError, SubjectSuggestion
from elements.assists.registry import get_assist_provider
from elements.error_codes import ElementErrorCode
from elements.media.images import ProcessedImage, preview_of, process_image
from elements.models import (
    MAX_IMAGES,
    Element,
    ElementStatus,
    ImageOrigin,
    ImageRole,
    ReferenceImage,
)
from elements.teams.policy import Action
from elementsite.errors import field_error as _error
from elementsite.files import FileBatch

logger = logging.getLogger(__name__)


def _open(processed: ProcessedImage) -> Image.Image:
    """The image to analyse: the analysis works at 640 px at most, so a JPEG is decoded at
    the smallest DCT scale above that (`preview_of`), or not at all when `process_image`
    already did it."""
    import io

    if processed.preview is not None:
        return processed.preview
    return preview_of(Image.open(io.BytesIO(processed.content)))


# --- Subject type -----------------------------------------------------------------------------


def suggest_subject_type(processed: ProcessedImage) -> SubjectSuggestion | None:
    """The provider's suggestion for an already validated image; None if the provider
    failed (a suggestion must never cost the user their upload)."""
    try:
        return get_assist_provider().detect_subject(_open(processed))
    except Exception:
        logger.exception("subject-type detection failed")
        return None


def detected_fields(processed: ProcessedImage) -> dict[str, Any]:
    """The `detected_*` columns of an element whose main image is `processed`."""
    found = suggest_subject_type(processed)
    if found is None:
        return {"detected_type": "", "detected_confidence": None, "detected_evidence": ""}
    return {
        "detected_type": found.type,
        "detected_confidence": round(found.confidence, 2),
        "detected_evidence": found.evidence[:200],
    }


def subject_type_detect(*, upload: Any) -> SubjectSuggestion:
    """Suggest an element type for an image, validated exactly like a reference image
    (same codes); nothing is stored."""
    try:
        processed = process_image(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc.error_list}) from None
    return get_assist_provider().detect_subject(_open(processed))


# --- Description --------------------------------------------------------------------------------


def _owned_element(owner: AbstractBaseUser, element_id: int | str) -> Element:
    """An element the user may edit (a description is made to be kept by `element_update`):
    NOT_FOUND outside their libraries, ROLE_FORBIDDEN for a team's viewer."""
    from elements.services import library_element

    return library_element(
        owner, element_id, Action.EDIT, field="elementId", what="describe its elements"
    )


def element_describe(*, owner: AbstractBaseUser, element_id: int | str) -> str:
    """A description (≤ 100 characters) of the element's main image from real analysis, for
    the user to keep (through `element_update`) or edit. Nothing is stored."""
    element = _owned_element(owner, element_id)
    main = element.images.filter(role=ImageRole.MAIN).first()
    if main is None:
        raise _error(
            "elementId",
            "This element has no main image yet.",
            ElementErrorCode.ELEMENT_PROCESSING,
        )
    with default_storage.open(main.image.name, "rb") as f:
        image = preview_of(Image.open(f))
    return get_assist_provider().describe(image, element_type=element.type)


# --- Multi-view completion ------------------------------------------------------------------
# The job is generation's (`generation.multiview`); these are the element's side of it.


def multiview_element_lock(
    *, owner: AbstractBaseUser, element_id: int | str
) -> tuple[Element, int]:
    """An element the user may edit, locked for this transaction, with the number of its
    free image slots. Refused: an element outside the user's libraries (NOT_FOUND), a
    team's element their role may not edit (ROLE_FORBIDDEN), a blocked or processing
    element, an owner over their element limit, a full element (ELEMENT_FULL)."""
    from elements.services import locked_element

    element = locked_element(owner, element_id)
    images = element.images.count()
    if images >= MAX_IMAGES:
        raise _error(
            "elementId",
            f"This element already has {MAX_IMAGES} images: remove one to make room.",
            ElementErrorCode.ELEMENT_FULL,
        )
    return element, MAX_IMAGES - images


def element_views_add(*, element_id: int | None, files: list[Path]) -> list[ReferenceImage]:
    """Add the views of a finished completion to the element (call inside the transaction
    that ends its job): as many as it has free slots, each validated like an upload. Raises
    AssistError (the job fails and gives back what it took) when the element is gone,
    blocked, or has no free slot left."""
    from django.core.files import File

    from elements.services import add_image, touch

    element = (
        Element.objects.select_for_update().filter(pk=element_id).first()
        if element_id is not None
        else None
    )
    if element is None:
        raise AssistError(ElementErrorCode.ELEMENT_GONE, "The element was deleted.")
    if element.status != ElementStatus.ACTIVE:
        raise AssistError(
            ElementErrorCode.ELEMENT_BLOCKED, "The element can't be edited now (blocked)."
        )
    count = element.images.count()
    free = MAX_IMAGES - count
    if free <= 0 or not files:
        raise AssistError(
            ElementErrorCode.ELEMENT_FULL, "The element has no free image slot any more."
        )
    batch = FileBatch()
    added: list[ReferenceImage] = []
    try:
        with transaction.atomic():
            for position, path in enumerate(files[:free], start=count):
                with path.open("rb") as f:
                    processed = process_image(File(f))
                added.append(
                    add_image(
                        element,
                        processed,
                        role=ImageRole.EXTRA,
                        position=position,
                        origin=ImageOrigin.MULTIVIEW,
                        files=batch,
                    )
                )
            touch(element)
    except BaseException:
        batch.discard()
        raise
    return added
