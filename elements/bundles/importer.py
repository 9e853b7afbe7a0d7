"""Imports: a bundle read into a library, all or nothing.

In this order, and nothing is written before the last check passed:
1. the zip (`archive`: paths, symlinks, sizes, ratios) and the manifest (`format`: size,
   version, schema), then the manifest's own rules: names as `element_create` wants them
   and unique in the bundle (ignoring case), one main image at position 0 and extras at
   1–3, voices only on characters, each voice with a consent statement;
2. the files against the manifest: every listed file present, nothing else, each file's
   SHA-256 as listed;
3. the tier's element limit for the whole bundle (what the conflict choice would create);
4. every image through `process_image` and every voice sample through `process_audio`,
   exactly as uploads (a voice taken from a video keeps that path's 3 s minimum); the
   normalized files wait in a local temporary folder;
5. one transaction, with the library locked: the limit and the conflicts again, then the
   rows, the files saved through a `FileBatch`, so a failure removes every file it wrote.

Conflicts (a name the library already has, ignoring case): SKIP leaves the library's
element; RENAME imports under "Name (2)" (the first free number); REPLACE puts the bundle's
type, description, images and voice into the existing element (a new version, allowed only
where an edit would be), whose old image files go once the transaction commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from elements.bundles.archive import Bundle, open_bundle
from elements.bundles.errors import BundleErrorCode, bundle_error
from elements.bundles.format import (
    MANIFEST_MAX_BYTES,
    MANIFEST_NAME,
    Manifest,
    ManifestElement,
    ManifestVoice,
    parse_manifest,
)
from elements.bundles.library import BundleLibrary, bundle_library
from elements.error_codes import ElementErrorCode
from elements.media.audio import process_audio
from elements.media.errors import MediaErrorCode, human_size, media_error
from elements.media.images import ProcessedImage, process_image
from elements.models import (
    ELEMENT_NAME_MAX,
    Element,
    ElementSource,
    ElementType,
    ImageOrigin,
    ImageRole,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from elements.services import (
    add_image,
    check_can_edit,
    check_consent,
    check_library_allows,
    clean_description,
    clean_name,
    delete_files_after_commit,
    name_taken,
    touch,
)
from elements.teams.policy import Action, Library
from elements.video_elements import VIDEO_VOICE_MIN_SECONDS
from elementsite.errors import field_error
from elementsite.files import FileBatch, atomic_with_files

Progress = Callable[[int, int], None]


class OnConflict(StrEnum):
    SKIP = "skip"
    RENAME = "rename"
    REPLACE = "replace"


class Outcome(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    RENAMED = "renamed"
    REPLACED = "replaced"


@dataclass(frozen=True)
class ImportRow:
    """What became of one element of the bundle."""

    name: str
    outcome: Outcome
    element: Element | None
    new_name: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    rows: tuple[ImportRow, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


# --- 1. The manifest's own rules ------------------------------------------------------------


def _reraise(field: str, exc: ValidationError) -> ValidationError:
    """A service's error (about `name`, `consentStatement`…) moved under the bundle's field."""
    inner = exc.error_list[0]
    return field_error(field, str(inner.message), str(inner.code))


def _check_manifest(manifest: Manifest) -> tuple[list[str], list[str]]:
    """The elements' clean names and descriptions; refuses what `element_create` would."""
    names: list[str] = []
    descriptions: list[str] = []
    seen: dict[str, int] = {}
    voices = {v.key: v for v in manifest.voices}
    if len(voices) != len(manifest.voices):
        raise _manifest_invalid("two voices have the same key.")
    paths = [image.file for e in manifest.elements for image in e.images]
    paths += [v.file for v in manifest.voices if v.file]
    if len(set(paths)) != len(paths) or MANIFEST_NAME in paths:
        raise _manifest_invalid("a file is listed twice.")
    used: set[str] = set()
    for index, element in enumerate(manifest.elements):
        field = f"elements.{index}"
        try:
            name = clean_name(element.name)
            description = clean_description(element.description)
        except ValidationError as exc:
            raise _reraise(f"{field}.name", exc) from None
        if name.lower() in seen:
            raise bundle_error(
                f"The bundle holds two elements named “{name}” (names ignore case).",
                BundleErrorCode.BUNDLE_DUPLICATE_NAME,
                field=f"{field}.name",
            )
        seen[name.lower()] = index
        names.append(name)
        descriptions.append(description)
        _check_images(element, field)
        if element.voice is not None:
            if element.voice not in voices:
                raise _manifest_invalid(f"element {index} names a voice that is not listed.")
            if element.type != ElementType.CHARACTER:
                raise field_error(
                    f"{field}.voice",
                    "Only character elements can have a voice.",
                    ElementErrorCode.VOICE_NOT_ALLOWED,
                )
            used.add(element.voice)
    for index, voice in enumerate(manifest.voices):
        if voice.key not in used:
            raise _manifest_invalid(f"voice {voice.key!r} is bound to no element.")
        if (voice.file is None) != (voice.sha256 is None):
            raise _manifest_invalid(f"voice {voice.key!r} has a file without a SHA-256.")
        if voice.source == VoiceSource.PRESET and voice.file is not None:
            raise _manifest_invalid(f"voice {voice.key!r} is a preset with a file.")
        if voice.file is not None:
            try:
                check_consent(voice.consent_statement)
            except ValidationError as exc:
                raise _reraise(f"voices.{index}.consentStatement", exc) from None
    return names, descriptions


