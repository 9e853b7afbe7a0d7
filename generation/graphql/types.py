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
from elements.teams.policy import Action, permitted
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
choices_enum(models.ConsistencyStatus, description="Whether a consistency report was made.")
JobKind = models.JobKind
JobStatus = models.JobStatus
OutputKind = models.OutputKind
ConsistencyStatus = models.ConsistencyStatus


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
        return permitted(current_user(info), queryset, Action.VIEW)


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


@strawberry.type(
    name="ShotConsistency",
    description="How one shot shows one element it mentions.",
)
class ShotConsistencyInfo:
    shot_index: int = strawberry.field(description="The shot, 1 for the first.")
    element_position: int = strawberry.field(description="The pinned element's position.")
    element_name: str = strawberry.field(description="Its name when the job was submitted.")
    method: str = strawberry.field(
        description="`face` (a character's face descriptor) or `appearance` (perceptual hash, "
        "colour histogram and keypoints)."
    )
    score: float = strawberry.field(
        description="0–1: 1 the element itself, 0.5 at the calibrated threshold."
    )
    present: bool = strawberry.field(
        description="Something of its kind was seen (a face, for a character)."
    )
    drift: bool = strawberry.field(description="The score is below the calibrated threshold.")


@strawberry.type(
    name="JobConsistency",
    description="How faithful a succeeded job's output is to the elements its shots mention.",
)
class JobConsistencyInfo:
    status: ConsistencyStatus = strawberry.field(description="DONE, or FAILED to measure.")
    score: float | None = strawberry.field(
        description="The mean of the shots' scores, 0–1; null when no shot mentions an element."
    )
    drifted: int = strawberry.field(description="How many (shot, element) pairs drifted.")
    checked_at: datetime.datetime = strawberry.field(description="When it was measured.")
    shots: list[ShotConsistencyInfo] = strawberry.field(
        description="One per element each shot mentions, in shot order."
    )


def consistency_of(job: models.GenerationJob) -> JobConsistencyInfo | None:
    try:
        report = job.consistency  # type: ignore[attr-defined]
    except models.JobConsistency.DoesNotExist:
        return None
    return JobConsistencyInfo(
        status=ConsistencyStatus(report.status),
        score=report.score,
        drifted=report.drifted,
        checked_at=report.checked_at,
        shots=[
            ShotConsistencyInfo(
                shot_index=row.shot_index,
                element_position=row.job_element.position,
                element_name=row.job_element.name,
                method=row.method,
                score=row.score,
                present=row.present,
                drift=row.drift,
            )
            for row in report.shots.all()
        ],
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


@strawberry.type(description="A shot of a multi-shot prompt.")
class PreviewShot:
    index: int = strawberry.field(description="1-based.")
    duration: int | None = strawberry.field(description="Seconds.")
    text: str = strawberry.field(description="The shot's words.")
    camera_move: str | None = strawberry.field(
        description=(
            "The camera move read from the words, one of `static push_in pull_back dolly_in "
            "dolly_out pan_left pan_right tilt_up tilt_down orbit crane_up crane_down follow "
            "handheld`; null when the words say nothing about the camera (the local provider "
            "then pushes in slowly)."
        )
    )
    camera: str = strawberry.field(description="The shot's words about the camera, as written.")
    camera_note: str | None = strawberry.field(
        description=(
            "What was chosen that the words did not say: the direction of a pan that gives "
            "none, or a static camera for a move we don't know. Null when the words said it."
        )
    )


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
        description="The shots as compiled at submission (one for a prompt without shots).",
        only=["plan"],
    )
    def shots(self, root: models.GenerationJob) -> list[PreviewShot]:
        return [
            PreviewShot(
                index=s.get("index", i + 1),
                duration=s.get("duration"),
                text=s.get("text", ""),
                camera_move=s.get("camera_move"),
                camera=s.get("camera", ""),
                camera_note=s.get("camera_note") or None,
            )
            for i, s in enumerate((root.plan or {}).get("shots", []))
        ]

    @strawberry_django.field(
        description="How faithful the output is to the elements each shot mentions, measured "
        "after the job succeeded (faces for characters, appearance otherwise); null until "
        "measured.",
        prefetch_related=["consistency__shots__job_element"],
    )
    def consistency(self, root: models.GenerationJob) -> JobConsistencyInfo | None:
        return consistency_of(root)

    consistency_pending: bool = column(
        description="True while the consistency of a succeeded job is being measured: "
        "`consistency` follows (or says it could not be measured)."
    )

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
        return permitted(current_user(info), queryset, Action.VIEW)
