"""The committed schema.graphql is the schema clients build against: it must match."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLObjectType
from strawberry.printer import print_schema

from elementsite.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_live_schema():
    assert SCHEMA_FILE.read_text() == print_schema(schema), (
        "schema.graphql is stale: run `make schema` and commit the result."
    )


def test_every_field_and_argument_has_a_description():
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(
            graphql_type, GraphQLObjectType | GraphQLInputObjectType
        ):
            continue
        if name in {"PageInfo", "OperationInfo", "OperationMessage"}:
            continue  # defined by strawberry / strawberry-django, described there
        for field_name, field in graphql_type.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
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
