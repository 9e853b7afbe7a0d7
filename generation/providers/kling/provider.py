"""The `kling` provider: jobs rendered by the Kling API (`shared/providers/kling-api.md`).

A job runs in the worker like any other (`generation.tasks.run_job` claims the row and keeps
its heartbeat); this provider, a `RemoteProvider`:

1. **syncs the library** the job pins (`prepare`): each pinned element *version* becomes a
   Kling element (`ProviderElement`: `image_refer` from its images, or `video_refer` from
   the clip a video character's pin keeps), its bound voice a Kling custom voice
   (`ProviderVoice`), on first use only. A sync row is claimed with a conditional update,
   so two jobs using one element create it once; the other waits for the first. Our ids
   are the `external_task_id`s. Older versions are deleted on Kling once no pending job
   pins them (`cleanup_old_versions`).
2. **builds the request** from the compiled plan kept on the job (`build_request`), after
   checking every documented limit with our own codes (`check_submit` runs the same checks
   at submit, before anything is charged);
3. submits, **polls with back-off** (a callback on `kling.views.kling_callback` only
   wakes the poll early: the task is fetched again before anything is believed), and
   **downloads the result into our storage** at once (Kling deletes it after 30 days).

Errors (see `kling.client`): 1302/1303/5000–5002 are retried with exponential back-off,
1300/1301 end the job as CONTENT_POLICY with the reason shown, credentials/account/access
errors end it as PROVIDER_ACCOUNT_ERROR and raise a `ProviderAlert` for staff (and an
error-level log line). Every failure is refunded by the job-failure path
(`generation.services.job_finish`).

Unclear in the API notes → reading chosen:
- Token life maximum → 1800 s (the doc's example), re-minted 5 min before `exp`.
- `external_task_id` lookups on GET → never; tasks are queried by `task_id`. A job taken
  again after a crash between submit and save lists its recent tasks to adopt its own.
- Callback signature / shape for element and voice tasks → callbacks are unsigned hints:
  the URL carries our signed token, the body's `task_id` must match, and the task is
  fetched again; element/voice syncs rely on polling only.
- `element_voice_id` on `image_refer` → sent (the doc's own example does; our product binds
  voices to character elements made from images).
- `voice_url` vs `video_id` exclusivity → only `voice_url` is ever sent.
- Video elements "kling-video-o3 and later" → kling-v3-omni / kling-v3 only; any other
  model refuses a job with one at submit (PROVIDER_LIMIT; the compiler refuses it first as
  VIDEO_ELEMENT_NOT_SUPPORTED).
- `video_refer` "1080P, 16:9 or 9:16" → exactly 1920×1080 or 1080×1920. Our clip (3–8 s,
  any size up to the trim's cap) is scaled to fit and padded, never cropped, when it is not
  that already; a clip under 3 s, unreadable, not MP4/MOV or over 200 MB is refused at
  submit. Frame rate is not documented for element videos: the clip's own is kept.
- "A human voice in the audio makes Kling create a custom voice and bind it" → the clip is
  sent with its sound only while the bound voice is its own native voice (and then without
  `element_voice_id`: the native sample may be under the 5 s a custom voice needs); with
  another bound voice, or none, the sound is stripped and the bound voice, if any, goes as
  `element_voice_id` like for image elements.
- Where Kling fetches a `video_refer` clip → the signed media link (`media_url`), as for
  voices and input videos; a converted copy is kept only until its element task ends.
- QPS limit vs 1302 → 1302 is retried with back-off like 1303.
- Frame images counting toward `<<<image_N>>>` → attached images come first in
  `image_list`, frames after them, so `image_N` means the same under either reading.
- o1 with first + end frame → no elements allowed.
- `<<<element_N>>>` in omni-image → allowed (the compiler writes it; `element_list` is sent).
- Reference video `refer_type` → `feature` (a style/camera reference, as our product
  offers it), `keep_original_sound` "no", so `aspect_ratio` is sent and `duration` counts.
- Image-to-video with multi-shot (kling-v3) → allowed with a start frame; `aspect_ratio` is
  never sent with a first frame.
- Element name over 20 chars → shortened (a label only: prompts refer by position);
  description over 100 chars → refused with the reason (shortening would change what the
  model is told); an empty description → "<Type>: <name>" (the field is required).
- Output: the unwatermarked `url` is stored; `watermark_info` is not sent.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from elementsite.errors import field_error
from generation.camera import MOVES, CameraMove
from generation.catalog import MODELS, ModelCode, ModelKind
from generation.error_codes import GenerationErrorCode
from generation.models import (
    GenerationJob,
    InputKind,
    JobElement,
    JobInput,
    JobStatus,
    ProviderAlert,
    ProviderElement,
    ProviderVoice,
    SyncState,
)
from generation.providers import local_render as render
from generation.providers.base import (
    JobWaiter,
    ProviderError,
    RemoteProvider,
    RemoteStatus,
    RenderedOutput,
)
from generation.providers.kling.client import (
    ALERT_KINDS,
    KlingClient,
    KlingConfigError,
    KlingError,
    Waiter,
    plain_sleep,
)

logger = logging.getLogger("generation.kling")

PROVIDER = "kling"
CALLBACK_SALT = "generation.kling.callback"
MEDIA_SALT = "generation.kling.media"
MEDIA_TTL = 24 * 3600

# kling-api.md §3/§5/§7.
ELEMENT_NAME_MAX = 20
ELEMENT_DESCRIPTION_MAX = 100
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MIN_ASPECT, IMAGE_MAX_ASPECT = 0.4, 2.5
VOICE_MIN_MS, VOICE_MAX_MS = 5000, 30000
VIDEO_MAX_BYTES = 200 * 1024 * 1024
ELEMENT_VIDEO_MIN_SECONDS, ELEMENT_VIDEO_MAX_SECONDS = 3.0, 8.0
ELEMENT_VIDEO_LANDSCAPE, ELEMENT_VIDEO_PORTRAIT = (1920, 1080), (1080, 1920)
VIDEO_ELEMENT_MODELS = ("kling-v3-omni", "kling-v3")
# Input-video lengths: the catalog's, per Kling model.
REF_VIDEO_MIN_SECONDS = min(
    s.input_video_seconds[0] for s in MODELS.values() if s.input_video_seconds is not None
)
REF_VIDEO_MAX_SECONDS = {
    s.provider_model: s.input_video_seconds[1]
    for s in MODELS.values()
    if s.input_video_seconds is not None
}
REF_VIDEO_MIN_SIDE, REF_VIDEO_MAX_SIDE = 720, 2160
REF_VIDEO_MIN_FPS, REF_VIDEO_MAX_FPS = 24.0, 60.0
PROMPT_MAX = 2500
SHOT_PROMPT_MAX = 512
MAX_SHOTS = 6
DURATIONS = {"kling-video-o1": (3, 10), "kling-v3-omni": (3, 15), "kling-v3": (3, 15)}
OMNI_VIDEO_MAX_REFS, OMNI_VIDEO_MAX_REFS_WITH_VIDEO = 7, 4
OMNI_IMAGE_MAX_REFS = 10
I2V_MAX_ELEMENTS = 3
FRAME_MAX_ELEMENTS = 3
TAGS = {
    "character": "o_102",
    "animal": "o_103",
    "prop": "o_104",
    "costume": "o_105",
    "scene": "o_106",
    "effect": "o_107",
    "other": "o_108",
}
REFERENCE = re.compile(r"<<<(element|image|video)_(\d+)>>>")

OMNI_VIDEO = "/v1/videos/omni-video"
IMAGE_TO_VIDEO = "/v1/videos/image2video"
TEXT_TO_VIDEO = "/v1/videos/text2video"
OMNI_IMAGE = "/v1/images/omni-image"
ELEMENTS = "/v1/general/advanced-custom-elements"
DELETE_ELEMENTS = "/v1/general/delete-elements"
VOICES = "/v1/general/custom-voices"


# --- URLs of ours that Kling calls or fetches ------------------------------------------------


def _public_base() -> str:
    return str(getattr(settings, "KLING_CALLBACK_BASE_URL", "")).rstrip("/")


def callback_url(kind: str, key: str) -> str | None:
    """Where Kling POSTs status changes of one task of ours; None without a public base."""
    base = _public_base()
    if not base:
        return None
    token = signing.dumps({"k": kind, "id": key}, salt=CALLBACK_SALT, compress=True)
    return base + reverse("kling-callback", args=[token])


def read_callback_token(token: str) -> tuple[str, str]:
    data = signing.loads(token, salt=CALLBACK_SALT)
    return str(data["k"]), str(data["id"])


def media_url(name: str) -> str:
    """A URL Kling can fetch a stored file from: the storage's own (presigned) URL, or for
    local storage a signed, expiring link to `kling_media` under the public base."""
    if not isinstance(default_storage, FileSystemStorage | InMemoryStorage):
        return default_storage.url(name)
    base = _public_base()
    if not base:
        raise ProviderError(
            GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
            "KLING_CALLBACK_BASE_URL is needed to send voices and videos to Kling.",
        )
    token = signing.dumps(name, salt=MEDIA_SALT, compress=True)
    return base + reverse("kling-media", args=[token])


def read_media_token(token: str) -> str:
    return str(signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_TTL))


# --- Limits ---------------------------------------------------------------------------------


@dataclass
class Issues:
    """Every limit a job breaks, as (field, message); raised together."""

    found: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.found.append((where, message))

    def raise_for_submit(self) -> None:
        if self.found:
            errors: dict[str, list[ValidationError]] = {}
            for where, message in self.found:
                errors.setdefault(where, []).append(
                    ValidationError(message, code=GenerationErrorCode.PROVIDER_LIMIT)
                )
            raise ValidationError(errors)

    def raise_for_job(self) -> None:
        if self.found:
            raise ProviderError(
                GenerationErrorCode.PROVIDER_LIMIT, "; ".join(m for _, m in self.found)
            )


def _check_image(issues: Issues, where: str, name: str, width: int, height: int) -> None:
    if min(width, height) < IMAGE_MIN_SIDE:
        issues.add(where, f"Kling needs images at least {IMAGE_MIN_SIDE} px on each side.")
    ratio = width / height if height else 0
    if not IMAGE_MIN_ASPECT <= ratio <= IMAGE_MAX_ASPECT:
        issues.add(where, "Kling takes images between 1:2.5 and 2.5:1.")
    try:
        size = default_storage.size(name)
    except OSError:
        size = 0
    if size > IMAGE_MAX_BYTES:
        issues.add(where, "Kling takes images up to 10 MB; this one is larger.")


def _element_text(pinned: JobElement, issues: Issues | None = None) -> tuple[str, str]:
    name = pinned.name[:ELEMENT_NAME_MAX].strip()
    description = pinned.description.strip() or f"{pinned.type.capitalize()}: {pinned.name}"
    if len(description) > ELEMENT_DESCRIPTION_MAX:
        if issues is not None:
            issues.add(
                "prompt",
                f"Kling takes element descriptions up to {ELEMENT_DESCRIPTION_MAX} characters; "
                f"shorten the description of “{pinned.name}”.",
            )
        description = description[:ELEMENT_DESCRIPTION_MAX]
    return name, description


def _voice_ms(voice_file: str) -> int | None:
    from elements.models import Voice

    return Voice.objects.filter(audio=voice_file).values_list("duration_ms", flat=True).first()


def _is_video_element(pinned: JobElement) -> bool:
    """A video character element: its clip is pinned; a pin made before clips were pinned
    is known by its element's source."""
    from elements.models import Element, ElementSource

    if pinned.clip_file:
        return True
    if pinned.element_id is None:
        return False
    return Element.objects.filter(pk=pinned.element_id, source=ElementSource.VIDEO).exists()


