"""Writes of generation: preview, submit, cancel, and the ends of a job.

Submitting compiles the prompt against every element the submitter may use, their own
library and their teams' (anyone else's element is simply unknown), and validates every
file; the one job service (`generation.jobs.job_create`) then, in one transaction, creates
the job (the submitter's, charged to them), pins a snapshot of each element, stores the
inputs, debits the price and writes `generation.queued`. The task is enqueued only after that
transaction commits. A job that fails or is canceled gets its credits back exactly
once (the refund is keyed to the debit). Every change of a job's status writes its webhook
event (`generation.webhooks.services.job_event_emit`) in the transaction that makes it.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.services import credits_debit, credits_refund, free_use_release
from elements.media.images import ProcessedImage, process_image
from elements.media.video import ProcessedVideo, process_video
from elements.models import (
    Element,
    ElementSource,
    ElementStatus,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from elements.selectors import element_is_mentionable
from elements.teams.models import PERSONAL_LIBRARY
from elements.teams.policy import Action, permitted
from elementsite.errors import field_error as _error
from elementsite.ids import row_or_not_found
from elementsite.storage import save_file
from generation.catalog import MODELS, ModelCode, ModelKind, ModelSpec
from generation.error_codes import GenerationErrorCode
from generation.idempotency import fingerprint, upload_digest
from generation.jobs import JobDraft, job_create
from generation.models import (
    GenerationJob,
    InputKind,
    JobElement,
    JobElementImage,
    JobInput,
    JobKind,
    JobStatus,
    PriceRule,
)
from generation.prompts import LibraryElement, PromptErrorCode, PromptPlan, compile_prompt
from generation.webhooks.services import job_event_emit

logger = logging.getLogger(__name__)

IMAGE_MODE = "-"


@dataclass(frozen=True)
class JobRequest:
    """What a user asks for. Files are uploads; only their count matters for a preview."""

    model: ModelCode
    prompt: str
    mode: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    images: Sequence[Any] = ()
    start_frame: Any = None
    end_frame: Any = None
    input_video: Any = None
    bound_element_ids: Sequence[int] = ()


@dataclass(frozen=True)
class Preview:
    plan: PromptPlan
    spec: ModelSpec
    mode: str
    aspect_ratio: str
    price: int | None
    issues: list[ValidationError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.plan.ok and not self.issues and self.price is not None


def owner_library(owner: AbstractBaseUser) -> list[LibraryElement]:
    """Every element `owner` may use (their own library and their teams'), as the compiler
    sees them, each with its library's qualifier: one query whatever the number of teams
    (the policy's USE scope is a subquery). A member who left a team has none of its
    elements from that moment: their mentions of them are unknown."""
    rows = permitted(owner, Element, Action.USE).values_list(
        "pk", "name", "type", "status", "source", "voice_id", "voice__status", "team__handle"
    )
    return [
        LibraryElement(
            element_id=pk,
            name=name,
            type=kind,
            status=status,
            source=source,
            has_voice=voice_id is not None and voice_status == VoiceStatus.ACTIVE,
            mentionable=element_is_mentionable(status),
            library=handle or PERSONAL_LIBRARY,
        )
        for pk, name, kind, status, source, voice_id, voice_status, handle in rows
    ]


def job_price(spec: ModelSpec, mode: str, duration: int | None) -> int | None:
    # One rule per model and mode (a unique constraint): no ORDER BY, just its two columns.
    rule = next(
        iter(
            PriceRule.objects.filter(model=spec.code, mode=mode)
            .order_by()
            .values_list("base_credits", "per_second_credits")[:1]
        ),
        None,
    )
    if rule is None:
        return None
    return PriceRule(base_credits=rule[0], per_second_credits=rule[1]).price(
        duration if spec.kind == ModelKind.VIDEO else None
    )


def job_settings_issues(
    *, spec: ModelSpec, request: JobRequest
) -> tuple[str, str, list[ValidationError]]:
    """The mode and aspect ratio a job of `spec` gets (the request's, else the model's first),
    with a problem for each one the model does not offer. Reported, not raised, so a preview
    shows them all; submit and recreate refuse them through `preview_raise_if_invalid`."""
    issues: list[ValidationError] = []
    if spec.kind == ModelKind.VIDEO:
        mode = request.mode or spec.modes[0]
        if mode not in spec.modes:
            issues.append(
                _error(
                    "mode",
                    f"{spec.label} offers the modes {', '.join(spec.modes)}.",
                    GenerationErrorCode.INVALID_MODE,
                )
            )
    else:
        mode = IMAGE_MODE
    aspect_ratio = request.aspect_ratio or spec.aspect_ratios[0]
    if aspect_ratio not in spec.aspect_ratios:
        issues.append(
            _error(
                "aspectRatio",
                f"{spec.label} offers the aspect ratios {', '.join(spec.aspect_ratios)}.",
                GenerationErrorCode.INVALID_ASPECT_RATIO,
            )
        )
    return mode, aspect_ratio, issues


def generation_preview(*, owner: AbstractBaseUser, request: JobRequest) -> Preview:
    """Compile and price a job without submitting it: every problem is reported, none raised."""
    spec = MODELS[request.model]
    plan = compile_prompt(
        request.prompt,
        model=spec,
        library=owner_library(owner),
        attached_images=len(request.images),
        bound_element_ids=list(request.bound_element_ids),
        duration=request.duration,
        start_frame=request.start_frame is not None,
        end_frame=request.end_frame is not None,
        input_video=request.input_video is not None,
    )
    mode, aspect_ratio, issues = job_settings_issues(spec=spec, request=request)
    price = job_price(spec, mode, plan.total_duration)
    if price is None and not issues:
        issues.append(
            _error(
                "model",
                f"{spec.label} has no price for this mode yet.",
                GenerationErrorCode.PRICE_NOT_SET,
            )
        )
    return Preview(plan, spec, mode, aspect_ratio, price, issues)


def preview_raise_if_invalid(*, preview: Preview) -> None:
    """Refuse a preview that may not become a job: every problem of its prompt plan and of its
    settings (mode, aspect ratio, price) at once, each under its field, as one
    `ValidationError`. Submit and recreate both call it, so they refuse the same things."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        preview.plan.raise_if_invalid()
    except ValidationError as exc:
        for name, found in exc.error_dict.items():
            errors.setdefault(name, []).extend(found)
    for issue in preview.issues:
        for name, found in issue.error_dict.items():
            errors.setdefault(name, []).extend(found)
    if errors:
        raise ValidationError(errors)


def _process_inputs(
    request: JobRequest,
) -> list[tuple[str, int, ProcessedImage | ProcessedVideo]]:
    inputs: list[tuple[str, int, ProcessedImage | ProcessedVideo]] = []

    def process(upload: Any, field_name: str) -> ProcessedImage:
        try:
            return process_image(upload)
        except ValidationError as exc:
            raise ValidationError({field_name: exc.error_list}) from None

    for number, upload in enumerate(request.images, start=1):
        inputs.append((InputKind.IMAGE, number, process(upload, f"images.{number - 1}")))
    if request.start_frame is not None:
        inputs.append((InputKind.START_FRAME, 1, process(request.start_frame, "startFrame")))
    if request.end_frame is not None:
        inputs.append((InputKind.END_FRAME, 1, process(request.end_frame, "endFrame")))
    if request.input_video is not None:
        try:
            # The compiler refused an input video on a model without limits for one.
            limits = MODELS[request.model].input_video_seconds
            assert limits is not None
            video = process_video(request.input_video, min_seconds=limits[0], max_seconds=limits[1])
        except ValidationError as exc:
            raise ValidationError({"inputVideo": exc.error_list}) from None
        inputs.append((InputKind.VIDEO, 1, video))
    return inputs


def _is_native_voice(element: Element, voice: Any) -> bool:
    """Whether the bound voice is the one taken from this video element's own clip (so the
    clip's sound *is* the voice). Elements processed before the report named their native
    voice count any voice taken from a video."""
    if voice is None:
        return False
    native = (element.video_report or {}).get("native_voice_id")
    return _native_sound(element.source, voice.source, voice.pk, native)


def _native_sound(element_source: str, voice_source: str, voice_id: int, native: Any) -> bool:
    if element_source != ElementSource.VIDEO or voice_source != VoiceSource.VIDEO:
        return False
    return native is None or native == voice_id


@dataclass
class _Snapshot:
    """What a pin copies of an element, read as plain columns."""

    element_id: int
    name: str
    type: str
    description: str
    version: int
    voice_name: str
    voice_file: str
    clip_file: str
    clip_sound: bool
    # (role, position, file, width, height), in the element's order (position, then id)
    images: list[tuple[str, int, str, int, int]]


def _pin_elements(job: GenerationJob, plan: PromptPlan, owner: AbstractBaseUser) -> None:
    """Snapshot each element as it is now; the images share the element's stored files.
    Read through the policy: an element of a team the submitter left since the compile (or
    deleted, or blocked) can no longer be used. One statement for the elements, their voices
    and their images (a row per image), as plain columns."""
    rows = (
        permitted(owner, Element, Action.USE)
        .filter(pk__in=plan.element_ids)
        .order_by()
        .values_list(
            "pk",
            "name",
            "type",
            "description",
            "version",
            "status",
            "source",
            "clip",
            "video_report__native_voice_id",
            "voice_id",
            "voice__status",
            "voice__source",
            "voice__name",
            "voice__audio",
            "images__id",
            "images__role",
            "images__position",
            "images__image",
            "images__width",
            "images__height",
        )
    )
    found: dict[int, tuple[_Snapshot, str, dict[int, tuple[str, int, str, int, int]]]] = {}
    for (
        pk,
        name,
        kind,
        description,
        version,
        status,
        source,
        clip,
        native,
        voice_id,
        voice_status,
        voice_source,
        voice_name,
        voice_audio,
        image_id,
        role,
        position,
        image,
        width,
        height,
    ) in rows:
        entry = found.get(pk)
        if entry is None:
            active_voice = voice_id is not None and voice_status == VoiceStatus.ACTIVE
            snapshot = _Snapshot(
                element_id=pk,
                name=name,
                type=kind,
                description=description,
                version=version,
                voice_name=voice_name if active_voice else "",
                voice_file=voice_audio if active_voice else "",
                clip_file=clip if source == ElementSource.VIDEO else "",
                clip_sound=active_voice and _native_sound(source, voice_source, voice_id, native),
                images=[],
            )
            entry = found[pk] = (snapshot, status, {})
        if image_id is not None:
            entry[2][image_id] = (role, position, image, width, height)
    pins: list[tuple[int, _Snapshot]] = []
    for ref in plan.elements:
        entry = found.get(ref.element_id)
        if entry is None or entry[1] != ElementStatus.ACTIVE:
            # Deleted or blocked between the compile and now.
            raise _error(
                "prompt",
                f"The element “{ref.name}” can no longer be used.",
                PromptErrorCode.UNKNOWN_MENTION,
            )
        snapshot, _, images = entry
        if not snapshot.images:
            snapshot.images = [images[i] for i in sorted(images, key=lambda i: (images[i][1], i))]
        pins.append((ref.position, snapshot))
    _write_pins(job, pins)


def pin_element(
    job: GenerationJob, *, position: int, element: Element, voice: Voice | None = None
) -> JobElement:
    """Pin what `element` is now on `job`: its name, type, description and version, the files
    of its images, its clip (a video element) and `voice`'s file. The pins share the stored
    files, which are kept while any pin names them."""
    return pin_elements(job, [(position, element, voice)])[0]


def pin_elements(
    job: GenerationJob, pins: list[tuple[int, Element, Voice | None]]
) -> list[JobElement]:
    """`pin_element` for each (position, element, voice), in two INSERTs whatever their
    number: the pins, then all their images."""
    return _write_pins(
        job,
        [
            (
                position,
                _Snapshot(
                    element_id=element.pk,
                    name=element.name,
                    type=element.type,
                    description=element.description,
                    version=element.version,
                    voice_name=voice.name if voice else "",
                    voice_file=voice.audio.name if voice else "",
                    clip_file=element.clip.name if element.source == ElementSource.VIDEO else "",
                    clip_sound=_is_native_voice(element, voice),
                    images=[
                        (image.role, image.position, image.image.name, image.width, image.height)
                        for image in sorted(element.images.all(), key=lambda i: i.position)
                    ],
                ),
            )
            for position, element, voice in pins
        ],
    )


def _write_pins(job: GenerationJob, pins: list[tuple[int, _Snapshot]]) -> list[JobElement]:
    rows = [
        JobElement(
            job=job,
            position=position,
            element_id=snapshot.element_id,
            name=snapshot.name,
            type=snapshot.type,
            description=snapshot.description,
            version=snapshot.version,
            voice_name=snapshot.voice_name,
            voice_file=snapshot.voice_file,
            clip_file=snapshot.clip_file,
            clip_sound=snapshot.clip_sound,
        )
        for position, snapshot in pins
    ]
    if connection.features.can_return_rows_from_bulk_insert:
        JobElement.objects.bulk_create(rows)
    else:  # a database that can't hand back the new ids (SQLite before 3.35): one at a time
        for row in rows:
            row.save(force_insert=True)
    JobElementImage.objects.bulk_create(
        JobElementImage(
            job_element=pin,
            role=role,
            position=position,
            file=file,
            width=width,
            height=height,
        )
        for pin, (_, snapshot) in zip(rows, pins, strict=True)
        for role, position, file, width, height in snapshot.images
    )
    return rows


def generation_submit(
    *, owner: AbstractBaseUser, request: JobRequest, idempotency_key: str | None = None
) -> GenerationJob:
    """Submit a job: refused with every problem at once (no job, no credit moved), or queued
    with its price debited in the same transaction. With an `idempotency_key` the same
    request again returns the same job, charged once (`generation.idempotency`)."""

    def digest() -> str:
        return fingerprint(
            request.model,
            request.prompt,
            request.mode,
            request.duration,
            request.aspect_ratio,
            sorted(request.bound_element_ids),
            [upload_digest(upload) for upload in request.images],
            upload_digest(request.start_frame),
            upload_digest(request.end_frame),
            upload_digest(request.input_video),
        )

    return job_create(
        owner=owner,
        idempotency_key=idempotency_key,
        operation="generationSubmit",
        digest=digest,
        draft=lambda: _submit_draft(owner, request),
    )


def _submit_draft(owner: AbstractBaseUser, request: JobRequest) -> JobDraft:
    """The request compiled against the owner's library, priced and its files validated:
    every problem at once, before anything is written."""
    from generation.providers.registry import provider_name_for

    preview = generation_preview(owner=owner, request=request)
    preview_raise_if_invalid(preview=preview)
    inputs = _process_inputs(request)
    assert preview.price is not None

    def pin(job: GenerationJob, saved: list[str]) -> None:
        _pin_elements(job, preview.plan, owner)
        for kind, position, processed in inputs:
            name = save_file(
                f"jobs/inputs/{uuid.uuid4().hex}.{processed.extension}",
                processed.content,
                saved,
            )
            JobInput.objects.create(
                job=job,
                kind=kind,
                position=position,
                file=name,
                width=processed.width,
                height=processed.height,
            )

    return JobDraft(
        model=preview.spec.code,
        mode=preview.mode,
        prompt=request.prompt,
        duration=preview.plan.total_duration,
        aspect_ratio=preview.aspect_ratio,
        plan=plan_as_json(preview.plan),
        price=preview.price,
        provider=provider_name_for(preview.spec.code),
        charge_reason=f"{preview.spec.label} generation",
        pin=pin,
    )


def plan_as_json(plan: PromptPlan) -> dict[str, Any]:
    """What the worker needs of the compiled prompt, kept with the job."""
    return {
        "provider_prompt": plan.provider_prompt,
        "multi_shot": plan.multi_shot,
        "total_duration": plan.total_duration,
        "elements": [
            {
                "position": r.position,
                "element_id": r.element_id,
                "name": r.name,
                "library": r.element.library,
                "mentioned": r.mentioned,
            }
            for r in plan.elements
        ],
        "images": [{"position": r.position, "number": r.number} for r in plan.images],
        "shots": [
            {
                "index": s.index,
                "duration": s.duration,
                "text": s.text,
                "provider_text": s.provider_text,
                "element_ids": list(s.element_ids),
                "image_numbers": list(s.image_numbers),
                "camera_move": s.camera_move,
                "camera": s.camera,
                "camera_note": s.camera_note,
            }
            for s in plan.shots
        ],
        "dialogue": [
            {
                "shot_index": d.shot_index,
                "text": d.text,
                "speaker_element_id": d.speaker_element_id,
                "has_voice": d.has_voice,
            }
            for d in plan.dialogue
        ],
    }


def _refund(job: GenerationJob, reason: str) -> None:
    if job.debit_id is not None:
        credits_refund(debit=job.debit, reason=reason)  # type: ignore[arg-type]


def generation_cancel(*, owner: AbstractBaseUser, job_id: Any) -> GenerationJob:
    """Cancel a queued job at once (refunded); a running one stops at its next progress
    report. Another user's job is reported as not found."""
    with transaction.atomic():
        job = row_or_not_found(
            permitted(owner, GenerationJob.objects.select_for_update(), Action.EDIT),
            job_id,
            field="id",
            message="No such job.",
            code=GenerationErrorCode.NOT_FOUND,
        )
        if job.is_finished:
            raise _error(
                "id", f"This job has already {job.status}.", GenerationErrorCode.JOB_FINISHED
            )
        _cancel(job, "Canceled by you.")
    return job


STAFF_CANCEL_MESSAGE = "Canceled by staff."


def generation_staff_cancel(
    *, staff: AbstractBaseUser, job_id: Any
) -> tuple[GenerationJob, JobStatus]:
    """Staff cancel any user's job as its owner can (`generation_cancel`): a queued job ends
    now ("Canceled by staff.", refunded), a running one stops at its next progress report. A
    finished job is left as it is (no error: staff cancel many at once). Returns the job and
    the status it had before, which tells the caller which of the three happened."""
    from django.core.exceptions import PermissionDenied

    if not (staff.is_active and getattr(staff, "is_staff", False)):
        raise PermissionDenied
    with transaction.atomic():
        job = row_or_not_found(
            GenerationJob.objects.select_for_update(),
            job_id,
            field="id",
            message="No such job.",
            code=GenerationErrorCode.NOT_FOUND,
        )
        was = JobStatus(job.status)
        if not job.is_finished:
            _cancel(job, STAFF_CANCEL_MESSAGE)
    return job, was


def _cancel(job: GenerationJob, message: str) -> None:
    # The job's row is locked and it has not finished: a queued job has not started, so it
    # ends now and is refunded; a running one is in a worker, which ends it at its next beat.
    if job.status == JobStatus.QUEUED:
        job_finish(job, JobStatus.CANCELED, message=message)
    elif not job.cancel_requested:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])


