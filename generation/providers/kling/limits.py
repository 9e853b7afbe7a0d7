"""Every documented Kling limit (kling-api.md §3/§5/§7), checked with our own codes at submit
(before anything is charged) and again in the worker before any provider call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from generation.catalog import MODELS, ModelCode, ModelKind
from generation.error_codes import GenerationErrorCode
from generation.models import (
    GenerationJob,
    InputKind,
    JobElement,
    JobInput,
)
from generation.providers.base import (
    ProviderError,
)
from generation.providers.kling.client import (
    IMAGE_TO_VIDEO,
    OMNI_IMAGE,
    OMNI_VIDEO,
    TEXT_TO_VIDEO,
)

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


def element_text(pinned: JobElement, issues: Issues | None = None) -> tuple[str, str]:
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


def voice_ms(voice_file: str) -> int | None:
    from elements.models import Voice

    return Voice.objects.filter(audio=voice_file).values_list("duration_ms", flat=True).first()


def is_video_element(pinned: JobElement) -> bool:
    """A video character element: its clip is pinned; a pin made before clips were pinned
    is known by its element's source."""
    from elements.models import Element, ElementSource

    if pinned.clip_file:
        return True
    if pinned.element_id is None:
        return False
    return Element.objects.filter(pk=pinned.element_id, source=ElementSource.VIDEO).exists()


def preset_voice_id(voice_file: str) -> str:
    """Kling's own preset voice id for a Voice Library preset that maps to one
    (`KLING_PRESET_VOICES`: our preset's name → the `voice_id` Kling lists at
    `/v1/general/presets-voices`); "" for any other voice. A mapped preset is bound by that
    id and never uploaded as a custom voice."""
    from elements.models import Voice, VoiceSource

    table: dict[str, str] = settings.KLING_PRESET_VOICES
    if not voice_file or not table:
        return ""
    name = (
        Voice.objects.filter(audio=voice_file, owner__isnull=True, source=VoiceSource.PRESET)
        .values_list("name", flat=True)
        .first()
    )
    return table.get(name or "", "")


def sends_voice(pinned: JobElement) -> bool:
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


def probe_video(name: str) -> tuple[float, int, int, float]:
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
    video_elements = [p for p in parts.elements if is_video_element(p)]

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
        element_text(pinned, issues)
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
        if sends_voice(pinned) and not preset_voice_id(pinned.voice_file):
            ms = voice_ms(pinned.voice_file)
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
        duration, width, height, _fps = probe_video(pinned.clip_file)
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
        duration, width, height, fps = probe_video(video.file)
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
