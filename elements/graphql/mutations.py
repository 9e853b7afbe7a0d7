"""Element library mutations. Files arrive through the GraphQL multipart request spec; each
mutation returns its result or an `OperationInfo` whose messages carry stable codes from
`elements.error_codes` and `elements.media.errors`."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import require_user
from elements import services
from elements.error_codes import ElementErrorCode
from elements.graphql.hooks import history_still
from elements.graphql.libraries import LIBRARY_ARGUMENT, library_argument
from elements.graphql.types import (
    ElementNode,
    ElementTypeEnum,
    QualityWarning,
    ReferenceImageNode,
    VoiceNode,
)
from elements.media.audio import QualityWarning as MediaQualityWarning
from elements.models import ImageOrigin
from elementsite.ids import node_pk


def quality_warnings(warnings: tuple[MediaQualityWarning, ...]) -> list[QualityWarning]:
    """The media checks' remarks as GraphQL objects."""
    return [QualityWarning(code=w.code, message=w.message) for w in warnings]


@strawberry.input(description="A new voice sample: 5–30 s of one speaker.")
class VoiceSampleInput:
    file: Upload = strawberry.field(
        description="mp3, wav, m4a, aac, ogg, flac, or the audio track of mp4/mov/webm."
    )
    name: str = strawberry.field(description="A name for the voice, 1–60 characters.")
    consent_statement: str = strawberry.field(
        description="Your statement that you may use this voice; it is recorded with the time."
    )
    language: str = strawberry.field(default="", description="Language tag, e.g. `en`.")
    style_tags: list[str] = strawberry.field(
        default_factory=list, description="Style tags, e.g. calm, warm."
    )
    library: str | None = strawberry.field(
        default=None,
        description="`voiceUpload` only: the library to keep the voice in, "
        + LIBRARY_ARGUMENT
        + " A sample given with an element goes to the element's library.",
    )

    def to_service(self) -> services.VoiceUpload:
        return services.VoiceUpload(
            file=self.file,
            name=self.name,
            consent_statement=self.consent_statement,
            language=self.language,
            style_tags=tuple(self.style_tags),
        )


@strawberry.input(
    description="The voice of a new character: an existing one, a new sample, or none."
)
class VoiceChoiceInput:
    voice_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of your voices or a Voice Library preset."
    )
    sample: VoiceSampleInput | None = strawberry.field(
        default=None, description="A new sample to upload."
    )


@strawberry.input(description="An image from your generation history.")
class HistoryImageInput:
    output_id: strawberry.ID = strawberry.field(description="A GenerationOutput of yours.")
    at: float | None = strawberry.field(
        default=None, description="For a video: the time of the frame, in seconds (default 0)."
    )


def _history_image(info: Info, source: HistoryImageInput) -> Any:
    # The history is generation's; it plugs the still in (elements.graphql.hooks).
    return history_still(info, output_id=source.output_id, at=source.at)


def _one_image(
    upload: Any, history: HistoryImageInput | None, info: Info, field: str
) -> tuple[Any, str]:
    """The file and its origin: an upload or a still of the user's history, exactly one."""
    if (upload is None) == (history is None):
        raise ValidationError(
            {
                field: ValidationError(
                    "Give either a file or an image from your history.",
                    code=ElementErrorCode.IMAGE_SOURCE_CONFLICT,
                )
            }
        )
    if history is not None:
        return _history_image(info, history), ImageOrigin.HISTORY
    return upload, ImageOrigin.UPLOAD


@strawberry.input(description="A new multi-image element.")
class ElementCreateInput:
    name: str = strawberry.field(description="Unique in your library ignoring case; ≤ 40 chars.")
    type: ElementTypeEnum = strawberry.field(description="What the element is.")
    main_image: Upload | None = strawberry.field(
        default=None, description="The main reference image (front-facing), uploaded."
    )
    main_image_from_history: HistoryImageInput | None = strawberry.field(
        default=None, description="Or the main image from your generation history."
    )
    extra_images: list[Upload] = strawberry.field(description="1–3 supplementary images.")
    description: str = strawberry.field(default="", description="Key features, ≤ 500 chars.")
    voice: VoiceChoiceInput | None = strawberry.field(
        default=None, description="Characters only: the voice to bind; none if omitted."
    )
    library: str | None = strawberry.field(
        default=None, description="The library to create it in: " + LIBRARY_ARGUMENT
    )
    multi_view: bool = strawberry.field(
        default=False,
        description="Fill the free supplementary slots with AI multi-view completion, queued "
        "with the element (priced like `elementMultiViewComplete`): the main image alone is "
        "then enough. Refused, with nothing created, when it can't be paid for.",
    )


