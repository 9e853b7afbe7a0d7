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

import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.db.models.manager import BaseManager
from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry import relay
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay.utils import resolve_model_id

from elementsite.graphql_columns import ColumnField, RowContextValueField, plain_attname

# Per field of the schema and its parent type: how it may take the short path, or None.
# Keyed by identity (GraphQLField compares by value); the objects are kept in the entry so
# an id can't be reused by another object while it is cached.
# A leaf: (field, its type, non-null, and for a plain column of a strawberry-django type:
# the model and the instance `__dict__` key it is read from, else None and "").
_LeafPlan = tuple[GraphQLField, GraphQLLeafType, bool, type | None, str]
# A relay `id` whose type reads it off the model's primary key: (type name, model, attname).
_IdPlan = tuple[str, type, str]


class _ObjectPlan:
    """A plain field (an attribute, as for a leaf) whose value is an object, or a list of
    objects, of one object type: a connection's `edges`, an edge's `node`, `pageInfo`."""

    __slots__ = (
        "attribute",
        "compute",
        "field_def",
        "is_list",
        "is_type_of",
        "item_type",
        "object_type",
    )

    def __init__(
        self,
        field_def: GraphQLField,
        object_type: GraphQLObjectType,
        *,
        item_type: Any,
        is_type_of: Any,
        compute: Any = None,
    ) -> None:
        self.field_def = field_def
        # A `RowContextValueField`'s function of the row and the context, else None.
        self.compute = compute
        # A list's item type (the object type, or it non-null), else None.
        self.item_type = item_type
        self.is_list = item_type is not None
        self.object_type = object_type
        self.is_type_of = is_type_of
        # The attribute strawberry's resolver reads (`StrawberryField.get_result` with the
        # default resolver, `getattr`), read here without the two calls; else None.
        definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        self.attribute = (
            definition.python_name
            if compute is None
            and isinstance(definition, StrawberryField)
            and type(definition).get_result is StrawberryField.get_result
            and definition.base_resolver is None
            and definition.default_resolver is getattr
            else None
        )


_Plan = _LeafPlan | _IdPlan | _ObjectPlan | None

# What a field of a selection takes (`FastLeafExecutor._steps`), and the step: (response
# name, its field details, kind, plan, and for a leaf: the model and `__dict__` key of a
# plain column, the leaf type).
_GENERAL, _LEAF, _ID, _OBJECT = "general", "leaf", "id", "object"
_Step = tuple[str, Any, str, Any, Any, str, Any]

# Values an object field's short path leaves to graphql-core.
_NOT_OBJECTS = (Exception, QuerySet, BaseManager)

# Exact types of column values that are never an exception or an awaitable: a leaf holding
# one is coerced at once (`_leaf` checks anything else).
_PLAIN_VALUES = frozenset(
    {str, int, float, bool, datetime.datetime, datetime.date, datetime.time, Decimal, UUID}
)
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
        model, attname = _column(definition, parent_type)
        plan = (field_def, named, is_non_null_type(field_def.type), model, attname)
    elif (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and resolve is not None
        and getattr(resolve, "__name__", "") == _BASIC_RESOLVER_NAME
        and getattr(resolve, "_is_default", False)
        and not field_def.args
    ):
        plan = _object_plan(field_def, named)
    elif (
        isinstance(definition, RowContextValueField)
        and definition.base_resolver is None
        and not definition.extensions
        and not definition.permission_classes
        and not field_def.args
    ):
        plan = _object_plan(field_def, named, compute=definition.compute)
    elif isinstance(definition, StrawberryField):
        plan = _id_plan(definition, field_def, parent_type)
    _plans[key] = (field_def, parent_type, plan)
    return plan


def _column(definition: StrawberryField, parent_type: GraphQLObjectType) -> tuple[type | None, str]:
    """The model and `__dict__` key `ColumnField.get_result` reads a loaded value from."""
    if not isinstance(definition, ColumnField) or definition.base_resolver is not None:
        return None, ""
    type_definition = parent_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(type_definition, "origin", None)
    django_definition = getattr(origin, "__strawberry_django_definition__", None)
    model = getattr(django_definition, "model", None)
    if model is None:
        return None, ""
    attname = plain_attname(model, definition.django_name or definition.python_name)
    return (model, attname) if attname is not None else (None, "")


