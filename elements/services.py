"""Writes to the element library.

Every service validates all media before it touches the database, writes rows and files in
one transaction, and deletes any file it saved if that transaction fails, so bad input leaves
no row and no file behind. Files of deleted rows are removed only after the commit.

Every element and voice belongs to a library: its owner's own (`team` empty) or a team's.
Who may do what to it is `elements.teams.policy`'s answer, never `owner_id == user`: the
`owner` argument of these services is the user acting, who for a team's element need not be
its creator (and a creator who left the team may do nothing to it). A stranger to the library
is told NOT_FOUND, exactly as for an id no row has; a member whose role forbids the action,
ROLE_FORBIDDEN.

The tier limit is checked with the library locked (the owner's row for a personal library,
the team's row for a team's) on PostgreSQL, or inside an IMMEDIATE transaction (SQLite), so
parallel creates can't pass it together.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.locks import lock_owner
from accounts.models import User
from accounts.selectors import user_entitlements
from elements.error_codes import ElementErrorCode
from elements.hooks import pinned_file_names
from elements.likeness.holds import refresh_holds
from elements.media.audio import ProcessedAudio, QualityWarning, process_audio
from elements.media.images import ProcessedImage, process_image
from elements.models import (
    ELEMENT_DESCRIPTION_MAX,
    ELEMENT_NAME_FORBIDDEN,
    ELEMENT_NAME_MAX,
    MAX_IMAGES,
    MIN_IMAGES,
    Element,
    ElementStatus,
    ElementType,
    ImageOrigin,
    ImageRole,
    ModerationAction,
    ModerationEvent,
    ReferenceImage,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from elements.signals import voice_withdrawn
from elements.tasks import enqueue_image_descriptors
from elements.teams.models import Team
from elements.teams.policy import (
    Action,
    Library,
    allowed,
    get_or_not_found,
    library_actions,
    library_of,
    permitted,
    personal_library,
)
from elements.teams.selectors import team_element_limit
from elementsite.errors import field_error as _error
from elementsite.files import FileBatch, atomic_with_files
from elementsite.ids import row_key, row_or_not_found
from elementsite.storage import remove_quietly

logger = logging.getLogger(__name__)

# An uploaded file of any kind (Django's UploadedFile, File, a stream): the media modules
# read it under a byte cap and trust nothing the client said about it.
Upload = Any


# Another user's object is reported exactly like one that does not exist (`row_or_not_found`).
NOT_FOUND = ElementErrorCode.NOT_FOUND


# --- Libraries and access -----------------------------------------------------------------


def role_forbidden(field: str | None, what: str = "do this") -> ValidationError:
    """ROLE_FORBIDDEN: a member of the library whose role does not allow the action."""
    return _error(
        field,
        f"Your role in this team's library does not allow you to {what}.",
        ElementErrorCode.ROLE_FORBIDDEN,
    )


def check_library_allows(
    user: AbstractBaseUser, library: Library, action: Action, *, what: str = "do this"
) -> None:
    """NOT_FOUND on `library` for a library the user is not a member of (as for an unknown
    handle), ROLE_FORBIDDEN for a member whose role does not allow `action`."""
    actions = library_actions(user, library)
    if action in actions:
        return
    if Action.VIEW in actions:
        raise role_forbidden("library", what)
    raise _error("library", "No such library.", NOT_FOUND)


def library_element(
    user: AbstractBaseUser,
    element_id: int | str,
    action: Action,
    *,
    field: str = "id",
    what: str = "change its elements",
) -> Element:
    """The element `element_id` if `user` may do `action` to it. NOT_FOUND for an element of
    a library they can't see (as for an unknown id), ROLE_FORBIDDEN for one they see but
    their role does not let them `action`."""
    element = get_or_not_found(
        user,
        Element.objects.select_related("team"),
        element_id,
        Action.VIEW,
        field=field,
        message="No such element.",
        code=NOT_FOUND,
    )
    if action != Action.VIEW and not allowed(user, element, action):
        raise role_forbidden(field, what)
    return element


def lock_library(library: Library) -> None:
    """Lock the library until the current transaction ends (call inside one): the team's row
    for a team's library, the owner's row for a personal one, so two writes that count its
    rows against its limit can't both pass the count."""
    if library.team is not None:
        Team.objects.select_for_update().filter(pk=library.team.pk).first()
    else:
        lock_owner(User(pk=library.owner_id))


