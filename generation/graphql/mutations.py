"""Generation: preview (a query), submit and cancel."""

from __future__ import annotations

from typing import Annotated, BinaryIO

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, require_user
from elements.graphql.hooks import history_still_register
from elements.graphql.types import ElementNode
from elementsite.ids import node_pk, node_pks
from generation import services
from generation.catalog import ModelCode, input_video_limits_text
from generation.graphql.types import (
    GenerationJobNode,
    GenerationModel,
    GenerationOutputNode,
    PreviewShot,
)

IDEMPOTENCY_KEY_DESCRIPTION = (
    "A key of yours (e.g. a UUID, up to 100 characters) for this request: sending it again "
    "within 24 h returns the same job and charges nothing more; the same key with another "
    "input is refused with IDEMPOTENCY_KEY_REUSED."
)


def history_output_still(info: Info, *, output_id: strawberry.ID, at: float | None) -> BinaryIO:
    """An image of the viewer's generation history for an element (`elementCreate`'s
    `mainImageFromHistory`, `elementImageAdd`'s `fromHistory`): the output's image, or its
    video's frame at `at` seconds."""
    return services.output_still(
        owner=require_user(info), output_id=node_pk(output_id, GenerationOutputNode), at=at
    )


# The element library declares those inputs but never imports generation: the history is
# plugged in here, before the schema is built.
history_still_register(history_output_still)


@strawberry.input(description="A job to preview: the files are only counted.")
class GenerationPreviewInput:
    model: GenerationModel = strawberry.field(description="The model.")
    prompt: str = strawberry.field(
        description="Mention elements as `[@Name]`, images as `[@Image1]`."
    )
    mode: str | None = strawberry.field(default=None, description="`std` or `pro` (video).")
    duration: int | None = strawberry.field(default=None, description="Seconds (video).")
    aspect_ratio: str | None = strawberry.field(default=None, description="e.g. `16:9`.")
    attached_images: int = strawberry.field(default=0, description="How many images attached.")
    start_frame: bool = strawberry.field(
        default=False, description="Whether a start frame is given."
    )
    end_frame: bool = strawberry.field(default=False, description="Whether an end frame is given.")
    input_video: bool = strawberry.field(
        default=False, description="Whether an input video is given."
    )
    element_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Elements attached without a mention."
    )


@strawberry.input(description="A job to run.")
class GenerationSubmitInput:
    model: GenerationModel = strawberry.field(description="The model.")
    prompt: str = strawberry.field(
        description="Mention elements as `[@Name]`, images as `[@Image1]`."
    )
    mode: str | None = strawberry.field(default=None, description="`std` or `pro` (video).")
    duration: int | None = strawberry.field(
        default=None, description="Seconds (video); the shots' sum if omitted."
    )
    aspect_ratio: str | None = strawberry.field(default=None, description="e.g. `16:9`.")
    images: list[Upload] = strawberry.field(
        default_factory=list, description="Attached images, `[@Image1]` first."
    )
    start_frame: Upload | None = strawberry.field(
        default=None, description="Video 3.0: first frame."
    )
    end_frame: Upload | None = strawberry.field(default=None, description="Video 3.0: last frame.")
    input_video: Upload | None = strawberry.field(
        default=None,
        description="A reference video, `[@Video]` in the prompt: MP4/MOV, 720–2160 px, "
        f"24–60 fps; its length per model: {input_video_limits_text()}.",
    )
    element_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Elements attached without a mention."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.type(description="One problem with a previewed job.")
class PreviewIssue:
    code: str = strawberry.field(description="A stable code, e.g. UNKNOWN_MENTION.")
    message: str = strawberry.field(description="What is wrong.")
    field: str | None = strawberry.field(description="The input it is about.")
    suggestions: list[str] = strawberry.field(description="Close element names, if any.")


@strawberry.type(description="An element the job would use.")
class PreviewElement:
    position: int = strawberry.field(description="N in `<<<element_N>>>`.")
    id: relay.GlobalID = strawberry.field(description="The element.")
    name: str = strawberry.field(description="Its name.")
    mentioned: bool = strawberry.field(description="False when attached without a mention.")
    has_voice: bool = strawberry.field(description="Whether it speaks with its own voice.")


@strawberry.type(description="A quoted line and who says it.")
class PreviewDialogue:
    shot_index: int = strawberry.field(description="The shot it is in.")
    text: str = strawberry.field(description="The words spoken.")
    speaker: str | None = strawberry.field(description="The character speaking; null if none.")
    has_voice: bool = strawberry.field(description="Whether that character has a voice.")


