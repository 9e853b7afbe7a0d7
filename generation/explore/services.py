"""Writes of the Explore feed: share, unshare, recreate, report, and staff moderation.

A shared work freezes its job's **recipe** when it is shared: model, settings, prompt, the
pinned element snapshots (names, descriptions, image and voice files) and the inputs. Its
files are pinned by `ExploreWorkFile` rows (see `generation.selectors.pinned_file_names`), so
the author deleting the element or the voice later deletes none of them.

Recreating compiles the recipe's prompt (or the caller's edit of its words) against a library
made only of the recipe's snapshots, never against anyone's live library, then creates the
job for the caller through the one job service, as `generation_submit` does
(`generation.jobs.job_create`): the same price lookup, model and provider checks, the same
debit in the same transaction, the `generation.queued` event, the same pins (the recipe's
files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from elements.models import Element, ElementStatus, Voice, VoiceStatus
from elements.teams.models import PERSONAL_LIBRARY
from elementsite.errors import field_error as _error
from elementsite.ids import row_or_not_found
from generation import services as generation_services
from generation.catalog import MODELS, ModelCode
from generation.error_codes import GenerationErrorCode
from generation.explore.error_codes import ExploreErrorCode
from generation.explore.models import (
    ExploreModerationAction,
    ExploreModerationEvent,
    ExploreRecreation,
    ExploreReport,
    ExploreWork,
    ExploreWorkFile,
    WorkStatus,
)
from generation.idempotency import fingerprint
from generation.jobs import JobDraft, job_create
from generation.models import (
    GenerationJob,
    GenerationOutput,
    InputKind,
    JobElement,
    JobElementImage,
    JobInput,
    JobStatus,
)
from generation.prompts import LibraryElement, PromptPlan, compile_prompt

TITLE_MAX = 80
CAPTION_MAX = 500
REPORT_REASON_MAX = 500
HIDE_REASON_MAX = 300


def _work(rows: QuerySet[ExploreWork], work_id: Any, field: str = "workId") -> ExploreWork:
    """The work of `rows` (those the caller may act on) with this id, else NOT_FOUND."""
    return row_or_not_found(
        rows, work_id, field=field, message="No such work.", code=ExploreErrorCode.NOT_FOUND
    )


# --- The recipe -------------------------------------------------------------------------------


def freeze_recipe(job: GenerationJob) -> dict[str, Any]:
    """What a recreation needs of `job`, copied now: the pins of the job as they are."""
    pins = list(job.elements.prefetch_related("images").order_by("position"))
    # The library each element was in, so a qualified mention (`[@Hero@studio-nine]`) of the
    # author's prompt names its snapshot again.
    libraries = {e.get("position"): e.get("library") for e in (job.plan or {}).get("elements", [])}
    sources: dict[int | None, str] = dict(
        Element.objects.filter(pk__in=[p.element_id for p in pins if p.element_id]).values_list(
            "pk", "source"
        )
    )
    return {
        "model": job.model,
        "mode": job.mode,
        "prompt": job.prompt,
        "duration": job.duration,
        "aspect_ratio": job.aspect_ratio,
        "elements": [
            {
                "position": pin.position,
                # The author's element, kept only to check it was not blocked since; never
                # shown to anyone and never pinned by a recreation.
                "element_id": pin.element_id,
                "name": pin.name,
                "library": libraries.get(pin.position) or PERSONAL_LIBRARY,
                "type": pin.type,
                "description": pin.description,
                "version": pin.version,
                "source": sources.get(pin.element_id, "images"),
                "voice_name": pin.voice_name,
                "voice_file": pin.voice_file,
                "clip_file": pin.clip_file,
                "clip_sound": pin.clip_sound,
                "images": [
                    {
                        "role": image.role,
                        "position": image.position,
                        "file": image.file,
                        "width": image.width,
                        "height": image.height,
                    }
                    for image in sorted(pin.images.all(), key=lambda i: i.position)
                ],
            }
            for pin in pins
        ],
        "inputs": [
            {
                "kind": row.kind,
                "position": row.position,
                "file": row.file,
                "width": row.width,
                "height": row.height,
            }
            for row in job.inputs.order_by("kind", "position")
        ],
    }


def recipe_files(recipe: dict[str, Any]) -> set[str]:
    """Every stored file a recipe uses."""
    names = {row["file"] for row in recipe.get("inputs", [])}
    for element in recipe.get("elements", []):
        names |= {image["file"] for image in element.get("images", [])}
        if element.get("voice_file"):
            names.add(element["voice_file"])
        if element.get("clip_file"):
            names.add(element["clip_file"])
    return {n for n in names if n}


# --- Share and unshare ------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise _error("title", "Give the work a title.", ExploreErrorCode.TITLE_REQUIRED)
    if len(title) > TITLE_MAX:
        raise _error(
            "title",
            f"Keep the title within {TITLE_MAX} characters.",
            ExploreErrorCode.TITLE_TOO_LONG,
        )
    return title


def _clean_caption(caption: str | None) -> str:
    caption = (caption or "").strip()
    if len(caption) > CAPTION_MAX:
        raise _error(
            "caption",
            f"Keep the caption within {CAPTION_MAX} characters.",
            ExploreErrorCode.CAPTION_TOO_LONG,
        )
    return caption


def generation_share(
    *,
    owner: AbstractBaseUser,
    job_id: Any,
    output_id: Any,
    title: str,
    caption: str | None = None,
) -> ExploreWork:
    """Share one output of the owner's succeeded job to Explore, freezing its recipe.

    Another user's job or output is not found; a job that did not succeed can't be shared;
    an output already shared (and not unshared) is refused (a database constraint backs it).
    With `EXPLORE_MODERATION="pre"` the work waits for staff approval, else it is visible at
    once.
    """
    title = _clean_title(title)
    caption = _clean_caption(caption)
    job = row_or_not_found(
        GenerationJob.objects.filter(owner_id=owner.pk),
        job_id,
        field="jobId",
        message="No such job.",
        code=ExploreErrorCode.NOT_FOUND,
    )
    if job.status != JobStatus.SUCCEEDED:
        raise _error(
            "jobId",
            f"Only a finished job can be shared; this one is {job.status}.",
            ExploreErrorCode.JOB_NOT_SUCCEEDED,
        )
    output = row_or_not_found(
        GenerationOutput.objects.filter(job=job, owner_id=owner.pk),
        output_id,
        field="outputId",
        message="No such output of this job.",
        code=ExploreErrorCode.NOT_FOUND,
    )
    recipe = freeze_recipe(job)
    status = WorkStatus.PENDING if settings.EXPLORE_MODERATION == "pre" else WorkStatus.APPROVED
    try:
        with transaction.atomic():
            work = ExploreWork(
                author_id=owner.pk,
                job=job,
                output=output,
                title=title,
                caption=caption,
                model=job.model,
                output_kind=output.kind,
                prompt=job.prompt,
                recipe=recipe,
                status=status,
            )
            work.save()
            ExploreWorkFile.objects.bulk_create(
                ExploreWorkFile(work=work, file=name) for name in sorted(recipe_files(recipe))
            )
    except IntegrityError:
        if ExploreWork.objects.filter(output=output, unshared_at__isnull=True).exists():
            raise _error(
                "outputId", "This output is already shared.", ExploreErrorCode.ALREADY_SHARED
            ) from None
        raise
    return work


def explore_unshare(*, owner: AbstractBaseUser, work_id: Any) -> ExploreWork:
    """Take the author's work off Explore. Its recreations keep their own jobs."""
    with transaction.atomic():
        work = _work(
            ExploreWork.objects.select_for_update().filter(author_id=owner.pk), work_id, "id"
        )
        if work.unshared_at is not None:
            raise _error("id", "This work is not shared any more.", ExploreErrorCode.WORK_UNSHARED)
        work.unshared_at = timezone.now()
        work.save(update_fields=["unshared_at"])
    return work


