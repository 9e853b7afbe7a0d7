from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, require_user
from elements import selectors
from elements.graphql.libraries import LIBRARY_ARGUMENT, library_query_argument
from elements.graphql.mentions import MentionSuggestion
from elements.graphql.types import (
    ElementNode,
    ElementStatus,
    ElementTypeEnum,
    ElementTypeInfo,
    VoiceNode,
    VoiceSource,
)
from elements.models import Element, ElementType, Voice
from elementsite.ids import node_or_none
from elementsite.relay import ListConnection
from elementsite.search import search_text

MAX_SUGGESTIONS = 50


@strawberry.enum(description="How to order the library.")
class ElementOrder(Enum):
    UPDATED_DESC = strawberry.enum_value("updated_desc", description="Last changed first.")
    UPDATED_ASC = strawberry.enum_value("updated_asc", description="Least recently changed first.")
    NAME_ASC = strawberry.enum_value("name_asc", description="By name, A to Z.")
    NAME_DESC = strawberry.enum_value("name_desc", description="By name, Z to A.")


_ORDERING = {
    ElementOrder.UPDATED_DESC: ("-updated_at", "-id"),
    ElementOrder.UPDATED_ASC: ("updated_at", "id"),
    ElementOrder.NAME_ASC: ("name", "id"),
    ElementOrder.NAME_DESC: ("-name", "-id"),
}


@strawberry.type
class ElementQuery:
    @strawberry_django.connection(
        ListConnection[ElementNode],
        description="The elements of one of the viewer's libraries (their own by default), "
        "filtered and ordered (newest change first).",
        permission_classes=[IsAuthenticated],
    )
    def elements(
        self,
        info: Info,
        type: Annotated[
            ElementTypeEnum | None, strawberry.argument(description="Only elements of this type.")
        ] = None,
        status: Annotated[
            ElementStatus | None, strawberry.argument(description="Only elements in this state.")
        ] = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words to find in name or description.")
        ] = None,
        order: Annotated[
            ElementOrder, strawberry.argument(description="The order of the list.")
        ] = ElementOrder.UPDATED_DESC,
        library: Annotated[
            str | None, strawberry.argument(description="The library: " + LIBRARY_ARGUMENT)
        ] = None,
    ) -> QuerySet[Element]:
        filters = selectors.ElementFilters(
            type=type.value if type else None,
            status=status.value if status else None,
            search=search_text(search),
        )
        qs = selectors.element_list(
            owner=require_user(info),
            filters=filters,
            library=library_query_argument(info, library),
        )
        return qs.order_by(*_ORDERING[order])

    @strawberry.field(
        description="An element of one of the viewer's libraries by its global id; null if none."
    )
    def element(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> ElementNode | None:
        return node_or_none(info, id, ElementNode)

    @strawberry_django.field(
        description="Elements for the `@` picker: names starting with `query`, then names "
        "containing it, then close names. Only usable elements (not blocked), from every "
        "library the viewer may use (their own and their teams'), or `library` alone.",
        permission_classes=[IsAuthenticated],
    )
    def mention_suggestions(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="What was typed after `@`.")],
        first: Annotated[int, strawberry.argument(description="At most this many (≤ 50).")] = 10,
        library: Annotated[
            str | None,
            strawberry.argument(description="Only this library: " + LIBRARY_ARGUMENT),
        ] = None,
    ) -> list[MentionSuggestion]:
        user = require_user(info)
        scoped = None if library is None else library_query_argument(info, library)
        rows = selectors.mention_suggestions(
            owner=user,
            query=search_text(query, argument="query") or "",
            first=min(max(first, 1), MAX_SUGGESTIONS),
            library=scoped,
        )
        return [
            MentionSuggestion(
                id=relay.GlobalID("Element", str(row.element_id)),
                name=row.name,
                type=ElementTypeEnum(row.type),
                match=row.match,
                library_qualifier=row.library,
                library_name=row.library_name,
                mention=row.mention,
            )
            for row in rows
        ]

    @strawberry_django.connection(
        ListConnection[VoiceNode],
        description="Voices the viewer can bind to an element of a library (their own by "
        "default): Voice Library presets and that library's voices.",
        permission_classes=[IsAuthenticated],
    )
    def voices(
        self,
        info: Info,
        # Not named `source` in Python: the permission extension takes a `source` argument.
        source_filter: Annotated[
            VoiceSource | None,
            strawberry.argument(name="source", description="Only voices from this source."),
        ] = None,
        library: Annotated[
            str | None, strawberry.argument(description="The library: " + LIBRARY_ARGUMENT)
        ] = None,
    ) -> QuerySet[Voice]:
        return selectors.voice_list(
            owner=require_user(info),
            source=source_filter.value if source_filter else None,
            library=library_query_argument(info, library),
        )

    @strawberry.field(description="The element types, with labels, for pickers.")
    def element_types(self) -> list[ElementTypeInfo]:
        return [
            ElementTypeInfo(
                value=ElementTypeEnum(value),
                label=str(label),
                can_have_voice=value == ElementType.CHARACTER,
            )
            for value, label in ElementType.choices
        ]