def job_finish(
    job: GenerationJob,
    status: str,
    *,
    code: str = "",
    message: str = "",
    measure_consistency: bool = False,
) -> GenerationJob:
    """End a job (call with the job row locked). Failure and cancel refund exactly once.

    `measure_consistency` (a succeeded generation whose consistency pass the caller enqueues):
    the `generation.succeeded` event is not written now but by the pass, with its report
    (`generation.consistency.consistency_event_release`), or by the sweep if the pass never
    reports."""
    job.status = status
    job.error_code = code[:40]
    job.error_message = message[:500]
    job.finished_at = timezone.now()
    if status == JobStatus.SUCCEEDED:
        job.progress = 100
    deferred = measure_consistency and status == JobStatus.SUCCEEDED
    job.consistency_pending = deferred
    job.save(
        update_fields=[
            "status",
            "error_code",
            "error_message",
            "finished_at",
            "progress",
            "consistency_pending",
        ]
    )
    if status in (JobStatus.FAILED, JobStatus.CANCELED):
        _refund(job, "Generation canceled" if status == JobStatus.CANCELED else "Generation failed")
        if job.free_use_day is not None:
            # The free use it took comes back (a job ends once, so this runs once).
            free_use_release(user=job.owner, day=job.free_use_day)
    # In the caller's transaction, with the outputs it stored: the outbox of webhooks.
    if not deferred:
        job_event_emit(job)
    return job