# --- Recreate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecreateOverrides:
    """What a recreation may change: the words around the mentions, length and shape."""

    prompt: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None


def _check_recreatable(work: ExploreWork) -> None:
    if work.unshared_at is not None:
        raise _error(
            "workId", "The author took this work off Explore.", ExploreErrorCode.WORK_UNSHARED
        )
    if work.status == WorkStatus.HIDDEN:
        raise _error("workId", "This work was hidden by moderation.", ExploreErrorCode.WORK_HIDDEN)
    if work.status != WorkStatus.APPROVED:
        raise _error("workId", "This work is waiting for approval.", ExploreErrorCode.WORK_PENDING)
    recipe = work.recipe
    voice_files = [e["voice_file"] for e in recipe["elements"] if e.get("voice_file")]
    if (
        voice_files
        and Voice.objects.filter(audio__in=voice_files, status=VoiceStatus.TAKEN_DOWN).exists()
    ):
        raise _error(
            "workId",
            "A voice this work speaks with was taken down by moderation.",
            ExploreErrorCode.VOICE_TAKEN_DOWN,
        )
    element_ids = [e["element_id"] for e in recipe["elements"] if e.get("element_id")]
    if (
        element_ids
        and Element.objects.filter(pk__in=element_ids, status=ElementStatus.BLOCKED).exists()
    ):
        raise _error(
            "workId",
            "An element this work was made with was blocked by moderation.",
            ExploreErrorCode.ELEMENT_BLOCKED,
        )


