"""The library sync: each pinned element version becomes a Kling element, its bound voice a
Kling custom voice, on first use only; old versions are deleted once no pending job pins them."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from generation.error_codes import GenerationErrorCode
from generation.models import (
    JobElement,
    JobStatus,
)
from generation.providers.base import (
    ProviderError,
)
from generation.providers.kling.client import (
    DELETE_ELEMENTS,
    DELETE_VOICES,
    ELEMENTS,
    PROVIDER,
    VOICES,
    KlingClient,
    KlingError,
    Waiter,
)
from generation.providers.kling.limits import (
    ELEMENT_VIDEO_LANDSCAPE,
    ELEMENT_VIDEO_MAX_SECONDS,
    ELEMENT_VIDEO_PORTRAIT,
    TAGS,
    VIDEO_MAX_BYTES,
    element_text,
    preset_voice_id,
    sends_voice,
)
from generation.providers.kling.models import ProviderElement, ProviderVoice, SyncState
from generation.providers.kling.requests import image_b64
from generation.providers.kling.urls import media_url

logger = logging.getLogger("generation.kling")


CLAIM_STALE = timedelta(minutes=10)
# An element's own status once Kling removed it (kling-api.md §3), apart from its task's.
ELEMENT_DELETED = "deleted"
# `external_id` of a row that stands for one of Kling's preset voices (nothing was created).
PRESET_EXTERNAL_PREFIX = "kling-preset:"


def _claim(model: type[ProviderElement] | type[ProviderVoice], pk: int) -> bool:
    """Take the right to submit this sync (one submitter; the others poll its task)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, task_id="", state__in=[SyncState.PENDING, SyncState.SYNCING])
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_STALE))
        .update(claimed_at=now, state=SyncState.SYNCING, updated_at=now)
    )


def task_status(data: Any) -> tuple[str, str]:
    data = data or {}
    return str(data.get("task_status") or ""), str(data.get("task_status_msg") or "")


def _poll_sync(
    client: KlingClient,
    row: ProviderElement | ProviderVoice,
    path: str,
    wait: Waiter,
) -> dict[str, Any]:
    """Poll a sync task until it ends, pausing by the poll back-off (`elementsite.backoff`);
    its progress is kept on the row."""
    backoff = client.config.poll_backoff
    waited = 0.0
    for attempt in itertools.count(1):
        data = client.call("GET", f"{path}/{row.task_id}") or {}
        status, message = task_status(data)
        if status in ("succeed", "failed"):
            if status == "failed":
                _fail_sync(row, message or "The provider could not create it.")
            return data
        progress = 50 if status == "processing" else 20
        type(row).objects.filter(pk=row.pk).update(progress=progress, updated_at=timezone.now())
        if waited > client.config.task_timeout:
            raise ProviderError(
                GenerationErrorCode.PROVIDER_UNAVAILABLE, "Syncing the library took too long."
            )
        pause = backoff.delay(attempt)
        wait(pause)
        waited += pause
    raise AssertionError  # unreachable: itertools.count never ends


def _fail_sync(row: ProviderElement | ProviderVoice, message: str) -> None:
    type(row).objects.filter(pk=row.pk).update(
        state=SyncState.FAILED, message=message[:500], updated_at=timezone.now()
    )
    raise ProviderError(
        GenerationErrorCode.ELEMENT_SYNC_FAILED, f"Kling could not take {row}: {message}"
    )


def _wait_for_other(
    model: type[ProviderElement] | type[ProviderVoice], pk: int, wait: Waiter, timeout: float
) -> None:
    """Wait while another worker submits this sync; return when it has a task, has ended,
    or its claim went stale (its worker died: the caller claims it in turn)."""
    waited = 0.0
    while True:
        row = model.objects.filter(pk=pk).values("task_id", "state", "claimed_at").first()
        if row is None or row["task_id"] or row["state"] != SyncState.SYNCING:
            return
        if row["claimed_at"] is None or row["claimed_at"] < timezone.now() - CLAIM_STALE:
            return
        if waited > timeout:
            raise ProviderError(
                GenerationErrorCode.PROVIDER_UNAVAILABLE, "Syncing the library took too long."
            )
        wait(0.2)
        waited += 0.2