def _object_plan(field_def: GraphQLField, named: Any, *, compute: Any = None) -> _ObjectPlan | None:
    item = named.of_type if is_list_type(named) else None
    object_type = get_nullable_type(item) if item is not None else named
    if not is_object_type(object_type):
        return None
    checks = object_type.is_type_of
    if checks is not None and not _ignores_info(checks):
        return None
    return _ObjectPlan(
        field_def,
        object_type,
        item_type=item,
        is_type_of=checks,
        compute=compute,
    )


def _ignores_info(is_type_of: Any) -> bool:
    """strawberry-django's `is_type_of` of a type with no `is_type_of` of its own above it:
    a type cast or an `isinstance` of the object, the `info` unused."""
    func = getattr(is_type_of, "__func__", None)
    origin = getattr(is_type_of, "__self__", None)
    return (
        func is not None
        and isinstance(origin, type)
        and func.__module__ == "strawberry_django.type"
        and func.__qualname__ == "_process_type.<locals>.is_type_of"
        and getattr(super(origin, origin), "is_type_of", None) is None
    )


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
        return self._run(
            parent_type,
            source_value,
            path,
            self._steps(parent_type, grouped_field_set),
            position_context,
        )

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> tuple[_Step, ...]:
        """What each field of a selection takes, worked out once per selection and
        execution: the items of a list (a page of 100 nodes) share their selection, so the
        field look-ups, plans and checks are not repeated for each. Keyed by identity; the
        selection (graphql-core memoizes it for the execution) is kept in the entry, so its
        id can't be reused while the entry lives. The variables are the execution's, so a
        selection's @include/@skip are settled before it gets here."""
        cache = self.__dict__.get("_selection_steps")
        if cache is None:
            cache = self.__dict__["_selection_steps"] = {}
        key = (id(parent_type), id(grouped_field_set))
        entry = cache.get(key)
        if entry is not None:
            return entry[2]
        fields = parent_type.fields
        steps: list[_Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            field_def = fields.get(node.name.value)
            plan = (
                _plan(field_def, parent_type)
                if field_def is not None and not node.arguments
                else None
            )
            if plan is None:
                steps.append((response_name, field_details_list, _GENERAL, None, None, "", None))
            elif isinstance(plan, _ObjectPlan):
                # A directive on the field (@stream, or one graphql-core does not know)
                # leaves it to graphql-core, as `_object` did on every call.
                kind = (
                    _GENERAL
                    if any(details.node.directives for details in field_details_list)
                    else _OBJECT
                )
                steps.append((response_name, field_details_list, kind, plan, None, "", None))
            elif isinstance(plan[0], GraphQLField):
                leaf: _LeafPlan = plan  # type: ignore[assignment]
                steps.append(
                    (response_name, field_details_list, _LEAF, leaf, leaf[3], leaf[4], leaf[1])
                )
            else:
                steps.append((response_name, field_details_list, _ID, plan, None, "", None))
        cache[key] = (parent_type, grouped_field_set, tuple(steps))
        return cache[key][2]

    def _run(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        steps: tuple[_Step, ...],
        position_context: Any,
    ) -> Any:
        # graphql-core's loop (`execute_fields`), field by field in the selection's order, so
        # resolvers run and errors are recorded in the same order as without the short path.
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        source_type = type(source_value)
        try:
            for response_name, field_details_list, kind, plan, model, attname, leaf_type in steps:
                value: Any = Undefined
                field_path = None
                if kind is _LEAF:
                    # A loaded column of the type's own model holding a value of a plain
                    # Python type (never an exception or an awaitable): read and coerced
                    # here; anything else goes through `_leaf`.
                    if source_type is model and attname in source_value.__dict__:
                        result = source_value.__dict__[attname]
                        if type(result) in _PLAIN_VALUES:
                            try:
                                value = leaf_type.coerce_output_value(result)  # type: ignore[union-attr]
                            except Exception:
                                value = Undefined
                            else:
                                if value is None:
                                    value = Undefined
                        elif result is None and not plan[2]:  # type: ignore[index]
                            value = None
                        else:
                            value = self._leaf(plan, source_value)  # type: ignore[arg-type]
                    else:
                        value = self._leaf(plan, source_value)  # type: ignore[arg-type]
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                elif kind is _ID:
                    value = _global_id(plan, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                elif kind is _OBJECT and position_context is None:
                    field_path = Path(path, response_name, parent_type.name)
                    value = self._object(plan, source_value, field_path, field_details_list)  # type: ignore[arg-type]
                if value is Undefined:
                    value = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        field_path or Path(path, response_name, parent_type.name),
                        position_context,
                    )
                    if value is Undefined:
                        continue
                results[response_name] = value
                if is_awaitable(value):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _object(
        self,
        plan: _ObjectPlan,
        source: Any,
        path: Path,
        field_details_list: Any,
    ) -> Any:
        """The completed object (or list of objects), or Undefined to leave the field to
        graphql-core. Everything graphql-core would report as an error, or treat in a
        special way (null where not allowed, an object of another type, a directive such
        as @stream on the field, @defer under it, an awaitable, a queryset the optimizer
        would optimise), goes back before anything under the field is executed. Errors
        raised by the fields under it are handled as `execute_field` and
        `complete_list_item_value` handle them."""
        field_def = plan.field_def
        try:
            value = (
                getattr(source, plan.attribute)
                if plan.attribute is not None
                else field_def.resolve(source, None)  # type: ignore[misc]
                if plan.compute is None
                else plan.compute(source, self.context_value)
            )
        except Exception:
            return Undefined
        if value is None or value is Undefined:
            return Undefined if is_non_null_type(field_def.type) else None
        if isinstance(value, _NOT_OBJECTS) or self.is_awaitable(value):
            if hasattr(value, "close"):
                value.close()  # a coroutine not awaited; graphql-core will make its own
            return Undefined
        grouped, new_defer_usages, _forbidden = self.collect_subfields(
            plan.object_type, field_details_list
        )
        if new_defer_usages:
            return Undefined
        is_type_of = plan.is_type_of
        if plan.is_list:
            # Only a list or tuple: read twice (here, then by graphql-core if it comes
            # back), it gives the same items; an iterator would not.
            if type(value) not in (list, tuple) or any(
                item is None or (is_type_of is not None and is_type_of(item, None) is not True)
                for item in value
            ):
                return Undefined
        elif is_type_of is not None and is_type_of(value, None) is not True:
            return Undefined
        try:
            if not plan.is_list:
                object_type = plan.object_type
                return self._awaited_or(
                    self._run(object_type, value, path, self._steps(object_type, grouped), None),
                    field_def.type,
                    field_details_list,
                    path,
                )
            item_type = plan.item_type
            object_type = plan.object_type
            steps = self._steps(object_type, grouped)
            completed = []
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                try:
                    completed.append(
                        self._awaited_or(
                            self._run(object_type, item, item_path, steps, None),
                            item_type,
                            field_details_list,
                            item_path,
                        )
                    )
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed.append(None)
            if any(self.is_awaitable(item) for item in completed):

                async def awaited_items() -> list[Any]:
                    return [(await i) if self.is_awaitable(i) else i for i in completed]

                return self._awaited_or(awaited_items(), field_def.type, field_details_list, path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None

    def _awaited_or(self, value: Any, return_type: Any, field_details_list: Any, path: Path) -> Any:
        if not self.is_awaitable(value):
            return value

        async def await_completed() -> Any:
            try:
                return await value
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return await_completed()

    def _leaves_allowed(self) -> bool:
        allowed = self.__dict__.get("_fast_leaves")
        if allowed is None:
            manager = self.middleware_manager
            allowed = manager is None or all(
                isinstance(m, DjangoOptimizerExtension) for m in manager.middlewares
            )
            self.__dict__["_fast_leaves"] = allowed
        return allowed

    def _leaf(self, plan: _LeafPlan, source: Any) -> Any:
        """The completed value, or Undefined to leave the field to graphql-core."""
        field_def, leaf_type, non_null, model, attname = plan
        # A loaded column of the type's own model: the value `ColumnField.get_result`
        # returns, read without its resolver (about a third of a leaf's cost).
        if type(source) is model and attname in source.__dict__:
            result = source.__dict__[attname]
        else:
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
