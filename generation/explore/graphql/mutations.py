"""GraphQL mutations of the Explore feed: share, unshare, recreate, report."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elementsite.ids import node_pk
from generation.explore import services
from generation.explore.graphql.types import ExploreWorkNode, MySharedWorkNode
from generation.graphql.mutations import IDEMPOTENCY_KEY_DESCRIPTION
from generation.graphql.types import GenerationJobNode, GenerationOutputNode


@strawberry.input(description="What a recreation may change; everything else is the recipe.")
class ExploreRecreateOverrides:
    prompt_text: str | None = strawberry.field(
        default=None,
        description="The prompt with other words around the same mentions; the recipe's if null.",
    )
    duration: int | None = strawberry.field(default=None, description="Seconds (video).")
    aspect_ratio: str | None = strawberry.field(default=None, description="e.g. `16:9`.")


@strawberry.type(description="The viewer's shared work after sharing or unsharing it.")
class ExploreShareResult:
    work: MySharedWorkNode = strawberry.field(description="The work.")


@strawberry.type(description="The job a recreation made.")
class ExploreRecreateResult:
    job: GenerationJobNode = strawberry.field(description="The new job, the viewer's own.")


@strawberry.type(description="A report was filed.")
class ExploreReportResult:
    reported: bool = strawberry.field(description="Always true: staff will look at it.")


@strawberry.type
class ExploreMutation:
    @strawberry_django.mutation(
        description="Share one output of a succeeded job to Explore with a title."
    )
    def generation_share(
        self,
        info: Info,
        job_id: Annotated[strawberry.ID, strawberry.argument(description="The job.")],
        output_id: Annotated[strawberry.ID, strawberry.argument(description="Its output.")],
        title: Annotated[str, strawberry.argument(description="Up to 80 characters.")],
        caption: Annotated[
            str | None, strawberry.argument(description="Up to 500 characters.")
        ] = None,
    ) -> ExploreShareResult:
        work = services.generation_share(
            owner=require_user(info),
            job_id=node_pk(job_id, GenerationJobNode),
            output_id=node_pk(output_id, GenerationOutputNode),
            title=title,
            caption=caption,
        )
        return ExploreShareResult(work=work)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Take one of the viewer's works off Explore.")
    def explore_unshare(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The work.")],
    ) -> ExploreShareResult:
        work = services.explore_unshare(
            owner=require_user(info), work_id=node_pk(id, MySharedWorkNode, ExploreWorkNode)
        )
        return ExploreShareResult(work=work)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Make a new job from a shared work's recipe, charged to the viewer."
    )
    def explore_recreate(
        self,
        info: Info,
        work_id: Annotated[strawberry.ID, strawberry.argument(description="The work.")],
        overrides: Annotated[
            ExploreRecreateOverrides | None,
            strawberry.argument(description="What to change; null for none."),
        ] = None,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=IDEMPOTENCY_KEY_DESCRIPTION)
        ] = None,
    ) -> ExploreRecreateResult:
        job = services.explore_recreate(
            user=require_user(info),
            work_id=node_pk(work_id, ExploreWorkNode),
            overrides=services.RecreateOverrides(
                prompt=overrides.prompt_text,
                duration=overrides.duration,
                aspect_ratio=overrides.aspect_ratio,
            )
            if overrides
            else None,
            idempotency_key=idempotency_key,
        )
        return ExploreRecreateResult(job=job)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Report a work to staff, saying what is wrong.")
    def explore_report(
        self,
        info: Info,
        work_id: Annotated[strawberry.ID, strawberry.argument(description="The work.")],
        reason: Annotated[str, strawberry.argument(description="What is wrong with it.")],
    ) -> ExploreReportResult:
        services.explore_report(
            user=require_user(info),
            work_id=node_pk(work_id, ExploreWorkNode),
            reason=reason,
        )
        return ExploreReportResult(reported=True)
