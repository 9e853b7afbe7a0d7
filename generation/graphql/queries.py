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
from generation.graphql.types import (
    GenerationJobNode,
    GenerationModel,
    GenerationOutputNode,
    JobStatus,
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