def _check_images(element: ManifestElement, field: str) -> None:
    mains = [i for i in element.images if i.role == ImageRole.MAIN]
    extras = sorted(i.position for i in element.images if i.role == ImageRole.EXTRA)
    if len(mains) != 1 or mains[0].position != 0 or extras != list(range(1, len(extras) + 1)):
        raise _manifest_invalid(
            f"{field} needs one main image at position 0 and extras at positions 1, 2, 3."
        )


def _manifest_invalid(message: str) -> ValidationError:
    return bundle_error(
        f"The bundle's manifest is not valid: {message}", BundleErrorCode.BUNDLE_MANIFEST_INVALID
    )


def _read_manifest(bundle: Bundle) -> Manifest:
    if MANIFEST_NAME not in bundle.names:
        raise bundle_error(
            f"The bundle has no {MANIFEST_NAME}.", BundleErrorCode.BUNDLE_MANIFEST_MISSING
        )
    if bundle.size(MANIFEST_NAME) > MANIFEST_MAX_BYTES:
        raise bundle_error(
            "The bundle's manifest is over 1 MB.", BundleErrorCode.BUNDLE_MANIFEST_TOO_LARGE
        )
    return parse_manifest(bundle.read(MANIFEST_NAME))


# --- 2. The files against the manifest ------------------------------------------------------


def _check_files(bundle: Bundle, manifest: Manifest) -> None:
    listed = set(manifest.files())
    present = bundle.names - {MANIFEST_NAME}
    if missing := sorted(listed - present):
        raise bundle_error(
            f"The bundle lacks {len(missing)} file{pluralize(len(missing))} its manifest "
            f"lists, e.g. “{missing[0]}”.",
            BundleErrorCode.BUNDLE_FILE_MISSING,
        )
    if extra := sorted(present - listed):
        raise bundle_error(
            f"The bundle holds {len(extra)} file{pluralize(len(extra))} its manifest doesn't "
            f"list, e.g. “{extra[0][:80]}”.",
            BundleErrorCode.BUNDLE_FILE_UNEXPECTED,
        )


def _read_checked(bundle: Bundle, name: str, sha256: str, field: str, max_bytes: int) -> bytes:
    if bundle.size(name) > max_bytes:
        raise ValidationError(
            {
                field: media_error(
                    f"The file is too large: the limit is {human_size(max_bytes)}.",
                    MediaErrorCode.FILE_TOO_LARGE,
                )
            }
        )
    data = bundle.read(name)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise bundle_error(
            f"“{name}” is not the file the manifest lists (its SHA-256 differs).",
            BundleErrorCode.BUNDLE_CHECKSUM_MISMATCH,
            field=field,
        )
    return data