def output_still(*, owner: AbstractBaseUser, output_id: Any, at: float | None = None) -> io.BytesIO:
    """An image of the owner's history to reuse as an element image: an image output as it
    is, or the frame of a video output at `at` seconds. Another user's output is not found."""
    from generation.models import GenerationOutput
    from generation.providers import local_render

    output = row_or_not_found(
        permitted(owner, GenerationOutput, Action.VIEW),
        output_id,
        field="outputId",
        message="No such output in your history.",
        code=GenerationErrorCode.NOT_FOUND,
    )
    if output.kind == "image":
        with output.file.open("rb") as f:
            return io.BytesIO(f.read())
    seconds = 0.0 if at is None else float(at)
    length = (output.duration_ms or 0) / 1000
    if not 0 <= seconds < length:
        raise _error(
            "at",
            f"Pick a time between 0 and {length:.2f} s of the video.",
            GenerationErrorCode.FRAME_OUT_OF_RANGE,
        )
    with tempfile.TemporaryDirectory(prefix="still-") as workdir:
        video = Path(workdir) / f"video{Path(output.file.name).suffix}"
        with output.file.open("rb") as src, video.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        frame = local_render.extract_frame(video, seconds, Path(workdir) / "frame.png")
        return io.BytesIO(frame.path.read_bytes())