@strawberry.input(description="Changes to an element; omitted fields stay as they are.")
class ElementUpdateInput:
    id: strawberry.ID = strawberry.field(description="The element.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    type: ElementTypeEnum | None = strawberry.field(default=None, description="A new type.")
    description: str | None = strawberry.field(default=None, description="A new description.")


@strawberry.input(description="An element to act on.")
class ElementIdInput:
    id: strawberry.ID = strawberry.field(description="The element.")


@strawberry.input(description="An image to add to an element.")
class ElementImageAddInput:
    element_id: strawberry.ID = strawberry.field(description="The element.")
    file: Upload | None = strawberry.field(
        default=None, description="JPEG, PNG or WebP; at least 300 px a side."
    )
    from_history: HistoryImageInput | None = strawberry.field(
        default=None, description="Or an image (or video frame) from your history."
    )


@strawberry.input(description="An image of an element.")
class ElementImageInput:
    element_id: strawberry.ID = strawberry.field(description="The element.")
    image_id: strawberry.ID = strawberry.field(description="One of its images.")


@strawberry.input(description="A new file for one image of an element.")
class ElementImageReplaceInput:
    element_id: strawberry.ID = strawberry.field(description="The element.")
    image_id: strawberry.ID = strawberry.field(description="The image to replace.")
    file: Upload = strawberry.field(description="JPEG, PNG or WebP; at least 300 px a side.")


@strawberry.input(description="A new order of an element's supplementary images.")
class ElementImageReorderInput:
    element_id: strawberry.ID = strawberry.field(description="The element.")
    image_ids: list[strawberry.ID] = strawberry.field(
        description="Every supplementary image once, in the new order."
    )


@strawberry.input(description="A voice to bind to a character.")
class ElementVoiceBindInput:
    element_id: strawberry.ID = strawberry.field(description="The character element.")
    voice_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of your voices or a preset."
    )
    sample: VoiceSampleInput | None = strawberry.field(
        default=None, description="Or a new sample to upload and bind."
    )


@strawberry.input(description="A voice to delete.")
class VoiceIdInput:
    id: strawberry.ID = strawberry.field(description="One of your voices.")


@strawberry.type(description="The element after the change.")
class ElementResult:
    element: ElementNode = strawberry.field(description="The element.")


@strawberry.type(description="The element and the image that was added or replaced.")
class ElementImageResult:
    element: ElementNode = strawberry.field(description="The element.")
    image: ReferenceImageNode = strawberry.field(description="The new image.")


@strawberry.type(description="What was deleted.")
class DeleteResult:
    deleted_id: relay.GlobalID = strawberry.field(description="The global id that is gone.")


@strawberry.type(description="The stored voice and advice on the sample.")
class VoiceUploadResult:
    voice: VoiceNode = strawberry.field(description="The new voice.")
    warnings: list[QualityWarning] = strawberry.field(
        description="Quality remarks (silence, clipping, noise); empty if none."
    )


def _reload(element_id: int) -> ElementNode:
    from elements.models import Element

    return Element.objects.get(pk=element_id)  # type: ignore[return-value]


def element_create_fields(info: Info, input: ElementCreateInput) -> dict[str, Any]:
    """The arguments of `elements.services.element_create` for an `elementCreate` input
    (the `multiView` choice aside). The mutation itself is generation's
    (`generation.graphql.multiview`): its payload can name the multi-view job."""
    voice = input.voice or VoiceChoiceInput()
    main_image, main_origin = _one_image(
        input.main_image, input.main_image_from_history, info, "mainImage"
    )
    return dict(
        owner=require_user(info),
        library=library_argument(info, input.library),
        name=input.name,
        element_type=input.type.value,
        description=input.description,
        main_image=main_image,
        main_origin=main_origin,
        extra_images=list(input.extra_images),
        voice_id=node_pk(voice.voice_id, VoiceNode) if voice.voice_id is not None else None,
        voice_upload=voice.sample.to_service() if voice.sample else None,
    )