def library_element_limit(library: Library, owner: AbstractBaseUser | None = None) -> int:
    """The element limit of a library: its owner's tier's for a personal one (`owner`, when
    given, is that owner), the best of the owners' tiers for a team's."""
    if library.team is not None:
        return team_element_limit(library.team)
    if owner is None or owner.pk != library.owner_id:
        assert library.owner_id is not None
        owner = User.objects.get(pk=library.owner_id)
    return user_entitlements(owner).element_limit


def _library_label(library: Library) -> str:
    return "Your library" if library.is_personal else f"The library of {library.team.name}"  # type: ignore[union-attr]


# --- Files ----------------------------------------------------------------------------------


def delete_files_after_commit(names: Sequence[str]) -> None:
    """Delete files once the transaction commits, except those a submitted job still pins
    (jobs share the element's files rather than copying them; `elements.hooks`)."""
    names = [n for n in names if n]

    def delete() -> None:
        pinned = pinned_file_names(names)
        for name in names:
            if name not in pinned:
                # The rows are gone already: a storage that is down now must not turn the
                # committed delete into an error; the janitor removes the file later.
                remove_quietly(name)

    transaction.on_commit(delete)


def _image_files(images: Sequence[ReferenceImage]) -> list[str]:
    return [name for image in images for name in (image.image.name, image.thumbnail.name)]


# --- Validation helpers -----------------------------------------------------------------------


# `[@Image1]`, `[@Image 2]`, `[@Video]` in a prompt mean attached files, never an element.
RESERVED_NAME = re.compile(r"^(image|video)\s*\d*$", re.IGNORECASE)


def clean_name(name: str) -> str:
    """An element's name, trimmed: required, at most ELEMENT_NAME_MAX characters, not a
    name prompts use for attached files, and fit for a `[@Name]` mention."""
    name = (name or "").strip()
    if not name:
        raise _error("name", "Give the element a name.", ElementErrorCode.NAME_REQUIRED)
    if len(name) > ELEMENT_NAME_MAX:
        raise _error(
            "name",
            f"Names are at most {ELEMENT_NAME_MAX} characters.",
            ElementErrorCode.NAME_TOO_LONG,
        )
    if RESERVED_NAME.match(name):
        raise _error(
            "name",
            "Names like “Image 1” or “Video” are how prompts refer to attached files: "
            "choose another name.",
            ElementErrorCode.NAME_RESERVED,
        )
    if any(ch in name for ch in ELEMENT_NAME_FORBIDDEN) or not name.isprintable():
        raise _error(
            "name",
            "A name can't contain '[', ']', '@' or line breaks: it must fit in a [@Name] mention.",
            ElementErrorCode.NAME_INVALID_CHARACTERS,
        )
    return name


def clean_description(description: str) -> str:
    """An element's description, trimmed: at most ELEMENT_DESCRIPTION_MAX characters."""
    description = (description or "").strip()
    if len(description) > ELEMENT_DESCRIPTION_MAX:
        raise _error(
            "description",
            f"Descriptions are at most {ELEMENT_DESCRIPTION_MAX} characters.",
            ElementErrorCode.DESCRIPTION_TOO_LONG,
        )
    return description