def generation_retry(*, staff: AbstractBaseUser, job: GenerationJob) -> GenerationJob:
    """Staff run a failed or canceled job again, as it was submitted (same pinned elements,
    inputs and plan). Its credits came back when it ended, so the price it was charged is
    debited again, in the same transaction that puts it back in the queue: an owner who
    can't pay gets INSUFFICIENT_CREDITS and nothing changes. The job then points at the new
    debit, so a later failure or cancel refunds exactly that one."""
    from django.core.exceptions import PermissionDenied

    from accounts.models import CreditLedgerEntry, LedgerKind
    from generation.tasks import enqueue_job

    if not (staff.is_active and getattr(staff, "is_staff", False)):
        raise PermissionDenied
    with transaction.atomic():
        locked = GenerationJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None:
            raise _error("id", "No such job.", GenerationErrorCode.NOT_FOUND)
        if locked.kind != JobKind.GENERATION:
            # An assist job paid with a free use of its day can't be charged again exactly;
            # the user asks again instead.
            raise _error(
                "id",
                "Only generation jobs can be retried; request the completion again.",
                GenerationErrorCode.JOB_NOT_RETRYABLE,
            )
        if locked.status not in (JobStatus.FAILED, JobStatus.CANCELED):
            raise _error(
                "id",
                f"Only a failed or canceled job can be retried; this one is {locked.status}.",
                GenerationErrorCode.JOB_NOT_RETRYABLE,
            )
        reference = f"generation.job:{locked.pk}"
        if (
            locked.debit_id is not None
            and not CreditLedgerEntry.objects.filter(refund_of_id=locked.debit_id).exists()
        ):
            # Charging again would take the price twice.
            raise _error(
                "id",
                "This job's credits were not refunded; it can't be charged again.",
                GenerationErrorCode.NOT_REFUNDED,
            )
        debit = None
        if locked.credits_charged > 0:
            # Each charge of a job has its own key (the n-th retry is `:retry:n`); the row
            # lock keeps the count steady until this transaction commits.
            charged = CreditLedgerEntry.objects.filter(
                user_id=locked.owner_id, kind=LedgerKind.DEBIT, reference=reference
            ).count()
            debit = credits_debit(
                user=locked.owner,
                amount=locked.credits_charged,
                reason=f"{MODELS[ModelCode(locked.model)].label} generation (retry)",
                reference=reference,
                idempotency_key=f"{reference}:retry:{charged}",
            )
        locked.status = JobStatus.QUEUED
        locked.progress = 0
        locked.error_code = ""
        locked.error_message = ""
        locked.attempts = 0
        locked.cancel_requested = False
        # Queued again now: the sweep measures a waiting job from here, not from creation.
        locked.heartbeat_at = timezone.now()
        locked.started_at = None
        locked.finished_at = None
        locked.provider_task_id = ""
        # A new provider task under a new id of ours (the old one may still be listed).
        locked.provider_external_id = ""
        locked.provider_status = ""
        locked.provider_message = ""
        locked.debit = debit
        locked.save(
            update_fields=[
                "status",
                "progress",
                "error_code",
                "error_message",
                "attempts",
                "cancel_requested",
                "heartbeat_at",
                "started_at",
                "finished_at",
                "provider_task_id",
                "provider_external_id",
                "provider_status",
                "provider_message",
                "debit",
            ]
        )
        job_event_emit(locked)
        transaction.on_commit(lambda: enqueue_job(locked.pk))
    return locked
