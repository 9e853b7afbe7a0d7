"""The element library: elements, their reference images, and voices.

Rules within one row live here as constraints; rules across rows (the tier limit, 2–4
images, only characters speak) live in `elements.services`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from elements.teams.deletion import hand_over_team_rows
from elements.teams.models import (  # noqa: F401  (the app's models, loaded with it)
    InvitationStatus,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
)

ELEMENT_NAME_MAX = 40
ELEMENT_DESCRIPTION_MAX = 500
# Characters that would break a `[@Name]` mention, or a line of a prompt.
ELEMENT_NAME_FORBIDDEN = ("[", "]", "@", "\n", "\r")
MAX_IMAGES = 4
MIN_IMAGES = 2


class PrefixIndex(models.Index):
    """An index for `LIKE 'prefix%'` on its last expression (with the ones before it equal).

    PostgreSQL uses a plain b-tree for a prefix match only under the "C" collation; with the
    pattern operator class it does whatever the database's collation is, so the last
    expression gets `text_pattern_ops` there. Other databases get the plain index (SQLite's
    `LIKE` prefix uses neither; the owner's rows are few)."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        from django.contrib.postgres.indexes import OpClass
        from django.db.models import OrderBy
        from django.db.models.functions import Collate
        from django.db.models.indexes import IndexExpression

        # What `django.contrib.postgres` does when installed: an operator class goes after
        # the parenthesized expression, not inside it. (The stubs want instances; Django
        # passes the classes.)
        IndexExpression.register_wrappers(OrderBy, OpClass, Collate)  # type: ignore[arg-type]
        *leading, last = self.expressions
        index = models.Index(*leading, OpClass(last, name="text_pattern_ops"), name=self.name)
        return index.create_sql(model, schema_editor, using=using, **kwargs)


class ElementType(models.TextChoices):
    CHARACTER = "character", "Character"
    ANIMAL = "animal", "Animal"
    PROP = "prop", "Prop"
    COSTUME = "costume", "Costume & accessories"
    SCENE = "scene", "Scene"
    EFFECT = "effect", "Special effect"
    OTHER = "other", "Other"


class ElementSource(models.TextChoices):
    IMAGES = "images", "Reference images"
    VIDEO = "video", "Video"


class ElementStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PROCESSING = "processing", "Processing"
    BLOCKED = "blocked", "Blocked by moderation"
    # A video element whose processing refused the clip (no face, two people…); kept, with
    # its failure, until the owner deletes it.
    FAILED = "failed", "Failed"
    # Its faces match another user's claimed likeness (`elements.likeness`) and that person
    # has not allowed its owner: editable, not usable, until they do.
    HELD = "held", "Held for the likeness owner"


class VoiceSource(models.TextChoices):
    PRESET = "preset", "Voice Library preset"
    UPLOAD = "upload", "Uploaded sample"
    VIDEO = "video", "Extracted from a video"


class VoiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TAKEN_DOWN = "taken_down", "Taken down by moderation"


class Voice(models.Model):
    """A voice a character speaks with: a user's own sample, or a shared preset."""

    # A deleted account's personal voices go with it; its team voices stay in the team
    # (elements.teams.deletion).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=hand_over_team_rows,
        null=True,
        blank=True,
        related_name="voices",
        help_text="The uploader; empty for presets of the shared Voice Library.",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="voices",
        help_text="The team library it belongs to; empty: the uploader's own library.",
    )
    name = models.CharField(max_length=60)
    audio = models.FileField(upload_to="voices/", max_length=200)
    duration_ms = models.PositiveIntegerField(help_text="Length of the normalized audio.")
    sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=16, blank=True, help_text="e.g. `en`, `zh`.")
    style_tags = models.JSONField(default=list, blank=True, help_text="e.g. calm, warm, deep.")
    source = models.CharField(max_length=16, choices=VoiceSource.choices)
    consent_statement = models.TextField(
        blank=True, help_text="The uploader's statement that they may use this voice."
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=VoiceStatus.choices, default=VoiceStatus.ACTIVE
    )
    taken_down_reason = models.CharField(max_length=300, blank=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    quality = models.JSONField(default=dict, blank=True, help_text="The quality report.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(source="preset") & Q(owner__isnull=True))
                | (~Q(source="preset") & Q(owner__isnull=False)),
                name="elements_voice_presets_have_no_owner",
            ),
            models.CheckConstraint(
                condition=Q(source="preset")
                | (~Q(consent_statement="") & Q(consent_at__isnull=False)),
                name="elements_voice_uploads_record_consent",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(taken_down_reason=""),
                name="elements_voice_takedown_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return self.owner_id is None


class Element(models.Model):
    """A reusable character, prop or scene in its owner's library."""

    # A deleted account's personal elements go with it; its team elements stay in the team
    # (elements.teams.deletion).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=hand_over_team_rows,
        related_name="elements",
        help_text="Its library's owner; in a team library, the member who created it.",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="elements",
        help_text="The team library it belongs to; empty: the owner's own library.",
    )
    name = models.CharField(
        max_length=ELEMENT_NAME_MAX, help_text="Unique in its library; `[@Name]`."
    )
    type = models.CharField(max_length=16, choices=ElementType.choices, default=ElementType.OTHER)
    description = models.TextField(blank=True, max_length=ELEMENT_DESCRIPTION_MAX)
    source = models.CharField(
        max_length=16, choices=ElementSource.choices, default=ElementSource.IMAGES
    )
    voice = models.ForeignKey(
        Voice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="elements",
        help_text="The bound voice; characters only.",
    )
    voice_notice = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the bound voice was removed (e.g. taken down), shown to the owner.",
    )
    status = models.CharField(
        max_length=16, choices=ElementStatus.choices, default=ElementStatus.ACTIVE
    )
    blocked_reason = models.CharField(max_length=300, blank=True)
    # --- Video elements (source "video"): see `elements.video_elements`.
    progress = models.PositiveSmallIntegerField(
        default=100, help_text="Processing progress, 0–100; 100 once ready or failed."
    )
    failure_code = models.CharField(
        max_length=40, blank=True, help_text="Why processing failed, e.g. NO_FACE."
    )
    failure_message = models.CharField(max_length=300, blank=True)
    processing_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Deliveries of the processing job that took the element."
    )
    processing_heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the job processing it."
    )
    video_source = models.FileField(
        upload_to="elements/video-sources/",
        max_length=200,
        blank=True,
        help_text="The uploaded video, kept only until processing ends.",
    )
    clip = models.FileField(
        upload_to="elements/clips/",
        max_length=200,
        blank=True,
        help_text="The trimmed clip (H.264/AAC MP4) the element was made from.",
    )
    trim_start = models.FloatField(null=True, blank=True, help_text="Seconds into the upload.")
    trim_end = models.FloatField(null=True, blank=True, help_text="Seconds into the upload.")
    video_consent_statement = models.TextField(
        blank=True, help_text="The uploader's statement that they may use this person's likeness."
    )
    video_report = models.JSONField(
        default=dict, blank=True, help_text="The probe and what the detectors found."
    )
    version = models.PositiveIntegerField(default=1, help_text="Grows on every change.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # What subject-type detection suggested for the main image when it was uploaded; `type`
    # is what the user chose, which may differ.
    detected_type = models.CharField(
        max_length=16,
        choices=ElementType.choices,
        blank=True,
        help_text="The type detection suggested for the main image; empty if none ran.",
    )
    detected_confidence = models.FloatField(null=True, blank=True)
    detected_evidence = models.CharField(
        max_length=200, blank=True, help_text="What the detector saw, e.g. “1 frontal face”."
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"]),
            models.Index(fields=["team", "-updated_at", "-id"]),
            # The `@` picker's prefix match (`selectors.mention_suggestions`); exact-name
            # lookups use the unique constraints' indexes below.
            PrefixIndex(F("owner"), Lower("name"), name="elements_owner_name_prefix"),
            PrefixIndex(F("team"), Lower("name"), name="elements_team_name_prefix"),
        ]
        constraints = [
            # Names are unique per library: the owner's own, or a team's.
            models.UniqueConstraint(
                Lower("name"),
                "owner",
                condition=Q(team__isnull=True),
                name="elements_name_unique_per_owner",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "team",
                condition=Q(team__isnull=False),
                name="elements_name_unique_per_team",
            ),
            models.CheckConstraint(
                condition=Q(name=Trim("name")) & ~Q(name=""),
                name="elements_name_trimmed_not_empty",
            ),
            models.CheckConstraint(
                condition=~Q(name__contains="[")
                & ~Q(name__contains="]")
                & ~Q(name__contains="@")
                & ~Q(name__contains="\n")
                & ~Q(name__contains="\r"),
                name="elements_name_mentionable",
            ),
            models.CheckConstraint(
                condition=Q(voice__isnull=True) | Q(type="character"),
                name="elements_only_characters_have_voices",
            ),
            models.CheckConstraint(
                condition=~Q(status="blocked") | ~Q(blocked_reason=""),
                name="elements_block_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_code=""),
                name="elements_failure_has_code",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="elements_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(source="video")
                | (Q(trim_start__isnull=True) & Q(trim_end__isnull=True) & Q(clip="")),
                name="elements_only_video_elements_have_clips",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImageRole(models.TextChoices):
    MAIN = "main", "Main reference"
    EXTRA = "extra", "Supplementary"


class ImageOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded"
    HISTORY = "history", "From generation history"
    MULTIVIEW = "multiview", "AI multi-view completion"
    VIDEO_FRAME = "video_frame", "Frame of the element's video"


class ReferenceImage(models.Model):
    """One reference image of an element: the main one (position 0) or a supplementary one."""

    element = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="images")
    role = models.CharField(max_length=8, choices=ImageRole.choices)
    position = models.PositiveSmallIntegerField(help_text="0 for the main image, then 1–3.")
    image = models.ImageField(upload_to="elements/", max_length=200)
    thumbnail = models.ImageField(upload_to="elements/thumbs/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    origin = models.CharField(
        max_length=16, choices=ImageOrigin.choices, default=ImageOrigin.UPLOAD
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["element"],
                condition=Q(role="main"),
                name="elements_one_main_image",
            ),
            models.CheckConstraint(
                condition=(Q(role="main") & Q(position=0))
                | (Q(role="extra") & Q(position__gte=1) & Q(position__lte=MAX_IMAGES - 1)),
                name="elements_image_role_matches_position",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.element} #{self.position} ({self.role})"


class ModerationAction(models.TextChoices):
    ELEMENT_BLOCKED = "element_blocked", "Element blocked"
    ELEMENT_UNBLOCKED = "element_unblocked", "Element unblocked"
    VOICE_TAKEN_DOWN = "voice_taken_down", "Voice taken down"
    VOICE_RESTORED = "voice_restored", "Voice restored"


class ModerationEvent(models.Model):
    """The audit trail of staff moderation; rows stay when the element or voice goes."""

    action = models.CharField(max_length=24, choices=ModerationAction.choices)
    element = models.ForeignKey(
        Element, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    voice = models.ForeignKey(
        Voice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=120, help_text="Name of what was moderated, kept.")
    reason = models.CharField(max_length=300)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    affected = models.PositiveIntegerField(
        default=0, help_text="Elements that lost a voice taken down."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"


class ImageDescriptor(models.Model):
    """What the identity engine measured in one reference image (`elements.identity`):
    its faces' descriptors and its appearance. Computed by a task after the image is stored,
    recomputed when the engine changes; never returned by the API."""

    image = models.OneToOneField(
        ReferenceImage, on_delete=models.CASCADE, related_name="descriptor"
    )
    engine = models.CharField(max_length=100, help_text="The engine that computed it.")
    data = models.JSONField(
        default=dict, help_text="`elements.identity.base.ImageDescriptors.as_dict()`."
    )
    face_count = models.PositiveSmallIntegerField(
        default=0, help_text="Faces found, described or too small."
    )
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Descriptors of {self.image}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Writing the bundle"
    SUCCEEDED = "succeeded", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (the bundle was deleted)"


class ElementExport(models.Model):
    """A bundle of elements being written, or written (`elements.bundles.export`): its
    progress, then the file, downloadable until `expires_at`."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="element_exports"
    )
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="0–100.")
    element_ids = models.JSONField(default=list, help_text="The elements asked for.")
    element_count = models.PositiveIntegerField(default=0)
    include_voice_files = models.BooleanField(
        default=True, help_text="Whether voice samples go into the bundle."
    )
    file = models.FileField(upload_to="exports/", max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0, help_text="The bundle's bytes.")
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the bundle is deleted; set once it is written."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="elements_export_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_code=""),
                name="elements_export_failure_has_code",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | (~Q(file="") & Q(expires_at__isnull=False)),
                name="elements_export_success_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.status})"


# --- Likeness protection (`elements.likeness`) ------------------------------------------------


class LikenessStatus(models.TextChoices):
    PROCESSING = "processing", "Checking the selfie video"
    ACTIVE = "active", "Active"
    FAILED = "failed", "Failed"
    # The face matches another user's active likeness: staff decide.
    REVIEW = "review", "In staff review"


class LikenessChallenge(models.Model):
    """A phrase the service showed a user to say in their selfie video; used once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likeness_challenges"
    )
    phrase = models.CharField(max_length=120)
    syllables = models.PositiveSmallIntegerField(help_text="Syllables of the phrase, spoken.")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"“{self.phrase}” for {self.user}"


class Likeness(models.Model):
    """A user's claimed face: the descriptors of their checked selfie video (never the video,
    deleted after the check). Other users' elements that match it are held for them."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likeness"
    )
    status = models.CharField(
        max_length=12, choices=LikenessStatus.choices, default=LikenessStatus.PROCESSING
    )
    phrase = models.CharField(max_length=120, help_text="The phrase of the challenge.")
    phrase_syllables = models.PositiveSmallIntegerField(default=0)
    video = models.FileField(
        upload_to="likeness/videos/",
        max_length=200,
        blank=True,
        help_text="The selfie video, kept only until the check ends.",
    )
    video_extension = models.CharField(max_length=8, blank=True)
    descriptors = models.BinaryField(
        default=b"", blank=True, help_text="Face descriptors (float32 rows) of the keyframes."
    )
    engine = models.CharField(max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    report = models.JSONField(default=dict, blank=True, help_text="What the checks measured.")
    conflict_with = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The active likeness this claim's face matched (status review).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "likenesses"
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_code=""),
                name="elements_likeness_failure_has_code",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="elements_likeness_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"Likeness of {self.owner}"


class LikenessIndexVersion(models.Model):
    """One row: a new random token whenever the set of active likenesses changes, so each
    process knows when its cached matrix of descriptors is stale (`elements.likeness.index`).
    Random, not a counter: a rolled-back transaction or a restored backup can't bring back a
    number some process cached for another set."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"Likeness index {self.token}"


class LikenessMatchState(models.TextChoices):
    HELD = "held", "Held for the likeness owner"
    ALLOWED = "allowed", "Allowed"
    DECLINED = "declined", "Declined (staff review)"


class LikenessMatch(models.Model):
    """An element of another user whose faces match a likeness, and the owner's decision."""

    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="matches")
    element = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="likeness_matches")
    state = models.CharField(
        max_length=10, choices=LikenessMatchState.choices, default=LikenessMatchState.HELD
    )
    distance = models.FloatField(help_text="Nearest face descriptor distance.")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["likeness", "element"], name="elements_likeness_match_once"
            ),
        ]
        indexes = [models.Index(fields=["likeness", "state", "-updated_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.element} ~ {self.likeness}"


class LikenessGrant(models.Model):
    """The likeness owner allows one user (grantee) or everyone (no grantee) to use
    elements that match their face. Deleting it holds those elements again."""

    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="grants")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: everyone.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["likeness", "grantee"], name="elements_likeness_grant_once"
            ),
            models.UniqueConstraint(
                fields=["likeness"],
                condition=Q(grantee__isnull=True),
                name="elements_likeness_grant_everyone_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.likeness}: {self.grantee or 'everyone'}"
