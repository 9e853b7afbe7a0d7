"""Character elements made from a video.

`video_element_create` checks the request and the upload synchronously (before any row or
file is written) and creates the element in `processing`, counted against the tier limit
like any element, with the upload stored until the job has used it. `video_element_process`
(run by `elements.tasks.process_video_element` after the commit) trims the window, samples
frames, requires one person, picks up to 4 keyframes as reference images (origin
`video_frame`) and, when the window's sound holds speech, makes it the element's native
voice (origin `video`, with the uploader's consent statement). It ends in
`element_processing_finished`, for success and failure alike.

Decisions:
- The trim window is 3–8 s; a native voice taken from it is therefore accepted from
  `VIDEO_VOICE_MIN_SECONDS` (3 s), not the 5 s an uploaded sample needs.
- Speech is "present" when WebRTC's detector calls at least `SPEECH_PRESENT_RATIO` of the
  window speech and at least `SPEECH_PRESENT_SECONDS` of it in all.
- One person: the per-frame face search (dlib's HOG, the face cascades where it finds no
  face or several: `clips.read_frame`) refuses a clip that shows two faces in one frame
  (MULTIPLE_PEOPLE); the identity engine then describes the chosen keyframes' faces (only
  those, from crops around the face found in each) and refuses a clip whose keyframes show
  different people, a cut from one person to another that the cascades, counting faces per
  frame, can't see (KEYFRAMES_DIFFERENT_IDENTITY). Faces the engine can't describe (under 40
  px, profiles for dlib) leave the per-frame verdict standing. Measured on labelled clips in
  `bench/keyframe_identity.py` (bench/README.md, "Keyframe identity").
- A failed element (NO_FACE, MULTIPLE_PEOPLE, KEYFRAMES_DIFFERENT_IDENTITY,
  VIDEO_PROCESSING_FAILED) is kept, with its
  code, message, trimmed clip and the detectors' report, so its owner sees why; it can't be
  used, edited or mentioned, only deleted, and counts against the tier limit until then.
- A keyframe is the whole frame, run through the normal image pipeline (the upload rules,
  thumbnails): hence videos are at least 300 px a side.
"""

from __future__ import annotations

import datetime
import io
import logging
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from elements.error_codes import ElementErrorCode
from elements.identity.registry import get_identity_engine
from elements.media import clips
from elements.media.audio import process_audio
from elements.media.errors import MediaErrorCode
from elements.media.images import process_image
from elements.media.speech import speech_report
from elements.media.video import open_element_video
from elements.models import (
    Element,
    ElementSource,
    ElementStatus,
    ElementType,
    ImageOrigin,
    ImageRole,
    Voice,
    VoiceSource,
)
from elements.services import (
    ElementResult,
    Upload,
    add_image,
    check_can_create,
    check_consent,
    check_library_allows,
    check_name_free,
    clean_description,
    clean_name,
    delete_files_after_commit,
    lock_library,
    name_taken,
)
from elements.signals import element_event
from elements.teams.policy import Action, Library, personal_library
from elementsite.errors import field_error as _error
from elementsite.files import atomic_with_files

logger = logging.getLogger(__name__)

TRIM_MIN_SECONDS = 3.0
TRIM_MAX_SECONDS = 8.0
# How far a window may end past the probed length (a container's rounding). The 3–8 s length
# itself is exact to the millisecond: 2.999 s and 8.001 s are refused.
TRIM_TOLERANCE = 0.01
VIDEO_VOICE_MIN_SECONDS = 3.0
SPEECH_PRESENT_RATIO = 0.3
SPEECH_PRESENT_SECONDS = 1.0
# A job beats (reports progress) at least every few seconds, except while ffmpeg trims (at most
# `clips.TRIM_TIMEOUT`, 5 min): silent for longer, its worker is taken for dead.
STALE_AFTER = datetime.timedelta(minutes=10)
NEVER_TAKEN_AFTER = datetime.timedelta(minutes=2)
MAX_ATTEMPTS = 3


# --- The request ----------------------------------------------------------------------------


