"""GraphQL of the AI assists: subject-type detection and auto-description (queries: nothing
is stored) and multi-view completion (a mutation that returns the queued job). Errors come
back as `OperationInfo` with stable codes, like the mutations'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elements.assists import services
from elements.graphql.types import ElementNode, SubjectTypeSuggestion
from elementsite.ids import node_pk

if TYPE_CHECKING:
    from generation.graphql.types import GenerationJobNode


@strawberry.type(description="A description to keep (with `elementUpdate`) or edit.")
class ElementDescriptionSuggestion:
    description: str = strawberry.field(
        description="At most 100 characters, only what the analysis measured."
    )


@strawberry.type(description="The queued multi-view completion.")
class MultiViewJobResult:
    job: Annotated[GenerationJobNode, strawberry.lazy("generation.graphql.types")] = (
        strawberry.field(description="The job: its progress and status, like a generation job.")
    )
    free_use: bool = strawberry.field(description="Whether one of today's free uses paid it.")
    credits_charged: int = strawberry.field(description="Credits it cost (0 when free).")


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


@strawberry.input(description="An element to complete with more views.")
class ElementMultiViewCompleteInput:
    element_id: strawberry.ID = strawberry.field(description="The element.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A key of yours (e.g. a UUID, up to 100 characters) for this request: "
        "sending it again within 24 h returns the same job and takes no second free use or "
        "charge; the same key with another element is refused with IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.type
class AssistMutation:
    @strawberry_django.mutation(
        description="Fill an element's free supplementary slots (up to 3) with views made "
        "from its main image, as a job. Free for members' first uses of the day, then "
        "priced in credits (see `me`); given back if the job fails."
    )
    def element_multi_view_complete(
        self,
        info: Info,
        input: Annotated[
            ElementMultiViewCompleteInput,
            strawberry.argument(description="The element to complete."),
        ],
    ) -> MultiViewJobResult:
        from generation.models import GenerationJob

        job = services.element_multiview_complete(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            idempotency_key=input.idempotency_key,
        )
        return MultiViewJobResult(
            job=GenerationJob.objects.get(pk=job.pk),  # type: ignore[arg-type]
            free_use=job.free_use_day is not None,
            credits_charged=job.credits_charged,
        )
