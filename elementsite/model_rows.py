"""Model instances built from database rows without `Model.__init__`'s generic loop.

A page of a list builds 100 instances (a ledger page: about a third of the page's SQL
and ORM time went to `from_db`, which maps the loaded columns onto the model's fields,
fills the others with `DEFERRED`, then calls `Model.__init__`, which sends `pre_init`,
walks every field to `setattr` the loaded ones and sends `post_init`).

`plain_rows` gives a model a `from_db` that builds the same instance directly: the loaded
columns written into the instance's `__dict__` (what `setattr` does for these fields), a
`ModelState` saying "from this database, not adding". It applies only when that is
exactly what `Model.__init__` would do: the model keeps Django's `__init__`, every
concrete field's attribute is Django's plain deferred attribute (no descriptor with a
setter of its own, such as an image's dimensions), and no `pre_init`/`post_init` receiver
is connected at all when the row is read (otherwise Django's own `from_db` runs).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_M = TypeVar("_M", bound=type[models.Model])

# Attributes (exact types) whose `__set__`, if any, only stores the value in the
# instance's `__dict__` on a fresh instance: ForeignKeyDeferredAttribute also drops a
# cached related object, which a fresh instance does not have; FileDescriptor stores it
# as it is (its subclass for images, which updates dimension fields, is not one of them).
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor)


def plain_rows(model: _M) -> _M:
    """Class decorator: build `model`'s instances read from the database directly."""
    if "from_db" in model.__dict__ or model.__init__ is not models.Model.__init__:
        raise TypeError(f"{model.__name__} builds its instances its own way.")
    fields = model._meta.concrete_fields
    attnames = tuple(field.attname for field in fields)
    for attname in attnames:
        attribute = getattr(model, attname, None)
        if type(attribute) not in _PLAIN_ATTRIBUTES:
            raise TypeError(f"{model.__name__}.{attname} is not a plain column.")
    # The loaded attnames in the model's field order (the order `from_db` maps values in),
    # per tuple of loaded names; a query's rows share one.
    orders: dict[tuple[str, ...], tuple[str, ...]] = {}
    django_from_db = models.Model.from_db.__func__  # type: ignore[attr-defined]

    def from_db(cls: Any, db: str | None, field_names: Any, values: Any) -> Any:
        if cls is not model or pre_init.receivers or post_init.receivers:
            return django_from_db(cls, db, field_names, values)
        key = tuple(field_names)
        order = orders.get(key)
        if order is None:
            if len(values) == len(attnames):
                order = attnames
            else:
                loaded = set(field_names)
                order = tuple(name for name in attnames if name in loaded)
            if len(order) != len(values):
                return django_from_db(cls, db, field_names, values)
            orders[key] = order
        new = cls.__new__(cls)
        state = ModelState()
        state.adding = False
        state.db = db
        new._state = state
        new.__dict__.update(zip(order, values, strict=True))
        return new

    model.from_db = classmethod(from_db)  # type: ignore[assignment]
    return model