@strawberry.type
class ElementMutation:
    # `elementCreate` and `elementVoiceBind` answer with `ElementWithWarningsResult`, which
    # names a generation job: they are generation's (`generation.graphql.multiview`).

    @strawberry_django.mutation(description="Rename, retype or redescribe an element.")
    def element_update(
        self,
        info: Info,
        input: Annotated[
            ElementUpdateInput,
            strawberry.argument(description="The element and the fields to change."),
        ],
    ) -> ElementResult:
        owner = require_user(info)
        changes = {}
        if input.name is not None:
            changes["name"] = input.name
        if input.type is not None:
            changes["element_type"] = input.type.value
        if input.description is not None:
            changes["description"] = input.description
        element = services.element_update(
            owner=owner, element_id=node_pk(input.id, ElementNode), **changes
        )
        return ElementResult(element=element)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Delete an element and its images.")
    def element_delete(
        self,
        info: Info,
        input: Annotated[ElementIdInput, strawberry.argument(description="The element to delete.")],
    ) -> DeleteResult:
        pk = node_pk(input.id, ElementNode)
        services.element_delete(owner=require_user(info), element_id=pk)
        return DeleteResult(deleted_id=relay.GlobalID("Element", str(pk)))

    @strawberry_django.mutation(description="Add a supplementary image (4 images at most).")
    def element_image_add(
        self,
        info: Info,
        input: Annotated[
            ElementImageAddInput,
            strawberry.argument(description="The element and the image to add."),
        ],
    ) -> ElementImageResult:
        element_id = node_pk(input.element_id, ElementNode)
        file, origin = _one_image(input.file, input.from_history, info, "file")
        image = services.element_image_add(
            owner=require_user(info), element_id=element_id, file=file, origin=origin
        )
        return ElementImageResult(element=_reload(image.element_id), image=image)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Replace the file of one image.")
    def element_image_replace(
        self,
        info: Info,
        input: Annotated[
            ElementImageReplaceInput, strawberry.argument(description="The image and its new file.")
        ],
    ) -> ElementImageResult:
        image = services.element_image_replace(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            image_id=node_pk(input.image_id, ReferenceImageNode),
            file=input.file,
        )
        return ElementImageResult(element=_reload(image.element_id), image=image)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Remove a supplementary image (2 images at least).")
    def element_image_remove(
        self,
        info: Info,
        input: Annotated[
            ElementImageInput, strawberry.argument(description="The image to remove.")
        ],
    ) -> ElementResult:
        element = services.element_image_remove(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            image_id=node_pk(input.image_id, ReferenceImageNode),
        )
        return ElementResult(element=element)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Make an image the main one.")
    def element_image_set_main(
        self,
        info: Info,
        input: Annotated[
            ElementImageInput, strawberry.argument(description="The image to make the main one.")
        ],
    ) -> ElementResult:
        element = services.element_image_set_main(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            image_id=node_pk(input.image_id, ReferenceImageNode),
        )
        return ElementResult(element=element)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Order the supplementary images.")
    def element_image_reorder(
        self,
        info: Info,
        input: Annotated[
            ElementImageReorderInput,
            strawberry.argument(
                description="The element's supplementary images in their new order."
            ),
        ],
    ) -> ElementResult:
        element = services.element_image_reorder(
            owner=require_user(info),
            element_id=node_pk(input.element_id, ElementNode),
            image_ids=[node_pk(i, ReferenceImageNode) for i in input.image_ids],
        )
        return ElementResult(element=element)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Upload a voice sample (with your consent).")
    def voice_upload(
        self,
        info: Info,
        input: Annotated[VoiceSampleInput, strawberry.argument(description="The voice sample.")],
    ) -> VoiceUploadResult:
        result = services.voice_upload(
            owner=require_user(info),
            upload=input.to_service(),
            library=library_argument(info, input.library),
        )
        return VoiceUploadResult(voice=result.voice, warnings=quality_warnings(result.warnings))  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Delete one of your voices; characters lose it.")
    def voice_delete(
        self,
        info: Info,
        input: Annotated[VoiceIdInput, strawberry.argument(description="The voice to delete.")],
    ) -> DeleteResult:
        pk = node_pk(input.id, VoiceNode)
        services.voice_delete(owner=require_user(info), voice_id=pk)
        return DeleteResult(deleted_id=relay.GlobalID("Voice", str(pk)))

    @strawberry_django.mutation(description="Remove a character's voice.")
    def element_voice_unbind(
        self,
        info: Info,
        input: Annotated[
            ElementIdInput, strawberry.argument(description="The character whose voice to unbind.")
        ],
    ) -> ElementResult:
        element = services.voice_unbind(
            owner=require_user(info), element_id=node_pk(input.id, ElementNode)
        )
        return ElementResult(element=element)  # type: ignore[arg-type]
