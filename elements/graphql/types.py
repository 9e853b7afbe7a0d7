"""GraphQL types of the element library. Every type is scoped in `get_queryset` to what the
viewer may see (`elements.teams.policy`: their own library and their teams'), and relay
`node(id:)` lookups go through it too. What the viewer may do to a row of a team's library is
read from their roles, loaded once per request (`elements.graphql.libraries`)."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import current_user
from elements import models
from elements.graphql.hooks import LazyUsage, usage_for
from elements.graphql.libraries import library_label, viewer_actions
from elements.identity.base import IdentityWarningCode
from elements.identity.services import element_identity_check, images_with_descriptors
from elements.media_urls import media_url
from elements.teams.policy import Action, library_scope
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.relay import PkNodeID

# The models' TextChoices are the GraphQL enums: same names and values, labels as descriptions.
choices_enum(models.ElementType, name="ElementType", description="What an element is.")
choices_enum(models.ElementSource, description="What an element was made from.")
choices_enum(models.ElementStatus, description="Whether an element can be used and edited.")
choices_enum(models.ImageRole, description="The part an image plays in its element.")
choices_enum(models.ImageOrigin, description="Where a reference image came from.")
choices_enum(models.VoiceSource, description="Where a voice came from.")
choices_enum(models.VoiceStatus, description="Whether a voice can be used.")
ElementTypeEnum = models.ElementType
ElementSource = models.ElementSource
ElementStatus = models.ElementStatus
ImageRole = models.ImageRole
ImageOrigin = models.ImageOrigin
VoiceSource = models.VoiceSource
VoiceStatus = models.VoiceStatus


def _viewer_id(info: Info) -> int | None:
    user = current_user(info)
    return user.pk if user is not None else None


def _request(info: Info) -> Any:
    return info.context.request


@strawberry.type(description="A remark on a voice sample's quality; it never blocks the upload.")
class QualityWarning:
    code: str = strawberry.field(
        description="MOSTLY_SILENT, CLIPPING, TOO_QUIET, NOISY or MULTIPLE_SPEAKERS."
    )
    message: str = strawberry.field(description="What to do about it.")


@strawberry.type(description="Measurements of a voice sample.")
class VoiceQuality:
    silence_ratio: float = strawberry.field(description="Share of the sample that is silent.")
    clipping_ratio: float = strawberry.field(description="Share of samples at full scale.")
    loudness_dbfs: float = strawberry.field(description="Overall loudness in dBFS.")
    noise_floor_dbfs: float = strawberry.field(description="Rough background noise level.")
    speech_ratio: float = strawberry.field(
        description="Share of the sample a voice-activity detector calls speech (0–1)."
    )
    warnings: list[QualityWarning] = strawberry.field(description="Advice for a better sample.")

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> VoiceQuality | None:
        if not report:
            return None
        return cls(
            silence_ratio=float(report.get("silence_ratio", 0.0)),
            clipping_ratio=float(report.get("clipping_ratio", 0.0)),
            loudness_dbfs=float(report.get("loudness_dbfs", 0.0)),
            noise_floor_dbfs=float(report.get("noise_floor_dbfs", 0.0)),
            speech_ratio=float(report.get("speech_ratio", 0.0)),
            warnings=[
                QualityWarning(code=w["code"], message=w["message"])
                for w in report.get("warnings", [])
            ],
        )


@strawberry_django.type(models.Voice, name="Voice")
class VoiceNode(PkNodeID, relay.Node):
    """A voice: one of the viewer's own samples or a preset of the shared Voice Library."""

    name: str = column(description="The voice's name.")
    duration_ms: int = column(description="Length of the sample in ms.")
    language: str = column(description="Language tag, e.g. `en`; may be empty.")
    style_tags: list[str] = column(description="Style tags, e.g. calm, warm.")
    source: VoiceSource = column(description="Where the voice came from.")
    status: VoiceStatus = column(description="Whether it can be used.")
    taken_down_reason: str = column(description="Why moderation took it down; empty while active.")
    created_at: datetime.datetime = column(description="When it was added.")

    @strawberry_django.field(description="Whether this is a shared preset.", only=["owner_id"])
    def is_preset(self, root: models.Voice) -> bool:
        return root.owner_id is None

    @strawberry_django.field(
        description="Where the voice is: your own library (`me`) or a team's handle; null "
        "for presets.",
        only=["owner_id", "team_id"],
    )
    def library_qualifier(self, root: models.Voice, info: Info) -> str | None:
        if root.owner_id is None:
            return None
        return library_label(info, root.team_id)[0]

    @strawberry_django.field(
        description="A short-lived URL of the normalized audio (WAV); null when your role in "
        "the voice's team library does not let you download voices.",
        only=["audio", "owner_id", "team_id"],
    )
    def audio_url(self, root: models.Voice, info: Info) -> str | None:
        if root.owner_id is None:  # a preset: any logged-in user
            return media_url(root.audio.name, owner_id=None, request=_request(info))
        actions = viewer_actions(info, owner_id=root.owner_id, team_id=root.team_id)
        if Action.DOWNLOAD_VOICE not in actions:
            return None
        # Signed for the viewer; the media view asks the policy again on every request.
        return media_url(
            root.audio.name, owner_id=_viewer_id(info), request=_request(info), voice_id=root.pk
        )

    @strawberry_django.field(
        description="The sample's quality report; null for presets.", only=["quality"]
    )
    def quality(self, root: models.Voice) -> VoiceQuality | None:
        return VoiceQuality.from_report(root.quality)

    @strawberry_django.field(
        description="When the uploader recorded their consent; null for presets.",
        only=["consent_at"],
    )
    def consent_at(self, root: models.Voice) -> datetime.datetime | None:
        return root.consent_at

    @strawberry_django.field(
        description="Where the viewer's own voice went: jobs, shared works, recreations; "
        "null for presets.",
        only=["audio", "owner_id"],
    )
    def usage(self, root: models.Voice, info: Info) -> LazyUsage | None:
        return usage_for(info, owner_id=root.owner_id, voice_file=root.audio.name)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        user = current_user(info)
        if user is None:
            return queryset.none()
        # The voices of the viewer's libraries in any state (so they see a takedown),
        # presets only while active.
        return queryset.filter(
            library_scope(user, Action.VIEW)
            | Q(owner__isnull=True, status=models.VoiceStatus.ACTIVE)
        )