def _sends_voice(pinned: JobElement) -> bool:
    """Whether the pinned voice is synced as a Kling custom voice and bound by id: not when
    it is the video element's native voice (its clip keeps its sound, Kling binds it)."""
    return bool(pinned.voice_file) and not (pinned.clip_file and pinned.clip_sound)


@dataclass
class JobParts:
    job: GenerationJob
    model_name: str
    elements: list[JobElement]
    attached: list[JobInput]
    start: JobInput | None
    end: JobInput | None
    video: JobInput | None

    @classmethod
    def load(cls, job: GenerationJob) -> JobParts:
        inputs = list(job.inputs.order_by("kind", "position"))
        by_kind: dict[str, list[JobInput]] = {}
        for item in inputs:
            by_kind.setdefault(item.kind, []).append(item)
        return cls(
            job=job,
            model_name=MODELS[ModelCode(job.model)].provider_model,
            elements=list(job.elements.prefetch_related("images").order_by("position")),
            attached=sorted(by_kind.get(InputKind.IMAGE, []), key=lambda i: i.position),
            start=next(iter(by_kind.get(InputKind.START_FRAME, [])), None),
            end=next(iter(by_kind.get(InputKind.END_FRAME, [])), None),
            video=next(iter(by_kind.get(InputKind.VIDEO, [])), None),
        )

    @property
    def kind(self) -> ModelKind:
        return MODELS[ModelCode(self.job.model)].kind

    @property
    def route(self) -> str:
        if self.kind == ModelKind.IMAGE:
            return OMNI_IMAGE
        if self.model_name == "kling-v3":
            return IMAGE_TO_VIDEO if self.start is not None else TEXT_TO_VIDEO
        return OMNI_VIDEO


