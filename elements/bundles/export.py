"""Exports: a library's elements written to a bundle (`format`), by a job with progress.

`element_export_start` checks the selection (another user's element is NOT_FOUND, like an
unknown id; an element that is blocked, processing or failed can't be exported) and records
an `ElementExport`. Up to `ELEMENT_EXPORT_INLINE_MAX` elements are written at once, in the
request; more go to a worker (`elements.tasks.process_element_export`, enqueued after the
commit) and the client follows `progress`. The bundle is stored under `exports/` and can be
downloaded through a signed, expiring link (`elements.media_urls`: the link names the owner,
and the media view serves it to that user only) until `expires_at`
(`ELEMENT_EXPORT_TTL_SECONDS`), when `element_exports_purge` deletes the file.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from typing import IO

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from elements.bundles.errors import BundleErrorCode, bundle_error
from elements.bundles.format import (
    MANIFEST_NAME,
    Manifest,
    ManifestElement,
    ManifestImage,
    ManifestVoice,
    timestamp,
)
from elements.bundles.library import BundleLibrary, bundle_library, personal_library
from elements.error_codes import ElementErrorCode
from elements.media_urls import media_url, served_by_view
from elements.models import (
    Element,
    ElementExport,
    ElementStatus,
    ExportStatus,
    Voice,
    VoiceSource,
)
from elements.services import check_library_allows
from elements.teams.models import Team
from elements.teams.policy import Action, Library, allowed, permitted
from elementsite.errors import field_error
from elementsite.files import atomic_with_files
from elementsite.ids import row_key
from elementsite.storage import StorageError, remove_quietly

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# A zip entry's time: the bundle's content, not when it was written, decides its bytes.
_ENTRY_TIME = (2020, 1, 1, 0, 0, 0)
_PURGE_BATCH = 100


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _ENTRY_TIME)
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    return info


def _voice_entry(voice: Voice, key: str, include_file: bool) -> ManifestVoice:
    has_file = include_file and voice.source != VoiceSource.PRESET
    return ManifestVoice(
        key=key,
        name=voice.name,
        source=voice.source,
        language=voice.language,
        style_tags=tuple(voice.style_tags or ()),
        consent_statement=voice.consent_statement,
        consent_at=timestamp(voice.consent_at),
        duration_ms=voice.duration_ms,
        file=f"voices/{key}.wav" if has_file else None,
        sha256=voice.sha256 if has_file else None,
    )


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else "bin"


def write_bundle(
    elements: Sequence[Element],
    destination: IO[bytes],
    *,
    include_voice_files: bool,
    progress: Progress | None = None,
) -> Manifest:
    """Write `elements` (their images prefetched, voices selected) as a bundle to
    `destination`. Media are stored as they are (already compressed; a stored entry is
    read back at the speed of the disk), the manifest deflated, last."""
    voices: dict[int, ManifestVoice] = {}
    entries: list[ManifestElement] = []
    total = len(elements)
    with zipfile.ZipFile(destination, "w", allowZip64=True) as archive:
        for index, element in enumerate(elements, start=1):
            images = []
            for image in element.images.all():
                name = f"elements/{index:04d}/{image.position}.{_extension(image.image.name)}"
                with default_storage.open(image.image.name, "rb") as source:
                    archive.writestr(_entry(name), source.read(), zipfile.ZIP_STORED)
                images.append(
                    ManifestImage(
                        role=image.role,
                        position=image.position,
                        origin=image.origin,
                        file=name,
                        sha256=image.sha256,
                        width=image.width,
                        height=image.height,
                    )
                )
            key = None
            voice = element.voice
            if voice is not None:
                if voice.pk not in voices:
                    entry = _voice_entry(voice, f"v{len(voices) + 1}", include_voice_files)
                    if entry.file is not None:
                        with default_storage.open(voice.audio.name, "rb") as source:
                            archive.writestr(_entry(entry.file), source.read(), zipfile.ZIP_STORED)
                    voices[voice.pk] = entry
                key = voices[voice.pk].key
            entries.append(
                ManifestElement(
                    name=element.name,
                    type=element.type,
                    description=element.description,
                    version=element.version,
                    images=tuple(images),
                    voice=key,
                )
            )
            if progress is not None:
                progress(index, total)
        manifest = Manifest(
            exported_at=timestamp(timezone.now()) or "",
            includes_voice_files=include_voice_files,
            elements=tuple(entries),
            voices=tuple(voices.values()),
        )
        archive.writestr(_entry(MANIFEST_NAME), manifest.dumps(), zipfile.ZIP_DEFLATED)
    return manifest


def exportable_elements(library: BundleLibrary, ids: Sequence[int] | None) -> list[Element]:
    """The library's elements to export, in the order asked (by name for the whole
    library), images and voice loaded."""
    rows = library.elements().select_related("voice").prefetch_related("images")
    if ids is None:
        return list(rows.filter(status=ElementStatus.ACTIVE).order_by("name", "id"))
    found = {e.pk: e for e in rows.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def _may_export_voice_files(owner: AbstractBaseUser, team_ids: set[int | None]) -> bool:
    """Whether `owner` may download the voices of every library the elements come from (a
    team's viewer may not: the bundle then holds no voice file, and its manifest says so)."""
    return all(
        team_id is None or allowed(owner, Library(team=Team(pk=team_id)), Action.DOWNLOAD_VOICE)
        for team_id in team_ids
    )


class ExportSelection(BundleLibrary):
    """The elements an export's requester may still export, whatever their library (the
    export names them by id)."""

    def elements(self) -> QuerySet[Element]:
        return permitted(self.owner, Element, Action.EXPORT)


def element_export_start(
    *,
    owner: AbstractBaseUser,
    element_ids: Sequence[int | str] | None = None,
    all_elements: bool = False,
    library: Library | None = None,
) -> ElementExport:
    """Export some elements (`element_ids`, of `library`: default the owner's own) or every
    usable one of the library (`all_elements`) to a bundle. Refused: nothing or both chosen
    (EXPORT_NOTHING_SELECTED), an id that is not an element of that library the owner may
    export (NOT_FOUND), an element blocked, processing or failed (ELEMENT_NOT_EXPORTABLE), an
    empty library. Voice files go in only where the owner may download them (not a team's
    viewer: the bundle's manifest says it holds none). Small exports are written before this
    returns; larger ones by a worker."""
    if library is not None:
        check_library_allows(owner, library, Action.EXPORT, what="export")
    elif element_ids is not None:
        # Ids alone: elements of any library the owner may export.
        return _start(ExportSelection(owner), element_ids, all_elements)
    return _start(bundle_library(owner, library), element_ids, all_elements)


def _start(
    library: BundleLibrary, element_ids: Sequence[int | str] | None, all_elements: bool
) -> ElementExport:
    if all_elements == (element_ids is not None) or (element_ids is not None and not element_ids):
        raise bundle_error(
            "Choose the elements to export, or the whole library.",
            BundleErrorCode.EXPORT_NOTHING_SELECTED,
            field="ids",
        )
    element_purge_expired_exports()
    ids: list[int] | None = None
    if element_ids is not None:
        ids = list(dict.fromkeys(row_key(Element, i) for i in element_ids))
        found = list(library.elements().filter(pk__in=ids).values_list("pk", "status", "team_id"))
        rows = {pk: status for pk, status, _ in found}
        include_voice_files = _may_export_voice_files(library.owner, {t for *_, t in found})
        if len(rows) != len(ids):
            raise field_error("ids", "No such element.", ElementErrorCode.NOT_FOUND)
        if any(status != ElementStatus.ACTIVE for status in rows.values()):
            raise bundle_error(
                "Blocked, failed or unfinished elements can't be exported.",
                BundleErrorCode.ELEMENT_NOT_EXPORTABLE,
                field="ids",
            )
        count = len(ids)
    else:
        active = library.elements().filter(status=ElementStatus.ACTIVE)
        count = active.count()
        if count == 0:
            raise bundle_error(
                "The library has no element to export.",
                BundleErrorCode.EXPORT_NOTHING_SELECTED,
                field="all",
            )
        include_voice_files = library.may_export_voice_files
        if library.team_id is not None:
            # The export row names no library: a team's is recorded as its elements.
            ids = list(active.order_by("name", "id").values_list("pk", flat=True))
    with transaction.atomic():
        export = ElementExport.objects.create(
            owner_id=library.owner_id,
            element_ids=ids if ids is not None else [],
            element_count=count,
            include_voice_files=include_voice_files,
        )
        if count > int(settings.ELEMENT_EXPORT_INLINE_MAX):
            from elements.tasks import enqueue_element_export

            transaction.on_commit(lambda: enqueue_element_export(export.pk), robust=True)
    if count <= int(settings.ELEMENT_EXPORT_INLINE_MAX):
        element_export_process(export.pk)
    export.refresh_from_db()
    return export


def _stale_before() -> datetime.datetime:
    # A task runs at most Q_CLUSTER["timeout"] seconds: a row still queued or running after
    # that has no worker.
    return timezone.now() - datetime.timedelta(seconds=int(settings.Q_CLUSTER.get("timeout", 600)))


def stale_exports() -> list[int]:
    """Exports no worker holds: queued, or running, for longer than a task may run."""
    return list(
        ElementExport.objects.filter(
            Q(status=ExportStatus.QUEUED, created_at__lt=_stale_before())
            | Q(status=ExportStatus.RUNNING, started_at__lt=_stale_before())
        ).values_list("pk", flat=True)[:_PURGE_BATCH]
    )


def _claim(export_id: int) -> ElementExport | None:
    """Take the export for this worker: queued, or running with a worker gone for longer
    than a task may run. One conditional update, so two deliveries can't both write."""
    now = timezone.now()
    taken = ElementExport.objects.filter(
        Q(status=ExportStatus.QUEUED)
        | Q(status=ExportStatus.RUNNING, started_at__lt=_stale_before()),
        pk=export_id,
    ).update(status=ExportStatus.RUNNING, started_at=now, progress=0)
    return ElementExport.objects.select_related("owner").get(pk=export_id) if taken else None


def element_export_process(
    export_id: int, *, progress: Progress | None = None
) -> ElementExport | None:
    """Write the export's bundle (a duplicate delivery, or one of a finished export, does
    nothing). Progress goes to the row, at most once per percent."""
    export = _claim(export_id)
    if export is None:
        return None
    # The elements asked for, in whichever library the requester may still export them
    # (a member removed since is left nothing); else the whole of their own library.
    library = (
        ExportSelection(export.owner) if export.element_ids else personal_library(export.owner)
    )
    shown = -1

    def report(done: int, total: int) -> None:
        nonlocal shown
        percent = 95 * done // max(total, 1)
        if percent != shown:
            shown = percent
            ElementExport.objects.filter(pk=export.pk).update(progress=percent)
        if progress is not None:
            progress(done, total)

    ids = export.element_ids or None
    try:
        elements = exportable_elements(library, ids)
        if not elements:
            raise bundle_error(
                "The elements were deleted before the bundle was written.",
                BundleErrorCode.EXPORT_NOTHING_SELECTED,
            )
        with tempfile.TemporaryFile(prefix="element-export-") as spool:
            write_bundle(
                elements, spool, include_voice_files=export.include_voice_files, progress=report
            )
            size = spool.tell()
            spool.seek(0)
            now = timezone.now()
            with atomic_with_files() as files:
                name = files.save("exports", File(spool), "zip")
                ElementExport.objects.filter(pk=export.pk).update(
                    status=ExportStatus.SUCCEEDED,
                    progress=100,
                    file=name,
                    size=size,
                    element_count=len(elements),
                    finished_at=now,
                    expires_at=now
                    + datetime.timedelta(seconds=int(settings.ELEMENT_EXPORT_TTL_SECONDS)),
                )
    except StorageError as exc:
        _fail(export, exc.storage_code, exc.messages[0])
    except Exception as exc:
        code = getattr(exc, "code", None)
        if code == BundleErrorCode.EXPORT_NOTHING_SELECTED:
            _fail(export, code, exc.messages[0])  # type: ignore[attr-defined]
        else:
            logger.exception("element export %s failed", export.pk)
            _fail(export, BundleErrorCode.EXPORT_FAILED, "The bundle could not be written.")
    export.refresh_from_db()
    return export


def _fail(export: ElementExport, code: str, message: str) -> None:
    ElementExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED,
        failure_code=str(code),
        failure_message=message[:300],
        finished_at=timezone.now(),
    )