@strawberry_django.type(models.ReferenceImage, name="ReferenceImage")
class ReferenceImageNode(PkNodeID, relay.Node):
    """One reference image of an element."""

    role: ImageRole = column(description="Main or supplementary.")
    position: int = column(description="0 for the main image, then 1–3.")
    width: int = column(description="Width in pixels.")
    height: int = column(description="Height in pixels.")
    sha256: str = column(description="SHA-256 of the stored image.")
    origin: ImageOrigin = column(description="Where the image came from.")

    # get_queryset lets through only images of elements the viewer may see: the URL is
    # signed for the viewer and names the element, whose policy the media view asks again.
    @strawberry_django.field(
        description="A short-lived URL of the image.", only=["image", "element_id"]
    )
    def url(self, root: models.ReferenceImage, info: Info) -> str:
        return media_url(
            root.image.name,
            owner_id=_viewer_id(info),
            request=_request(info),
            element_id=root.element_id,
        )

    @strawberry_django.field(
        description="A short-lived URL of a small preview.", only=["thumbnail", "element_id"]
    )
    def thumbnail_url(self, root: models.ReferenceImage, info: Info) -> str:
        return media_url(
            root.thumbnail.name,
            owner_id=_viewer_id(info),
            request=_request(info),
            element_id=root.element_id,
        )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        user = current_user(info)
        if user is None:
            return queryset.none()
        return queryset.filter(library_scope(user, Action.VIEW, "element__"))