def _recipe_library(recipe: dict[str, Any]) -> list[LibraryElement]:
    # Each snapshot is known by its position in the author's job: no id of a live element.
    return [
        LibraryElement(
            element_id=e["position"],
            name=e["name"],
            type=e["type"],
            status="active",
            has_voice=bool(e.get("voice_file")),
            source=e.get("source", "images"),
            library=e.get("library") or PERSONAL_LIBRARY,
        )
        for e in recipe["elements"]
    ]


def _compile(recipe: dict[str, Any], prompt: str, duration: int | None) -> PromptPlan:
    inputs = recipe["inputs"]
    kinds = [row["kind"] for row in inputs]
    return compile_prompt(
        prompt,
        model=MODELS[ModelCode(recipe["model"])],
        library=_recipe_library(recipe),
        attached_images=kinds.count(InputKind.IMAGE),
        # Every snapshot is used, mentioned or not, as in the author's job.
        bound_element_ids=[e["position"] for e in recipe["elements"]],
        duration=duration,
        start_frame=InputKind.START_FRAME in kinds,
        end_frame=InputKind.END_FRAME in kinds,
        input_video=InputKind.VIDEO in kinds,
    )


def _references(plan: PromptPlan) -> tuple[list[int], list[int]]:
    mentioned = sorted({ref.element_id for ref in plan.elements if ref.mentioned})
    images = sorted({ref.number for ref in plan.images})
    return mentioned, images


def recreate_preview(
    *, work: ExploreWork, overrides: RecreateOverrides
) -> generation_services.Preview:
    """The recipe compiled with the caller's overrides and priced at today's price."""
    recipe = work.recipe
    spec = MODELS[ModelCode(recipe["model"])]
    duration = overrides.duration if overrides.duration is not None else recipe.get("duration")
    prompt = overrides.prompt if overrides.prompt is not None else recipe["prompt"]
    plan = _compile(recipe, prompt, duration)
    if overrides.prompt is not None and _references(plan) != _references(
        _compile(recipe, recipe["prompt"], recipe.get("duration"))
    ):
        raise _error(
            "overrides.promptText",
            "Change the words around the mentions, not the mentions themselves.",
            ExploreErrorCode.MENTIONS_CHANGED,
        )
    request = generation_services.JobRequest(
        model=spec.code,
        prompt=prompt,
        mode=recipe["mode"] if recipe["mode"] != generation_services.IMAGE_MODE else None,
        duration=duration,
        aspect_ratio=overrides.aspect_ratio or recipe.get("aspect_ratio") or None,
    )
    mode, aspect_ratio, issues = generation_services.job_settings_issues(spec=spec, request=request)
    price = generation_services.job_price(spec, mode, plan.total_duration)
    if price is None and not issues:
        issues.append(
            _error(
                "model",
                f"{spec.label} has no price for this mode yet.",
                GenerationErrorCode.PRICE_NOT_SET,
            )
        )
    return generation_services.Preview(plan, spec, mode, aspect_ratio, price, issues)


