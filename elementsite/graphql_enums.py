"""GraphQL enums made from the Python enums that already hold the values, never retyped.

A model's `TextChoices` is the one list of a column's values: registering it as the GraphQL
enum (same member names, same values) means a new choice reaches the schema by itself, and a
renamed one cannot drift from what the database stores. Each value is described by its
choice label, so client authors read the same words staff read in the admin.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

E = TypeVar("E", bound=Enum)


def choices_enum(
    choices: type[E],
    *,
    description: str,
    name: str | None = None,
    value_descriptions: dict[str, str] | None = None,
) -> type[E]:
    """Register `choices` (a `TextChoices`, or any Enum) as the GraphQL enum `name` (the class
    name if None). Each value's description is `value_descriptions[member name]` if given, else
    the member's `label` (a `TextChoices` label), else none."""
    strawberry.enum(choices, name=name, description=description)
    definition: StrawberryEnumDefinition = choices.__strawberry_definition__  # type: ignore[attr-defined]
    given = value_descriptions or {}
    for value in definition.values:
        member = choices[value.name]
        label = given.get(value.name) or getattr(member, "label", None)
        if label:
            value.description = str(label)
    return choices