def check_name_free(
    owner: AbstractBaseUser,
    name: str,
    *,
    exclude_pk: int | None = None,
    library: Library | None = None,
) -> None:
    """NAME_TAKEN when the library (default: the owner's own) has another element of this
    name (ignoring case); the unique constraints back it for writes that race."""
    library = library or personal_library(owner)
    taken = Element.objects.filter(library.rows(), name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise name_taken()


def name_taken() -> ValidationError:
    """The NAME_TAKEN error, also for an IntegrityError of the name constraint."""
    return _error(
        "name",
        "This library already has an element with this name (names ignore case).",
        ElementErrorCode.NAME_TAKEN,
    )


def _check_type(element_type: str) -> str:
    if element_type not in ElementType.values:
        raise _error(
            "type", f"Unknown element type {element_type!r}.", ElementErrorCode.INVALID_TYPE
        )
    return element_type


def _process_image(upload: Upload, field: str) -> ProcessedImage:
    try:
        return process_image(upload)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def _detected_fields(processed: ProcessedImage) -> dict[str, Any]:
    """Subject-type detection of a new main image (`elements.assists`), never an error."""
    from elements.assists.services import detected_fields

    return detected_fields(processed)


def _process_audio(upload: Upload, field: str) -> ProcessedAudio:
    try:
        return process_audio(upload)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def check_can_create(owner: AbstractBaseUser, library: Library | None = None) -> None:
    """ELEMENT_LIMIT_REACHED when the library (default: the owner's own) is at its limit
    (call with the library locked, `lock_library`). A personal library counts only its
    owner's team-less rows: what they made in teams is the teams'."""
    library = library or personal_library(owner)
    limit = library_element_limit(library, owner)
    count = Element.objects.filter(library.rows()).count()
    if count >= limit:
        tier = "your tier" if library.is_personal else "its owners' best tier"
        raise _error(
            None,
            f"{_library_label(library)} holds {count} element{pluralize(count)}, the limit of "
            f"{tier} is {limit}: "
            "delete some or upgrade to create more.",
            ElementErrorCode.ELEMENT_LIMIT_REACHED,
        )


def check_can_edit(element: Element) -> None:
    """ELEMENT_BLOCKED / ELEMENT_PROCESSING / ELEMENT_FAILED for an element that can't be
    changed, OVER_ELEMENT_LIMIT while its owner's library is over the tier's limit."""
    if element.status == ElementStatus.BLOCKED:
        raise _error(
            None,
            f"This element was blocked by moderation: {element.blocked_reason}",
            ElementErrorCode.ELEMENT_BLOCKED,
        )
    if element.status == ElementStatus.PROCESSING:
        raise _error(
            None, "This element is still being processed.", ElementErrorCode.ELEMENT_PROCESSING
        )
    if element.status == ElementStatus.FAILED:
        raise _error(
            None,
            f"This element could not be made from its video: {element.failure_message} "
            "Delete it and try another clip.",
            ElementErrorCode.ELEMENT_FAILED,
        )
    library = library_of(element)
    limit = library_element_limit(library, element.owner if library.is_personal else None)
    count = Element.objects.filter(library.rows()).count()
    if count > limit:
        if library.is_personal:
            said = (
                f"Your library holds {count} element{pluralize(count)}, more than the {limit} "
                "your tier allows now: delete some (or upgrade) before editing. Your elements "
                "still work in generation."
            )
        else:
            said = (
                f"{_library_label(library)} holds {count} element{pluralize(count)}, more "
                f"than the {limit} its owners' best tier allows now: delete some before "
                "editing. Its elements still work in generation."
            )
        raise _error(
            None,
            said,
            ElementErrorCode.OVER_ELEMENT_LIMIT,
        )


def locked_element(
    owner: AbstractBaseUser, element_id: int | str, action: Action = Action.EDIT
) -> Element:
    """An element `owner` (the user acting) may `action` (EDIT), its library and the row
    locked for this transaction, ready to edit: NOT_FOUND / ROLE_FORBIDDEN per the policy."""
    found = library_element(owner, element_id, action)
    lock_library(library_of(found))
    element = row_or_not_found(
        Element.objects.select_for_update(of=("self",)).select_related("owner", "team"),
        found.pk,
        field="id",
        message="No such element.",
        code=NOT_FOUND,
    )
    check_can_edit(element)
    return element


def touch(element: Element, **fields: Any) -> None:
    """Save changed fields and bump the version: every change is a new version."""
    fields.update(version=F("version") + 1, updated_at=timezone.now())
    Element.objects.filter(pk=element.pk).update(**fields)
    element.refresh_from_db()


# --- Voices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceUpload:
    """An audio sample to turn into the owner's voice."""

    file: Upload
    name: str
    consent_statement: str
    language: str = ""
    style_tags: Sequence[str] = ()


@dataclass(frozen=True)
class VoiceResult:
    voice: Voice
    warnings: tuple[QualityWarning, ...]


def _clean_voice_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 60 or not name.isprintable():
        raise _error(
            "voiceName",
            "Give the voice a name of 1–60 characters.",
            ElementErrorCode.VOICE_NAME_INVALID,
        )
    return name


def check_consent(statement: str) -> str:
    """The uploader's consent statement for a voice, trimmed: at least a sentence (10
    characters), kept to 2000."""
    statement = (statement or "").strip()
    if len(statement) < 10:
        raise _error(
            "consentStatement",
            "State that you have the right to use this voice (at least a sentence).",
            ElementErrorCode.CONSENT_REQUIRED,
        )
    return statement[:2000]


@dataclass(frozen=True)
class _PreparedVoice:
    upload: VoiceUpload
    name: str
    consent: str
    audio: ProcessedAudio


def _prepare_voice(upload: VoiceUpload, field: str = "file") -> _PreparedVoice:
    name = _clean_voice_name(upload.name)
    consent = check_consent(upload.consent_statement)
    return _PreparedVoice(upload, name, consent, _process_audio(upload.file, field))


def _create_voice(
    owner: AbstractBaseUser,
    prepared: _PreparedVoice,
    files: FileBatch,
    library: Library | None = None,
) -> Voice:
    """The voice, uploaded by `owner` into `library` (default: their own)."""
    audio = prepared.audio
    voice = Voice(
        owner_id=owner.pk,
        team=library.team if library is not None else None,
        name=prepared.name,
        duration_ms=audio.duration_ms,
        sha256=audio.sha256,
        language=(prepared.upload.language or "").strip()[:16],
        style_tags=[str(t).strip()[:30] for t in prepared.upload.style_tags if str(t).strip()][:10],
        source=VoiceSource.UPLOAD,
        consent_statement=prepared.consent,
        consent_at=timezone.now(),
        quality=audio.quality.as_dict(),
    )
    voice.audio.name = files.save("voices", audio.content, audio.extension)
    voice.full_clean()
    voice.save()
    return voice


def voice_upload(
    *, owner: AbstractBaseUser, upload: VoiceUpload, library: Library | None = None
) -> VoiceResult:
    """Store an audio sample (5–30 s of one speaker) as a voice of `library` (default: the
    uploader's own; a team's needs EDIT there).

    The uploader's consent statement is recorded with the time. A poor sample (silence,
    clipping, noise) is accepted; its warnings come back to show the user.
    """
    library = library or personal_library(owner)
    check_library_allows(owner, library, Action.EDIT, what="upload voices")
    prepared = _prepare_voice(upload)
    with atomic_with_files() as files:
        voice = _create_voice(owner, prepared, files, library)
    return VoiceResult(voice, prepared.audio.quality.warnings)


def _usable_voice(
    owner: AbstractBaseUser,
    voice_id: int | str,
    field: str = "voiceId",
    library: Library | None = None,
) -> Voice:
    """A voice `owner` may bind to an element of `library` (default: their own): a preset,
    or a voice of that same library. A voice of another library they may use is refused
    (VOICE_NOT_ALLOWED): bound to a team's element, a personal voice would hand its audio to
    the team. A voice they can't use is NOT_FOUND, as an unknown id."""
    library = library or personal_library(owner)
    voice = get_or_not_found(
        owner,
        Voice.objects.select_related("team"),
        voice_id,
        Action.USE,
        field=field,
        message="No such voice.",
        code=NOT_FOUND,
    )
    if voice.owner_id is not None and not library.owns(voice):
        raise _error(
            field,
            "This voice belongs to another library: bind a voice of the element's own "
            "library or a preset.",
            ElementErrorCode.VOICE_NOT_ALLOWED,
        )
    if voice.status == VoiceStatus.TAKEN_DOWN:
        raise _error(
            field,
            f"This voice was taken down by moderation: {voice.taken_down_reason}",
            ElementErrorCode.VOICE_TAKEN_DOWN,
        )
    return voice


def _check_voice_allowed(element_type: str) -> None:
    if element_type != ElementType.CHARACTER:
        raise _error(
            "voice",
            "Only character elements can have a voice.",
            ElementErrorCode.VOICE_NOT_ALLOWED,
        )


def voice_delete(*, owner: AbstractBaseUser, voice_id: int | str) -> None:
    """Delete a voice of a library `owner` (the user acting) may edit; elements bound to it
    lose it (a new version). Presets are NOT_FOUND here, as any voice one can't see."""
    with transaction.atomic():
        voice = get_or_not_found(
            owner,
            Voice.objects.filter(owner__isnull=False).select_related("team"),
            voice_id,
            Action.VIEW,
            field="id",
            message="No such voice.",
            code=NOT_FOUND,
        )
        if not allowed(owner, voice, Action.EDIT):
            raise role_forbidden("id", "delete its voices")
        _voice_remove(voice)


def voice_remove(*, voice: Voice) -> None:
    """Delete `voice` whoever may (the admin's: the caller decided); see `voice_delete`."""
    with transaction.atomic():
        _voice_remove(voice)


def _voice_remove(voice: Voice) -> None:
    Element.objects.filter(voice=voice).update(
        voice=None,
        voice_notice=f"The voice “{voice.name}” was deleted.",
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    name = voice.audio.name
    voice.delete()
    delete_files_after_commit([name])
    _send_voice_withdrawn_after_commit(name)


def _send_voice_withdrawn_after_commit(voice_file: str) -> None:
    """Tell the packages above (providers that made a voice of this sample) once the
    transaction commits; a receiver's failure never undoes or blocks the withdrawal."""

    def send() -> None:
        for receiver, result in voice_withdrawn.send_robust(sender=Voice, voice_file=voice_file):
            if isinstance(result, Exception):
                logger.error("voice_withdrawn receiver %r failed: %s", receiver, result)

    transaction.on_commit(send)


def voice_bind(
    *,
    owner: AbstractBaseUser,
    element_id: int | str,
    voice_id: int | str | None = None,
    upload: VoiceUpload | None = None,
) -> tuple[Element, tuple[QualityWarning, ...]]:
    """Bind a voice to a character: a voice of the element's library or a preset
    (`voice_id`), or a new sample (`upload`, stored in the element's library). Replaces any
    voice bound before. Needs EDIT on the element."""
    if (voice_id is None) == (upload is None):
        raise _error(
            "voice",
            "Choose either an existing voice or a new sample.",
            ElementErrorCode.VOICE_CHOICE_CONFLICT,
        )
    prepared = _prepare_voice(upload, "voiceFile") if upload is not None else None
    with atomic_with_files() as files:
        element = locked_element(owner, element_id)
        _check_voice_allowed(element.type)
        library = library_of(element)
        if prepared is not None:
            voice = _create_voice(owner, prepared, files, library)
        else:
            voice = _usable_voice(owner, voice_id, library=library)  # type: ignore[arg-type]
        touch(element, voice=voice, voice_notice="")
    return element, (prepared.audio.quality.warnings if prepared else ())


def voice_unbind(*, owner: AbstractBaseUser, element_id: int | str) -> Element:
    """Make a character speak with no voice of its own."""
    with transaction.atomic():
        element = locked_element(owner, element_id)
        if element.voice_id is not None:
            touch(element, voice=None, voice_notice="")
    return element


def voice_take_down(*, staff: AbstractBaseUser, voice: Voice, reason: str) -> int:
    """Moderation: take a voice down. Every element bound to it loses it, its owner sees
    why, and an audit record stays. Returns how many elements lost it."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", "Say why the voice is taken down.", ElementErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        now = timezone.now()
        Voice.objects.filter(pk=voice.pk).update(
            status=VoiceStatus.TAKEN_DOWN, taken_down_reason=reason[:300], taken_down_at=now
        )
        affected = Element.objects.filter(voice_id=voice.pk).update(
            voice=None,
            voice_notice=f"The voice “{voice.name}” was taken down by moderation: {reason}"[:300],
            version=F("version") + 1,
            updated_at=now,
        )
        _send_voice_withdrawn_after_commit(voice.audio.name)
        ModerationEvent.objects.create(
            action=ModerationAction.VOICE_TAKEN_DOWN,
            voice=voice,
            subject=voice.name[:120],
            reason=reason[:300],
            staff_id=staff.pk,
            affected=affected,
        )
    voice.refresh_from_db()
    return affected


def voice_restore(*, staff: AbstractBaseUser, voice: Voice, reason: str) -> None:
    """Moderation: make a taken-down voice usable again (elements are not re-bound)."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    reason = (reason or "").strip() or "Restored"
    with transaction.atomic():
        Voice.objects.filter(pk=voice.pk).update(
            status=VoiceStatus.ACTIVE, taken_down_reason="", taken_down_at=None
        )
        ModerationEvent.objects.create(
            action=ModerationAction.VOICE_RESTORED,
            voice=voice,
            subject=voice.name[:120],
            reason=reason[:300],
            staff_id=staff.pk,
        )
    voice.refresh_from_db()


# --- Elements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementResult:
    element: Element
    voice_warnings: tuple[QualityWarning, ...] = ()


def add_image(
    element: Element,
    processed: ProcessedImage,
    *,
    role: str,
    position: int,
    origin: str,
    files: FileBatch,
) -> ReferenceImage:
    """Store a processed image and its thumbnail (through `files`, so a failed transaction
    removes them) as a row of `element`."""
    image = ReferenceImage(
        element=element,
        role=role,
        position=position,
        width=processed.width,
        height=processed.height,
        sha256=processed.sha256,
        origin=origin,
    )
    image.image.name = files.save("elements", processed.content, processed.extension)
    image.thumbnail.name = files.save(
        "elements/thumbs", processed.thumbnail, processed.thumbnail_extension
    )
    image.save()
    # Its identity descriptors (`elements.identity`) are computed by a task, once the image
    # is committed. A broker that is down must not turn the stored image into an error
    # (robust: logged); the image then stays "pending" in the identity check.
    transaction.on_commit(lambda: enqueue_image_descriptors(image.pk), robust=True)
    return image


def _check_image_count(count: int, minimum: int = MIN_IMAGES) -> None:
    if count < minimum:
        raise _error(
            "images",
            f"An element needs a main image and at least one more ({MIN_IMAGES}–{MAX_IMAGES} "
            "in all), or AI multi-view completion to make them.",
            ElementErrorCode.TOO_FEW_IMAGES,
        )
    if count > MAX_IMAGES:
        raise _error(
            "images",
            f"An element holds at most {MAX_IMAGES} images: one main and up to "
            f"{MAX_IMAGES - 1} more.",
            ElementErrorCode.TOO_MANY_IMAGES,
        )


def element_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    element_type: str,
    main_image: Upload,
    extra_images: Sequence[Upload],
    description: str = "",
    voice_id: int | str | None = None,
    voice_upload: VoiceUpload | None = None,
    main_origin: str = ImageOrigin.UPLOAD,
    min_images: int = MIN_IMAGES,
    library: Library | None = None,
) -> ElementResult:
    """Create a multi-image element in `library` (default: the owner's own; a team's needs
    EDIT there, and the element's `owner` is then the creating member): 1 main image + 1–3
    supplementary ones, a name unique in that library (ignoring case), and for characters an
    optional voice: a new sample (`voice_upload`, stored in the same library), a voice of the
    same library or a preset (`voice_id`), or none. The main image may come from the owner's
    generation history (`main_origin="history"`).

    Refused at the library's element limit. Creating is free. `min_images=1` only for the "AI
    multi-view" choice at creation, whose job (made by generation) fills the rest at once.
    """
    library = library or personal_library(owner)
    check_library_allows(owner, library, Action.EDIT, what="create elements")
    name = clean_name(name)
    description = clean_description(description)
    element_type = _check_type(element_type)
    _check_image_count(1 + len(extra_images), min_images)
    if voice_id is not None or voice_upload is not None:
        _check_voice_allowed(element_type)
        if voice_id is not None and voice_upload is not None:
            raise _error(
                "voice",
                "Choose either an existing voice or a new sample.",
                ElementErrorCode.VOICE_CHOICE_CONFLICT,
            )
    # Cheap checks first, then all the media, and only then the database.
    check_name_free(owner, name, library=library)
    main = _process_image(main_image, "mainImage")
    detected = _detected_fields(main)
    extras = [_process_image(f, f"extraImages.{i}") for i, f in enumerate(extra_images)]
    prepared_voice = _prepare_voice(voice_upload, "voiceFile") if voice_upload else None

    try:
        with atomic_with_files() as files:
            lock_library(library)
            check_can_create(owner, library)
            check_name_free(owner, name, library=library)
            voice = None
            if prepared_voice is not None:
                voice = _create_voice(owner, prepared_voice, files, library)
            elif voice_id is not None:
                voice = _usable_voice(owner, voice_id, library=library)
            element = Element.objects.create(
                owner_id=owner.pk,
                team=library.team,
                name=name,
                type=element_type,
                description=description,
                voice=voice,
                **detected,
            )
            add_image(
                element,
                main,
                role=ImageRole.MAIN,
                position=0,
                origin=main_origin,
                files=files,
            )
            for position, processed in enumerate(extras, start=1):
                add_image(
                    element,
                    processed,
                    role=ImageRole.EXTRA,
                    position=position,
                    origin=ImageOrigin.UPLOAD,
                    files=files,
                )
    except IntegrityError:
        # The same name committed by a parallel request after our check.
        raise name_taken() from None
    warnings = prepared_voice.audio.quality.warnings if prepared_voice else ()
    return ElementResult(element, warnings)


_UNSET: Any = object()


def element_update(
    *,
    owner: AbstractBaseUser,
    element_id: int | str,
    name: str = _UNSET,
    element_type: str = _UNSET,
    description: str = _UNSET,
) -> Element:
    """Rename, retype or redescribe an element (a new version). A character with a bound
    voice can't become another type until the voice is unbound."""
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = clean_name(name)
    if description is not _UNSET:
        changes["description"] = clean_description(description)
    if element_type is not _UNSET:
        changes["type"] = _check_type(element_type)
    try:
        with transaction.atomic():
            element = locked_element(owner, element_id)
            if "name" in changes:
                check_name_free(
                    owner, changes["name"], exclude_pk=element.pk, library=library_of(element)
                )
            if (
                changes.get("type", ElementType.CHARACTER) != ElementType.CHARACTER
                and element.voice_id
            ):
                raise _error(
                    "type",
                    "Unbind the voice first: only characters can have a voice.",
                    ElementErrorCode.VOICE_NOT_ALLOWED,
                )
            changed = {k: v for k, v in changes.items() if getattr(element, k) != v}
            if changed:
                touch(element, **changed)
    except IntegrityError:
        raise name_taken() from None
    return element


def element_delete(*, owner: AbstractBaseUser, element_id: int | str) -> None:
    """Delete an element (`owner`, the user acting, needs EDIT on it) and its image files.
    Allowed over the tier limit and when blocked."""
    with transaction.atomic():
        element = library_element(owner, element_id, Action.EDIT, what="delete its elements")
        _element_remove(element)


def element_remove(*, element: Element) -> None:
    """Delete `element` whoever may (the admin's: the caller decided); see `element_delete`."""
    with transaction.atomic():
        _element_remove(element)


def _element_remove(element: Element) -> None:
    names = _image_files(list(element.images.all()))
    names += [element.clip.name, element.video_source.name]  # video elements
    element.delete()
    delete_files_after_commit(names)


def _element_image(element: Element, image_id: int | str, field: str = "imageId") -> ReferenceImage:
    return row_or_not_found(
        element.images.all(),
        image_id,
        field=field,
        message="No such image of this element.",
        code=NOT_FOUND,
    )


def _compact_extras(element: Element) -> None:
    for position, image in enumerate(
        element.images.filter(role=ImageRole.EXTRA).order_by("position", "id"), start=1
    ):
        if image.position != position:
            ReferenceImage.objects.filter(pk=image.pk).update(position=position)


def element_image_add(
    *,
    owner: AbstractBaseUser,
    element_id: int | str,
    file: Upload,
    origin: str = ImageOrigin.UPLOAD,
) -> ReferenceImage:
    """Add a supplementary image (at most 4 images in all), uploaded or from history."""
    processed = _process_image(file, "file")
    with atomic_with_files() as files:
        element = locked_element(owner, element_id)
        count = element.images.count()
        if count >= MAX_IMAGES:
            _check_image_count(count + 1)
        image = add_image(
            element,
            processed,
            role=ImageRole.EXTRA,
            position=count,
            origin=origin,
            files=files,
        )
        touch(element)
    return image


def element_image_replace(
    *, owner: AbstractBaseUser, element_id: int | str, image_id: int | str, file: Upload
) -> ReferenceImage:
    """Replace the file of one image, keeping its role and place."""
    processed = _process_image(file, "file")
    # Detection takes a fraction of a second: run it before the lock, for a main image.
    replaces_main = (
        permitted(owner, ReferenceImage, Action.EDIT)
        .filter(pk=row_key(ReferenceImage, image_id), role=ImageRole.MAIN)
        .exists()
    )
    detected = _detected_fields(processed) if replaces_main else None
    with atomic_with_files() as files:
        element = locked_element(owner, element_id)
        old = _element_image(element, image_id)
        old_files = _image_files([old])
        if old.role == ImageRole.MAIN and detected is not None:
            # A new main image: what detection suggests for it replaces the old suggestion.
            Element.objects.filter(pk=element.pk).update(**detected)
        old.delete()
        image = add_image(
            element,
            processed,
            role=old.role,
            position=old.position,
            origin=ImageOrigin.UPLOAD,
            files=files,
        )
        touch(element)
        delete_files_after_commit(old_files)
    return image


def element_image_remove(
    *, owner: AbstractBaseUser, element_id: int | str, image_id: int | str
) -> Element:
    """Remove a supplementary image; an element keeps its main image and at least 2 in all."""
    with transaction.atomic():
        element = locked_element(owner, element_id)
        image = _element_image(element, image_id)
        if image.role == ImageRole.MAIN:
            raise _error(
                "imageId",
                "Make another image the main one before removing this one.",
                ElementErrorCode.CANNOT_REMOVE_MAIN_IMAGE,
            )
        _check_image_count(element.images.count() - 1)
        names = _image_files([image])
        image.delete()
        _compact_extras(element)
        touch(element)
        delete_files_after_commit(names)
    return element


def element_image_set_main(
    *, owner: AbstractBaseUser, element_id: int | str, image_id: int | str
) -> Element:
    """Make a supplementary image the main one; the old main takes its place."""
    with transaction.atomic():
        element = locked_element(owner, element_id)
        image = _element_image(element, image_id)
        if image.role != ImageRole.MAIN:
            # Old main first, so there is never a second main row (a unique constraint).
            element.images.filter(role=ImageRole.MAIN).update(
                role=ImageRole.EXTRA, position=image.position
            )
            ReferenceImage.objects.filter(pk=image.pk).update(role=ImageRole.MAIN, position=0)
            touch(element)
    return element


def element_image_reorder(
    *, owner: AbstractBaseUser, element_id: int | str, image_ids: Sequence[int | str]
) -> Element:
    """Order the supplementary images: `image_ids` lists each of them once."""
    with transaction.atomic():
        element = locked_element(owner, element_id)
        extras = {image.pk: image for image in element.images.filter(role=ImageRole.EXTRA)}
        wanted = [row_key(ReferenceImage, i) for i in image_ids]
        if sorted(wanted) != sorted(extras):
            raise _error(
                "imageIds",
                "List every supplementary image of the element once (not the main image).",
                ElementErrorCode.INVALID_IMAGE_ORDER,
            )
        for position, pk in enumerate(wanted, start=1):
            if extras[pk].position != position:
                ReferenceImage.objects.filter(pk=pk).update(position=position)
        touch(element)
    return element


# --- Moderation -----------------------------------------------------------------------------


def element_block(*, staff: AbstractBaseUser, element: Element, reason: str) -> None:
    """Moderation: a blocked element can't be edited or used; its owner sees the reason."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", "Say why the element is blocked.", ElementErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        Element.objects.filter(pk=element.pk).update(
            status=ElementStatus.BLOCKED,
            blocked_reason=reason[:300],
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        ModerationEvent.objects.create(
            action=ModerationAction.ELEMENT_BLOCKED,
            element=element,
            subject=element.name,
            reason=reason[:300],
            staff_id=staff.pk,
        )
    element.refresh_from_db()


def element_unblock(*, staff: AbstractBaseUser, element: Element, reason: str = "") -> None:
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    with transaction.atomic():
        Element.objects.filter(pk=element.pk).update(
            status=ElementStatus.ACTIVE,
            blocked_reason="",
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        ModerationEvent.objects.create(
            action=ModerationAction.ELEMENT_UNBLOCKED,
            element=element,
            subject=element.name,
            reason=(reason or "Unblocked").strip()[:300],
            staff_id=staff.pk,
        )
        # Unblocked, it may still show a likeness its owner was not allowed to use.
        refresh_holds([element.pk])
    element.refresh_from_db()


def voice_preset_create(
    *,
    staff: AbstractBaseUser,
    file: Upload,
    name: str,
    language: str = "",
    style_tags: Sequence[str] = (),
) -> Voice:
    """Moderation: add a preset to the shared Voice Library (no owner). Its audio goes through
    the same validation and normalization as a user's sample; staff vouch for the rights, so
    no consent statement is recorded. Quality warnings are kept in the voice's report."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    name = _clean_voice_name(name)
    audio = _process_audio(file, "file")
    with atomic_with_files() as files:
        voice = Voice(
            owner=None,
            name=name,
            duration_ms=audio.duration_ms,
            sha256=audio.sha256,
            language=(language or "").strip()[:16],
            style_tags=[str(t).strip()[:30] for t in style_tags if str(t).strip()][:10],
            source=VoiceSource.PRESET,
            quality=audio.quality.as_dict(),
        )
        voice.audio.name = files.save("voices", audio.content, audio.extension)
        voice.full_clean()
        voice.save()
    return voice