@strawberry.type(description="A suggested element type and what the detector saw.")
class SubjectTypeSuggestion:
    type: ElementTypeEnum = strawberry.field(description="The suggested type.")
    confidence: float = strawberry.field(description="How sure the detector is, 0–1.")
    evidence: str = strawberry.field(description="What was found, e.g. “1 frontal face”.")

    @classmethod
    def of(cls, found: Any) -> SubjectTypeSuggestion:
        return cls(
            type=ElementTypeEnum(found.type), confidence=found.confidence, evidence=found.evidence
        )


ElementWarningCode = choices_enum(
    IdentityWarningCode,
    name="ElementWarningCode",
    description="What an element warning is about.",
    value_descriptions={
        "IMAGES_DIFFERENT_IDENTITY": "The image seems to show another person than the main one.",
        "FACE_TOO_SMALL": "The image's faces are under 40 px, too small to tell who it is.",
    },
)


@strawberry.type(description="A remark on one image of an element; it never blocks its use.")
class ElementWarning:
    code: ElementWarningCode = strawberry.field(  # type: ignore[valid-type]
        description="IMAGES_DIFFERENT_IDENTITY (the image seems to show another person than "
        "the main image) or FACE_TOO_SMALL (its face is under 40 px, too small to tell)."
    )
    message: str = strawberry.field(description="What is wrong and what to do about it.")
    image: ReferenceImageNode = strawberry.field(description="The image it is about.")
    distance: float | None = strawberry.field(
        description="For IMAGES_DIFFERENT_IDENTITY: how far its face is from the main image's "
        "(0 identical; above 0.6 taken for another person)."
    )


@strawberry.type(description="Whether an element's images show one identity.")
class IdentityCheck:
    pending: bool = strawberry.field(
        description="Some image is still being described: the warnings may grow."
    )
    warnings: list[ElementWarning] = strawberry.field(
        description="One per image that seems off; empty when all agree."
    )


@strawberry.type(description="What the viewer's role lets them do to an element.")
class ElementPermissions:
    edit: bool = strawberry.field(description="Change it, its images and its voice.")
    delete: bool = strawberry.field(description="Delete it.")
    download_voice: bool = strawberry.field(description="Download its bound voice's audio.")
    use: bool = strawberry.field(description="Mention it and use it in generation.")