def _check_window(start: float, end: float) -> tuple[float, float]:
    try:
        start, end = float(start), float(end)
    except (TypeError, ValueError):
        start, end = -1.0, -1.0
    # Whole milliseconds, so 1.1 → 4.1 is 3.000 s and not 2.9999999999999996.
    length = round(round(end, 3) - round(start, 3), 3)
    if start < 0 or end <= start:
        raise _error(
            "trimStart",
            "The trim window must start at 0 s or later and end after it starts.",
            ElementErrorCode.TRIM_OUTSIDE_VIDEO,
        )
    if length < TRIM_MIN_SECONDS:
        raise _error(
            "trimEnd",
            f"The trim window is {length:g} s: choose {TRIM_MIN_SECONDS:g}–{TRIM_MAX_SECONDS:g} s.",
            ElementErrorCode.TRIM_TOO_SHORT,
        )
    if length > TRIM_MAX_SECONDS:
        raise _error(
            "trimEnd",
            f"The trim window is {length:g} s: choose {TRIM_MIN_SECONDS:g}–{TRIM_MAX_SECONDS:g} s.",
            ElementErrorCode.TRIM_TOO_LONG,
        )
    return round(start, 3), round(end, 3)


def video_element_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    video: Upload,
    trim_start: float,
    trim_end: float,
    consent_statement: str,
    description: str = "",
    library: Library | None = None,
) -> ElementResult:
    """Create a character element from a video (mp4, mov or webm) and a 3–8 s trim window
    inside it, in `library` (default: the owner's own; a team's needs EDIT there). Returns
    the element in `processing`; the job makes it ready or failed.

    Refused, before anything is written: a window under 3 s or over 8 s or outside the
    video, a file that is not a readable video with a picture, over the caps of bytes,
    resolution or length, no consent statement, a taken name, the tier's element limit.
    """
    name = clean_name(name)
    description = clean_description(description)
    consent = check_consent(consent_statement)
    # Access first: a member who may not create here is told so, whatever else is wrong.
    library = library or personal_library(owner)
    check_library_allows(owner, library, Action.EDIT, what="create elements")
    start, end = _check_window(trim_start, trim_end)
    check_name_free(owner, name, library=library)
    check_can_create(owner, library)  # again under the lock below; this spares reading the video
    try:
        with open_element_video(video) as probed:
            if end > probed.duration + TRIM_TOLERANCE:
                raise _error(
                    "trimEnd",
                    f"The window ends at {end:g} s but the video lasts {probed.duration:.1f} s.",
                    ElementErrorCode.TRIM_OUTSIDE_VIDEO,
                )
            try:
                with atomic_with_files() as files, probed.path.open("rb") as handle:
                    lock_library(library)
                    check_can_create(owner, library)
                    check_name_free(owner, name, library=library)
                    element = Element(
                        owner_id=owner.pk,
                        team=library.team,
                        name=name,
                        type=ElementType.CHARACTER,
                        description=description,
                        source=ElementSource.VIDEO,
                        status=ElementStatus.PROCESSING,
                        progress=0,
                        trim_start=start,
                        trim_end=min(end, probed.duration),
                        video_consent_statement=consent,
                        video_report={
                            "upload": {
                                "container": probed.extension,
                                "duration": round(probed.duration, 3),
                                "width": probed.width,
                                "height": probed.height,
                                "has_audio": probed.has_audio,
                            },
                            "consent_at": timezone.now().isoformat(),
                        },
                    )
                    element.video_source.name = files.save(
                        "elements/video-sources", File(handle), probed.extension
                    )
                    element.save()
                    transaction.on_commit(lambda: _enqueue(element.pk))
            except IntegrityError:
                raise name_taken() from None
    except ValidationError as exc:
        if hasattr(exc, "error_dict") or exc.code not in set(MediaErrorCode):
            raise
        # A media error: the code is on the inner error, under the upload's field.
        raise ValidationError({"video": exc.error_list}) from None
    return ElementResult(element)


def _enqueue(element_id: int) -> None:
    from elements.tasks import enqueue_video_element

    enqueue_video_element(element_id)


# --- The job ----------------------------------------------------------------------------------


def element_processing_finished(element: Element) -> None:
    """The one place a video element's processing ends, ready or failed, after the commit
    (`elements.signals.element_event` was sent with the result: webhooks record their
    `element.ready` / `element.failed` event from it)."""
    logger.info(
        "video element %s %s%s",
        element.pk,
        "ready" if element.status == ElementStatus.ACTIVE else element.status,
        f" ({element.failure_code})" if element.failure_code else "",
    )


def _set_progress(element_id: int, value: float) -> None:
    # Progress is also the job's heartbeat.
    Element.objects.filter(pk=element_id, status=ElementStatus.PROCESSING).update(
        progress=max(0, min(99, int(value))), processing_heartbeat_at=timezone.now()
    )