def _probe_video(name: str) -> tuple[float, int, int, float]:
    import av

    with default_storage.open(name, "rb") as f, av.open(f, mode="r") as container:
        stream = container.streams.video[0]
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration is not None and stream.time_base is not None
            else float(container.duration or 0) / 1_000_000
        )
        return duration, stream.width, stream.height, float(stream.average_rate or 0)


def check_job(parts: JobParts) -> Issues:
    """Every documented Kling limit this job would break (kling-api.md §7)."""
    issues = Issues()
    job, plan = parts.job, parts.job.plan or {}
    model = parts.model_name
    shots = plan.get("shots") or []
    multi_shot = bool(plan.get("multi_shot")) and len(shots) > 1
    video_elements = [p for p in parts.elements if _is_video_element(p)]

    # Prompt and shots.
    if multi_shot:
        if parts.kind == ModelKind.IMAGE or model == "kling-video-o1":
            issues.add("prompt", f"{model} does not take shots.")
        if not 1 <= len(shots) <= MAX_SHOTS:
            issues.add("prompt", f"Kling takes 1 to {MAX_SHOTS} shots.")
        for shot in shots:
            if len(shot.get("provider_text") or "") > SHOT_PROMPT_MAX:
                issues.add(
                    "prompt", f"Shot {shot['index']} is over Kling's {SHOT_PROMPT_MAX} characters."
                )
            if int(shot.get("duration") or 0) < 1:
                issues.add("prompt", f"Shot {shot['index']} must last at least 1 s.")
        if sum(int(s.get("duration") or 0) for s in shots) != (job.duration or 0):
            issues.add("prompt", "The shots' durations must add up to the video's duration.")
    elif len(plan.get("provider_prompt") or job.prompt) > PROMPT_MAX:
        issues.add("prompt", f"Kling takes prompts up to {PROMPT_MAX} characters.")
    if parts.kind == ModelKind.VIDEO:
        low, high = DURATIONS.get(model, (3, 10))
        if not low <= (job.duration or 0) <= high:
            issues.add("duration", f"{model} makes videos of {low}–{high} s.")

    # References.
    n_images, n_elements = len(parts.attached), len(parts.elements)
    frames = [f for f in (parts.start, parts.end) if f is not None]
    if parts.kind == ModelKind.IMAGE:
        if n_images + n_elements > OMNI_IMAGE_MAX_REFS:
            issues.add("images", f"Kling takes up to {OMNI_IMAGE_MAX_REFS} images and elements.")
    elif parts.route == OMNI_VIDEO:
        limit = OMNI_VIDEO_MAX_REFS_WITH_VIDEO if parts.video else OMNI_VIDEO_MAX_REFS
        if n_images + len(frames) + n_elements > limit:
            issues.add("images", f"Kling takes up to {limit} images and elements here.")
        if parts.video and video_elements:
            issues.add("prompt", "Video character elements can't be used with an input video.")
        if frames and (multi_shot or parts.video):
            issues.add("startFrame", "Frames can't be combined with shots or an input video.")
        if frames and n_elements > FRAME_MAX_ELEMENTS:
            issues.add("prompt", f"With frames Kling takes up to {FRAME_MAX_ELEMENTS} elements.")
        if model == "kling-video-o1" and parts.start and parts.end and n_elements:
            issues.add("prompt", "Video O1 takes no elements with a start and an end frame.")
        if model == "kling-video-o1" and frames and n_images > 2:
            issues.add("startFrame", "Video O1 takes no frames with more than 2 images.")
    elif parts.route == IMAGE_TO_VIDEO:
        if n_elements > I2V_MAX_ELEMENTS:
            issues.add("prompt", f"Kling takes up to {I2V_MAX_ELEMENTS} elements with frames.")
    elif n_elements:
        issues.add("startFrame", "Video 3.0 needs a start frame to use elements.")
    if parts.end is not None and parts.start is None:
        issues.add("endFrame", "An end frame needs a start frame.")
    if video_elements and model not in VIDEO_ELEMENT_MODELS:
        names = ", ".join(f"“{p.name}”" for p in video_elements)
        issues.add(
            "prompt",
            f"{names}: video character elements work only with Video 3.0 and Video 3.0 Omni "
            f"on Kling ({model} takes multi-image elements only).",
        )

    # `<<<x_N>>>` must point into its list.
    sizes = {"element": n_elements, "image": n_images, "video": 1 if parts.video else 0}
    texts = [plan.get("provider_prompt") or ""] + [s.get("provider_text") or "" for s in shots]
    for text in texts:
        for kind, number in REFERENCE.findall(text):
            if not 1 <= int(number) <= sizes[kind]:
                issues.add("prompt", f"<<<{kind}_{number}>>> refers to nothing.")

    # Files.
    for item in [*parts.attached, *frames]:
        field_name = {"image": "images", "start_frame": "startFrame", "end_frame": "endFrame"}
        _check_image(issues, field_name[item.kind], item.file, item.width, item.height)
    if parts.video is not None:
        _check_reference_video(issues, parts.video, model)
    for pinned in parts.elements:
        _element_text(pinned, issues)
        if pinned in video_elements:
            _check_element_clip(issues, pinned)
        else:
            images = sorted(pinned.images.all(), key=lambda i: i.position)
            if not 2 <= len(images) <= 4:
                issues.add(
                    "prompt", f"Kling needs 1 main and 1–3 extra images for “{pinned.name}”."
                )
            for image in images:
                _check_image(issues, "prompt", image.file, image.width, image.height)
        if _sends_voice(pinned):
            ms = _voice_ms(pinned.voice_file)
            if ms is not None and not VOICE_MIN_MS <= ms <= VOICE_MAX_MS:
                issues.add(
                    "prompt",
                    f"Kling takes voice samples of 5–30 s; “{pinned.voice_name}” is "
                    f"{ms / 1000:.1f} s.",
                )
    return issues