# --- 3. Conflicts and the limit -------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    outcome: Outcome
    name: str
    existing_pk: int | None = None


def free_name(name: str, taken: set[str]) -> str:
    """`name` with the first " (n)" from 2 up that no name in `taken` (lower case) has,
    cut to fit ELEMENT_NAME_MAX."""
    for n in itertools.count(2):
        suffix = f" ({n})"
        candidate = name[: ELEMENT_NAME_MAX - len(suffix)].rstrip() + suffix
        if candidate.lower() not in taken:
            return candidate
    raise AssertionError("unreachable")


def _plan(library: BundleLibrary, names: list[str], on_conflict: OnConflict) -> list[_Plan]:
    existing = {name.lower(): pk for pk, name in library.elements().values_list("pk", "name")}
    taken = set(existing) | {n.lower() for n in names}
    plans = []
    for name in names:
        pk = existing.get(name.lower())
        if pk is None:
            plans.append(_Plan(Outcome.CREATED, name))
        elif on_conflict == OnConflict.SKIP:
            plans.append(_Plan(Outcome.SKIPPED, name, pk))
        elif on_conflict == OnConflict.REPLACE:
            plans.append(_Plan(Outcome.REPLACED, name, pk))
        else:
            new = free_name(name, taken)
            taken.add(new.lower())
            plans.append(_Plan(Outcome.RENAMED, new))
    return plans


def _check_limit(library: BundleLibrary, plans: list[_Plan]) -> None:
    adding = sum(1 for p in plans if p.outcome in (Outcome.CREATED, Outcome.RENAMED))
    if not adding:
        return
    count = library.elements().count()
    limit = library.element_limit()
    if count + adding > limit:
        raise field_error(
            None,
            f"The bundle adds {adding} element{pluralize(adding)} to the {count} of the "
            f"library; its limit is {limit}. Nothing was imported.",
            ElementErrorCode.ELEMENT_LIMIT_REACHED,
        )


# --- 4. The media, validated as uploads -----------------------------------------------------


@dataclass(frozen=True)
class _StagedImage:
    role: str
    position: int
    origin: str
    processed: ProcessedImage  # content and thumbnail empty: they wait in `content_path`
    content_path: Path
    thumbnail_path: Path

    def load(self) -> ProcessedImage:
        return dataclasses.replace(
            self.processed,
            content=self.content_path.read_bytes(),
            thumbnail=self.thumbnail_path.read_bytes(),
        )


@dataclass(frozen=True)
class _StagedVoice:
    entry: ManifestVoice
    audio: Any  # ProcessedAudio, its content in `path`
    path: Path


def _stage_image(spool: Path, key: str, data: bytes, field: str) -> ProcessedImage:
    try:
        processed = process_image(io.BytesIO(data))
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None
    (spool / f"{key}.img").write_bytes(processed.content)
    (spool / f"{key}.thumb").write_bytes(processed.thumbnail)
    return dataclasses.replace(processed, content=b"", thumbnail=b"", preview=None)