def _claim(element_id: int) -> Element | None:
    """Take the element for this delivery: not when another worker's heartbeat is fresh (a
    duplicate delivery), and fail it once MAX_ATTEMPTS deliveries have died on it."""
    with transaction.atomic():
        element = (
            Element.objects.select_for_update()
            .filter(pk=element_id, status=ElementStatus.PROCESSING)
            .first()
        )
        if element is None or not element.video_source.name:
            return None
        now = timezone.now()
        beat = element.processing_heartbeat_at
        if beat is not None and beat > now - STALE_AFTER:
            return None
        if element.processing_attempts >= MAX_ATTEMPTS:
            interrupted = _Outcome(
                report=dict(element.video_report),
                failure_code=ElementErrorCode.VIDEO_PROCESSING_FAILED,
                failure_message="Processing was interrupted too often. Try again later.",
            )
            _store(element_id, interrupted)
            return None
        element.processing_attempts += 1
        element.processing_heartbeat_at = now
        element.save(update_fields=["processing_attempts", "processing_heartbeat_at"])
        return element


def sweep_stale_video_elements() -> int:
    """Hand again to the workers the video elements whose job was lost (never taken, or its
    worker stopped beating): the Redis broker keeps no receipts. Returns how many."""
    now = timezone.now()
    stale = Element.objects.filter(status=ElementStatus.PROCESSING).filter(
        Q(processing_heartbeat_at__isnull=True, created_at__lt=now - NEVER_TAKEN_AFTER)
        | Q(processing_heartbeat_at__lt=now - STALE_AFTER)
    )
    ids = list(stale.values_list("pk", flat=True))
    for element_id in ids:
        _enqueue(element_id)
    return len(ids)


@dataclass
class _Outcome:
    report: dict[str, Any]
    clip: Path | None = None
    keyframes: list[Any] | None = None  # ProcessedImage, main first
    voice_audio: Any = None  # ProcessedAudio
    failure_code: str = ""
    failure_message: str = ""


def video_element_process(*, element_id: int) -> Element | None:
    """Run the processing of a video element in `processing`; does nothing otherwise
    (a duplicate delivery, a deleted element). Idempotent: every row and file is written in
    one transaction at the end, after checking the element is still processing."""
    element = _claim(element_id)
    if element is None:
        return None
    with tempfile.TemporaryDirectory(prefix="video-element-") as workdir:
        try:
            outcome = _analyse(element, Path(workdir))
        except Exception:
            logger.exception("video element %s: processing failed", element_id)
            outcome = _Outcome(
                report=dict(element.video_report),
                failure_code=ElementErrorCode.VIDEO_PROCESSING_FAILED,
                failure_message="The video could not be processed. Try another clip.",
            )
        return _store(element_id, outcome)


def _analyse(element: Element, workdir: Path) -> _Outcome:
    report: dict[str, Any] = dict(element.video_report)
    extension = element.video_source.name.rsplit(".", 1)[-1]
    source = workdir / f"source.{extension}"
    with default_storage.open(element.video_source.name, "rb") as stored, source.open("wb") as out:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            out.write(chunk)
    _set_progress(element.pk, 5)

    clip = workdir / "clip.mp4"
    assert element.trim_start is not None and element.trim_end is not None
    clips.trim(source, extension, element.trim_start, element.trim_end, clip)
    info = clips.clip_info(clip)
    report["clip"] = {
        "duration": round(info.duration, 3),
        "width": info.width,
        "height": info.height,
        "has_audio": info.has_audio,
    }
    _set_progress(element.pk, 25)

    frames = clips.sample_frames(clip)
    verdict = clips.analyse(frames, lambda share: _set_progress(element.pk, 25 + 50 * share))
    report["detection"] = {
        "sample_fps": clips.SAMPLE_FPS,
        "frames": verdict.frames,
        "with_face": verdict.with_face,
        "with_several_faces": verdict.with_several,
        "readings": [r.as_dict() for r in verdict.readings],
    }
    outcome = _Outcome(report=report, clip=clip)
    if not verdict.ok:
        outcome.failure_code = verdict.code
        outcome.failure_message = verdict.message
        return outcome

    chosen = clips.pick_keyframes(verdict.readings, info.duration)
    images = {index: image for index, (_, image) in enumerate(frames)}
    identity = clips.check_keyframe_identity(
        get_identity_engine(), [(r, images[r.index]) for r in chosen]
    )
    report["identity"] = identity.as_dict()
    _set_progress(element.pk, 78)
    if not identity.ok:
        outcome.failure_code = ElementErrorCode.KEYFRAMES_DIFFERENT_IDENTITY
        outcome.failure_message = identity.message
        return outcome
    outcome.keyframes = [process_image(_jpeg(images[r.index])) for r in chosen]
    report["keyframes"] = [
        {
            "time": r.time,
            "pose": r.pose,
            "sharpness": round(r.sharpness, 1),
            "sha256": processed.sha256,
        }
        for r, processed in zip(chosen, outcome.keyframes, strict=True)
    ]
    _set_progress(element.pk, 85)

    report["speech"] = None
    if info.has_audio:
        outcome.voice_audio, report["speech"] = _native_voice(clip, info.duration)
    _set_progress(element.pk, 95)
    return outcome