def _adopt(client: KlingClient, path: str, external_id: str) -> str:
    """The task an earlier, interrupted claimer created under our id, if Kling lists it
    (`external_task_id` is unique per account: sending it again would be refused)."""
    try:
        listed = client.call("GET", f"{path}?pageNum=1&pageSize=500") or []
    except KlingError:
        return ""
    for item in listed:
        if (item.get("task_info") or {}).get("external_task_id") == external_id:
            return str(item.get("task_id") or "")
    return ""


def sync_voice(client: KlingClient, pk: int, wait: Waiter) -> ProviderVoice:
    """Create the voice sample as a Kling custom voice, once (idempotent)."""
    while True:
        row = ProviderVoice.objects.get(pk=pk)
        if row.state == SyncState.READY:
            return row
        if row.state == SyncState.FAILED:
            raise ProviderError(GenerationErrorCode.ELEMENT_SYNC_FAILED, row.message)
        if not row.task_id:
            if not _claim(ProviderVoice, pk):
                _wait_for_other(ProviderVoice, pk, wait, client.config.task_timeout)
                continue
            if row.claimed_at is not None and (found := _adopt(client, VOICES, row.external_id)):
                row.task_id = found
                ProviderVoice.objects.filter(pk=pk).update(task_id=found)
                continue
            try:
                body: dict[str, Any] = {
                    "voice_name": (row.voice_name or "Voice")[:20],
                    "voice_url": media_url(row.voice_file),
                    "external_task_id": row.external_id,
                }
                data = client.call("POST", VOICES, body) or {}
            except BaseException as exc:
                _release(ProviderVoice, pk, exc)
                raise
            row.task_id = str(data.get("task_id") or "")
            ProviderVoice.objects.filter(pk=pk).update(task_id=row.task_id, progress=10)
        data = _poll_sync(client, row, VOICES, wait)
        voices = (data.get("task_result") or {}).get("voices") or []
        if not voices:
            _fail_sync(row, "The provider returned no voice.")
        ProviderVoice.objects.filter(pk=pk).update(
            provider_voice_id=str(voices[0]["voice_id"]),
            state=SyncState.READY,
            progress=100,
            message="",
            updated_at=timezone.now(),
        )


def _release(
    model: type[ProviderElement] | type[ProviderVoice], pk: int, exc: BaseException
) -> None:
    """A create that did not happen: fail the row when Kling refused it for what it is,
    else let the next job (or staff's "sync now") try again: credentials, the account, a
    busy service, a missing setting or a canceled job are not the element's fault."""
    if isinstance(exc, KlingError) and exc.kind in ("invalid", "policy"):
        model.objects.filter(pk=pk).update(
            state=SyncState.FAILED, message=f"{exc.code}: {exc.message}"[:500]
        )
    else:
        model.objects.filter(pk=pk).update(
            claimed_at=None, state=SyncState.PENDING, message=str(exc)[:500]
        )


def _sent_clip_name(row: ProviderElement) -> str:
    return f"kling/element-clips/{row.external_id}.mp4"


def _drop_sent_clip(row: ProviderElement) -> None:
    """The converted clip Kling fetched is not needed once its element task has ended."""
    name = _sent_clip_name(row)
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
    except OSError:
        logger.warning("could not delete %s", name)