def _check_element_clip(issues: Issues, pinned: JobElement) -> None:
    """`video_refer` takes one mp4/mov of 3–8 s, 1080P 16:9 or 9:16, ≤200 MB. Ours is an
    H.264/AAC MP4 of the 3–8 s window at any size: the size and shape are converted at sync
    (`element_clip_for_kling`); what can't be converted is refused here."""
    if not pinned.clip_file:
        issues.add(
            "prompt",
            f"“{pinned.name}” was added to this job before video clips were kept with jobs; "
            "mention it again in a new job.",
        )
        return
    try:
        duration, width, height, _fps = _probe_video(pinned.clip_file)
        size = default_storage.size(pinned.clip_file)
    except Exception:
        issues.add("prompt", f"The clip of “{pinned.name}” can't be read.")
        return
    if Path(pinned.clip_file).suffix.lower() not in (".mp4", ".mov"):
        issues.add("prompt", f"Kling takes element videos as MP4 or MOV; “{pinned.name}” is not.")
    # A clip a few ms over 8 s (audio padding) is cut to 8 s by the conversion.
    if not ELEMENT_VIDEO_MIN_SECONDS - 0.05 <= duration <= ELEMENT_VIDEO_MAX_SECONDS + 0.5:
        issues.add(
            "prompt",
            f"Kling takes element videos of 3–8 s; the clip of “{pinned.name}” is "
            f"{duration:.1f} s.",
        )
    if not (width and height):
        issues.add("prompt", f"The clip of “{pinned.name}” has no picture.")
    if size > VIDEO_MAX_BYTES:
        issues.add("prompt", f"Kling takes element videos up to 200 MB; “{pinned.name}” is larger.")


