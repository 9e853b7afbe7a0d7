"""An input video's length is the catalog's, per model, in the code, the schema text and
README alike: 3–10 s on Video 3.0 Omni and Video O1 (which *make* up to 15 and 10 s)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from accounts.selectors import credit_balance
from generation import services
from generation.catalog import MODELS, ModelCode, input_video_limits_text
from generation.graphql.mutations import GenerationSubmitInput
from generation.models import GenerationJob
from tests.conftest import media_files

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
TAKING_VIDEO = [code for code, spec in MODELS.items() if spec.accepts_input_video]


def clip(seconds: float) -> SimpleUploadedFile:
    with tempfile.TemporaryDirectory(prefix="input-video-") as workdir:
        out = Path(workdir) / "clip.mp4"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=size=720x720:rate=24:duration={seconds}",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)],
            check=True,
            timeout=120,
        )  # fmt: skip
        return SimpleUploadedFile("clip.mp4", out.read_bytes(), "video/mp4")


def submit(user, model: ModelCode, seconds: float) -> GenerationJob:
    return services.generation_submit(
        owner=user,
        request=services.JobRequest(
            model=model, prompt="Restyle [@Video] as a watercolour.", input_video=clip(seconds)
        ),
    )


def test_the_catalog_says_3_to_10_seconds_for_both_models():
    assert TAKING_VIDEO == [ModelCode.VIDEO_3_0_OMNI, ModelCode.VIDEO_O1]
    assert {MODELS[code].input_video_seconds for code in TAKING_VIDEO} == {(3.0, 10.0)}
    # and what the model makes is another range
    assert MODELS[ModelCode.VIDEO_3_0_OMNI].durations[-1] == 15


def test_the_schema_and_readme_say_what_the_catalog_says():
    text = input_video_limits_text()
    assert text == "Video 3.0 Omni, Video O1: 3–10 s"
    field = GenerationSubmitInput.__strawberry_definition__.get_field("input_video")
    assert field is not None and text in (field.description or "")
    assert "3–10 s" in README.read_text()
    assert "(MP4/MOV, 3–10 s," not in (field.description or "")


@pytest.mark.parametrize("model", TAKING_VIDEO)
@pytest.mark.parametrize("seconds", [10.5, 15.5, 2.9])
def test_a_video_outside_the_models_range_is_refused_and_moves_nothing(user, model, seconds):
    # given
    account_services.credits_grant(user=user, amount=200, reason="test")
    before = (GenerationJob.objects.count(), credit_balance(user), media_files())

    # when
    with pytest.raises(ValidationError) as refused:
        submit(user, model, seconds)

    # then
    errors = refused.value.error_dict
    assert list(errors) == ["inputVideo"]
    expected = "VIDEO_TOO_SHORT" if seconds < 3 else "VIDEO_TOO_LONG"
    assert [e.code for e in errors["inputVideo"]] == [expected]
    assert (GenerationJob.objects.count(), credit_balance(user), media_files()) == before


@pytest.mark.parametrize("model", TAKING_VIDEO)
def test_a_ten_second_video_is_accepted(user, model):
    account_services.credits_grant(user=user, amount=200, reason="test")

    job = submit(user, model, 10.0)

    assert job.status == "queued"
    assert job.inputs.get().kind == "video"