def _pin_recipe(job: GenerationJob, plan: PromptPlan, recipe: dict[str, Any]) -> None:
    """Pin the recipe's snapshots (the author's files, shared, not copied) and inputs."""
    snapshots = {e["position"]: e for e in recipe["elements"]}
    for ref in plan.elements:
        snap = snapshots[ref.element_id]
        pinned = JobElement.objects.create(
            job=job,
            position=ref.position,
            element=None,
            name=snap["name"],
            type=snap["type"],
            description=snap["description"],
            version=snap["version"],
            voice_name=snap["voice_name"],
            voice_file=snap["voice_file"],
            # Recipes frozen before clips were pinned have none.
            clip_file=snap.get("clip_file", ""),
            clip_sound=bool(snap.get("clip_sound", False)),
        )
        JobElementImage.objects.bulk_create(
            JobElementImage(job_element=pinned, **image) for image in snap["images"]
        )
    JobInput.objects.bulk_create(JobInput(job=job, **row) for row in recipe["inputs"])


def explore_recreate(
    *,
    user: AbstractBaseUser,
    work_id: Any,
    overrides: RecreateOverrides | None = None,
    idempotency_key: str | None = None,
) -> GenerationJob:
    """Make a new job for `user` from a shared work's recipe, in one call.

    Refused, with nothing changed, when the work is not visible (hidden, unshared, waiting),
    when a voice of its recipe was taken down or an element it used was blocked, when the
    edited prompt changes its mentions, when the model's rules refuse the overrides, and when
    `user` can't pay today's price. Otherwise the job is created, pinned to the recipe's
    files, debited to `user`, linked to the work, and the work's count grows by one (a
    conditional UPDATE, exact under concurrency and refused if the work was hidden since).
    """
    chosen = overrides or RecreateOverrides()
    return job_create(
        owner=user,
        idempotency_key=idempotency_key,
        operation="exploreRecreate",
        digest=lambda: fingerprint(
            str(work_id), chosen.prompt, chosen.duration, chosen.aspect_ratio
        ),
        draft=lambda: _recreate_draft(user, work_id, chosen),
    )


def _recreate_draft(user: AbstractBaseUser, work_id: Any, overrides: RecreateOverrides) -> JobDraft:
    """The work's recipe compiled with the overrides and priced at today's price, pinned to
    the recipe's files, linked to the work and counted (`generation.jobs.job_create` does
    the rest, as for a submit)."""
    from generation.providers.registry import provider_name_for

    # A work waiting for approval is its author's alone.
    work = _work(
        ExploreWork.objects.filter(~Q(status=WorkStatus.PENDING) | Q(author_id=user.pk)), work_id
    )
    _check_recreatable(work)
    preview = recreate_preview(work=work, overrides=overrides)
    generation_services.preview_raise_if_invalid(preview=preview)
    assert preview.price is not None

    def pin(job: GenerationJob, saved: list[str]) -> None:
        # The recipe's files are shared, not copied: nothing to remove if the job is not made.
        _pin_recipe(job, preview.plan, work.recipe)

    def link(job: GenerationJob) -> None:
        ExploreRecreation.objects.create(work=work, job=job)
        counted = ExploreWork.objects.filter(
            pk=work.pk, status=WorkStatus.APPROVED, unshared_at__isnull=True
        ).update(recreate_count=F("recreate_count") + 1)
        if not counted:
            # Hidden or unshared between the check and now.
            raise _error(
                "workId", "This work is no longer available.", ExploreErrorCode.WORK_HIDDEN
            )

    return JobDraft(
        model=preview.spec.code,
        mode=preview.mode,
        prompt=preview.plan.text,
        duration=preview.plan.total_duration,
        aspect_ratio=preview.aspect_ratio,
        plan=generation_services.plan_as_json(preview.plan),
        price=preview.price,
        provider=provider_name_for(preview.spec.code),
        charge_reason=f"{preview.spec.label} generation (recreate)",
        pin=pin,
        link=link,
    )


# --- Reports ----------------------------------------------------------------------------------