def _check_reference_video(issues: Issues, video: JobInput, model: str) -> None:
    try:
        duration, width, height, fps = _probe_video(video.file)
        size = default_storage.size(video.file)
    except Exception:
        issues.add("inputVideo", "The input video can't be read.")
        return
    if Path(video.file).suffix.lower() not in (".mp4", ".mov"):
        issues.add("inputVideo", "Kling takes MP4 or MOV videos.")
    if duration < REF_VIDEO_MIN_SECONDS - 0.05:
        issues.add("inputVideo", "Kling needs an input video of at least 3 s.")
    top = REF_VIDEO_MAX_SECONDS.get(model, 10.0)
    if duration > top + 0.05:
        issues.add("inputVideo", f"{model} takes input videos up to {top:.0f} s.")
    if not (min(width, height) >= REF_VIDEO_MIN_SIDE and max(width, height) <= REF_VIDEO_MAX_SIDE):
        issues.add("inputVideo", "Kling takes input videos of 720–2160 px per side.")
    if not REF_VIDEO_MIN_FPS - 0.5 <= fps <= REF_VIDEO_MAX_FPS + 0.5:
        issues.add("inputVideo", "Kling takes input videos of 24–60 fps.")
    if size > VIDEO_MAX_BYTES:
        issues.add("inputVideo", "Kling takes input videos up to 200 MB.")


# --- Requests -------------------------------------------------------------------------------


def image_b64(name: str) -> str:
    """A stored image as bare Base64 (no `data:` prefix), converted to PNG unless it is a
    JPEG or PNG already."""
    with default_storage.open(name, "rb") as f:
        data = f.read()
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, format="PNG")
            data = out.getvalue()
    if len(data) > IMAGE_MAX_BYTES:
        raise ProviderError(GenerationErrorCode.PROVIDER_LIMIT, "An image is over 10 MB.")
    return base64.b64encode(data).decode("ascii")


def build_request(parts: JobParts, element_ids: dict[int, str]) -> dict[str, Any]:
    """The create body for this job (`element_ids`: pinned position → Kling element id)."""
    job, plan = parts.job, parts.job.plan or {}
    shots = plan.get("shots") or []
    multi_shot = bool(plan.get("multi_shot")) and len(shots) > 1
    body: dict[str, Any] = {"model_name": parts.model_name, "external_task_id": _external(job)}
    url = callback_url("job", str(job.pk))
    if url:
        body["callback_url"] = url
    # 64-bit ids as Python ints: json writes them exactly (a float would round them).
    element_list = [{"element_id": int(element_ids[p.position])} for p in parts.elements]
    if parts.kind == ModelKind.IMAGE:
        body.update(
            prompt=plan.get("provider_prompt") or job.prompt,
            image_list=[{"image": image_b64(i.file)} for i in parts.attached],
            n=1,
            resolution="1k",
            aspect_ratio=job.aspect_ratio or "auto",
        )
        if element_list:
            body["element_list"] = element_list
        return body

    body["mode"] = job.mode
    body["duration"] = str(job.duration or 5)
    if multi_shot:
        body.update(
            multi_shot=True,
            shot_type="customize",
            multi_prompt=[
                {
                    "index": int(s["index"]),
                    "prompt": with_camera(
                        s.get("provider_text") or s.get("text") or "", s, SHOT_PROMPT_MAX
                    ),
                    "duration": str(int(s["duration"])),
                }
                for s in shots
            ],
        )
    else:
        prompt = plan.get("provider_prompt") or job.prompt
        body["prompt"] = with_camera(prompt, shots[0], PROMPT_MAX) if len(shots) == 1 else prompt
    speaks = any(d.get("has_voice") for d in plan.get("dialogue") or [])
    body["sound"] = "on" if speaks and parts.video is None else "off"

    if parts.route == IMAGE_TO_VIDEO:
        assert parts.start is not None
        body["image"] = image_b64(parts.start.file)
        if parts.end is not None:
            body["image_tail"] = image_b64(parts.end.file)
        if element_list:
            body["element_list"] = element_list
        return body
    if parts.route == TEXT_TO_VIDEO:
        body["aspect_ratio"] = job.aspect_ratio
        return body

    # Omni video: attached images first (so `<<<image_N>>>` is position N under either
    # reading of whether frames count), then frames.
    image_list: list[dict[str, str]] = [{"image_url": image_b64(i.file)} for i in parts.attached]
    if parts.start is not None:
        image_list.append({"image_url": image_b64(parts.start.file), "type": "first_frame"})
    if parts.end is not None:
        image_list.append({"image_url": image_b64(parts.end.file), "type": "end_frame"})
    if image_list:
        body["image_list"] = image_list
    if element_list:
        body["element_list"] = element_list
    if parts.video is not None:
        body["video_list"] = [
            {
                "video_url": media_url(parts.video.file),
                "refer_type": "feature",
                "keep_original_sound": "no",
            }
        ]
    if parts.start is None:
        body["aspect_ratio"] = job.aspect_ratio
    return body


