"""GraphQL of the Explore feed: the public work, the author's view of it, usage records.

Two separate types on purpose. `ExploreWork` is what anyone sees of a shared work: the
output, title, caption, author's display name, model and prompt text. It has no field that
leads to a job, an element, a pinned snapshot, an input or a voice, so no path through it
reaches another account's library. `MySharedWork` is the author's own view (status, the hide
reason, the job and output); its `get_queryset` lets only the author reach it, `node(id:)`
included.
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import current_user, require_user
from elements.graphql.hooks import element_use_counter_register, usage_register
from elements.media_urls import media_url
from elementsite.graphql_columns import column, row_context_value, row_value
from elementsite.graphql_enums import choices_enum
from elementsite.relay import ListConnection, PkNodeID
from generation import models as generation_models
from generation.explore import models, selectors
from generation.graphql.types import (
    GenerationJobNode,
    GenerationModel,
    GenerationOutputNode,
    OutputKind,
)


def _viewer(info: Info) -> int | None:
    user = current_user(info)
    return user.pk if user is not None else None


choices_enum(
    models.WorkStatus, name="ExploreWorkStatus", description="Where a shared work is in moderation."
)
ExploreWorkStatus = models.WorkStatus


class ExploreOrder(Enum):
    NEWEST = selectors.NEWEST
    MOST_RECREATED = selectors.MOST_RECREATED


choices_enum(
    ExploreOrder,
    description="How the Explore feed is ordered.",
    value_descriptions={
        "NEWEST": "Newest shared first.",
        "MOST_RECREATED": "Most recreated first.",
    },
)


@strawberry.type(description="The shared image or video, as anyone may watch it.")
class ExploreOutput:
    kind: OutputKind = strawberry.field(description="Image or video.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    duration_ms: int | None = strawberry.field(description="Video length; null for images.")
    has_audio: bool = strawberry.field(description="Whether a video has a sound track.")
    url: str = strawberry.field(description="A short-lived URL of the file.")
    poster_url: str = strawberry.field(description="A short-lived URL of the poster.")
    thumbnail_url: str = strawberry.field(description="A short-lived URL of a small preview.")


def _explore_output(work: models.ExploreWork, request: Any) -> ExploreOutput:
    out = work.output
    # Signed for any logged-in user (owner None): the work is public while visible.
    return ExploreOutput(
        kind=OutputKind(out.kind),
        width=out.width,
        height=out.height,
        duration_ms=out.duration_ms,
        has_audio=out.has_audio,
        url=media_url(out.file.name, owner_id=None, request=request),
        poster_url=media_url(out.poster.name, owner_id=None, request=request),
        thumbnail_url=media_url(out.thumbnail.name, owner_id=None, request=request),
    )


@strawberry_django.type(models.ExploreWork, name="ExploreWork")
class ExploreWorkNode(PkNodeID, relay.Node):
    """A work shared to Explore, as every user sees it. Elements are never shared: the prompt
    names them, nothing more."""

    title: str = column(description="The author's title.")
    caption: str = column(description="The author's caption; may be empty.")
    model: GenerationModel = column(description="The model that made it.")
    output_kind: OutputKind = column(description="Image or video.")
    recreate_count: int = column(description="How often it was recreated.")
    created_at: datetime.datetime = column(description="When it was shared.")

    prompt_text: str = column(
        description="The prompt as written; mentions appear as `[@Name]`.", field_name="prompt"
    )

    author_name: str = row_value(
        lambda work: work.author.shown_name,
        description="The author's display name.",
        select_related=["author"],
        only=["author__display_name", "author__username"],
    )

    output: ExploreOutput = row_context_value(
        lambda work, context: _explore_output(work, context.request),
        description="The shared output.",
        select_related=["output"],
        only=[
            "output__kind",
            "output__file",
            "output__poster",
            "output__thumbnail",
            "output__width",
            "output__height",
            "output__duration_ms",
            "output__has_audio",
        ],
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        if _viewer(info) is None:
            return queryset.none()
        return queryset.filter(status=models.WorkStatus.APPROVED, unshared_at__isnull=True)


@strawberry_django.type(models.ExploreWork, name="MySharedWork")
class MySharedWorkNode(PkNodeID, relay.Node):
    """One of the viewer's own shared works, in any state."""

    title: str = column(description="The title.")
    caption: str = column(description="The caption; may be empty.")
    model: GenerationModel = column(description="The model that made it.")
    status: ExploreWorkStatus = column(description="Where it is in moderation.")
    hidden_reason: str = column(description="Why staff hid it; empty unless hidden.")
    recreate_count: int = column(description="How often it was recreated.")
    created_at: datetime.datetime = column(description="When it was shared.")
    unshared_at: datetime.datetime | None = column(
        description="When the viewer took it off Explore; null while shared."
    )
    job: GenerationJobNode = strawberry_django.field(description="The viewer's job that made it.")
    output: GenerationOutputNode = strawberry_django.field(description="The shared output.")

    @strawberry_django.field(
        description="The public view of it; null unless it is in the feed.",
        only=["status", "unshared_at"],
    )
    def public(self, root: models.ExploreWork) -> ExploreWorkNode | None:
        return root if root.is_visible else None  # type: ignore[return-value]

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer(info)
        return queryset.none() if viewer is None else queryset.filter(author_id=viewer)


@strawberry.type(description="Where an element or voice went: the owner's record.")
class Usage:
    owner_id: strawberry.Private[int]
    element_id: strawberry.Private[int | None]
    voice_file: strawberry.Private[str | None]

    def _scope(self, info: Info) -> dict[str, Any]:
        return {
            "owner": require_user(info),
            "element_id": self.element_id,
            "voice_file": self.voice_file,
        }

    @strawberry_django.connection(
        ListConnection[GenerationJobNode],
        description="The owner's jobs that used it, newest first.",
    )
    def jobs(self, info: Info) -> QuerySet[generation_models.GenerationJob]:
        return selectors.usage_jobs(**self._scope(info))

    @strawberry_django.connection(
        ListConnection[MySharedWorkNode],
        description="The owner's shared works made by those jobs, in any state.",
    )
    def shared_works(self, info: Info) -> QuerySet[models.ExploreWork]:
        return selectors.usage_works(**self._scope(info))

    @strawberry.field(description="How many jobs, by anyone, recreated those works.")
    def recreation_count(self, info: Info) -> int:
        return selectors.usage_recreations(**self._scope(info)).count()


def usage_for(
    info: Info, *, owner_id: int | None, element_id: int | None = None, voice_file: str = ""
) -> Usage | None:
    """The usage record, for the owner only (null for anyone else, and for presets)."""
    viewer = _viewer(info)
    if viewer is None or owner_id != viewer:
        return None
    return Usage(owner_id=viewer, element_id=element_id, voice_file=voice_file or None)


# `Element.usage` and `Voice.usage` are declared by the element library, which never imports
# generation: the record is plugged in here, before the schema is built.
usage_register(graphql_type=Usage, resolve=usage_for)
element_use_counter_register(selectors.element_use_counts)