@strawberry.type(description="A compiled, priced job that was not submitted.")
class GenerationPreview:
    ok: bool = strawberry.field(description="Whether submitting it would be accepted.")
    price: int | None = strawberry.field(description="Credits it would cost.")
    reference_count: int = strawberry.field(description="Images + elements used.")
    reference_limit: int = strawberry.field(description="The model's limit for this job.")
    total_duration: int | None = strawberry.field(description="Seconds of video.")
    elements: list[PreviewElement] = strawberry.field(description="Elements used, in order.")
    shots: list[PreviewShot] = strawberry.field(description="The shots.")
    dialogue: list[PreviewDialogue] = strawberry.field(description="Quoted lines.")
    provider_prompt: str = strawberry.field(description="The prompt as the provider gets it.")
    issues: list[PreviewIssue] = strawberry.field(description="Every problem; empty if ok.")


@strawberry.type(description="The submitted or canceled job.")
class GenerationJobResult:
    job: GenerationJobNode = strawberry.field(description="The job.")


def _request(
    data: GenerationPreviewInput | GenerationSubmitInput, **files: object
) -> services.JobRequest:
    return services.JobRequest(
        model=ModelCode(data.model),
        prompt=data.prompt,
        mode=data.mode,
        duration=data.duration,
        aspect_ratio=data.aspect_ratio,
        bound_element_ids=node_pks(data.element_ids, ElementNode),
        **files,  # type: ignore[arg-type]
    )


@strawberry.type
class GenerationPreviewQuery:
    @strawberry_django.field(
        description="Compile and price a job without submitting it.",
        permission_classes=[IsAuthenticated],
    )
    def generation_prompt_preview(
        self,
        info: Info,
        input: Annotated[
            GenerationPreviewInput,
            strawberry.argument(description="The job to preview; its files are only counted."),
        ],
    ) -> GenerationPreview:
        request = _request(
            input,
            images=[None] * max(0, min(input.attached_images, 20)),
            start_frame=object() if input.start_frame else None,
            end_frame=object() if input.end_frame else None,
            input_video=object() if input.input_video else None,
        )
        preview = services.generation_preview(owner=require_user(info), request=request)
        plan = preview.plan
        names = {ref.element_id: ref for ref in plan.elements}
        issues = [
            PreviewIssue(
                code=str(i.code), message=i.message, field=i.field, suggestions=list(i.suggestions)
            )
            for i in plan.issues
        ]
        for error in preview.issues:
            for field_name, errors in error.error_dict.items():
                issues += [
                    PreviewIssue(
                        code=str(e.code), message=e.messages[0], field=field_name, suggestions=[]
                    )
                    for e in errors
                ]
        return GenerationPreview(
            ok=preview.ok,
            price=preview.price,
            reference_count=plan.reference_count,
            reference_limit=plan.reference_limit,
            total_duration=plan.total_duration,
            elements=[
                PreviewElement(
                    position=r.position,
                    id=relay.GlobalID("Element", str(r.element_id)),
                    name=r.name,
                    mentioned=r.mentioned,
                    has_voice=r.element.has_voice,
                )
                for r in plan.elements
            ],
            shots=[
                PreviewShot(
                    index=s.index,
                    duration=s.duration,
                    text=s.text,
                    camera_move=s.camera_move,
                    camera=s.camera,
                    camera_note=s.camera_note or None,
                )
                for s in plan.shots
            ],
            dialogue=[
                PreviewDialogue(
                    shot_index=d.shot_index,
                    text=d.text,
                    speaker=names[d.speaker_element_id].name
                    if d.speaker_element_id in names
                    else None,
                    has_voice=d.has_voice,
                )
                for d in plan.dialogue
            ],
            provider_prompt=plan.provider_prompt,
            issues=issues,
        )


@strawberry.type
class GenerationMutation:
    @strawberry_django.mutation(description="Submit a job; its price is debited at once.")
    def generation_submit(
        self,
        info: Info,
        input: Annotated[GenerationSubmitInput, strawberry.argument(description="The job to run.")],
    ) -> GenerationJobResult:
        request = _request(
            input,
            images=list(input.images),
            start_frame=input.start_frame,
            end_frame=input.end_frame,
            input_video=input.input_video,
        )
        job = services.generation_submit(
            owner=require_user(info), request=request, idempotency_key=input.idempotency_key
        )
        return GenerationJobResult(job=job)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Cancel a queued or running job (refunded).")
    def generation_cancel(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The job to cancel.")],
    ) -> GenerationJobResult:
        job = services.generation_cancel(
            owner=require_user(info), job_id=node_pk(id, GenerationJobNode)
        )
        return GenerationJobResult(job=job)  # type: ignore[arg-type]
