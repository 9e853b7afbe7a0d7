"""Writes and reads of the AI assists: subject-type detection, auto-description, and
multi-view completion (a generation job of kind `multiview`).

Multi-view charging (PRODUCT.md "Quotas and credits"): a member's first uses of the day are
free (the tier's `daily_free_multiview`), then `MULTIVIEW_PRICE_CREDITS` each; non-members
pay each time. The free use or the debit is taken in the transaction that creates the job,
with the owner's row locked (PostgreSQL) or inside an IMMEDIATE transaction (SQLite), so
parallel requests can't share one free use or overdraw; a job that fails or is canceled gives
back exactly what it took (`generation.services.job_finish`).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from accounts.error_codes import CreditErrorCode
from accounts.models import FreeUseFeature
from accounts.services import credits_debit, free_use_consume
from elements.assists.base import SubjectSuggestion
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
from elementsite.errors import field_error as _error

if TYPE_CHECKING:
    from generation.idempotency import KeyClaim
    from generation.models import GenerationJob
    from generation.providers.base import RenderedOutput

logger = logging.getLogger(__name__)


def multiview_price() -> int:
    """Credits one multi-view completion costs once the day's free uses are gone."""
    return int(settings.MULTIVIEW_PRICE_CREDITS)


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
    from elements.services import _not_found, _pk

    element = Element.objects.filter(owner_id=owner.pk, pk=_pk(element_id)).first()
    if element is None:
        raise _not_found("elementId", "element")
    return element


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


def element_multiview_complete(
    *, owner: AbstractBaseUser, element_id: int | str, idempotency_key: str | None = None
) -> GenerationJob:
    """Queue a multi-view completion of one of the owner's elements: fills its free
    supplementary slots (up to 3) from the main image.

    Refused, with nothing consumed: another user's element (NOT_FOUND), a blocked or
    processing element, an owner over their element limit, a full element (ELEMENT_FULL), a
    completion of the same element already under way (MULTIVIEW_IN_PROGRESS), no free use
    and too few credits (INSUFFICIENT_CREDITS). With an `idempotency_key`, the same request
    again returns the same job and consumes nothing more (`generation.idempotency`).
    """
    # Generation owns jobs and their keys; imported here as the job model is.
    from generation.idempotency import fingerprint, idempotent_job

    return idempotent_job(
        owner=owner,
        key=idempotency_key,
        operation="elementMultiViewComplete",
        digest=lambda: fingerprint(str(element_id)),
        create=lambda claim: _multiview_complete(owner, element_id, claim),
    )


def _multiview_complete(
    owner: AbstractBaseUser, element_id: int | str, claim: KeyClaim | None
) -> GenerationJob:
    from elements.services import _locked_element
    from generation.models import GenerationJob, JobKind, JobStatus
    from generation.services import pin_element
    from generation.tasks import enqueue_job

    provider = get_assist_provider()
    with transaction.atomic():
        key = claim.claim() if claim is not None else None
        element = _locked_element(owner, element_id)
        images = list(element.images.order_by("position"))
        if len(images) >= MAX_IMAGES:
            raise _error(
                "elementId",
                f"This element already has {MAX_IMAGES} images: remove one to make room.",
                ElementErrorCode.ELEMENT_FULL,
            )
        if GenerationJob.objects.filter(
            kind=JobKind.MULTIVIEW,
            status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
            elements__element=element,
        ).exists():
            raise _error(
                "elementId",
                "A multi-view completion of this element is already under way.",
                ElementErrorCode.MULTIVIEW_IN_PROGRESS,
            )
        job_id = uuid.uuid4()
        day = free_use_consume(user=owner, feature=FreeUseFeature.MULTIVIEW)
        debit = None
        price = 0
        if day is None:
            price = multiview_price()
            try:
                debit = credits_debit(
                    user=owner,
                    amount=price,
                    reason="AI multi-view completion",
                    reference=f"generation.job:{job_id}",
                    idempotency_key=f"generation.job:{job_id}",
                )
            except ValidationError:
                raise _error(
                    None,
                    f"No free multi-view completion left today, and it costs {price} credits: "
                    "top up your credits.",
                    CreditErrorCode.INSUFFICIENT_CREDITS,
                ) from None
        free_slots = MAX_IMAGES - len(images)
        job = GenerationJob.objects.create(
            id=job_id,
            owner_id=owner.pk,
            kind=JobKind.MULTIVIEW,
            model="",
            mode="-",
            prompt=f"AI multi-view completion of {element.name}",
            plan={"element_id": element.pk, "free_slots": free_slots, "image_ids": []},
            credits_charged=price,
            debit=debit,
            free_use_day=day,
            provider=f"assist:{provider.name}",
        )
        # The images it derives from are pinned like a generation job's elements.
        pin_element(job, position=1, element=element)
        if key is not None:
            key.bind(job)
        transaction.on_commit(lambda: enqueue_job(job.pk))
    return job


