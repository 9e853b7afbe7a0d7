"""GraphQL of the AI assists: subject-type detection and auto-description (queries: nothing
is stored). Errors come back as `OperationInfo` with stable codes, like the mutations'.
Multi-view completion is a generation job: its mutation is generation's
(`generation.graphql.multiview`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elements.assists import services
from elements.graphql.types import ElementNode, SubjectTypeSuggestion
from elementsite.ids import node_pk


@strawberry.type(description="A description to keep (with `elementUpdate`) or edit.")
class ElementDescriptionSuggestion:
    description: str = strawberry.field(
        description="At most 100 characters, only what the analysis measured."
    )


@strawberry.type
class AssistQuery:
    # `strawberry_django.mutation` is the field class that turns ValidationError into
    # OperationInfo; as a query field it stores nothing.
    @strawberry_django.mutation(
        description="Suggest an element type for an image (validated like a reference "
        "image); nothing is stored."
    )
    def subject_type_detect(
        self,
        info: Info,
        image: Annotated[Upload, strawberry.argument(description="JPEG, PNG or WebP.")],
    ) -> SubjectTypeSuggestion:
        require_user(info)
        return SubjectTypeSuggestion.of(services.subject_type_detect(upload=image))

    @strawberry_django.mutation(
        description="Describe one of your elements from its main image (≤ 100 characters); "
        "nothing is stored until you save it with `elementUpdate`."
    )
    def element_describe(
        self,
        info: Info,
        element_id: Annotated[strawberry.ID, strawberry.argument(description="The element.")],
    ) -> ElementDescriptionSuggestion:
        description = services.element_describe(
            owner=require_user(info), element_id=node_pk(element_id, ElementNode)
        )
        return ElementDescriptionSuggestion(description=description)