def _jpeg(image: Any) -> io.BytesIO:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=95)
    buffer.seek(0)
    return buffer


def _native_voice(clip: Path, duration: float) -> tuple[Any, dict[str, Any]]:
    """The window's sound, normalized by the voice pipeline, when it holds speech."""
    try:
        with clip.open("rb") as handle:
            audio = process_audio(
                handle,
                # The trimmed clip's sound ends on an AAC frame, up to ~0.05 s short of the
                # 3 s window; the window itself was checked exactly at the request.
                min_seconds=VIDEO_VOICE_MIN_SECONDS - 0.1,
                max_seconds=max(TRIM_MAX_SECONDS, duration) + 0.5,
                # Presence of speech is judged below, with its own rule and report.
                min_speech_ratio=0,
            )
    except ValidationError as exc:
        # Refused by the voice rules (too little sound, unreadable): no native voice.
        codes = [e.code for e in exc.error_list]
        return None, {"present": False, "refused": [str(c) for c in codes]}
    speech = audio.speech
    if speech is None:
        with wave.open(io.BytesIO(audio.content)) as wav:
            pcm, rate = wav.readframes(wav.getnframes()), wav.getframerate()
        speech = speech_report(pcm, sample_rate=rate)
    present = (
        speech.speech_ratio >= SPEECH_PRESENT_RATIO
        and speech.speech_seconds >= SPEECH_PRESENT_SECONDS
    )
    found = {
        "present": present,
        "speech_ratio": round(speech.speech_ratio, 3),
        "speech_seconds": round(speech.speech_seconds, 2),
    }
    return (audio if present else None), found


def _store(element_id: int, outcome: _Outcome) -> Element | None:
    """Write the outcome if the element is still processing (one transaction)."""
    with atomic_with_files() as files:
        element = (
            Element.objects.select_for_update()
            .filter(pk=element_id, status=ElementStatus.PROCESSING)
            .first()
        )
        if element is None:
            return None  # deleted meanwhile, or another delivery finished it
        if outcome.clip is not None:
            element.clip.name = files.save("elements/clips", outcome.clip.read_bytes(), "mp4")
        delete_files_after_commit([element.video_source.name])
        element.video_source.name = ""
        element.video_report = outcome.report
        element.progress = 100
        element.version += 1
        element.updated_at = timezone.now()
        if outcome.failure_code:
            element.status = ElementStatus.FAILED
            element.failure_code = outcome.failure_code
            element.failure_message = outcome.failure_message[:300]
        else:
            for position, processed in enumerate(outcome.keyframes or []):
                add_image(
                    element,
                    processed,
                    role=ImageRole.MAIN if position == 0 else ImageRole.EXTRA,
                    position=position,
                    origin=ImageOrigin.VIDEO_FRAME,
                    files=files,
                )
            if outcome.voice_audio is not None:
                element.voice = _native_voice_row(element, outcome.voice_audio, files)
                # Which voice is the clip's own: a job sends the clip with its sound only
                # while this one is bound (`generation.services._is_native_voice`).
                element.video_report = {**element.video_report, "native_voice_id": element.voice.pk}
            element.status = ElementStatus.ACTIVE
        element.save()
        # Sent in this transaction: the webhook outbox row a receiver writes commits with the
        # result it reports.
        element_event.send(
            sender=Element,
            element=element,
            ok=not outcome.failure_code,
            error_code=element.failure_code,
            error_message=element.failure_message,
        )
        transaction.on_commit(lambda: element_processing_finished(element))
    return element


def _native_voice_row(element: Element, audio: Any, files: Any) -> Voice:
    consent_at = element.video_report.get("consent_at")
    voice = Voice(
        # The element's library's: a team's element speaks with a voice of the team.
        owner_id=element.owner_id,
        team_id=element.team_id,
        name=f"{element.name} (from video)"[:60],
        duration_ms=audio.duration_ms,
        sha256=audio.sha256,
        source=VoiceSource.VIDEO,
        consent_statement=element.video_consent_statement,
        consent_at=(datetime.datetime.fromisoformat(consent_at) if consent_at else timezone.now()),
        quality=audio.quality.as_dict(),
    )
    voice.audio.name = files.save("voices", audio.content, audio.extension)
    voice.full_clean()
    voice.save()
    return voice
