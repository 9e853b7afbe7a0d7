"""Staff screens for the element library: moderation, not editing.

Staff look at users' elements and voices and moderate them through actions that call
`elements.services` (block / unblock an element, take down / restore a voice), each writing
an audit record. The content itself is read-only here: staff don't edit users' elements.
The one thing staff create is a Voice Library preset, whose audio goes through the same
validation as a user's sample.

Stored files never get a public address: thumbnails and the audio player read them through
staff-only views registered below, which check the admin login and the model's view
permission before streaming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from accounts.models import NON_MEMBER_TIER_CODE, Membership, MembershipTier, User
from accounts.selectors import membership_in_force
from elements import services
from elements.likeness import services as likeness_services
from elements.models import (
    Element,
    ElementSource,
    ElementStatus,
    ImageOrigin,
    ImageRole,
    Likeness,
    LikenessGrant,
    LikenessMatch,
    LikenessStatus,
    ModerationEvent,
    ReferenceImage,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from elements.teams.admin import LIST_HANDLE_MAX, LibraryFilter, library_link
from elementsite.admin_actions import plural, reason_action, staff_user
from elementsite.admin_buttons import ObjectActionsMixin
from elementsite.admin_display import truncated
from elementsite.admin_readonly import ReadOnlyAdmin, ReadOnlyPartInline
from elementsite.staff_media import stream_stored_file

PRESET_OWNER_LABEL = VoiceSource.PRESET.label
# Staff previews are private to the browser that asked; a short life is enough for a page.
LIST_THUMBNAIL_PX = 64
PAGE_THUMBNAIL_PX = 160


# --- Staff previews ---------------------------------------------------------------------


def image_preview_url(image: ReferenceImage, *, full: bool = False) -> str:
    return reverse(
        "admin:elements_element_image_file", args=[image.pk, "full" if full else "thumb"]
    )


def clip_url(element: Element) -> str:
    return reverse("admin:elements_element_clip_file", args=[element.pk])


def voice_audio_url(voice: Voice) -> str:
    return reverse("admin:elements_voice_audio_file", args=[voice.pk])


def _thumbnail(image: ReferenceImage | None, size: int, *, link: bool = False) -> SafeString | str:
    if image is None:
        return "—"
    img = format_html(
        '<img src="{}" alt="" width="{}" height="{}" style="object-fit: cover;" loading="lazy">',
        image_preview_url(image),
        size,
        size,
    )
    if not link:
        return img
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        image_preview_url(image, full=True),
        img,
    )


# --- Elements -----------------------------------------------------------------------------


class OwnerTierFilter(admin.SimpleListFilter):
    """The tier in force for the owner now (see `accounts.selectors.user_entitlements`): an
    expired membership, or one on the non-member tier, is the non-member tier."""

    title = "owner's tier"
    parameter_name = "owner_tier"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(tier.code, tier.name) for tier in MembershipTier.objects.order_by("rank", "code")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        code = self.value()
        if not code:
            return queryset
        in_force = Membership.objects.filter(membership_in_force(timezone.now()))
        if code == NON_MEMBER_TIER_CODE:
            members = in_force.exclude(tier__code=NON_MEMBER_TIER_CODE)
            return queryset.exclude(owner_id__in=members.values("user_id"))
        return queryset.filter(owner_id__in=in_force.filter(tier__code=code).values("user_id"))


class ReferenceImageInline(ReadOnlyPartInline):
    # The images are part of the element: whoever may see it sees them.
    model = ReferenceImage
    fields = ("preview", "role", "position", "width", "height", "origin", "sha256", "created_at")
    readonly_fields = fields
    ordering = ("position", "id")

    @admin.display(description="image")
    def preview(self, obj: ReferenceImage) -> SafeString | str:
        return _thumbnail(obj, PAGE_THUMBNAIL_PX // 2, link=True)


VIDEO_FIELDS = (
    "clip_player",
    "trim_window",
    "progress",
    "failure",
    "keyframes",
    "detector_report",
)


@admin.register(Element)
class ElementAdmin(ObjectActionsMixin, admin.ModelAdmin):
    # The version is on the element's page, and a voice's name (up to 60 characters) is cut:
    # the list then fits 1400 px with the filters beside it.
    list_display = (
        "thumbnail",
        "name",
        "owner",
        "library",
        "type",
        "status",
        "voice_name",
        "updated_at",
    )
    list_display_links = ("thumbnail", "name")
    list_filter = ("type", "status", LibraryFilter, OwnerTierFilter)
    search_fields = ("name", "owner__username", "team__handle")
    list_select_related = ("owner", "voice", "team")
    ordering = ("-updated_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "main_image",
                    "name",
                    "owner",
                    "library_name",
                    "type",
                    "description",
                    "source",
                )
            },
        ),
        ("Voice", {"fields": ("voice", "voice_player", "voice_notice")}),
        (
            "Subject detection",
            {
                "fields": ("detected_type", "detected_confidence", "detected_evidence"),
                "description": "What detection suggested for the main image when it was "
                "uploaded; the type above is the owner's choice.",
            },
        ),
        (
            "Identity",
            {
                "fields": ("identity_warnings",),
                "description": "Whether the images show one identity (characters: one person), "
                "from each image's descriptors (elements.identity).",
            },
        ),
        (
            "Moderation",
            {
                "fields": ("status", "blocked_reason", "moderation_log"),
                "description": "Block or unblock with the button above (or the actions of "
                "the element list).",
            },
        ),
        ("History", {"fields": ("version", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "main_image",
        "name",
        "owner",
        "library_name",
        "type",
        "description",
        "source",
        "voice",
        "voice_player",
        "voice_notice",
        "detected_type",
        "detected_confidence",
        "detected_evidence",
        "identity_warnings",
        "status",
        "blocked_reason",
        "moderation_log",
        "version",
        "created_at",
        "updated_at",
        *VIDEO_FIELDS,
    )
    inlines = (ReferenceImageInline,)
    actions = ("block_elements", "unblock_elements")
    object_actions = (("block_elements", "Block…"), ("unblock_elements", "Unblock"))

    def object_actions_for(self, request: HttpRequest, obj: Element) -> list[tuple[str, str]]:
        wanted = "unblock_elements" if obj.status == ElementStatus.BLOCKED else "block_elements"
        return [(name, label) for name, label in self.object_actions if name == wanted]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Element]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "images",
                    queryset=ReferenceImage.objects.filter(role=ImageRole.MAIN),
                    to_attr="main_images",
                )
            )
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.source == ElementSource.VIDEO:
            video = ("Video", {"fields": VIDEO_FIELDS})
            return (fieldsets[0], video, *fieldsets[1:])
        return fieldsets

    # Staff moderate, they don't edit: every page is read-only, changes go through actions.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("elements.change_element")

    def delete_model(self, request: HttpRequest, obj: Element) -> None:
        # Through the service, which also removes the files.
        services.element_remove(element=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Element]) -> None:
        for element in queryset:
            services.element_remove(element=element)

    # --- columns and fields

    @admin.display(description="library", ordering="team__handle")
    def library(self, obj: Element) -> SafeString | str:
        return library_link(obj, limit=LIST_HANDLE_MAX)

    @admin.display(description="library")
    def library_name(self, obj: Element) -> SafeString | str:
        return library_link(obj)

    @staticmethod
    def _main_image(obj: Element) -> ReferenceImage | None:
        prefetched = getattr(obj, "main_images", None)
        if prefetched is not None:
            return prefetched[0] if prefetched else None
        return obj.images.filter(role=ImageRole.MAIN).first()

    @admin.display(description="identity check")
    def identity_warnings(self, obj: Element) -> str:
        from elements.identity.services import element_identity_check

        check = element_identity_check(obj)
        lines = [f"{w.code}: {w.message}" for w in check.warnings]
        if check.pending:
            lines.append("Some images are still being described.")
        return "\n".join(lines) or "No warning: the images agree."

    @admin.display(description="main image")
    def thumbnail(self, obj: Element) -> SafeString | str:
        return _thumbnail(self._main_image(obj), LIST_THUMBNAIL_PX)

    @admin.display(description="main image")
    def main_image(self, obj: Element) -> SafeString | str:
        return _thumbnail(self._main_image(obj), PAGE_THUMBNAIL_PX, link=True)

    @admin.display(description="moderation log")
    @admin.display(description="voice", ordering="voice__name")
    def voice_name(self, obj: Element) -> SafeString | str:
        return truncated(obj.voice.name, 24) if obj.voice is not None else "—"

    @admin.display(description="listen")
    def voice_player(self, obj: Element) -> SafeString | str:
        if obj.voice is None:
            return "—"
        return format_html(
            '<audio controls preload="none" src="{}">Your browser cannot play audio.</audio>',
            voice_audio_url(obj.voice),
        )

    def moderation_log(self, obj: Element) -> SafeString:
        url = reverse("admin:elements_moderationevent_changelist")
        return format_html('<a href="{}?element__id__exact={}">Moderation events</a>', url, obj.pk)

    # --- video elements

    @admin.display(description="trimmed clip")
    def clip_player(self, obj: Element) -> SafeString | str:
        if not obj.clip.name:
            return "— (not made yet)" if obj.status == ElementStatus.PROCESSING else "—"
        return format_html(
            '<video controls preload="metadata" width="480" src="{}">'
            "Your browser cannot play this video.</video>",
            clip_url(obj),
        )

    @admin.display(description="trim window")
    def trim_window(self, obj: Element) -> str:
        if obj.trim_start is None or obj.trim_end is None:
            return "—"
        return f"{obj.trim_start:g}–{obj.trim_end:g} s of the upload"

    @admin.display(description="failure")
    def failure(self, obj: Element) -> str:
        return f"{obj.failure_code}: {obj.failure_message}" if obj.failure_code else "—"

    @admin.display(description="keyframes")
    def keyframes(self, obj: Element) -> SafeString | str:
        frames = [i for i in obj.images.all() if i.origin == ImageOrigin.VIDEO_FRAME]
        if not frames:
            return "—"
        # By content: the owner may have reordered or replaced images since.
        moments = {
            moment.get("sha256"): moment
            for moment in (obj.video_report or {}).get("keyframes") or []
        }
        return format_html_join(
            "",
            '<figure style="display:inline-block;margin:0 8px 0 0">{}'
            "<figcaption>{}</figcaption></figure>",
            (
                (
                    _thumbnail(image, PAGE_THUMBNAIL_PX, link=True),
                    _keyframe_caption(image, moments.get(image.sha256)),
                )
                for image in sorted(frames, key=lambda i: i.position)
            ),
        )

    @admin.display(description="detectors")
    def detector_report(self, obj: Element) -> str:
        report = obj.video_report or {}
        detection = report.get("detection")
        if not detection:
            return "—"
        speech = report.get("speech")
        heard = (
            "no audio track"
            if speech is None
            else f"speech ratio {speech.get('speech_ratio', 0):.0%}"
            + (", kept as the native voice" if speech.get("present") else ", no native voice")
            if "speech_ratio" in speech
            else "audio refused by the voice rules"
        )
        return (
            f"{detection['frames']} frames sampled at {detection['sample_fps']:g} fps; a face "
            f"in {detection['with_face']}, two or more in {detection['with_several_faces']}; "
            f"{heard}."
        )

    # --- staff previews

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "image/<int:image_id>/<str:size>/",
                self.admin_site.admin_view(require_safe(self.image_file_view)),
                name="elements_element_image_file",
            ),
            path(
                "clip/<int:element_id>/",
                self.admin_site.admin_view(require_safe(self.clip_file_view)),
                name="elements_element_clip_file",
            ),
        ]
        # Before the defaults, whose `<path:object_id>/` would take these paths.
        return own + super().get_urls()

    def image_file_view(self, request: HttpRequest, image_id: int, size: str) -> HttpResponseBase:
        """A reference image (`full`) or its thumbnail (`thumb`), to staff who may see
        elements."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if size not in ("thumb", "full"):
            raise Http404
        image = ReferenceImage.objects.filter(pk=image_id).only("image", "thumbnail").first()
        if image is None:
            raise Http404
        return stream_stored_file(
            request, image.thumbnail.name if size == "thumb" else image.image.name
        )

    def clip_file_view(self, request: HttpRequest, element_id: int) -> HttpResponseBase:
        """A video element's trimmed clip (byte ranges honoured, for seeking), to staff who
        may see elements."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        element = Element.objects.filter(pk=element_id).only("clip").first()
        if element is None or not element.clip.name:
            raise Http404
        return stream_stored_file(request, element.clip.name)

    # --- actions

    @admin.action(description="Block selected elements", permissions=["moderate"])
    def block_elements(
        self, request: HttpRequest, queryset: QuerySet[Element]
    ) -> TemplateResponse | None:
        elements = list(queryset.select_related("owner").order_by("name", "pk"))
        return reason_action(
            self,
            request,
            apply=lambda reason: self._block(request, elements, reason),
            objects=[
                (e.pk, f"{e.name} (owner {e.owner.username}, {e.get_status_display()})")
                for e in elements
            ],
            action="block_elements",
            title="Block elements",
            intro="A blocked element can't be edited or used in generation; its owner sees "
            "the reason.",
        )

    def _block(self, request: HttpRequest, elements: list[Element], reason: str) -> None:
        blocked = 0
        for element in elements:
            if element.status == ElementStatus.BLOCKED:
                self.message_user(
                    request, f"{element.name}: already blocked, left as it was.", messages.WARNING
                )
                continue
            try:
                services.element_block(staff=staff_user(request), element=element, reason=reason)
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{element.name}: not blocked. {' '.join(exc.messages)}",
                    messages.ERROR,
                )
                continue
            blocked += 1
            self.log_change(request, element, f"Blocked: {reason}")
        if blocked:
            self.message_user(request, f"Blocked {plural(blocked, 'element')}.", messages.SUCCESS)

    @admin.action(description="Unblock selected elements", permissions=["moderate"])
    def unblock_elements(self, request: HttpRequest, queryset: QuerySet[Element]) -> None:
        unblocked = 0
        for element in queryset.filter(status=ElementStatus.BLOCKED).order_by("name", "pk"):
            services.element_unblock(staff=staff_user(request), element=element)
            unblocked += 1
            self.log_change(request, element, "Unblocked")
        level = messages.SUCCESS if unblocked else messages.WARNING
        self.message_user(request, f"Unblocked {plural(unblocked, 'element')}.", level)


# --- Voices -----------------------------------------------------------------------------


class VoicePresetForm(forms.ModelForm):
    """A new Voice Library preset. Valid means created: `services.voice_preset_create` both
    validates the audio and stores the voice, so its refusals become this form's errors."""

    tags = forms.CharField(
        required=False,
        max_length=400,
        label="Style tags",
        help_text="Comma-separated, e.g. calm, warm, deep.",
    )
    audio_file = forms.FileField(
        label="Audio sample",
        help_text="5–30 s of one voice: MP3, WAV, M4A, AAC, OGG, FLAC, or a video with sound. "
        "It is checked and normalized like users' samples.",
    )

    # Set by `VoiceAdmin.get_form` on a subclass made for the request.
    staff: User | None = None

    class Meta:
        model = Voice
        fields = ("name", "language")

    # Where the service's error fields show on this form.
    SERVICE_FIELDS = {"file": "audio_file", "voiceName": "name"}

    def _post_clean(self) -> None:
        # After the fields and the model's own checks (Django's UserCreationForm hooks in
        # here too), so nothing is stored when anything else is wrong.
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        if self.staff is None:
            raise PermissionDenied
        data = self.cleaned_data
        try:
            voice = services.voice_preset_create(
                staff=self.staff,
                file=data["audio_file"],
                name=data["name"],
                language=data.get("language", ""),
                style_tags=[tag.strip() for tag in data.get("tags", "").split(",")],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    target = self.SERVICE_FIELDS.get(field)
                    self.add_error(target if target in self.fields else None, errors)
            else:
                self.add_error(None, exc)
            return
        self.instance = voice


def _voice_quality(obj: Voice) -> dict[str, Any]:
    return obj.quality if isinstance(obj.quality, dict) else {}


@admin.register(Voice)
class VoiceAdmin(ObjectActionsMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "owner_or_preset",
        "library",
        "source",
        "status",
        "duration",
        "quality_warnings",
        "created_at",
    )
    list_filter = ("source", "status", LibraryFilter)
    search_fields = ("name", "owner__username", "team__handle")
    list_select_related = ("owner", "team")
    ordering = ("name", "id")
    add_fieldsets = ((None, {"fields": ("name", "language", "tags", "audio_file")}),)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "owner_or_preset",
                    "library_name",
                    "source",
                    "language",
                    "style_tags",
                    "duration",
                    "bound_elements",
                    "created_at",
                )
            },
        ),
        ("Audio", {"fields": ("player", "quality_report")}),
        ("Consent", {"fields": ("consent_statement", "consent_at")}),
        (
            "Moderation",
            {
                "fields": ("status", "taken_down_reason", "taken_down_at", "moderation_log"),
                "description": "Take down or restore with the button above (or the actions "
                "of the voice list).",
            },
        ),
    )
    readonly_fields = (
        "name",
        "owner_or_preset",
        "library_name",
        "source",
        "language",
        "style_tags",
        "duration",
        "bound_elements",
        "created_at",
        "player",
        "quality_report",
        "consent_statement",
        "consent_at",
        "status",
        "taken_down_reason",
        "taken_down_at",
        "moderation_log",
    )
    actions = ("take_down_voices", "restore_voices")
    object_actions = (("take_down_voices", "Take down…"), ("restore_voices", "Restore"))

    def object_actions_for(self, request: HttpRequest, obj: Voice) -> list[tuple[str, str]]:
        wanted = "restore_voices" if obj.status == VoiceStatus.TAKEN_DOWN else "take_down_voices"
        return [(name, label) for name, label in self.object_actions if name == wanted]

    # Staff add presets; every voice is otherwise read-only, changed through actions.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A preset is retired by taking it down; a user's voice goes with its owner or
        # through the service (which tells the elements that lose it).
        if obj is not None and obj.is_preset:
            return False
        return super().has_delete_permission(request, obj)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("elements.change_voice")

    def delete_model(self, request: HttpRequest, obj: Voice) -> None:
        if obj.owner is None:  # presets are taken down, not deleted
            raise PermissionDenied
        services.voice_remove(voice=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Voice]) -> None:
        for voice in queryset.select_related("owner"):
            if voice.owner is not None:
                services.voice_remove(voice=voice)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        kwargs["form"] = VoicePresetForm
        form = super().get_form(request, obj, change=change, **kwargs)
        # The service needs the staff member; the admin builds the form from its class alone.
        return cast(
            "type[forms.ModelForm[Any]]",
            type(form.__name__, (form,), {"staff": staff_user(request)}),
        )

    def save_model(self, request: HttpRequest, obj: Voice, form: Any, change: bool) -> None:
        # The form's service call has stored the preset already; only report its warnings.
        warnings = _voice_quality(obj).get("warnings") or []
        for warning in warnings:
            self.message_user(
                request, f"{obj.name}: {warning.get('message', '')}", messages.WARNING
            )

    # --- columns and fields

    @admin.display(description="owner", ordering="owner__username")
    def owner_or_preset(self, obj: Voice) -> str:
        return obj.owner.username if obj.owner is not None else PRESET_OWNER_LABEL

    @admin.display(description="library", ordering="team__handle")
    def library(self, obj: Voice) -> SafeString | str:
        return "" if obj.is_preset else library_link(obj, limit=LIST_HANDLE_MAX)

    @admin.display(description="library")
    def library_name(self, obj: Voice) -> SafeString | str:
        return "" if obj.is_preset else library_link(obj)

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, obj: Voice) -> str:
        return f"{obj.duration_ms / 1000:.1f} s"

    @admin.display(description="quality warnings")
    def quality_warnings(self, obj: Voice) -> str:
        codes = [str(w.get("code", "")) for w in _voice_quality(obj).get("warnings") or []]
        return ", ".join(code for code in codes if code) or "—"

    @admin.display(description="bound to")
    def bound_elements(self, obj: Voice) -> str:
        return plural(obj.elements.count(), "element")

    @admin.display(description="listen")
    def player(self, obj: Voice) -> SafeString:
        return format_html(
            '<audio controls preload="none" src="{}">Your browser cannot play audio.</audio>',
            voice_audio_url(obj),
        )

    @admin.display(description="quality report")
    def quality_report(self, obj: Voice) -> SafeString | str:
        report = _voice_quality(obj)
        if not report:
            return "—"
        rows = [
            ("Silence", _percent(report.get("silence_ratio"))),
            ("Clipped samples", _percent(report.get("clipping_ratio"), digits=2)),
            ("Loudness", _dbfs(report.get("loudness_dbfs"))),
            ("Noise floor", _dbfs(report.get("noise_floor_dbfs"))),
            ("Speech", _percent(report.get("speech_ratio"))),
        ]
        table = format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )
        warnings = report.get("warnings") or []
        if not warnings:
            return format_html("{}<p>No warnings.</p>", table)
        items = format_html_join(
            "",
            "<li><strong>{}</strong>: {}</li>",
            ((w.get("code", ""), w.get("message", "")) for w in warnings),
        )
        return format_html("{}<ul>{}</ul>", table, items)

    @admin.display(description="moderation log")
    def moderation_log(self, obj: Voice) -> SafeString:
        url = reverse("admin:elements_moderationevent_changelist")
        return format_html('<a href="{}?voice__id__exact={}">Moderation events</a>', url, obj.pk)

    # --- staff previews

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:voice_id>/audio/",
                self.admin_site.admin_view(require_safe(self.audio_file_view)),
                name="elements_voice_audio_file",
            ),
        ]
        return own + super().get_urls()

    def audio_file_view(self, request: HttpRequest, voice_id: int) -> HttpResponseBase:
        """A voice's normalized audio, to staff who may see voices."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        voice = Voice.objects.filter(pk=voice_id).only("audio").first()
        if voice is None:
            raise Http404
        return stream_stored_file(request, voice.audio.name)

    # --- actions

    @admin.action(description="Take down selected voices", permissions=["moderate"])
    def take_down_voices(
        self, request: HttpRequest, queryset: QuerySet[Voice]
    ) -> TemplateResponse | None:
        voices = list(
            queryset.select_related("owner")
            .annotate(bound=Count("elements"))
            .order_by("name", "pk")
        )
        return reason_action(
            self,
            request,
            apply=lambda reason: self._take_down(request, voices, reason),
            objects=[
                (v.pk, f"{v.name} ({self.owner_or_preset(v)}, {plural(v.bound, 'element')})")
                for v in voices
            ],
            action="take_down_voices",
            title="Take down voices",
            intro="A voice taken down can't be bound any more, and every element bound to it "
            "loses it; the owners see the reason.",
        )

    def _take_down(self, request: HttpRequest, voices: Sequence[Voice], reason: str) -> None:
        taken_down = unbound = 0
        for voice in voices:
            if voice.status == VoiceStatus.TAKEN_DOWN:
                self.message_user(
                    request, f"{voice.name}: already taken down, left as it was.", messages.WARNING
                )
                continue
            try:
                affected = services.voice_take_down(
                    staff=staff_user(request), voice=voice, reason=reason
                )
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{voice.name}: not taken down. {' '.join(exc.messages)}",
                    messages.ERROR,
                )
                continue
            taken_down += 1
            unbound += affected
            self.log_change(
                request, voice, f"Taken down ({plural(affected, 'element')} lost it): {reason}"
            )
        if taken_down:
            self.message_user(
                request,
                f"Took down {plural(taken_down, 'voice')}; "
                f"{plural(unbound, 'element')} lost {'its' if unbound == 1 else 'their'} voice.",
                messages.SUCCESS,
            )

    @admin.action(description="Restore selected voices", permissions=["moderate"])
    def restore_voices(self, request: HttpRequest, queryset: QuerySet[Voice]) -> None:
        restored = 0
        for voice in queryset.filter(status=VoiceStatus.TAKEN_DOWN).order_by("name", "pk"):
            services.voice_restore(
                staff=staff_user(request), voice=voice, reason="Restored by staff"
            )
            restored += 1
            self.log_change(request, voice, "Restored")
        level = messages.SUCCESS if restored else messages.WARNING
        self.message_user(
            request,
            f"Restored {plural(restored, 'voice')} (elements that lost them are not re-bound).",
            level,
        )


def _keyframe_caption(image: ReferenceImage, moment: dict[str, Any] | None) -> str:
    role = "main" if image.role == ImageRole.MAIN else f"#{image.position}"
    if not moment:
        return role
    return f"{role} · {moment.get('time', 0):.1f} s · {moment.get('pose', '')}"


def _percent(value: Any, digits: int = 0) -> str:
    return f"{value:.{digits}%}" if isinstance(value, int | float) else "—"


def _dbfs(value: Any) -> str:
    return f"{value:.1f} dBFS" if isinstance(value, int | float) else "—"


# --- Moderation log -----------------------------------------------------------------------


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "subject", "reason", "affected", "staff")
    list_filter = ("action",)
    search_fields = ("subject", "reason", "staff__username")
    list_select_related = ("staff",)
    date_hierarchy = "created_at"
    fields = ("created_at", "action", "subject", "element", "voice", "reason", "affected", "staff")


# --- Likeness protection ----------------------------------------------------------------------


@admin.register(Likeness)
class LikenessAdmin(ReadOnlyAdmin):
    """Claimed likenesses. The review queue: filter status "In staff review" (a claim whose
    face matches another user's active likeness); approve or reject it."""

    list_display = ("owner", "status", "failure_code", "conflict_owner", "updated_at")
    list_filter = ("status",)
    search_fields = ("owner__username", "owner__email")
    list_select_related = ("owner", "conflict_with__owner")
    fields = (
        "owner",
        "status",
        "failure_code",
        "failure_message",
        "conflict_with",
        "phrase",
        "report",
        "created_at",
        "updated_at",
    )
    actions = ("approve_claims", "reject_claims")

    @admin.display(description="Matches the likeness of")
    def conflict_owner(self, obj: Likeness) -> str:
        return obj.conflict_with.owner.username if obj.conflict_with else "—"

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("elements.change_element")

    @admin.action(description="Approve selected claims in review", permissions=["moderate"])
    def approve_claims(self, request: HttpRequest, queryset: QuerySet[Likeness]) -> None:
        done = 0
        for likeness in queryset.filter(status=LikenessStatus.REVIEW):
            likeness_services.likeness_review_approve(staff=staff_user(request), likeness=likeness)
            done += 1
        self.message_user(request, f"Approved {plural(done, 'claim')}.", messages.SUCCESS)

    @admin.action(description="Reject selected claims in review", permissions=["moderate"])
    def reject_claims(self, request: HttpRequest, queryset: QuerySet[Likeness]) -> None:
        done = 0
        for likeness in queryset.filter(status=LikenessStatus.REVIEW):
            likeness_services.likeness_review_reject(staff=staff_user(request), likeness=likeness)
            done += 1
        self.message_user(request, f"Rejected {plural(done, 'claim')}.", messages.SUCCESS)


@admin.register(LikenessMatch)
class LikenessMatchAdmin(ReadOnlyAdmin):
    """Elements that show a claimed likeness. The moderation queue: state "Declined" (the
    likeness owner refused it; the element stays held): block the element from its page."""

    list_display = ("element", "element_owner", "likeness_owner", "state", "updated_at")
    list_filter = ("state",)
    search_fields = ("element__name", "element__owner__username", "likeness__owner__username")
    list_select_related = ("element__owner", "likeness__owner")
    fields = ("likeness", "element", "state", "distance", "decided_at", "created_at")

    @admin.display(description="Element owner")
    def element_owner(self, obj: LikenessMatch) -> str:
        return obj.element.owner.username

    @admin.display(description="Likeness of")
    def likeness_owner(self, obj: LikenessMatch) -> str:
        return obj.likeness.owner.username


@admin.register(LikenessGrant)
class LikenessGrantAdmin(ReadOnlyAdmin):
    list_display = ("likeness", "grantee", "created_at")
    list_select_related = ("likeness__owner", "grantee")
    fields = ("likeness", "grantee", "created_at")
