from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, require_user
from elementsite.ids import node_or_none
from elementsite.relay import ListConnection
from generation import selectors
from generation.catalog import MODELS, ModelSpec
from generation.graphql.types import (
    GenerationJobNode,
    GenerationModel,
    GenerationOutputNode,
    JobStatus,
    OutputKind,
)
from generation.models import GenerationJob, GenerationOutput


@strawberry.type
class GenerationQuery:
    @strawberry_django.connection(
        ListConnection[GenerationJobNode],
        description="The viewer's jobs, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def generation_jobs(
        self,
        info: Info,
        status: Annotated[
            JobStatus | None, strawberry.argument(description="Only jobs in this state.")
        ] = None,
        model: Annotated[
            GenerationModel | None,
            strawberry.argument(description="Only jobs of this model."),
        ] = None,
    ) -> QuerySet[GenerationJob]:
        return selectors.job_list(
            owner=require_user(info),
            status=status.value if status else None,
            model=model.value if model else None,
        )

    @strawberry.field(description="One of the viewer's jobs by its global id; null if none.")
    def generation_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> GenerationJobNode | None:
        return node_or_none(info, id, GenerationJobNode)

    @strawberry_django.connection(
        ListConnection[GenerationOutputNode],
        description="The viewer's creation history: every image and video made, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def generation_outputs(self, info: Info) -> QuerySet[GenerationOutput]:
        return selectors.output_list(owner=require_user(info))


@strawberry.type(description="A model and what it accepts: the rules a prompt studio shows.")
class GenerationModelInfo:
    code: GenerationModel = strawberry.field(description="The model.")
    label: str = strawberry.field(description="Its name, e.g. `Video 3.0 Omni`.")
    output_kind: OutputKind = strawberry.field(description="What it makes: images or videos.")
    max_references: int = strawberry.field(description="Images + elements in one job.")
    max_references_with_input_video: int | None = strawberry.field(
        description="Images + elements with an input video; null when it takes none."
    )
    accepts_input_video: bool = strawberry.field(description="Whether it takes `[@Video]`.")
    input_video_min_seconds: float | None = strawberry.field(
        description="The shortest input video it takes."
    )
    input_video_max_seconds: float | None = strawberry.field(
        description="The longest input video it takes."
    )
    accepts_reference_images: bool = strawberry.field(
        description="Whether it takes attached images (`[@Image1]`)."
    )
    takes_frames: bool = strawberry.field(
        description="Whether it takes a start frame (and an end frame)."
    )
    max_bound_elements: int | None = strawberry.field(
        description="Elements bound to the frames; null where frames aren't taken."
    )
    durations: list[int] = strawberry.field(
        description="Whole seconds it makes; empty for image models."
    )
    default_duration: int | None = strawberry.field(description="Seconds when none is given.")
    aspect_ratios: list[str] = strawberry.field(description="Aspect ratios it makes.")
    multi_shot: bool = strawberry.field(description="Whether it takes `Shot 1 (3s): …` prompts.")
    element_voices: bool = strawberry.field(
        description="Whether quoted lines are spoken in the speaker's bound voice."
    )
    modes: list[str] = strawberry.field(description="Quality modes (`std`, `pro`); video only.")


def _model_info(spec: ModelSpec) -> GenerationModelInfo:
    seconds = spec.input_video_seconds
    return GenerationModelInfo(
        code=spec.code,
        label=spec.label,
        output_kind=OutputKind.VIDEO if spec.is_video else OutputKind.IMAGE,
        max_references=spec.max_references,
        max_references_with_input_video=spec.max_references_with_input_video,
        accepts_input_video=spec.accepts_input_video,
        input_video_min_seconds=seconds[0] if seconds else None,
        input_video_max_seconds=seconds[1] if seconds else None,
        accepts_reference_images=spec.accepts_reference_images,
        takes_frames=spec.takes_frames,
        max_bound_elements=spec.max_bound_elements_with_frames,
        durations=list(spec.durations),
        default_duration=spec.default_duration,
        aspect_ratios=list(spec.aspect_ratios),
        multi_shot=spec.multi_shot,
        element_voices=spec.element_voices,
        modes=list(spec.modes),
    )


@strawberry.type
class GenerationCatalogQuery:
    @strawberry.field(description="The models offered and each one's rules, in catalog order.")
    def generation_models(self) -> list[GenerationModelInfo]:
        return [_model_info(spec) for spec in MODELS.values()]
