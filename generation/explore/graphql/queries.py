"""GraphQL queries of the Explore feed: the feed, one work, the viewer's own works."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, require_user
from elementsite.ids import node_or_none
from elementsite.relay import ListConnection
from generation.explore import models, selectors
from generation.explore.graphql.types import ExploreOrder, ExploreWorkNode, MySharedWorkNode
from generation.graphql.types import GenerationModel, OutputKind


@strawberry.type
class ExploreQuery:
    @strawberry_django.connection(
        ListConnection[ExploreWorkNode],
        description="Shared works anyone may see (approved, not hidden, still shared).",
        permission_classes=[IsAuthenticated],
    )
    def explore_feed(
        self,
        info: Info,
        order: Annotated[
            ExploreOrder, strawberry.argument(description="Newest first, or most recreated.")
        ] = ExploreOrder.NEWEST,
        model: Annotated[
            GenerationModel | None, strawberry.argument(description="Only works of this model.")
        ] = None,
        output_kind: Annotated[
            OutputKind | None, strawberry.argument(description="Only images or only videos.")
        ] = None,
    ) -> QuerySet[models.ExploreWork]:
        return selectors.explore_feed(
            order=order.value,
            model=model.value if model else None,
            output_kind=output_kind.value if output_kind else None,
        )

    @strawberry.field(
        description="One work of the feed by its global id; null unless it is in the feed."
    )
    def explore_work(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> ExploreWorkNode | None:
        return node_or_none(info, id, ExploreWorkNode)

    @strawberry_django.connection(
        ListConnection[MySharedWorkNode],
        description="The viewer's shared works in any state, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def explore_my_works(self, info: Info) -> QuerySet[models.ExploreWork]:
        return selectors.my_works(owner=require_user(info))