def element_clip_for_kling(pinned: JobElement, row: ProviderElement) -> str:
    """The storage name of the clip to send as `video_refer`: the pinned clip itself when it
    is already 1080P 16:9/9:16, at most 8 s, and its sound may go; else a copy scaled to fit
    1920×1080 (or 1080×1920 when taller than wide) and padded, never cropped (the whole
    person stays in frame), cut to 8 s, without sound unless the sound is the bound native
    voice (Kling would make a voice of any speech in it and bind that instead)."""
    import subprocess
    import tempfile

    import av
    import imageio_ffmpeg

    with default_storage.open(pinned.clip_file, "rb") as f, av.open(f, mode="r") as container:
        stream = container.streams.video[0]
        width, height = stream.width, stream.height
        duration = float(container.duration or 0) / 1_000_000
        has_audio = bool(container.streams.audio)
    target = ELEMENT_VIDEO_LANDSCAPE if width >= height else ELEMENT_VIDEO_PORTRAIT
    keep_sound = pinned.clip_sound
    if (
        (width, height) == target
        and duration <= ELEMENT_VIDEO_MAX_SECONDS
        and (keep_sound or not has_audio)
    ):
        return pinned.clip_file
    tw, th = target
    with tempfile.TemporaryDirectory(prefix="kling-clip-") as workdir:
        source, out = Path(workdir) / "in.mp4", Path(workdir) / "out.mp4"
        with default_storage.open(pinned.clip_file, "rb") as f, source.open("wb") as dest:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                dest.write(chunk)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
        cmd += ["-protocol_whitelist", "file", "-f", "mp4", "-i", str(source)]
        cmd += ["-t", f"{ELEMENT_VIDEO_MAX_SECONDS:.3f}", "-map", "0:v:0"]
        cmd += [
            "-vf",
            f"scale={tw}:{th}:force_original_aspect_ratio=decrease,"
            f"pad={tw}:{th}:(ow-iw)/2:(oh-ih)/2,setsar=1",
        ]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        cmd += ["-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k"] if keep_sound else ["-an"]
        cmd += ["-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", str(out)]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=300, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise ProviderError(
                GenerationErrorCode.ELEMENT_SYNC_FAILED,
                f"Converting the clip of “{pinned.name}” for Kling took too long.",
            ) from exc
        if result.returncode != 0 or not out.exists():
            raise ProviderError(
                GenerationErrorCode.ELEMENT_SYNC_FAILED,
                f"The clip of “{pinned.name}” could not be converted for Kling.",
            )
        if out.stat().st_size > VIDEO_MAX_BYTES:
            raise ProviderError(
                GenerationErrorCode.PROVIDER_LIMIT,
                f"The clip of “{pinned.name}” is over Kling's 200 MB once converted to 1080P.",
            )
        name = _sent_clip_name(row)
        _drop_sent_clip(row)
        with out.open("rb") as handle:
            return default_storage.save(name, File(handle, name=out.name))


def element_body(
    pinned: JobElement, row: ProviderElement, voice_id: str | None, clip_name: str = ""
) -> dict[str, Any]:
    name, description = element_text(pinned)
    body: dict[str, Any] = {
        "element_name": name,
        "element_description": description,
        "tag_list": [{"tag_id": TAGS.get(pinned.type, "o_108")}],
        "external_task_id": row.external_id,
    }
    if clip_name:
        body["reference_type"] = "video_refer"
        body["element_video_list"] = {"refer_videos": [{"video_url": media_url(clip_name)}]}
    else:
        images = sorted(pinned.images.all(), key=lambda i: i.position)
        body["reference_type"] = "image_refer"
        body["element_image_list"] = {
            "frontal_image": image_b64(images[0].file),
            "refer_images": [{"image_url": image_b64(i.file)} for i in images[1:4]],
        }
    if voice_id:
        body["element_voice_id"] = voice_id
    return body


