"""The models we offer, and what each one accepts: one table that the prompt compiler's
validator, the price list and the GraphQL enum all read.

Sources: `shared/PRODUCT.md` ("Using elements in generation") for the product rules and
`shared/providers/kling-api.md` §5–§7 for the provider's limits. Where the provider doc is
unclear, the reading chosen here is the stricter one, and says so beside the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

# Provider-wide prompt limits (kling-api.md §5 and §7), the same for every model.
PROMPT_MAX_CHARS = 2500
SHOT_MAX_CHARS = 512
MAX_SHOTS = 6
MIN_SHOT_SECONDS = 1


class ModelCode(StrEnum):
    VIDEO_3_0 = "VIDEO_3_0"
    VIDEO_3_0_OMNI = "VIDEO_3_0_OMNI"
    VIDEO_O1 = "VIDEO_O1"
    IMAGE_3_0_OMNI = "IMAGE_3_0_OMNI"
    IMAGE_O1 = "IMAGE_O1"


class ModelKind(StrEnum):
    VIDEO = "video"
    IMAGE = "image"


class FrameSupport(StrEnum):
    NONE = "none"
    # A start frame, or a start and an end frame; never an end frame alone.
    START_OR_START_END = "start_or_start_end"


VIDEO_ASPECT_RATIOS = ("16:9", "9:16", "1:1")
IMAGE_ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "auto")
VIDEO_MODES = ("std", "pro")
IMAGE_RESOLUTIONS = ("1k", "2k")


def _seconds(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


@dataclass(frozen=True)
class ModelSpec:
    code: ModelCode
    label: str
    kind: ModelKind
    # Kling's `model_name`.
    provider_model: str
    # Images + elements in one job, without / with an input video (None: no input video).
    max_references: int
    max_references_with_input_video: int | None
    accepts_input_video: bool
    # Attached reference images (`[@Image1]`). Video 3.0 takes frames, not reference images.
    accepts_reference_images: bool
    frames: FrameSupport
    # Elements bound to the start (and end) frame; None where frames aren't taken.
    max_bound_elements_with_frames: int | None
    # Whole seconds the model offers; empty for image models, which take no duration.
    durations: tuple[int, ...]
    # The provider's default when a job gives none (kling-api.md §5: `duration` "5").
    default_duration: int | None
    aspect_ratios: tuple[str, ...]
    # Takes `Shot 1 (3s): …` prompts (Kling `multi_shot` with `multi_prompt`).
    multi_shot: bool
    # Video character elements (source "video") may be referenced.
    video_character_elements: bool
    # Quoted dialogue is spoken in the speaking element's bound voice.
    element_voices: bool
    # Video quality modes (Kling `mode`); empty for image models.
    modes: tuple[str, ...]
    # Image output resolutions (Kling `resolution`); empty for video models.
    resolutions: tuple[str, ...]
    # Outputs per job (Kling omni-image `n` is 1–9; a video job makes one).
    max_outputs: int
    # Seconds an input video (`[@Video]`) may last, where one is accepted (kling-api.md §5:
    # "≥3 s (v3-omni max 10 s)"; o1 reads as the same). Video lengths the model *makes*
    # (`durations`) are another matter: 3.0 Omni makes up to 15 s but takes at most 10 s.
    input_video_seconds: tuple[float, float] | None = None

    @property
    def is_video(self) -> bool:
        return self.kind is ModelKind.VIDEO

    @property
    def is_image(self) -> bool:
        return self.kind is ModelKind.IMAGE

    @property
    def takes_frames(self) -> bool:
        return self.frames is not FrameSupport.NONE

    def reference_limit(self, *, input_video: bool = False) -> int:
        """Images + elements allowed in one job."""
        if input_video and self.max_references_with_input_video is not None:
            return self.max_references_with_input_video
        return self.max_references

    def offers_duration(self, seconds: int) -> bool:
        return seconds in self.durations


_SPECS = (
    ModelSpec(
        code=ModelCode.VIDEO_3_0_OMNI,
        label="Video 3.0 Omni",
        kind=ModelKind.VIDEO,
        provider_model="kling-v3-omni",
        max_references=7,
        max_references_with_input_video=4,
        accepts_input_video=True,
        accepts_reference_images=True,
        # Kling's omni endpoint also takes first/end frames, but PRODUCT.md offers frames on
        # Video 3.0 only; enabling them here would also need §5's frame-vs-element rules.
        frames=FrameSupport.NONE,
        max_bound_elements_with_frames=None,
        durations=_seconds(3, 15),
        default_duration=5,
        aspect_ratios=VIDEO_ASPECT_RATIOS,
        multi_shot=True,  # kling-api.md §5 capability table: kling-v3-omni multi-shot "yes"
        video_character_elements=True,
        # The user guide: "In 3.0 Omni, character elements also support binding voice tones".
        element_voices=True,
        modes=VIDEO_MODES,
        resolutions=(),
        max_outputs=1,
        input_video_seconds=(3.0, 10.0),
    ),
    ModelSpec(
        code=ModelCode.VIDEO_O1,
        label="Video O1",
        kind=ModelKind.VIDEO,
        provider_model="kling-video-o1",
        max_references=7,
        max_references_with_input_video=4,
        accepts_input_video=True,
        accepts_reference_images=True,
        frames=FrameSupport.NONE,
        max_bound_elements_with_frames=None,
        # §5 gives 3–10 s (its capability map says 5/10 only for t2v/i2v; unclear in source).
        durations=_seconds(3, 10),
        default_duration=5,
        aspect_ratios=VIDEO_ASPECT_RATIOS,
        multi_shot=False,  # §5 capability table: kling-video-o1 multi-shot "no"
        # §5: o1 elements are "multi-image only"; §3 limits video elements to o3 and later.
        video_character_elements=False,
        element_voices=False,  # §5 capability table: Voice "no"
        modes=VIDEO_MODES,
        resolutions=(),
        max_outputs=1,
        input_video_seconds=(3.0, 10.0),
    ),
    ModelSpec(
        code=ModelCode.VIDEO_3_0,
        label="Video 3.0",
        kind=ModelKind.VIDEO,
        provider_model="kling-v3",
        # Only elements bound to the frames count here (PRODUCT.md: up to 3).
        max_references=3,
        max_references_with_input_video=None,
        accepts_input_video=False,
        accepts_reference_images=False,
        frames=FrameSupport.START_OR_START_END,
        max_bound_elements_with_frames=3,
        durations=_seconds(3, 15),
        default_duration=5,
        aspect_ratios=VIDEO_ASPECT_RATIOS,
        # §6: image2video "takes the same multi-shot fields as §5 (kling-v3)".
        multi_shot=True,
        # §3: video elements are for "kling-video-o3 and later", read as kling-v3(-omni).
        video_character_elements=True,
        # Not documented for image2video (whose voice_list excludes element_list).
        element_voices=False,
        modes=VIDEO_MODES,
        resolutions=(),
        max_outputs=1,
    ),
    ModelSpec(
        code=ModelCode.IMAGE_3_0_OMNI,
        label="Image 3.0 Omni",
        kind=ModelKind.IMAGE,
        # §6 lists `kling-image-o1` as the only omni-image `model_name`.
        provider_model="kling-image-o1",
        max_references=10,
        max_references_with_input_video=None,
        accepts_input_video=False,
        accepts_reference_images=True,
        frames=FrameSupport.NONE,
        max_bound_elements_with_frames=None,
        durations=(),
        default_duration=None,
        aspect_ratios=IMAGE_ASPECT_RATIOS,
        multi_shot=False,
        # It runs on kling-image-o1, and §3 documents video elements for video o3+ only.
        video_character_elements=False,
        element_voices=False,
        modes=(),
        resolutions=IMAGE_RESOLUTIONS,
        max_outputs=9,
    ),
    ModelSpec(
        code=ModelCode.IMAGE_O1,
        label="Image O1",
        kind=ModelKind.IMAGE,
        provider_model="kling-image-o1",
        max_references=10,
        max_references_with_input_video=None,
        accepts_input_video=False,
        accepts_reference_images=True,
        frames=FrameSupport.NONE,
        max_bound_elements_with_frames=None,
        durations=(),
        default_duration=None,
        aspect_ratios=IMAGE_ASPECT_RATIOS,
        multi_shot=False,
        video_character_elements=False,
        element_voices=False,
        modes=(),
        resolutions=IMAGE_RESOLUTIONS,
        max_outputs=9,
    ),
)

MODELS: Mapping[ModelCode, ModelSpec] = MappingProxyType(
    {spec.code: spec for spec in sorted(_SPECS, key=lambda s: list(ModelCode).index(s.code))}
)


def input_video_limits_text() -> str:
    """The input-video lengths per model, for descriptions: `Video 3.0 Omni, Video O1:
    3–10 s`, grouped by range so the text follows the table."""
    groups: dict[tuple[float, float], list[str]] = {}
    for spec in MODELS.values():
        if spec.accepts_input_video and spec.input_video_seconds is not None:
            groups.setdefault(spec.input_video_seconds, []).append(spec.label)
    return "; ".join(
        f"{', '.join(labels)}: {low:g}–{high:g} s" for (low, high), labels in groups.items()
    )


def model_spec(code: ModelCode | str) -> ModelSpec:
    """The spec of a model code; ValueError for a code we don't offer."""
    return MODELS[ModelCode(code)]
