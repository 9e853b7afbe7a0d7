"""The model table: the numbers PRODUCT.md and kling-api.md give, read once."""

from __future__ import annotations

import pytest

from generation.catalog import (
    MAX_SHOTS,
    MIN_SHOT_SECONDS,
    MODELS,
    PROMPT_MAX_CHARS,
    SHOT_MAX_CHARS,
    FrameSupport,
    ModelCode,
    ModelKind,
    model_spec,
)

VIDEO = [ModelCode.VIDEO_3_0, ModelCode.VIDEO_3_0_OMNI, ModelCode.VIDEO_O1]
IMAGE = [ModelCode.IMAGE_3_0_OMNI, ModelCode.IMAGE_O1]


def test_one_spec_per_code_in_enum_order() -> None:
    assert list(MODELS) == list(ModelCode)
    for code, spec in MODELS.items():
        assert spec.code is code
        assert spec.label


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        MODELS[ModelCode.VIDEO_O1] = MODELS[ModelCode.VIDEO_3_0]  # type: ignore[index]


def test_provider_model_names() -> None:
    assert {code: spec.provider_model for code, spec in MODELS.items()} == {
        ModelCode.VIDEO_3_0: "kling-v3",
        ModelCode.VIDEO_3_0_OMNI: "kling-v3-omni",
        ModelCode.VIDEO_O1: "kling-video-o1",
        # kling-api.md §6 lists kling-image-o1 as the only omni-image model.
        ModelCode.IMAGE_3_0_OMNI: "kling-image-o1",
        ModelCode.IMAGE_O1: "kling-image-o1",
    }


def test_kinds() -> None:
    assert all(MODELS[c].kind is ModelKind.VIDEO and MODELS[c].is_video for c in VIDEO)
    assert all(MODELS[c].kind is ModelKind.IMAGE and MODELS[c].is_image for c in IMAGE)


@pytest.mark.parametrize("code", [ModelCode.VIDEO_3_0_OMNI, ModelCode.VIDEO_O1])
def test_omni_video_takes_7_references_or_4_with_an_input_video(code: ModelCode) -> None:
    spec = MODELS[code]
    assert spec.accepts_input_video
    assert spec.max_references == 7
    assert spec.max_references_with_input_video == 4
    assert spec.reference_limit(input_video=False) == 7
    assert spec.reference_limit(input_video=True) == 4
    assert spec.frames is FrameSupport.NONE


def test_video_3_0_takes_frames_and_up_to_3_bound_elements() -> None:
    spec = MODELS[ModelCode.VIDEO_3_0]
    assert spec.frames is FrameSupport.START_OR_START_END
    assert spec.takes_frames
    assert spec.max_bound_elements_with_frames == 3
    assert not spec.accepts_input_video
    assert spec.max_references_with_input_video is None
    assert not spec.accepts_reference_images


@pytest.mark.parametrize("code", IMAGE)
def test_image_models_take_10_references_and_no_duration(code: ModelCode) -> None:
    spec = MODELS[code]
    assert spec.max_references == 10
    assert spec.reference_limit(input_video=True) == 10
    assert not spec.accepts_input_video
    assert spec.durations == ()
    assert spec.default_duration is None
    assert not spec.multi_shot
    assert spec.frames is FrameSupport.NONE
    assert "auto" in spec.aspect_ratios
    assert spec.resolutions == ("1k", "2k")
    assert spec.modes == ()


def test_durations() -> None:
    assert MODELS[ModelCode.VIDEO_O1].durations == tuple(range(3, 11))
    assert MODELS[ModelCode.VIDEO_3_0_OMNI].durations == tuple(range(3, 16))
    assert MODELS[ModelCode.VIDEO_3_0].durations == tuple(range(3, 16))
    assert MODELS[ModelCode.VIDEO_O1].offers_duration(10)
    assert not MODELS[ModelCode.VIDEO_O1].offers_duration(11)
    assert all(MODELS[c].default_duration == 5 for c in VIDEO)


def test_multi_shot_only_on_the_3_0_family() -> None:
    # kling-api.md §5: kling-v3-omni multi-shot yes, kling-video-o1 no; §6: image2video
    # takes the same multi-shot fields for kling-v3.
    assert {c for c, s in MODELS.items() if s.multi_shot} == {
        ModelCode.VIDEO_3_0,
        ModelCode.VIDEO_3_0_OMNI,
    }


def test_video_character_elements_not_on_o1_models() -> None:
    assert {c for c, s in MODELS.items() if s.video_character_elements} == {
        ModelCode.VIDEO_3_0,
        ModelCode.VIDEO_3_0_OMNI,
    }


def test_only_3_0_omni_speaks_in_element_voices() -> None:
    assert {c for c, s in MODELS.items() if s.element_voices} == {ModelCode.VIDEO_3_0_OMNI}


def test_video_aspect_ratios_and_modes() -> None:
    for code in VIDEO:
        assert MODELS[code].aspect_ratios == ("16:9", "9:16", "1:1")
        assert MODELS[code].modes == ("std", "pro")
        assert MODELS[code].max_outputs == 1


def test_prompt_limits() -> None:
    assert (PROMPT_MAX_CHARS, SHOT_MAX_CHARS, MAX_SHOTS, MIN_SHOT_SECONDS) == (2500, 512, 6, 1)


def test_model_spec_lookup() -> None:
    assert model_spec("VIDEO_O1") is MODELS[ModelCode.VIDEO_O1]
    assert model_spec(ModelCode.IMAGE_O1) is MODELS[ModelCode.IMAGE_O1]
    with pytest.raises(ValueError):
        model_spec("VIDEO_9_9")