def _stage(
    bundle: Bundle,
    manifest: Manifest,
    plans: list[_Plan],
    spool: Path,
    progress: Callable[[], None],
) -> tuple[dict[int, list[_StagedImage]], dict[str, _StagedVoice]]:
    """Every file of the elements to import, checked and normalized as an upload is."""
    image_cap = int(settings.ELEMENT_IMAGE_MAX_BYTES)
    voice_cap = int(settings.VOICE_MAX_BYTES)
    images: dict[int, list[_StagedImage]] = {}
    wanted_voices: set[str] = set()
    for index, (element, plan) in enumerate(zip(manifest.elements, plans, strict=True)):
        staged = []
        for n, image in enumerate(element.images):
            field = f"elements.{index}.images.{n}"
            data = _read_checked(bundle, image.file, image.sha256, field, image_cap)
            key = f"{index}-{n}"
            # A skipped element's files are checked too: a bundle is refused or taken whole,
            # whatever the library holds today; only they are not kept.
            processed = _stage_image(spool, key, data, field)
            if plan.outcome == Outcome.SKIPPED:
                progress()
                continue
            origin = image.origin if image.origin in ImageOrigin.values else ImageOrigin.UPLOAD
            staged.append(
                _StagedImage(
                    role=image.role,
                    position=image.position,
                    origin=origin,
                    processed=processed,
                    content_path=spool / f"{key}.img",
                    thumbnail_path=spool / f"{key}.thumb",
                )
            )
            progress()
        images[index] = sorted(staged, key=lambda s: s.position)
        if element.voice is not None and plan.outcome != Outcome.SKIPPED:
            wanted_voices.add(element.voice)
    voices: dict[str, _StagedVoice] = {}
    for index, voice in enumerate(manifest.voices):
        if voice.file is None or voice.sha256 is None:
            continue
        field = f"voices.{index}.file"
        data = _read_checked(bundle, voice.file, voice.sha256, field, voice_cap)
        video = voice.source == VoiceSource.VIDEO
        try:
            audio = process_audio(
                io.BytesIO(data),
                min_seconds=VIDEO_VOICE_MIN_SECONDS - 0.1 if video else 5,
                max_seconds=30,
                min_speech_ratio=0 if video else None,
            )
        except ValidationError as exc:
            raise ValidationError({field: exc.error_list}) from None
        path = spool / f"voice-{index}.wav"
        path.write_bytes(audio.content)
        if voice.key in wanted_voices:
            voices[voice.key] = _StagedVoice(
                voice, dataclasses.replace(audio, content=b"", speech=None), path
            )
        progress()
    return images, voices


# --- 5. The writes --------------------------------------------------------------------------


def _create_voice(library: BundleLibrary, staged: _StagedVoice, files: FileBatch) -> Voice:
    entry, audio = staged.entry, staged.audio
    consent_at = parse_datetime(entry.consent_at) if entry.consent_at else None
    voice = Voice(
        owner_id=library.owner_id,
        team_id=library.team_id,
        name=entry.name.strip()[:60],
        duration_ms=audio.duration_ms,
        sha256=audio.sha256,
        language=entry.language.strip()[:16],
        style_tags=[t.strip()[:30] for t in entry.style_tags if t.strip()][:10],
        source=entry.source,
        consent_statement=check_consent(entry.consent_statement),
        consent_at=consent_at or timezone.now(),
        quality=audio.quality.as_dict(),
    )
    voice.audio.name = files.save("voices", staged.path.read_bytes(), audio.extension)
    voice.full_clean()
    voice.save()
    return voice


def _preset(name: str) -> Voice | None:
    return Voice.objects.filter(
        owner__isnull=True, source=VoiceSource.PRESET, name=name, status=VoiceStatus.ACTIVE
    ).first()


def _voice_for(
    library: BundleLibrary,
    key: str | None,
    manifest: Manifest,
    staged: dict[str, _StagedVoice],
    made: dict[str, Voice],
    files: FileBatch,
) -> tuple[Voice | None, tuple[str, ...]]:
    if key is None:
        return None, ()
    if key in made:
        return made[key], ()
    entry = next(v for v in manifest.voices if v.key == key)
    if key in staged:
        made[key] = _create_voice(library, staged[key], files)
        return made[key], ()
    if entry.source == VoiceSource.PRESET:
        preset = _preset(entry.name)
        if preset is not None:
            made[key] = preset
            return preset, ()
        return None, (f"The Voice Library has no preset “{entry.name}”: no voice bound.",)
    return None, (f"The bundle holds no sample of the voice “{entry.name}”: no voice bound.",)