def sync_element(client: KlingClient, pk: int, wait: Waiter) -> ProviderElement:
    """Create one pinned element version on Kling, once (idempotent). An element Kling
    reports `deleted` when its task ends is created again (once)."""
    renewed = False
    while True:
        row = ProviderElement.objects.select_related("source_pin", "voice").get(pk=pk)
        if row.state == SyncState.READY:
            return row
        if row.state in (SyncState.FAILED, SyncState.DELETED, SyncState.DELETING):
            raise ProviderError(
                GenerationErrorCode.ELEMENT_SYNC_FAILED,
                f"Kling could not take the element: {row.message or row.state}",
            )
        if not row.task_id:
            if not _claim(ProviderElement, pk):
                _wait_for_other(ProviderElement, pk, wait, client.config.task_timeout)
                continue
            if row.claimed_at is not None and (found := _adopt(client, ELEMENTS, row.external_id)):
                ProviderElement.objects.filter(pk=pk).update(task_id=found)
                continue
            pinned = row.source_pin
            if pinned is None:
                _fail_sync(row, "No job keeps this version any more.")
                raise AssertionError  # unreachable: _fail_sync raises
            reference_type = "video_refer" if pinned.clip_file else "image_refer"
            try:
                voice_id = None
                if row.voice_id is not None:
                    voice_id = sync_voice(client, row.voice_id, wait).provider_voice_id
                clip = element_clip_for_kling(pinned, row) if pinned.clip_file else ""
                body = element_body(pinned, row, voice_id, clip)
                data = client.call("POST", ELEMENTS, body) or {}
            except BaseException as exc:
                _release(ProviderElement, pk, exc)
                _drop_sent_clip(row)
                raise
            row.task_id = str(data.get("task_id") or "")
            ProviderElement.objects.filter(pk=pk).update(
                task_id=row.task_id, progress=10, reference_type=reference_type
            )
        try:
            data = _poll_sync(client, row, ELEMENTS, wait)
        except ProviderError:
            _drop_sent_clip(row)  # the task failed (or is given up on)
            raise
        _drop_sent_clip(row)
        elements = (data.get("task_result") or {}).get("elements") or []
        if not elements:
            _fail_sync(row, "The provider returned no element.")
        if str(elements[0].get("status") or "succeed") == ELEMENT_DELETED:
            # The task succeeded but the element is already gone (its own `status`, apart
            # from the task's): create it again, once, under a new id of ours.
            if renewed:
                _fail_sync(row, "Kling deleted the element as soon as it was made.")
            renewed = True
            element_renew(row, pinned=row.source_pin, reason="deleted on Kling when created")
            continue
        ProviderElement.objects.filter(pk=pk).update(
            # A 64-bit id: str() of the int json gave us, never through a float.
            provider_element_id=str(elements[0]["element_id"]),
            state=SyncState.READY,
            progress=100,
            message="",
            updated_at=timezone.now(),
        )


def element_remote_status(client: KlingClient, row: ProviderElement) -> str:
    """The element's own status on Kling (`succeed` or `deleted`; kling-api.md §3), read from
    its creating task. A task Kling no longer has counts as `deleted`."""
    try:
        data = client.call("GET", f"{ELEMENTS}/{row.task_id}") or {}
    except KlingError as exc:
        if exc.kind == "missing":
            return ELEMENT_DELETED
        raise
    for element in (data.get("task_result") or {}).get("elements") or []:
        if str(element.get("element_id")) == row.provider_element_id:
            return str(element.get("status") or "succeed")
    return ELEMENT_DELETED


def element_renew(row: ProviderElement, *, pinned: JobElement | None, reason: str) -> bool:
    """Put a version Kling deleted back to be created again, from `pinned` (what the sync
    sends), under a new `external_task_id` (Kling's are unique per account). Conditional on
    the row still being the one seen, so two jobs that notice renew it once."""
    return bool(
        ProviderElement.objects.filter(
            pk=row.pk, task_id=row.task_id, provider_element_id=row.provider_element_id
        ).update(
            state=SyncState.PENDING,
            task_id="",
            provider_element_id="",
            external_id=_new_element_external_id(pinned or row.source_pin, row.version),
            source_pin=pinned or row.source_pin,
            claimed_at=None,
            progress=0,
            message=reason[:500],
            updated_at=timezone.now(),
        )
    )