def _check_multiview_affordable(owner: AbstractBaseUser) -> None:
    from accounts.selectors import credit_balance, free_uses_left

    if free_uses_left(owner, FreeUseFeature.MULTIVIEW) > 0:
        return
    price = multiview_price()
    if credit_balance(owner) < price:
        raise _error(
            "multiView",
            f"No free multi-view completion left today, and it costs {price} credits: "
            "add another image yourself, or top up your credits.",
            CreditErrorCode.INSUFFICIENT_CREDITS,
        )


def element_create_with_multiview(
    *,
    owner: AbstractBaseUser,
    extra_images: list[Any],
    voice_upload: Any = None,
    **create: Any,
) -> tuple[Any, GenerationJob]:
    """Create an element from its main image (plus up to 2 more) and queue AI multi-view
    completion of its free slots at once: the guide's "AI multi-view" choice at creation.

    Refused before anything is written when every slot is already taken or the owner has
    neither a free use nor the credits. If queueing still fails (a parallel request spent the
    last free use or credits), the element, and a voice uploaded with it, are deleted again:
    nothing half-made is left.
    """
    from elements.services import element_create, element_delete, voice_delete

    if 1 + len(extra_images) >= MAX_IMAGES:
        raise _error(
            "multiView",
            f"All {MAX_IMAGES} image slots are taken: there is nothing for multi-view to fill.",
            ElementErrorCode.ELEMENT_FULL,
        )
    _check_multiview_affordable(owner)
    result = element_create(
        owner=owner,
        extra_images=extra_images,
        voice_upload=voice_upload,
        min_images=1,
        **create,
    )
    element = result.element
    try:
        job = element_multiview_complete(owner=owner, element_id=element.pk)
    except ValidationError:
        new_voice = element.voice_id if voice_upload is not None else None
        element_delete(owner=owner, element_id=element.pk)
        if new_voice is not None:
            voice_delete(owner=owner, voice_id=new_voice)
        raise
    return result, job


def multiview_store(job: GenerationJob, rendered: list[RenderedOutput]) -> list[ReferenceImage]:
    """Add a finished job's views to its element (call with the job row locked, inside the
    transaction that ends the job). Raises ProviderError (the job fails and gives back what
    it took) when the element is gone, blocked, or has no free slot left."""
    from django.core.files import File

    from elements.services import _add_image, _FileBatch, _touch
    from generation.providers.base import ProviderError

    pinned = job.elements.first()
    element = (
        Element.objects.select_for_update().filter(pk=pinned.element_id).first()
        if pinned is not None and pinned.element_id is not None
        else None
    )
    if element is None:
        raise ProviderError(ElementErrorCode.ELEMENT_GONE, "The element was deleted.")
    if element.status != ElementStatus.ACTIVE:
        raise ProviderError(
            ElementErrorCode.ELEMENT_BLOCKED, "The element can't be edited now (blocked)."
        )
    count = element.images.count()
    free = MAX_IMAGES - count
    if free <= 0 or not rendered:
        raise ProviderError(
            ElementErrorCode.ELEMENT_FULL, "The element has no free image slot any more."
        )
    batch = _FileBatch()
    added: list[ReferenceImage] = []
    try:
        with transaction.atomic():
            for position, item in enumerate(rendered[:free], start=count):
                with item.path.open("rb") as f:
                    processed = process_image(File(f))
                added.append(
                    _add_image(
                        element,
                        processed,
                        role=ImageRole.EXTRA,
                        position=position,
                        origin=ImageOrigin.MULTIVIEW,
                        files=batch,
                    )
                )
            _touch(element)
            job.plan = {**job.plan, "image_ids": [image.pk for image in added]}
            job.save(update_fields=["plan"])
    except BaseException:
        batch.discard()
        raise
    return added
