"""README's example files, drawn and synthesized by `seed_demo` (no download): each passes
the validation its README command puts it through."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_ELEMENTS, EXAMPLE_CHARACTER, write_examples
from elements.media.audio import process_audio
from elements.media.images import process_image
from elements.media.video import process_video
from generation.catalog import MODELS


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("examples")
    written = write_examples(directory)
    return directory, written


def test_every_file_is_written_once(examples):
    directory, written = examples
    names = ["front.jpg", "side.jpg", "back.jpg", "sofa.jpg", "voice.wav", "street.mp4"]

    assert [p.name for p in written] == names
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert write_examples(directory) == []  # kept as they are
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    assert sorted(before) == sorted(names)  # no partial file left


def test_the_images_are_valid_reference_images(examples):
    directory, _ = examples
    for name in ("front.jpg", "side.jpg", "back.jpg", "sofa.jpg"):
        with (directory / name).open("rb") as handle:
            assert process_image(handle).width >= 300


def test_the_voice_sample_is_accepted_without_a_warning(examples):
    directory, _ = examples
    with (directory / "voice.wav").open("rb") as handle:
        audio = process_audio(handle)

    assert 5000 <= audio.duration_ms <= 30000
    assert audio.quality.warnings == ()


@pytest.mark.parametrize("model", [m for m in MODELS.values() if m.accepts_input_video])
def test_the_video_is_a_valid_input_video_for_each_model(examples, model):
    directory, _ = examples
    low, high = model.input_video_seconds or (0, 0)
    with (directory / "street.mp4").open("rb") as handle:
        video = process_video(handle, min_seconds=low, max_seconds=high)

    assert (video.width, video.height, round(video.fps), video.has_audio) == (1280, 720, 24, True)
    assert round(video.duration) == 4


def test_the_create_example_names_a_character_the_demo_does_not_have():
    assert EXAMPLE_CHARACTER not in {spec.name for spec in DEMO_ELEMENTS}


def test_examples_only_writes_files_and_no_account(tmp_path, settings, db):
    from accounts.models import User

    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", "--examples-only", stdout=out)

    assert "Wrote the example files" in out.getvalue()
    assert len(list((tmp_path / "examples").iterdir())) == 6
    assert not User.objects.exists()
