"""AI multi-view completion jobs: generation makes them, through the one job service
(`generation.jobs.job_create`), for an element that `elements.assists` locks and checks; the
views the job renders go back to the element through `elements.assists`.

Charging (PRODUCT.md "Quotas and credits"): a member's first uses of the day are free (the
tier's `daily_free_multiview`), then `MULTIVIEW_PRICE_CREDITS` each; non-members pay each
time. The free use or the debit is taken in the transaction that creates the job, with the
owner's row locked (PostgreSQL) or inside an IMMEDIATE transaction (SQLite), so parallel
requests can't share one free use or overdraw; a job that fails or is canceled gives back
exactly what it took (`generation.services.job_finish`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError

from accounts.error_codes import CreditErrorCode
from accounts.models import FreeUseFeature
from accounts.selectors import credit_balance, free_uses_left
from elements.assists.base import AssistError
from elements.assists.registry import get_assist_provider
from elements.assists.services import element_views_add, multiview_element_lock
from elements.error_codes import ElementErrorCode
from elements.models import MAX_IMAGES, Element, ReferenceImage
from elements.services import ElementResult, element_create, element_delete, voice_delete
from elementsite.errors import field_error as _error
from generation.error_codes import GenerationErrorCode
from generation.idempotency import fingerprint
from generation.jobs import JobDraft, job_create
from generation.models import GenerationJob, JobKind, JobStatus
from generation.providers.base import ProviderError, RenderedOutput
from generation.providers.registry import ASSIST_PREFIX
from generation.services import pin_element


def multiview_price() -> int:
    """Credits one multi-view completion costs once the day's free uses are gone."""
    return int(settings.MULTIVIEW_PRICE_CREDITS)


def multiview_job_create(
    *, owner: AbstractBaseUser, element_id: int | str, idempotency_key: str | None = None
) -> GenerationJob:
    """Queue a multi-view completion of one of the owner's elements: fills its free
    supplementary slots (up to 3) from the main image.

    Refused, with nothing consumed: another user's element (NOT_FOUND), a blocked or
    processing element, an owner over their element limit, a full element (ELEMENT_FULL), a
    completion of the same element already under way (MULTIVIEW_IN_PROGRESS), an assist
    provider that is not installed (PROVIDER_NOT_CONFIGURED), no free use and too few credits
    (INSUFFICIENT_CREDITS). With an `idempotency_key`, the same request again returns the
    same job and consumes nothing more (`generation.idempotency`).
    """
    return job_create(
        owner=owner,
        idempotency_key=idempotency_key,
        operation="elementMultiViewComplete",
        digest=lambda: fingerprint(str(element_id)),
        draft=lambda: _multiview_draft(owner, element_id),
    )


def _assist_provider_name() -> str:
    try:
        return ASSIST_PREFIX + get_assist_provider().name
    except LookupError as exc:
        raise _error(
            None, f"{exc} Nothing was charged.", GenerationErrorCode.PROVIDER_NOT_CONFIGURED
        ) from exc


def _multiview_draft(owner: AbstractBaseUser, element_id: int | str) -> JobDraft:
    locked: dict[str, Element] = {}

    def hold() -> dict[str, Any]:
        element, free_slots = multiview_element_lock(owner=owner, element_id=element_id)
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
        locked["element"] = element
        return {
            "prompt": f"AI multi-view completion of {element.name}",
            "plan": {"element_id": element.pk, "free_slots": free_slots, "image_ids": []},
        }

    def pin(job: GenerationJob, saved: list[str]) -> None:
        # The images it derives from are pinned like a generation job's elements.
        pin_element(job, position=1, element=locked["element"])

    def unpaid(price: int) -> ValidationError:
        return _error(
            None,
            f"No free multi-view completion left today, and it costs {price} credits: "
            "top up your credits.",
            CreditErrorCode.INSUFFICIENT_CREDITS,
        )

    return JobDraft(
        kind=JobKind.MULTIVIEW,
        model="",
        mode="-",
        prompt="AI multi-view completion",
        plan={},
        price=multiview_price(),
        provider=_assist_provider_name(),
        charge_reason="AI multi-view completion",
        pin=pin,
        hold=hold,
        free_use=FreeUseFeature.MULTIVIEW,
        unpaid=unpaid,
    )


def _check_multiview_affordable(owner: AbstractBaseUser) -> None:
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
) -> tuple[ElementResult, GenerationJob]:
    """Create an element from its main image (plus up to 2 more) and queue AI multi-view
    completion of its free slots at once: the guide's "AI multi-view" choice at creation.
    The element is made by elements (`element_create`), the job here.

    Refused before anything is written when every slot is already taken or the owner has
    neither a free use nor the credits. If queueing still fails (a parallel request spent the
    last free use or credits), the element, and a voice uploaded with it, are deleted again:
    nothing half-made is left.
    """
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
        job = multiview_job_create(owner=owner, element_id=element.pk)
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
    pinned = job.elements.first()
    try:
        added = element_views_add(
            element_id=pinned.element_id if pinned is not None else None,
            files=[item.path for item in rendered],
        )
    except AssistError as exc:
        raise ProviderError(exc.code, exc.message) from exc
    job.plan = {**job.plan, "image_ids": [image.pk for image in added]}
    job.save(update_fields=["plan"])
    return added
