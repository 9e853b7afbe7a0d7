"""GraphQL of multi-view completion jobs: `elementMultiViewComplete`, and the element
mutations whose payload can name the job (`elementCreate` with `multiView`, and
`elementVoiceBind`, which shares its payload `ElementWithWarningsResult`).

They are generation's because the payload names `GenerationJobNode` and elements never
imports generation; the elements themselves are still made and changed by elements'
services (`elements.services.element_create`, `voice_bind`), the jobs by
`generation.multiview`. Names, arguments and payloads are those the elements app had.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elements import services as element_services
from elements.graphql.mutations import (
    ElementCreateInput,
    ElementVoiceBindInput,
    element_create_fields,
    quality_warnings,
)
from elements.graphql.types import ElementNode, QualityWarning, VoiceNode
from elementsite.ids import node_pk
from generation.graphql.types import GenerationJobNode
from generation.models import GenerationJob
from generation.multiview import element_create_with_multiview, multiview_job_create


@strawberry.type(description="The element and any advice on its voice sample.")
class ElementWithWarningsResult:
    element: ElementNode = strawberry.field(description="The element.")
    voice_warnings: list[QualityWarning] = strawberry.field(
        description="Quality remarks on an uploaded voice sample; empty if none."
    )
    multi_view_job: GenerationJobNode | None = strawberry.field(
        default=None,
        description="The AI multi-view completion queued with the element "
        "(`elementCreate` with `multiView`); null otherwise.",
    )


@strawberry.type(description="The queued multi-view completion.")
class MultiViewJobResult:
    job: GenerationJobNode = strawberry.field(
        description="The job: its progress and status, like a generation job."
    )
    free_use: bool = strawberry.field(description="Whether one of today's free uses paid it.")
    credits_charged: int = strawberry.field(description="Credits it cost (0 when free).")


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
class MultiViewMutation:
    @strawberry_django.mutation(description="Create a multi-image element (free).")
    def element_create(
        self,
        info: Info,
        input: Annotated[
            ElementCreateInput, strawberry.argument(description="The new element and its images.")
        ],
    ) -> ElementWithWarningsResult:
        fields = element_create_fields(info, input)
        job = None
        if input.multi_view:
            result, queued = element_create_with_multiview(**fields)
            job = GenerationJob.objects.get(pk=queued.pk)
        else:
            result = element_services.element_create(**fields)
        return ElementWithWarningsResult(
            element=result.element,  # type: ignore[arg-type]
            voice_warnings=quality_warnings(result.voice_warnings),
            multi_view_job=job,  # type: ignore[arg-type]
        )

    @strawberry_django.mutation(description="Bind a voice to a character.")
    def element_voice_bind(
        self,
        info: Info,
        input: Annotated[
            ElementVoiceBindInput,
            strawberry.argument(description="The character and the voice to bind to it."),
        ],
    ) -> ElementWithWarningsResult:
        element, warnings = element_services.voice_bind(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            voice_id=node_pk(input.voice_id, VoiceNode) if input.voice_id is not None else None,
            upload=input.sample.to_service() if input.sample else None,
        )
        return ElementWithWarningsResult(element=element, voice_warnings=quality_warnings(warnings))  # type: ignore[arg-type]

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
        job = multiview_job_create(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            idempotency_key=input.idempotency_key,
        )
        return MultiViewJobResult(
            job=GenerationJob.objects.get(pk=job.pk),  # type: ignore[arg-type]
            free_use=job.free_use_day is not None,
            credits_charged=job.credits_charged,
        )