def explore_report(*, user: AbstractBaseUser, work_id: Any, reason: str) -> ExploreReport:
    """Report a visible work to staff, with a reason; once per user and work, never one's
    own work."""
    reason = (reason or "").strip()
    work = _work(
        ExploreWork.objects.filter(status=WorkStatus.APPROVED, unshared_at__isnull=True).only(
            "pk", "author_id"
        ),
        work_id,
    )
    if work.author_id == user.pk:
        raise _error("workId", "You can't report your own work.", ExploreErrorCode.OWN_WORK)
    if not reason:
        raise _error("reason", "Say what is wrong with it.", ExploreErrorCode.REASON_REQUIRED)
    if len(reason) > REPORT_REASON_MAX:
        raise _error(
            "reason",
            f"Keep the reason within {REPORT_REASON_MAX} characters.",
            ExploreErrorCode.REASON_TOO_LONG,
        )
    try:
        with transaction.atomic():
            return ExploreReport.objects.create(work=work, reporter_id=user.pk, reason=reason)
    except IntegrityError:
        raise _error(
            "workId", "You already reported this work.", ExploreErrorCode.ALREADY_REPORTED
        ) from None


# --- Staff moderation -------------------------------------------------------------------------


def _require_staff(staff: AbstractBaseUser) -> None:
    if not (staff.is_active and getattr(staff, "is_staff", False)):
        raise PermissionDenied


def _moderate(
    *,
    staff: AbstractBaseUser,
    work: ExploreWork,
    allowed_from: tuple[str, ...],
    to: WorkStatus,
    action: ExploreModerationAction,
    reason: str,
) -> ExploreWork:
    _require_staff(staff)
    with transaction.atomic():
        locked = _work(ExploreWork.objects.select_for_update(), work.pk, "id")
        if locked.status not in allowed_from:
            raise _error(
                "id",
                f"A work that is {locked.get_status_display().lower()} can't be "
                f"{action.label.lower()}.",
                ExploreErrorCode.INVALID_TRANSITION,
            )
        locked.status = to
        locked.hidden_reason = reason[:HIDE_REASON_MAX] if to == WorkStatus.HIDDEN else ""
        locked.save(update_fields=["status", "hidden_reason"])
        now = timezone.now()
        resolved = ExploreReport.objects.filter(work=locked, resolved_at__isnull=True).update(
            resolved_at=now
        )
        ExploreModerationEvent.objects.create(
            work=locked,
            subject=locked.title[:120],
            action=action,
            reason=reason[:HIDE_REASON_MAX],
            reports_resolved=resolved,
            staff_id=staff.pk,
            created_at=now,
        )
    return locked


def explore_work_approve(
    *, staff: AbstractBaseUser, work: ExploreWork, reason: str = ""
) -> ExploreWork:
    """Approve a waiting work (it enters the feed), or keep a reported one and close its
    reports."""
    return _moderate(
        staff=staff,
        work=work,
        allowed_from=(WorkStatus.PENDING, WorkStatus.APPROVED),
        to=WorkStatus.APPROVED,
        action=ExploreModerationAction.APPROVED,
        reason=reason.strip() or "Approved",
    )


def explore_work_hide(*, staff: AbstractBaseUser, work: ExploreWork, reason: str) -> ExploreWork:
    """Hide a work: gone from the feed, can't be recreated; the author sees the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", "Say why the work is hidden.", ExploreErrorCode.REASON_REQUIRED)
    return _moderate(
        staff=staff,
        work=work,
        allowed_from=(WorkStatus.PENDING, WorkStatus.APPROVED),
        to=WorkStatus.HIDDEN,
        action=ExploreModerationAction.HIDDEN,
        reason=reason,
    )


def explore_work_restore(
    *, staff: AbstractBaseUser, work: ExploreWork, reason: str = ""
) -> ExploreWork:
    """Put a hidden work back in the feed."""
    return _moderate(
        staff=staff,
        work=work,
        allowed_from=(WorkStatus.HIDDEN,),
        to=WorkStatus.APPROVED,
        action=ExploreModerationAction.RESTORED,
        reason=reason.strip() or "Restored",
    )
