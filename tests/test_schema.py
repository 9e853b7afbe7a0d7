"""The committed schema.graphql is the schema clients build against: it must match."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
)
from strawberry.printer import print_schema

from elementsite.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_live_schema():
    assert SCHEMA_FILE.read_text() == print_schema(schema), (
        "schema.graphql is stale: run `make schema` and commit the result."
    )


def test_every_type_field_argument_and_enum_value_has_a_description():
    # The same rules `npm run lint:schema` (graphql-schema-linter, run by `make test`) checks,
    # here too so a missing description fails the Python suite without Node.
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or isinstance(graphql_type, GraphQLScalarType):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [
                f"{name}.{v}" for v, value in graphql_type.values.items() if not value.description
            ]
            continue
        if not isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == []


def test_every_node_type_names_its_id_attribute():
    # Without it strawberry-django rescans the type's annotations for every `id` it resolves
    # (110–350 µs a node, see elementsite/relay.py); a new node type must mix in PkNodeID.
    from strawberry.relay import Node

    from elementsite.relay import PkNodeID

    node_types = [
        definition.origin
        for definition in (
            getattr(t, "extensions", {}).get("strawberry-definition")
            for t in schema._schema.type_map.values()
        )
        if definition is not None
        and isinstance(getattr(definition, "origin", None), type)
        and issubclass(definition.origin, Node)
        and not definition.is_interface
    ]
    assert len(node_types) >= 11
    assert [t.__name__ for t in node_types if not issubclass(t, PkNodeID)] == []
    assert {t.resolve_id_attr() for t in node_types} == {"pk"}
