"""Global ids sent by clients: the one place they are read.

A global id is base64 of `TypeName:pk`. Whatever a client sends — not base64, no colon,
another type's id, a pk the model's key can't hold — is answered exactly as an id that names
no row: the parsed key is then `NO_ROW` for that model, the service looks it up and says
"not found" in its own words, and a query's lookup answers null. So a guessed or mangled id
tells the caller nothing, and no Django or base64 message can reach a client.

The two halves of "a client's id → the row it names":
- GraphQL: `node_pk` turns a global id into the key (a mutation passes it to a service),
  `node_or_none` into the viewer's object (a query answers null for a miss);
- services: `row_or_not_found` looks the key up in the rows the caller may see and raises the
  app's NOT_FOUND, the same error for a malformed key, another user's row and no row at all.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info
from strawberry.types.cast import cast as strawberry_cast
from strawberry_django.relay import resolve_model_node
from strawberry_django.utils.typing import get_django_definition

from elementsite.errors import field_error

M = TypeVar("M", bound=models.Model)

# Keys no row can have: auto-increment keys start at 1, and uuid4 never yields all zeros.
# Both are truthy, so code that reads "no id given" from a falsy value is not fooled.
NO_ROW_INT = -1
NO_ROW_UUID = uuid.UUID(int=0)
# A global id is short; anything longer is not one of ours (and is not worth decoding).
_MAX_ID_LENGTH = 200


def parse_global_id(value: object) -> relay.GlobalID | None:
    """`TypeName:node_id` from a client's id, or None when it is not a global id at all."""
    if isinstance(value, relay.GlobalID):
        return value
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH:
        return None
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    type_name, sep, node_id = text.partition(":")
    if not sep or not type_name or not node_id:
        return None
    return relay.GlobalID(type_name=type_name, node_id=node_id)


def _type_name(node_type: type) -> str:
    return node_type.__strawberry_definition__.name  # type: ignore[attr-defined]


def _model(node_type: type) -> type[models.Model]:
    return get_django_definition(node_type, strict=True).model


def _typed_pk(model: type[models.Model], node_id: object) -> Any | None:
    """The key as the model stores it, or None when the model's key can't hold it."""
    pk_field = model._meta.pk
    assert pk_field is not None
    # Keys arrive as text (a global id's part) or as the key itself; Django would take 1.5
    # or True for 1, and 7 for a uuid, which no client meant.
    is_uuid = isinstance(pk_field, models.UUIDField)
    if not isinstance(node_id, uuid.UUID if is_uuid else int) and not isinstance(node_id, str):
        return None
    if isinstance(node_id, bool):
        return None
    try:
        pk = pk_field.to_python(node_id)
    except (ValidationError, ValueError, TypeError):
        return None
    if isinstance(pk, int) and not 0 < pk < 2**63:
        return None
    return pk


def _no_row(model: type[models.Model]) -> Any:
    return NO_ROW_UUID if isinstance(model._meta.pk, models.UUIDField) else NO_ROW_INT


def row_key(model: type[models.Model], value: object) -> Any:
    """`value` as `model`'s primary key (an int, a UUID), or a key no row has when the key
    can't hold it (None, "", "abc", -1, 2**64): a lookup with it finds nothing, never raises."""
    pk = None if value is None else _typed_pk(model, value)
    return _no_row(model) if pk is None else pk


def row_or_not_found(
    rows: QuerySet[M] | type[M], key: object, *, field: str | None, message: str, code: str
) -> M:
    """The row of `rows` (a model or the queryset of rows the caller may see, e.g. the
    owner's, locked) whose primary key is `key`; else the `code` (the app's NOT_FOUND) on
    `field`. Another user's row, a malformed key and a key no row has get the same error."""
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    row = queryset.filter(pk=row_key(queryset.model, key)).first()
    if row is None:
        raise field_error(field, message, code)
    return row


def node_pk(value: object, *node_types: type) -> Any:
    """The primary key inside `value` when it is a global id of one of `node_types` (all
    of one model); otherwise a key no row has, so the caller's lookup answers "not found"
    exactly as it does for an unknown id."""
    model = _model(node_types[0])
    gid = parse_global_id(value)
    if gid is None or gid.type_name not in {_type_name(t) for t in node_types}:
        return _no_row(model)
    return row_key(model, gid.node_id)


def node_pks(values: list[Any], *node_types: type) -> list[Any]:
    return [node_pk(v, *node_types) for v in values]


def node_or_none(info: Info, value: object, *node_types: type) -> Any | None:
    """The viewer's object behind a global id of one of `node_types`, through each type's
    `get_queryset` (so another user's id finds nothing), or None for anything else."""
    gid = parse_global_id(value)
    if gid is None:
        return None
    for node_type in node_types:
        if gid.type_name == _type_name(node_type):
            pk = _typed_pk(_model(node_type), gid.node_id)
            if pk is None:
                return None
            row = resolve_model_node(node_type, str(pk), info=info, required=False)
            return None if row is None else strawberry_cast(node_type, row)
    return None


def any_node_or_none(info: Info, value: object) -> Any | None:
    """`node(id:)`: any relay type of the schema, found the same way."""
    gid = parse_global_id(value)
    if gid is None:
        return None
    definition = info.schema.get_type_by_name(gid.type_name)
    origin = getattr(definition, "origin", None)
    if (
        not isinstance(origin, type)
        or not issubclass(origin, relay.Node)
        or get_django_definition(origin) is None
    ):
        return None
    return node_or_none(info, value, origin)
