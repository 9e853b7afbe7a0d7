"""The `@` picker's suggestion type: an element of any library the viewer may use, with the
mention to insert (qualified when `[@Name]` would resolve to another element)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from elements.graphql.types import ElementTypeEnum


@strawberry.type(
    name="MentionSuggestion", description="An element for the `@` picker, from any library."
)
class MentionSuggestion:
    id: relay.GlobalID = strawberry.field(description="The element's global id.")
    name: str = strawberry.field(description="Its name.")
    type: ElementTypeEnum = strawberry.field(description="What the element is.")
    match: str = strawberry.field(description="`prefix`, `contains` or `fuzzy`.")
    library_qualifier: str = strawberry.field(
        description="Its library as a qualified mention names it: `me` or a team's handle."
    )
    library_name: str = strawberry.field(
        description="Its library's name: the team's, or `Personal`."
    )
    mention: str = strawberry.field(
        description="The text to insert: `[@Name]` when that resolves to this element for "
        "the viewer, else the qualified `[@Name@handle]` (`[@Name@me]`)."
    )
