"""`videoElementCreate`: a character element made from a video clip."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elements.graphql.libraries import LIBRARY_ARGUMENT, library_argument
from elements.graphql.mutations import ElementResult
from elements.video_elements import video_element_create


@strawberry.input(description="A new character element made from a video clip.")
class VideoElementCreateInput:
    name: str = strawberry.field(description="Unique in your library ignoring case; ≤ 40 chars.")
    video: Upload = strawberry.field(
        description="MP4, MOV or WebM with a picture; at most 200 MB, 120 s and 4096 px on "
        "the long side (the server's settings), at least 300 px a side."
    )
    trim_start: float = strawberry.field(description="Start of the window to use, in seconds.")
    trim_end: float = strawberry.field(
        description="End of the window, in seconds: the window lasts 3–8 s, inside the video."
    )
    consent_statement: str = strawberry.field(
        description="Your statement that you may use this person's likeness and voice; it is "
        "recorded, and kept with the native voice taken from the clip."
    )
    description: str = strawberry.field(default="", description="Key features, ≤ 500 chars.")
    library: str | None = strawberry.field(
        default=None, description="The library to create it in: " + LIBRARY_ARGUMENT
    )


@strawberry.type
class VideoElementMutation:
    @strawberry_django.mutation(
        description="Create a character from a 3–8 s window of a video. The element comes "
        "back PROCESSING (counted against your element limit); a background job picks its "
        "keyframes and native voice and makes it ACTIVE, or FAILED with a code (NO_FACE, "
        "MULTIPLE_PEOPLE, KEYFRAMES_DIFFERENT_IDENTITY). Follow `progress` on the element."
    )
    def video_element_create(
        self,
        info: Info,
        input: Annotated[
            VideoElementCreateInput,
            strawberry.argument(description="The video clip and the new element."),
        ],
    ) -> ElementResult:
        result = video_element_create(
            owner=require_user(info),
            name=input.name,
            video=input.video,
            trim_start=input.trim_start,
            trim_end=input.trim_end,
            consent_statement=input.consent_statement,
            description=input.description,
            library=library_argument(info, input.library),
        )
        return ElementResult(element=result.element)  # type: ignore[arg-type]
