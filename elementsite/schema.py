"""The GraphQL schema: each app contributes its Query and Mutation parts, merged here."""

from __future__ import annotations

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import relay
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from accounts.graphql.mutations import AccountMutation
from accounts.graphql.queries import AccountQuery
from elements.graphql.mutations import ElementMutation
from elements.graphql.queries import ElementQuery


@strawberry.type
class NodeQuery:
    node: relay.Node | None = strawberry_django.node(
        description="Any object by its global id; only the viewer's own objects resolve."
    )


Query = merge_types("Query", (AccountQuery, ElementQuery, NodeQuery))
Mutation = merge_types("Mutation", (AccountMutation, ElementMutation))


def _is_introspection(context: IgnoreContext) -> bool:
    # GraphiQL's introspection query is deeper than any real one; it is bounded anyway.
    return context.field_name.startswith("__")


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE),
    extensions=[
        DjangoOptimizerExtension,
        lambda: QueryDepthLimiter(
            max_depth=settings.GRAPHQL_MAX_DEPTH, should_ignore=_is_introspection
        ),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
    ],
)