def with_camera(text: str, shot: dict[str, Any], limit: int) -> str:
    """A shot's words as Kling gets them. Where the compiler chose the camera's direction
    (a pan the words gave none; the preview said which), the chosen move is added in words
    from the camera vocabulary, so Kling makes the move the user was shown; when that would
    pass Kling's `limit`, the words go as written. A move the compiler did not know (kept as
    static for our own renderer) goes as written too: Kling may well understand it."""
    move = CameraMove.read(shot.get("camera_move"))
    if move not in (CameraMove.PAN_LEFT, CameraMove.PAN_RIGHT) or not shot.get("camera_note"):
        return text
    told = f"{text.rstrip()} {MOVES[move].phrase}"
    return told if len(told) <= limit else text


def _external(job: GenerationJob) -> str:
    return job.provider_external_id or f"job-{job.pk}"


# --- Errors ---------------------------------------------------------------------------------


def alert(exc: KlingError, job: GenerationJob | None = None) -> None:
    logger.error(
        "Kling refused us (HTTP %s code %s): %s request_id=%s job=%s",
        exc.status,
        exc.code,
        exc.message,
        exc.request_id,
        job.pk if job else None,
    )
    ProviderAlert.objects.create(
        provider=PROVIDER,
        code=str(exc.code),
        message=exc.message[:500] or "(no message)",
        request_id=exc.request_id[:64],
        job=job,
    )


def as_provider_error(exc: KlingError, job: GenerationJob | None = None) -> ProviderError:
    kind = exc.kind
    if kind in ALERT_KINDS or kind == "reauth":
        alert(exc, job)
        return ProviderError(
            GenerationErrorCode.PROVIDER_ACCOUNT_ERROR,
            "The generation service is unavailable right now; staff were told and your "
            "credits were refunded.",
        )
    if kind == "policy":
        return ProviderError(
            GenerationErrorCode.CONTENT_POLICY,
            f"Kling refused the content: {exc.message or 'content safety'}. "
            "Change the prompt or the images and try again.",
        )
    if kind == "retry":
        return ProviderError(
            GenerationErrorCode.PROVIDER_UNAVAILABLE,
            "The generation service stayed busy too long; your credits were refunded.",
        )
    return ProviderError(
        GenerationErrorCode.PROVIDER_REJECTED, f"Kling refused the request: {exc.message}"
    )


# --- Library sync ---------------------------------------------------------------------------

CLAIM_STALE = timedelta(minutes=10)