def element_ready(
    client: KlingClient, pk: int, pinned: JobElement, wait: Waiter
) -> ProviderElement:
    """The pinned version on Kling, usable: synced on first use; a version made earlier is
    checked before it is reused (Kling may have deleted it: then it is created again)."""
    reused = ProviderElement.objects.filter(pk=pk, state=SyncState.READY).exists()
    row = sync_element(client, pk, wait)
    if reused and element_remote_status(client, row) == ELEMENT_DELETED:
        logger.info("kling element %s was deleted on Kling; creating it again", row)
        element_renew(row, pinned=pinned, reason="deleted on Kling; created again")
        row = sync_element(client, pk, wait)
    return row


def _new_element_external_id(pinned: JobElement | None, version: int) -> str:
    element_id = (pinned.element_id if pinned is not None else None) or 0
    return f"el-{element_id}-v{version}-{uuid.uuid4().hex[:8]}"


def provider_element_key(pinned: JobElement) -> str:
    return f"element:{pinned.element_id}" if pinned.element_id else f"pin:{pinned.pk}"


def provider_voice_for(pinned: JobElement) -> ProviderVoice:
    """The sync row of the pinned voice: for a preset that maps to a Kling preset, a ready
    row with Kling's preset id (nothing is uploaded); else a custom voice, created on first
    use, and created again if it was deleted on Kling since (a voice restored by staff)."""
    preset = preset_voice_id(pinned.voice_file)
    lookup = dict(provider=PROVIDER, voice_file=pinned.voice_file)
    if preset:
        row: ProviderVoice = _get_or_create(
            ProviderVoice,
            lookup,
            dict(
                voice_name=pinned.voice_name,
                external_id=PRESET_EXTERNAL_PREFIX + preset,
                provider_voice_id=preset,
                state=SyncState.READY,
                progress=100,
            ),
        )
        if row.provider_voice_id != preset or row.state != SyncState.READY:
            # The mapping is newer than the row (an earlier upload, or another preset id).
            ProviderVoice.objects.filter(pk=row.pk).update(
                external_id=(PRESET_EXTERNAL_PREFIX + preset)[:64],
                task_id="",
                provider_voice_id=preset,
                state=SyncState.READY,
                progress=100,
                message="",
                updated_at=timezone.now(),
            )
            row.refresh_from_db()
        return row
    row = _get_or_create(
        ProviderVoice,
        lookup,
        dict(voice_name=pinned.voice_name, external_id=_new_voice_external_id()),
    )
    if row.state == SyncState.DELETED or is_preset_row(row):
        ProviderVoice.objects.filter(pk=row.pk, state=row.state).update(
            state=SyncState.PENDING,
            task_id="",
            provider_voice_id="",
            external_id=_new_voice_external_id(),
            claimed_at=None,
            progress=0,
            updated_at=timezone.now(),
        )
        row.refresh_from_db()
    return row


def _new_voice_external_id() -> str:
    return f"voice-{uuid.uuid4().hex[:24]}"


def is_preset_row(row: ProviderVoice) -> bool:
    """A row that stands for one of Kling's preset voices (never deleted on Kling)."""
    return row.external_id.startswith(PRESET_EXTERNAL_PREFIX)


