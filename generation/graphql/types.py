"""GraphQL types of generation, scoped to the viewer in `get_queryset`."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import current_user
from elements.media_urls import media_url
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.relay import PkNodeID
from generation import models
from generation.catalog import MODELS, ModelCode
from generation.selectors import job_is_stalled

if TYPE_CHECKING:
    from generation.explore.graphql.types import ExploreWorkNode

# The catalog's own enum: the GraphQL values are exactly the models in `generation.catalog`.
choices_enum(
    ModelCode,
    name="GenerationModel",
    description="The models offered.",
    value_descriptions={spec.code.name: spec.label for spec in MODELS.values()},
)
GenerationModel = ModelCode


choices_enum(models.JobKind, description="What a job does.")
choices_enum(models.JobStatus, description="Where a job is in its life.")
choices_enum(models.OutputKind, description="What an output is.")
JobKind = models.JobKind
JobStatus = models.JobStatus
OutputKind = models.OutputKind


def _viewer(info: Info) -> int | None:
    user = current_user(info)
    return user.pk if user is not None else None


@strawberry_django.type(models.GenerationOutput, name="GenerationOutput")
class GenerationOutputNode(PkNodeID, relay.Node):
    """A finished image or video of the viewer's: their creation history."""

    kind: OutputKind = column(description="Image or video.")
    width: int = column(description="Width in pixels.")
    height: int = column(description="Height in pixels.")
    duration_ms: int | None = column(description="Video length; null for images.")
    has_audio: bool = column(description="Whether a video has a sound track.")
    created_at: datetime.datetime = column(description="When it was made.")

    @strawberry_django.field(description="A short-lived URL of the file.", only=["file"])
    def url(self, root: models.GenerationOutput, info: Info) -> str:
        return media_url(root.file.name, owner_id=_viewer(info), request=info.context.request)

    @strawberry_django.field(description="A short-lived URL of the poster.", only=["poster"])
    def poster_url(self, root: models.GenerationOutput, info: Info) -> str:
        return media_url(root.poster.name, owner_id=_viewer(info), request=info.context.request)

    @strawberry_django.field(
        description="A short-lived URL of a small preview.", only=["thumbnail"]
    )
    def thumbnail_url(self, root: models.GenerationOutput, info: Info) -> str:
        return media_url(root.thumbnail.name, owner_id=_viewer(info), request=info.context.request)

    @strawberry_django.field(description="The job that made it.", only=["job_id"])
    def job_id(self, root: models.GenerationOutput) -> relay.GlobalID:
        return relay.GlobalID("GenerationJob", str(root.job_id))

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer(info)
        return queryset.none() if viewer is None else queryset.filter(owner_id=viewer)


@strawberry.type(
    description="An element as the job pinned it when it was submitted. A job recreated from "
    "an Explore work pinned the author's snapshots: it shows only the elements its prompt "
    "mentions, by name, as the work itself does; the rest of the author's library stays private."
)
class PinnedElement:
    position: int = strawberry.field(description="N in the provider's `<<<element_N>>>`.")
    name: str = strawberry.field(description="The name it had then.")
    type: str | None = strawberry.field(
        description="The type it had then; null on a recreated work's job."
    )
    version: int | None = strawberry.field(
        description="The element version the job uses; null on a recreated work's job."
    )
    voice_name: str | None = strawberry.field(
        description="The bound voice then (empty for none); null on a recreated work's job."
    )


def _mentioned_positions(job: models.GenerationJob) -> set[int]:
    """Positions of the elements the prompt mentions. Plans record `mentioned` since recipes
    were made private; an older plan counts an element mentioned when its name is written."""
    prompt = job.prompt.casefold()
    return {
        ref["position"]
        for ref in (job.plan or {}).get("elements", [])
        if ref.get("mentioned", ref.get("name", "").casefold() in prompt)
    }


def pinned_elements(job: models.GenerationJob) -> list[PinnedElement]:
    """The job's pins as its owner may see them (see `PinnedElement`)."""
    pins = list(job.elements.all())
    if getattr(job, "explore_recreation", None) is None:
        return [
            PinnedElement(
                position=e.position,
                name=e.name,
                type=e.type,
                version=e.version,
                voice_name=e.voice_name,
            )
            for e in pins
        ]
    mentioned = _mentioned_positions(job)
    return [
        PinnedElement(position=e.position, name=e.name, type=None, version=None, voice_name=None)
        for e in pins
        if e.position in mentioned
    ]


@strawberry_django.type(models.GenerationJob, name="GenerationJob")
class GenerationJobNode(PkNodeID, relay.Node):
    """A generation job of the viewer's, with its progress and outputs."""

    kind: JobKind = column(description="A generation, or an AI assist (multi-view completion).")

    @strawberry_django.field(
        description="The model; null for an AI-assist job, which uses none.", only=["model"]
    )
    def model(self, root: models.GenerationJob) -> GenerationModel | None:
        return ModelCode(root.model) if root.model else None  # type: ignore[return-value]

    mode: str = column(description="`std`/`pro` for video; `-` for images.")
    prompt: str = column(description="The prompt as written.")
    duration: int | None = column(description="Seconds of video.")
    aspect_ratio: str = column(description="The frame's shape.")
    status: JobStatus = column(description="Where the job is.")
    progress: int = column(description="0–100.")
    error_code: str = column(description="Why it failed; empty otherwise.")
    error_message: str = column(description="What to tell the user.")
    credits_charged: int = column(description="What it cost when submitted.")
    created_at: datetime.datetime = column(description="When submitted.")
    started_at: datetime.datetime | None = column(description="When it began.")
    finished_at: datetime.datetime | None = column(description="When it ended.")
    outputs: list[GenerationOutputNode] = strawberry_django.field(description="What it made.")

    @strawberry_django.field(
        description="True while the job is running but its worker has gone silent (its "
        "heartbeat is older than the stale threshold): the sweep will have it taken again.",
        only=["status", "heartbeat_at"],
    )
    def stalled(self, root: models.GenerationJob) -> bool:
        return job_is_stalled(root)

    @strawberry_django.field(
        description="Whether the credits came back (failed or canceled jobs).",
        prefetch_related=["debit__refunded_by"],
        only=["debit_id"],
    )
    def refunded(self, root: models.GenerationJob) -> bool:
        return root.debit is not None and hasattr(root.debit, "refunded_by")

    @strawberry_django.field(
        description="The elements as pinned at submission (a recreated work's job: only those "
        "its prompt mentions, by name).",
        prefetch_related=["elements"],
        select_related=["explore_recreation"],
        only=["prompt", "plan"],
    )
    def elements(self, root: models.GenerationJob) -> list[PinnedElement]:
        return pinned_elements(root)

    @strawberry_django.field(
        description="The Explore work this job recreates; null if none or no longer visible.",
        select_related=["explore_recreation__work"],
    )
    def recreated_from(
        self, root: models.GenerationJob
    ) -> Annotated[ExploreWorkNode, strawberry.lazy("generation.explore.graphql.types")] | None:
        recreation = getattr(root, "explore_recreation", None)
        work = recreation.work if recreation is not None else None
        return work if work is not None and work.is_visible else None  # type: ignore[return-value]

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer(info)
        return queryset.none() if viewer is None else queryset.filter(owner_id=viewer)