@strawberry_django.type(models.Element, name="Element")
class ElementNode(PkNodeID, relay.Node):
    """A reusable character, prop or scene of one of the viewer's libraries (their own or a
    team's)."""

    name: str = column(description="Unique in the library; mention it as `[@Name]`.")
    type: ElementTypeEnum = column(description="What the element is.")
    description: str = column(description="Key features, typed or AI-made.")
    source: ElementSource = column(description="Images or a video.")
    status: ElementStatus = column(
        description="ACTIVE (ready to use), PROCESSING (a video element being prepared), "
        "BLOCKED by moderation, FAILED (a video element that could not be made), or HELD "
        "(it shows a person who claimed their likeness and has not allowed you)."
    )
    blocked_reason: str = column(description="Why moderation blocked it; empty unless blocked.")
    version: int = column(description="Grows by one on every change.")
    created_at: datetime.datetime = column(description="When it was created.")
    updated_at: datetime.datetime = column(description="When it last changed.")
    voice: VoiceNode | None = strawberry_django.field(
        description="The bound voice (characters only); null for none."
    )
    voice_notice: str = column(
        description="Why a bound voice went away (deleted or taken down); empty otherwise."
    )
    images: list[ReferenceImageNode] = strawberry_django.field(
        description="The reference images, main image first."
    )
    progress: int = column(
        description="A video element's processing progress, 0–100; 100 once ready or failed."
    )
    failure_code: str = column(
        description="Why a video element failed (NO_FACE, MULTIPLE_PEOPLE, "
        "KEYFRAMES_DIFFERENT_IDENTITY, VIDEO_PROCESSING_FAILED); empty otherwise."
    )
    failure_message: str = column(description="What went wrong, for the owner; empty if none.")
    trim_start: float | None = column(
        description="A video element's trim window: its start, in seconds of the upload."
    )
    trim_end: float | None = column(
        description="A video element's trim window: its end, in seconds of the upload."
    )

    # The type's get_queryset admits only elements the viewer may see: the URL is signed for
    # the viewer and names the element, whose policy the media view asks again.
    @strawberry_django.field(
        description="A short-lived URL of a video element's trimmed clip (H.264/AAC MP4); "
        "null before processing has made it, and for image elements.",
        only=["clip"],
    )
    def clip_url(self, root: models.Element, info: Info) -> str | None:
        if not root.clip.name:
            return None
        return media_url(
            root.clip.name, owner_id=_viewer_id(info), request=_request(info), element_id=root.pk
        )

    @strawberry_django.field(
        description='Its library: "me" (your own) or the team\'s handle.', only=["team_id"]
    )
    def library_qualifier(self, root: models.Element, info: Info) -> str:
        return library_label(info, root.team_id)[0]

    @strawberry_django.field(
        description="Its library's name: the team's, or “Personal”.", only=["team_id"]
    )
    def library_name(self, root: models.Element, info: Info) -> str:
        return library_label(info, root.team_id)[1]

    @strawberry_django.field(
        description="The mention naming its library: `[@Hero@studio-nine]` or `[@Hero@me]`.",
        only=["name", "team_id"],
    )
    def qualified_mention(self, root: models.Element, info: Info) -> str:
        return f"[@{root.name}@{library_label(info, root.team_id)[0]}]"

    @strawberry_django.field(
        description="What your role lets you do to it.", only=["owner_id", "team_id"]
    )
    def viewer_can(self, root: models.Element, info: Info) -> ElementPermissions:
        actions = viewer_actions(info, owner_id=root.owner_id, team_id=root.team_id)
        return ElementPermissions(
            edit=Action.EDIT in actions,
            delete=Action.EDIT in actions,
            download_voice=Action.DOWNLOAD_VOICE in actions,
            use=Action.USE in actions,
        )

    @strawberry_django.field(
        description="Where this element went: the jobs that used it, the works shared from "
        "them and how often those were recreated.",
        only=["owner_id"],
    )
    def usage(self, root: models.Element, info: Info) -> LazyUsage | None:
        return usage_for(info, owner_id=root.owner_id, element_id=root.pk)

    @strawberry_django.field(
        description="The type subject detection suggested for the main image when it was "
        "uploaded (`type` is what the owner chose); null if detection did not run.",
        only=["detected_type", "detected_confidence", "detected_evidence"],
    )
    def detected_subject(self, root: models.Element) -> SubjectTypeSuggestion | None:
        if not root.detected_type:
            return None
        return SubjectTypeSuggestion(
            type=ElementTypeEnum(root.detected_type),
            confidence=root.detected_confidence or 0.0,
            evidence=root.detected_evidence,
        )

    @strawberry_django.field(
        description="Whether the element's images show one identity (characters: one "
        "person), measured on each image after upload.",
        only=["type"],
        prefetch_related=[images_with_descriptors()],
    )
    def identity_check(self, root: models.Element) -> IdentityCheck:
        found = element_identity_check(root)
        return IdentityCheck(
            pending=found.pending,
            warnings=[
                ElementWarning(
                    code=w.code,
                    message=w.message,
                    image=w.image,  # type: ignore[arg-type]
                    distance=w.distance,
                )
                for w in found.warnings
            ],
        )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        user = current_user(info)
        if user is None:
            return queryset.none()
        return queryset.filter(library_scope(user, Action.VIEW))


@strawberry.type(description="One element type and its label, for pickers.")
class ElementTypeInfo:
    value: ElementTypeEnum = strawberry.field(description="The enum value.")
    label: str = strawberry.field(description="The name shown to users.")
    can_have_voice: bool = strawberry.field(description="Whether elements of it can speak.")