def voices_delete_withdrawn(
    client: KlingClient, voice_files: Iterable[str], *, finishing_job: Any = None
) -> int:
    """Delete on Kling (`delete-voices`) the custom voices made from these samples once their
    voice is withdrawn (deleted by its owner, or taken down) and no pending Kling job pins the
    sample (`finishing_job`: a job that is ending and so no longer counts; a job that still
    pins it deletes it when it ends). A failed delete leaves the row ready, with the reason,
    for the next attempt. Returns how many were deleted."""
    from elements.models import Voice, VoiceStatus

    deleted = 0
    for voice_file in set(voice_files):
        if Voice.objects.filter(audio=voice_file, status=VoiceStatus.ACTIVE).exists():
            continue  # still in use (or restored)
        pinned = JobElement.objects.filter(
            voice_file=voice_file,
            job__status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
            job__provider=PROVIDER,
        ).exclude(job_id=finishing_job)
        if pinned.exists():
            continue
        rows = ProviderVoice.objects.filter(
            provider=PROVIDER, voice_file=voice_file, state=SyncState.READY
        ).exclude(provider_voice_id="")
        for row in rows:
            if is_preset_row(row):
                continue  # Kling's own preset: not ours to delete
            if not ProviderVoice.objects.filter(pk=row.pk, state=SyncState.READY).update(
                state=SyncState.DELETING
            ):
                continue
            try:
                client.call("POST", DELETE_VOICES, {"voice_id": row.provider_voice_id})
            except KlingError as exc:
                logger.warning("deleting Kling voice %s failed: %s", row.provider_voice_id, exc)
                ProviderVoice.objects.filter(pk=row.pk).update(
                    state=SyncState.READY, message=f"delete: {exc.code} {exc.message}"[:500]
                )
                continue
            ProviderVoice.objects.filter(pk=row.pk).update(
                state=SyncState.DELETED, message="", updated_at=timezone.now()
            )
            deleted += 1
    return deleted


def provider_element_for(pinned: JobElement) -> ProviderElement:
    """The sync row of this pinned version (created on first use, with its voice's row)."""
    key = provider_element_key(pinned)
    voice = provider_voice_for(pinned) if sends_voice(pinned) else None
    row = _get_or_create(
        ProviderElement,
        dict(provider=PROVIDER, element_key=key, version=pinned.version),
        dict(
            element_id=pinned.element_id,
            source_pin=pinned,
            voice=voice,
            external_id=_new_element_external_id(pinned, pinned.version),
        ),
    )
    if row.source_pin_id is None and row.state != SyncState.READY:
        ProviderElement.objects.filter(pk=row.pk).update(source_pin=pinned)
    return row


def _get_or_create(model: Any, lookup: dict[str, Any], defaults: dict[str, Any]) -> Any:
    try:
        with transaction.atomic():
            return model.objects.get_or_create(**lookup, defaults=defaults)[0]
    except IntegrityError:  # another worker created it first
        return model.objects.get(**lookup)


def cleanup_old_versions(
    client: KlingClient, element_keys: Iterable[str], *, finishing_job: Any = None
) -> int:
    """Delete on Kling the older versions of these elements that no pending job pins
    (`finishing_job`: a job that is ending and so no longer counts)."""
    deleted = 0
    for key in set(element_keys):
        rows = list(
            ProviderElement.objects.filter(
                provider=PROVIDER, element_key=key, state=SyncState.READY
            ).order_by("-version")
        )
        for row in rows[1:]:
            pinned = JobElement.objects.filter(
                version=row.version,
                job__status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                job__provider=PROVIDER,
            ).exclude(job_id=finishing_job)
            pinned = (
                pinned.filter(element_id=row.element_id)
                if row.element_id
                else pinned.filter(pk=row.source_pin_id or 0)
            )
            if pinned.exists():
                continue
            if not ProviderElement.objects.filter(pk=row.pk, state=SyncState.READY).update(
                state=SyncState.DELETING
            ):
                continue
            try:
                client.call("POST", DELETE_ELEMENTS, {"element_id": row.provider_element_id})
            except KlingError as exc:
                ProviderElement.objects.filter(pk=row.pk).update(
                    state=SyncState.READY, message=f"delete: {exc.code} {exc.message}"[:500]
                )
                continue
            ProviderElement.objects.filter(pk=row.pk).update(
                state=SyncState.DELETED, updated_at=timezone.now()
            )
            deleted += 1
    return deleted
