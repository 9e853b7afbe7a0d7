"""The GraphQL schema: each app contributes its Query and Mutation parts, merged here."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Annotated, Any

import strawberry
from django.conf import settings
from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info
from strawberry_django.optimizer import DjangoOptimizerExtension

from accounts.graphql.mutations import AccountMutation
from accounts.graphql.queries import AccountQuery
from elements.graphql.assists import AssistQuery
from elements.graphql.bundles import BundleMutation, BundleQuery
from elements.graphql.libraries import LibraryQuery
from elements.graphql.likeness import LikenessMutation, LikenessQuery
from elements.graphql.mutations import ElementMutation
from elements.graphql.queries import ElementQuery
from elements.graphql.teams import TeamMutation, TeamQuery
from elements.graphql.video import VideoElementMutation
from elementsite.errors import prepare_graphql_error
from elementsite.graphql_error_codes import type_code_fields, type_operation_messages
from elementsite.graphql_execution import FastLeafExecutor
from elementsite.ids import any_node_or_none
from elementsite.stack_room import call_with_stack_room
from elementsite.trusted_documents import for_execution
from generation.explore.graphql.mutations import ExploreMutation
from generation.explore.graphql.queries import ExploreQuery
from generation.graphql.multiview import MultiViewMutation
from generation.graphql.mutations import GenerationMutation, GenerationPreviewQuery, PreviewIssue
from generation.graphql.queries import GenerationCatalogQuery, GenerationQuery
from generation.webhooks.graphql import WebhookMutation, WebhookQuery


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global id; only the viewer's own objects resolve."
    )
    def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> relay.Node | None:
        return any_node_or_none(info, id)


Query = merge_types(
    "Query",
    (
        AccountQuery,
        ElementQuery,
        LibraryQuery,
        LikenessQuery,
        TeamQuery,
        BundleQuery,
        AssistQuery,
        GenerationQuery,
        GenerationPreviewQuery,
        GenerationCatalogQuery,
        ExploreQuery,
        WebhookQuery,
        NodeQuery,
    ),
)
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What a client can read: its account, library, jobs, the Explore feed and webhooks."
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        MultiViewMutation,
        ElementMutation,
        BundleMutation,
        VideoElementMutation,
        LikenessMutation,
        TeamMutation,
        GenerationMutation,
        ExploreMutation,
        WebhookMutation,
    ),
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What a client can change. Each returns its result, or an `OperationInfo` when refused."
)


def describe_payloads(graphql_schema: GraphQLSchema) -> None:
    """Describe each `<Name>Payload` union, which strawberry-django makes (with no
    description) from a mutation's (or an error-handling query's) result and `OperationInfo`."""
    roots = (graphql_schema.query_type, graphql_schema.mutation_type)
    fields = [item for root in roots if root for item in root.fields.items()]
    for name, field in fields:
        payload = get_named_type(field.type)
        if isinstance(payload, GraphQLUnionType) and not payload.description:
            results = " or ".join(f"`{t.name}`" for t in payload.types if t.name != "OperationInfo")
            payload.description = (
                f"What `{name}` returns: {results}, or `OperationInfo` when it is refused."
            )


def _is_introspection(context: IgnoreContext) -> bool:
    # GraphiQL's introspection query is deeper than any real one; it is bounded anyway.
    return context.field_name.startswith("__")


@functools.cache
def _limit_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias limits (and introspection's refusal) as validation rules, built
    once per set of settings.

    `QueryDepthLimiter` and `MaxAliasesLimiter` make a new rule class per instance, and the
    validation cache is keyed by the rules: built per request, every request would miss it.
    The instances made here only lend their (stateless) rule classes; the extension each
    request gets is its own `AddValidationRules`.
    """
    return (
        *QueryDepthLimiter(max_depth=max_depth, should_ignore=_is_introspection).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        # Off in production unless asked for: the schema is public in schema.graphql anyway,
        # but an open `__schema` lets anyone map the API (and its descriptions) at no cost.
        *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
    )


def _limits() -> AddValidationRules:
    # Settings read per request, so a changed limit (tests) takes effect.
    return AddValidationRules(
        list(
            _limit_rules(
                settings.GRAPHQL_MAX_DEPTH,
                settings.GRAPHQL_MAX_ALIASES,
                settings.GRAPHQL_INTROSPECTION,
            )
        )
    )


class DocumentParserCache(ParserCache):
    """strawberry's LRU parse cache for query texts; a trusted document sent by id is parsed
    once for good (elementsite.trusted_documents) and never meets the LRU."""

    def on_parse(self) -> Iterator[None]:
        trusted = for_execution(self.execution_context)
        if trusted is None:
            yield from super().on_parse()
            return
        self.execution_context.graphql_document = trusted.document
        yield


class DocumentValidationCache(ValidationCache):
    """strawberry's LRU validation cache for query texts; a trusted document sent by id keeps
    its own result per set of rules."""

    def on_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        trusted = for_execution(execution_context)
        if trusted is None:
            yield from super().on_validate()
            return
        execution_context.pre_execution_errors = trusted.validate(
            execution_context.schema._schema, execution_context.validation_rules
        )
        yield


class Schema(strawberry.Schema):
    """The schema with our error hook: every error leaves with a stable code, and none
    carries a Django, database or Python message (elementsite.errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        describe_payloads(self._schema)

    def execute_sync(self, *args: Any, **kwargs: Any) -> Any:
        # Execution recurses for every field of the response: on CPython 3.11 it runs
        # 1.5–3x slower when it keeps crossing a frame-stack chunk boundary, and where the
        # boundary falls depends on how deep the caller is (elementsite.stack_room).
        return call_with_stack_room(super().execute_sync, *args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Instead of strawberry's default, which logs every error with its traceback at
        # error level: a client's mistake is one info line, ours is a traceback with an id.
        for error in errors:
            prepare_graphql_error(error)


# Error codes reach clients as the `ErrorCode` enum, not as strings
# (elementsite.graphql_error_codes).
type_operation_messages()
type_code_fields(PreviewIssue)

schema = Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE),
    execution_context_class=FastLeafExecutor,
    extensions=[
        DjangoOptimizerExtension,
        _limits,
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        # Clients send the same few query texts again and again: parsing and validating
        # the library listing costs about 2 ms a request, a lookup a few µs. Both caches
        # are bounded LRUs (128 entries) shared by all requests; parsing is keyed by the
        # text and the token limit, validation by the parsed document and the rules, so a
        # changed limit can't be served a stale answer. A trusted document (the web studio's
        # operations, sent by id) skips both for good: parsed once, validated once per rules.
        DocumentParserCache,
        DocumentValidationCache,
    ],
)