def _write_images(element: Element, staged: list[_StagedImage], files: FileBatch) -> None:
    for image in staged:
        add_image(
            element,
            image.load(),
            role=image.role,
            position=image.position,
            origin=image.origin,
            files=files,
        )


def _replace(
    existing: Element,
    element: ManifestElement,
    description: str,
    staged: list[_StagedImage],
    voice: Voice | None,
    files: FileBatch,
) -> Element:
    check_can_edit(existing)
    old = list(existing.images.all())
    names = [n for image in old for n in (image.image.name, image.thumbnail.name)]
    names += [existing.clip.name, existing.video_source.name]
    for image in old:
        image.delete()
    touch(
        existing,
        type=element.type,
        description=description,
        voice=voice,
        voice_notice="",
        source=ElementSource.IMAGES,
        clip="",
        video_source="",
        trim_start=None,
        trim_end=None,
    )
    _write_images(existing, staged, files)
    delete_files_after_commit(names)
    return existing


def element_import(
    *,
    owner: AbstractBaseUser,
    bundle: Any,
    on_conflict: OnConflict | str = OnConflict.SKIP,
    progress: Progress | None = None,
    library: Library | None = None,
) -> ImportReport:
    """Import a bundle (a seekable file) into `library` (default: the owner's own; a team's
    needs EDIT there: NOT_FOUND for a non-member, ROLE_FORBIDDEN for a viewer), all or
    nothing (see the module docstring). Returns a row for each element of the bundle, in
    its order."""
    if library is not None:
        check_library_allows(owner, library, Action.EDIT, what="import into it")
    return import_into(bundle_library(owner, library), bundle, OnConflict(on_conflict), progress)


def import_into(
    library: BundleLibrary,
    bundle_file: Any,
    on_conflict: OnConflict,
    progress: Progress | None = None,
) -> ImportReport:
    with (
        open_bundle(bundle_file) as bundle,
        tempfile.TemporaryDirectory(prefix="element-import-") as workdir,
    ):
        manifest = _read_manifest(bundle)
        names, descriptions = _check_manifest(manifest)
        _check_files(bundle, manifest)
        plans = _plan(library, names, on_conflict)
        _check_limit(library, plans)

        total = len(manifest.files()) + len(manifest.elements)
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        images, voices = _stage(bundle, manifest, plans, Path(workdir), step)
        try:
            with atomic_with_files() as files:
                library.lock()
                # The library may have changed while the media were checked.
                plans = _plan(library, names, on_conflict)
                _check_limit(library, plans)
                rows = []
                made: dict[str, Voice] = {}
                for index, (element, plan) in enumerate(zip(manifest.elements, plans, strict=True)):
                    if plan.outcome == Outcome.SKIPPED:
                        assert plan.existing_pk is not None
                        rows.append(
                            ImportRow(
                                element.name,
                                plan.outcome,
                                library.elements().get(pk=plan.existing_pk),
                            )
                        )
                        step()
                        continue
                    voice, notes = _voice_for(library, element.voice, manifest, voices, made, files)
                    if plan.outcome == Outcome.REPLACED:
                        assert plan.existing_pk is not None
                        existing = (
                            library.elements()
                            .select_for_update()
                            .select_related("owner")
                            .get(pk=plan.existing_pk)
                        )
                        target = _replace(
                            existing, element, descriptions[index], images[index], voice, files
                        )
                    else:
                        target = Element.objects.create(
                            owner_id=library.owner_id,
                            team_id=library.team_id,
                            name=plan.name,
                            type=element.type,
                            description=descriptions[index],
                            voice=voice,
                        )
                        _write_images(target, images[index], files)
                    rows.append(
                        ImportRow(
                            element.name,
                            plan.outcome,
                            target,
                            new_name=plan.name if plan.outcome == Outcome.RENAMED else None,
                            notes=notes,
                        )
                    )
                    step()
        except IntegrityError:
            # A name committed by a parallel request after the plan was made.
            raise name_taken() from None
    return ImportReport(tuple(rows))