def export_download_url(export: ElementExport, *, request: HttpRequest | None = None) -> str | None:
    """A signed link to the bundle for its owner, valid `MEDIA_URL_TTL` seconds; None until
    the bundle is written and after it expired. Callers pass only the viewer's exports."""
    if (
        export.status != ExportStatus.SUCCEEDED
        or not export.file
        or export.expires_at is None
        or export.expires_at <= timezone.now()
    ):
        return None
    url = media_url(export.file.name, owner_id=export.owner_id, request=request)
    # The media view then answers with `Content-Disposition: attachment` and a readable file
    # name (the stored one is random); a presigned URL must not be changed.
    if not served_by_view(default_storage):
        return url
    day = timezone.localtime(export.created_at).date().isoformat()
    return f"{url}?download=1&as=elements-{day}.zip"


def element_purge_expired_exports(now: datetime.datetime | None = None) -> int:
    """Delete the bundles of exports past `expires_at` (their rows stay, EXPIRED, so a
    client polling one learns why it is gone). Returns how many."""
    now = now or timezone.now()
    expired = list(
        ElementExport.objects.filter(status=ExportStatus.SUCCEEDED, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", "file")[:_PURGE_BATCH]
    )
    for pk, name in expired:
        updated = ElementExport.objects.filter(pk=pk, status=ExportStatus.SUCCEEDED).update(
            status=ExportStatus.EXPIRED, file=""
        )
        if updated and name:
            remove_quietly(name)
    return len(expired)