def _claim(model: type[ProviderElement] | type[ProviderVoice], pk: int) -> bool:
    """Take the right to submit this sync (one submitter; the others poll its task)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, task_id="", state__in=[SyncState.PENDING, SyncState.SYNCING])
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_STALE))
        .update(claimed_at=now, state=SyncState.SYNCING, updated_at=now)
    )


def _task_status(data: Any) -> tuple[str, str]:
    data = data or {}
    return str(data.get("task_status") or ""), str(data.get("task_status_msg") or "")


def _poll_sync(
    client: KlingClient,
    row: ProviderElement | ProviderVoice,
    path: str,
    wait: Waiter,
) -> dict[str, Any]:
    """Poll a sync task until it ends; its progress is kept on the row."""
    interval = client.config.poll_interval
    waited = 0.0
    while True:
        data = client.call("GET", f"{path}/{row.task_id}") or {}
        status, message = _task_status(data)
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
        wait(interval)
        waited += interval
        interval = min(client.config.poll_max_interval, interval * 1.5)


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
    name, description = _element_text(pinned)
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
    """Create one pinned element version on Kling, once (idempotent)."""
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
        ProviderElement.objects.filter(pk=pk).update(
            # A 64-bit id: str() of the int json gave us, never through a float.
            provider_element_id=str(elements[0]["element_id"]),
            state=SyncState.READY,
            progress=100,
            message="",
            updated_at=timezone.now(),
        )


def _element_key(pinned: JobElement) -> str:
    return f"element:{pinned.element_id}" if pinned.element_id else f"pin:{pinned.pk}"


def provider_element_for(pinned: JobElement) -> ProviderElement:
    """The sync row of this pinned version (created on first use, with its voice's row)."""
    key = _element_key(pinned)
    voice = None
    if _sends_voice(pinned):
        voice = _get_or_create(
            ProviderVoice,
            dict(provider=PROVIDER, voice_file=pinned.voice_file),
            dict(voice_name=pinned.voice_name, external_id=f"voice-{uuid.uuid4().hex[:24]}"),
        )
    row = _get_or_create(
        ProviderElement,
        dict(provider=PROVIDER, element_key=key, version=pinned.version),
        dict(
            element_id=pinned.element_id,
            source_pin=pinned,
            voice=voice,
            external_id=f"el-{pinned.element_id or 0}-v{pinned.version}-{uuid.uuid4().hex[:8]}",
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


# --- The provider ---------------------------------------------------------------------------


class KlingProvider(RemoteProvider):
    name = PROVIDER

    def __init__(self, client: KlingClient | None = None) -> None:
        self.client = client or KlingClient.from_settings()
        config = self.client.config
        self.poll_interval = config.poll_interval
        self.max_poll_interval = config.poll_max_interval
        self.task_timeout = config.task_timeout
        self.hold_worker_for = config.hold_worker_for
        self.element_ids: dict[int, str] = {}

    # submit time

    def verify_credentials(self) -> None:
        """One free list call per key pair every few minutes: wrong keys are a configuration
        error at submit, before any job is charged. A service that does not answer is not
        (the job queues and its worker retries)."""
        key = f"kling-credentials-ok:{self.client._cache_key()}"
        if cache.get(key):
            return
        probe = KlingClient(self.client.config, wait=plain_sleep)
        try:
            probe._once("GET", f"{OMNI_VIDEO}?pageNum=1&pageSize=1", None, probe.token())
        except KlingError as exc:
            if exc.kind == "reauth":
                try:
                    probe._once(
                        "GET", f"{OMNI_VIDEO}?pageNum=1&pageSize=1", None, probe.token(fresh=True)
                    )
                except KlingError as again:
                    exc = again
                else:
                    cache.set(key, True, self._credentials_ttl())
                    return
            if exc.kind in ALERT_KINDS or exc.kind == "reauth":
                alert(exc)
                raise field_error(
                    "model",
                    "The Kling provider is misconfigured or unavailable (its credentials or "
                    "account were refused); staff were told. Nothing was charged.",
                    GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
                ) from exc
            return
        cache.set(key, True, self._credentials_ttl())

    @staticmethod
    def _credentials_ttl() -> int:
        return int(getattr(settings, "KLING_CREDENTIALS_CHECK_SECONDS", 300))

    def check_submit(self, job: GenerationJob) -> None:
        parts = JobParts.load(job)
        check_job(parts).raise_for_submit()
        fetched = [p.voice_file for p in parts.elements if _sends_voice(p)]
        synced = set(
            ProviderVoice.objects.filter(
                provider=PROVIDER, voice_file__in=fetched, state=SyncState.READY
            ).values_list("voice_file", flat=True)
        )
        # Clips of video elements whose version is not on Kling yet: Kling fetches them.
        clips = [
            p.clip_file
            for p in parts.elements
            if p.clip_file
            and not ProviderElement.objects.filter(
                provider=PROVIDER,
                element_key=_element_key(p),
                version=p.version,
                state=SyncState.READY,
            ).exists()
        ]
        linked = [*([parts.video.file] if parts.video else []), *clips, *(set(fetched) - synced)]
        if linked:
            try:
                media_url(linked[0])
            except ProviderError as exc:
                raise field_error(
                    "model",
                    f"{exc.message} Nothing was charged.",
                    GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
                ) from exc

    # worker

    def run(self, job: GenerationJob, *, workdir: Path, progress: Any) -> list[RenderedOutput]:
        try:
            return super().run(job, workdir=workdir, progress=progress)
        except KlingError as exc:
            raise as_provider_error(exc, job) from exc
        finally:
            # This job no longer pins its versions: older ones it was holding may go now.
            keys = ProviderElement.objects.filter(
                provider=PROVIDER,
                element_key__in=[
                    f"element:{e}"
                    for e in job.elements.exclude(element=None).values_list("element_id", flat=True)
                ],
            ).values_list("element_key", flat=True)
            try:
                cleanup_old_versions(self.client, list(keys), finishing_job=job.pk)
            except Exception:  # the job's outcome does not depend on the cleanup
                logger.exception("cleanup of old Kling elements failed")

    def prepare(self, job: GenerationJob, wait: JobWaiter) -> None:
        self.client.wait = wait
        parts = JobParts.load(job)
        check_job(parts).raise_for_job()
        rows = [(pinned, provider_element_for(pinned)) for pinned in parts.elements]
        for n, (pinned, row) in enumerate(rows):
            ready = sync_element(self.client, row.pk, wait)
            self.element_ids[pinned.position] = ready.provider_element_id
            wait.report(2 + 8 * (n + 1) // max(1, len(rows)))

    def new_external_id(self, job: GenerationJob) -> str:
        return f"job-{job.pk.hex}-{uuid.uuid4().hex[:8]}"

    def find_task(self, job: GenerationJob, external_id: str) -> str | None:
        parts = JobParts.load(job)
        try:
            listed = self.client.call("GET", f"{parts.route}?pageNum=1&pageSize=500") or []
        except KlingError:
            return None
        for item in listed:
            if (item.get("task_info") or {}).get("external_task_id") == external_id:
                return str(item["task_id"])
        return None

    def submit(self, job: GenerationJob) -> str:
        parts = JobParts.load(job)
        data = self.client.call("POST", parts.route, build_request(parts, self.element_ids))
        return str((data or {})["task_id"])

    def poll(self, job: GenerationJob, task_id: str) -> RemoteStatus:
        data = self.client.call("GET", f"{JobParts.load(job).route}/{task_id}") or {}
        status, message = _task_status(data)
        progress = {"submitted": 10, "processing": 50}.get(status, 0)
        return RemoteStatus(state=status or "submitted", progress=progress, message=message)

    def failure(self, status: RemoteStatus) -> ProviderError:
        return ProviderError(
            GenerationErrorCode.RENDER_FAILED,
            f"Kling could not make it: {status.message or 'no reason given'}",
        )

    def fetch(self, job: GenerationJob, task_id: str, *, workdir: Path) -> list[RenderedOutput]:
        parts = JobParts.load(job)
        data = self.client.call("GET", f"{parts.route}/{task_id}") or {}
        result = data.get("task_result") or {}
        outputs: list[RenderedOutput] = []
        if parts.kind == ModelKind.IMAGE:
            for n, image in enumerate(result.get("images") or []):
                path = workdir / f"kling-{n}.png"
                with path.open("wb") as f:
                    self.client.download(str(image["url"]), f)
                normalized = _normalized_image(path, workdir / f"output-{n}.png")
                thumb = render.make_thumbnail(normalized.path, workdir / f"thumb-{n}.jpg")
                outputs.append(
                    RenderedOutput(
                        kind="image",
                        path=normalized.path,
                        poster=normalized.path,
                        thumbnail=thumb.path,
                        width=normalized.width,
                        height=normalized.height,
                    )
                )
        else:
            for n, video in enumerate((result.get("videos") or [])[:1]):
                path = workdir / f"output-{n}.mp4"
                with path.open("wb") as f:
                    self.client.download(str(video["url"]), f)
                outputs.append(_video_output(path, workdir, n))
        if not outputs:
            raise ProviderError(
                GenerationErrorCode.RENDER_FAILED, "Kling finished without a result."
            )
        return outputs


def _normalized_image(path: Path, out: Path) -> render.ImageResult:
    """The downloaded image re-encoded as PNG (metadata dropped), or RENDER_FAILED."""
    try:
        with Image.open(path, formats=["PNG", "JPEG", "WEBP"]) as image:
            image.load()
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError(
            GenerationErrorCode.RENDER_FAILED, f"Kling's result is not an image: {exc}"
        ) from exc
    converted.save(out, format="PNG")
    return render.ImageResult(path=out, width=converted.width, height=converted.height)


def _video_output(path: Path, workdir: Path, n: int) -> RenderedOutput:
    import av

    try:
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            width, height = stream.width, stream.height
            duration = float(container.duration or 0) / 1_000_000
            has_audio = bool(container.streams.audio)
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise ProviderError(
            GenerationErrorCode.RENDER_FAILED, f"Kling's result is not a video: {exc}"
        ) from exc
    poster = render.make_poster(path, workdir / f"poster-{n}.jpg")
    thumb = render.make_thumbnail(poster.path, workdir / f"thumb-{n}.jpg")
    return RenderedOutput(
        kind="video",
        path=path,
        poster=poster.path,
        thumbnail=thumb.path,
        width=width,
        height=height,
        duration_ms=round(duration * 1000),
        has_audio=has_audio,
    )


def make_provider() -> KlingProvider:
    try:
        return KlingProvider()
    except KlingConfigError as exc:
        raise field_error(
            "model", f"{exc} Nothing was charged.", GenerationErrorCode.PROVIDER_NOT_CONFIGURED
        ) from exc
