"""How the schema executes: graphql-core's executor with a shorter path for plain leaves.

A page of a list resolves hundreds of scalar fields that only read a column (a ledger page
of 100 entries: about 700 of its 800 fields). For each, graphql-core builds a `Path` and a
`GraphQLResolveInfo`, wraps the resolver in the middleware chain, calls strawberry's
resolver (which for a plain field ignores the info) and walks `complete_value`'s type
checks down to the leaf's `coerce_output_value`: about three quarters of the cost of such
a field is that machinery, not the value.

`FastLeafExecutor` (given to the schema as strawberry's public `execution_context_class`)
takes a shorter path for exactly those fields: a field whose resolver is strawberry's own
resolver for a field with no resolver, no arguments, no extensions and no exception
handlers (`StrawberryField.is_basic_field`, which strawberry resolves without an `Info`),
whose type is a scalar or an enum (optionally non-null), when the only middleware is
strawberry-django's optimizer (whose per-field hook changes nothing but a queryset or a
manager, which a leaf never is: coercing one would fail either way).
It calls the same resolver and the same `coerce_output_value`, so the value is the same.
Anything out of the ordinary (an error, a null for a non-null field, a coercion that
fails, an awaitable, a value that is an exception) goes back through graphql-core's own
`execute_field`, which resolves the field again and reports it exactly as before: a plain
field's resolver only reads an attribute, so resolving it twice changes nothing.

The relay `id` of a strawberry-django node whose id is its primary key takes the same short
path (`_id_plan`): it is the `GlobalID` strawberry's `Node._id` would build, written as the
`ID` scalar writes it.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path, Undefined
from strawberry import relay
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay.utils import resolve_model_id

# Per field of the schema and its parent type: how it may take the short path, or None.
# Keyed by identity (GraphQLField compares by value); the objects are kept in the entry so
# an id can't be reused by another object while it is cached.
_LeafPlan = tuple[GraphQLField, GraphQLLeafType, bool]
# A relay `id` whose type reads it off the model's primary key: (type name, model, attname).
_IdPlan = tuple[str, type, str]
_Plan = _LeafPlan | _IdPlan | None
_plans: dict[tuple[int, int], tuple[GraphQLField, GraphQLObjectType, _Plan]] = {}

# strawberry's resolver for a basic field (schema_converter `_get_basic_result`): it calls
# `field.get_result(source, info=None, args=[], kwargs={})` and ignores the info.
_BASIC_RESOLVER_NAME = "_get_basic_result"


def _plan(field_def: GraphQLField, parent_type: GraphQLObjectType) -> _Plan:
    # Keyed by the field and its parent type (an id's plan names the type).
    key = (id(field_def), id(parent_type))
    entry = _plans.get(key)
    if entry is not None and entry[0] is field_def and entry[1] is parent_type:
        return entry[2]
    plan: _Plan = None
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    named = get_nullable_type(field_def.type)
    if (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and resolve is not None
        and getattr(resolve, "__name__", "") == _BASIC_RESOLVER_NAME
        and getattr(resolve, "_is_default", False)
        and not field_def.args
        and is_leaf_type(named)
    ):
        plan = (field_def, named, is_non_null_type(field_def.type))
    elif isinstance(definition, StrawberryField):
        plan = _id_plan(definition, field_def, parent_type)
    _plans[key] = (field_def, parent_type, plan)
    return plan


def _id_plan(
    definition: StrawberryField, field_def: GraphQLField, parent_type: GraphQLObjectType
) -> _IdPlan | None:
    """relay's `Node.id` on a strawberry-django type whose id is its model's primary key
    (`elementsite.relay.PkNodeID`) and whose id and type name are resolved the default way:
    `Node._id` then returns `GlobalID(<the GraphQL type's name>, str(<the pk>))`, which the
    `ID` scalar writes as `to_base64(name, pk)`. Anything else is left to graphql-core."""
    resolver = definition.base_resolver
    if not (
        definition.python_name == "_id"
        and definition.origin is relay.Node
        and resolver is not None
        and getattr(resolver.wrapped_func, "__func__", None) is relay.Node._id.__func__  # type: ignore[attr-defined]
        and not definition.extensions
        and not definition.permission_classes
        and not field_def.args
    ):
        return None
    type_definition = parent_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(type_definition, "origin", None)
    django_definition = getattr(origin, "__strawberry_django_definition__", None)
    model = getattr(django_definition, "model", None)
    if (
        origin is None
        or model is None
        or getattr(origin.resolve_id, "__func__", None) is not resolve_model_id
        or getattr(origin.resolve_typename, "__func__", None)
        is not relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
        or origin.resolve_id_attr() != "pk"
    ):
        return None
    return (parent_type.name, model, model._meta.pk.attname)


class FastLeafExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with the short path for plain leaves described above."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._leaves_allowed():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        fields = parent_type.fields
        results: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            field_def = fields.get(node.name.value)
            plan = (
                _plan(field_def, parent_type)
                if field_def is not None and not node.arguments
                else None
            )
            if plan is not None:
                value = (
                    self._leaf(plan, source_value)
                    if isinstance(plan[0], GraphQLField)
                    else _global_id(plan, source_value)
                )
                if value is not Undefined:
                    results[response_name] = value
                    continue
            rest[response_name] = field_details_list
        if not rest:
            return results
        # The other fields (and any leaf that needs graphql-core's own handling) as before;
        # the response keeps the order of the selection.
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if isinstance(others, dict):
            return _in_order(grouped_field_set, results, others)
        pending = others

        async def merged() -> dict[str, Any]:
            return _in_order(grouped_field_set, results, await pending)

        return merged()

    def _leaves_allowed(self) -> bool:
        allowed = self.__dict__.get("_fast_leaves")
        if allowed is None:
            manager = self.middleware_manager
            allowed = manager is None or all(
                isinstance(m, DjangoOptimizerExtension) for m in manager.middlewares
            )
            self.__dict__["_fast_leaves"] = allowed
        return allowed

    def _leaf(self, plan: tuple[GraphQLField, GraphQLLeafType, bool], source: Any) -> Any:
        """The completed value, or Undefined to leave the field to graphql-core."""
        field_def, leaf_type, non_null = plan
        try:
            result = field_def.resolve(source, None)  # type: ignore[misc]
        except Exception:
            return Undefined
        if result is None or result is Undefined:
            return Undefined if non_null else None
        if isinstance(result, Exception) or self.is_awaitable(result):
            if hasattr(result, "close"):
                result.close()  # a coroutine not awaited; graphql-core will make its own
            return Undefined
        try:
            coerced = leaf_type.coerce_output_value(result)
        except Exception:
            return Undefined
        if coerced is None or coerced is Undefined:
            return Undefined
        return coerced


def _global_id(plan: Any, source: Any) -> Any:
    typename, model, attname = plan
    if not isinstance(source, model):
        return Undefined
    value = source.__dict__.get(attname)
    return Undefined if value is None else to_base64(typename, str(value))


def _in_order(
    grouped_field_set: Any, fast: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    if not fast:
        return others
    merged: dict[str, Any] = {}
    for name in grouped_field_set:
        if name in fast:
            merged[name] = fast[name]
        elif name in others:
            merged[name] = others[name]
    return merged
