"""Plain model columns as GraphQL fields, resolved without strawberry's per-value machinery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry_django
from django.db.models.query_utils import DeferredAttribute
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField

# Per (model class, attribute): the instance `__dict__` key of a column whose descriptor is
# Django's plain `DeferredAttribute` (what `getattr` would return as is), or None.
_plain_columns: dict[tuple[type, str], str | None] = {}


def plain_attname(model: type, name: str) -> str | None:
    """The `__dict__` key of `model.<name>` when it is a plain column, else None."""
    key = (model, name)
    if key not in _plain_columns:
        attr = getattr(model, name, None)
        _plain_columns[key] = attr.field.attname if type(attr) is DeferredAttribute else None
    return _plain_columns[key]


class ColumnField(StrawberryDjangoField):
    """A model column, returned as loaded.

    strawberry-django resolves every field through strawberry's full resolver path: an
    `Info` object, argument parsing and a chain of wrappers, for each value of each row. A
    column needs none of it, so it takes strawberry's path for plain attributes (about a
    quarter less per value; a listing page resolves over a thousand), and a scalar or enum
    column then also takes the executor's short path for plain leaves
    (`elementsite.graphql_execution`). The value still comes from
    `StrawberryDjangoField.get_result` (raw enum values, an empty file as null, a deferred
    column loaded), and the optimizer still sees the field for its `only()`.
    """

    @property
    def is_basic_field(self) -> bool:
        return self.base_resolver is None and not self.is_relation and not self.extensions

    def get_result(
        self, source: Any, info: Info | None, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        # A loaded plain column is the instance's own value: what strawberry-django's
        # `get_result` returns for it after its checks. Anything else (a file, a property,
        # a deferred column to load) goes the usual way.
        if source is not None and self.base_resolver is None:
            attname = plain_attname(type(source), self.django_name or self.python_name)
            if attname is not None:
                try:
                    return source.__dict__[attname]
                except KeyError:
                    pass
        return super().get_result(source, info, args, kwargs)


def column(*, description: str, field_name: str | None = None) -> Any:
    """A `strawberry_django.field` for a plain column (see `ColumnField`); `field_name` is
    the model's name for it when the GraphQL name differs."""
    return strawberry_django.field(
        description=description, field_name=field_name, field_cls=ColumnField
    )


class RowValueField(StrawberryDjangoField):
    """A value computed from the row alone, with the optimizer's hints for what it reads.

    A method field (`@strawberry_django.field def author_name(self, root)`) goes through
    strawberry's whole resolver path per value: an `Info`, argument conversion and
    strawberry-django's `django_resolver` wrapper. A function of the row needs none of it:
    this field is basic to strawberry (resolved without an `Info`) and so takes the
    executor's short path for plain leaves (`elementsite.graphql_execution`)."""

    compute: Callable[..., Any]

    def __copy__(self) -> RowValueField:
        # strawberry copies fields when it builds a type; keep the function with the copy.
        new = super().__copy__()
        new.compute = self.compute
        return new

    @property
    def is_basic_field(self) -> bool:
        return self.base_resolver is None and not self.extensions

    def get_result(
        self, source: Any, info: Info | None, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        return self.compute(source)


def row_value(
    compute: Callable[[Any], Any],
    *,
    description: str,
    select_related: list[str] | None = None,
    only: list[str] | None = None,
) -> Any:
    """A `strawberry_django.field` whose value is `compute(row)` (see `RowValueField`)."""
    field = strawberry_django.field(
        description=description, select_related=select_related, only=only, field_cls=RowValueField
    )
    field.compute = compute
    return field


class RowContextValueField(RowValueField):
    """A value computed from the row and the request's context (`compute(row, context)`):
    a signed absolute URL needs the request. Resolved by strawberry with an `Info`, of
    which it reads the context alone; the executor's short path for plain object fields
    passes the context straight (`elementsite.graphql_execution`)."""

    @property
    def is_basic_field(self) -> bool:
        return False

    def get_result(
        self, source: Any, info: Info | None, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        assert info is not None
        return self.compute(source, info.context)


def row_context_value(
    compute: Callable[[Any, Any], Any],
    *,
    description: str,
    select_related: list[str] | None = None,
    only: list[str] | None = None,
) -> Any:
    """A `strawberry_django.field` whose value is `compute(row, context)` (see
    `RowContextValueField`)."""
    field = strawberry_django.field(
        description=description,
        select_related=select_related,
        only=only,
        field_cls=RowContextValueField,
    )
    field.compute = compute
    return field
