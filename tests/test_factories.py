"""The factories build rows the real services accept, with their files in the storage."""

from __future__ import annotations

import av
import pytest
from django.core.files.storage import default_storage

from elements.models import ImageRole, VoiceSource
from generation.explore.models import WorkStatus
from generation.models import JobStatus
from tests.conftest import media_files
from tests.factories import (
    ElementFactory,
    ExploreWorkFactory,
    GenerationJobFactory,
    VoiceFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def test_an_element_has_a_main_image_and_an_extra_with_their_files():
    element = ElementFactory()

    main, extra = element.images.all()
    assert (main.role, main.position, extra.role, extra.position) == (
        ImageRole.MAIN,
        0,
        ImageRole.EXTRA,
        1,
    )
    for image in (main, extra):
        assert {image.image.name, image.thumbnail.name} <= media_files()
    assert not ElementFactory(images=0).images.exists()


def test_a_voice_is_an_upload_with_consent_or_a_preset_without_owner():
    voice = VoiceFactory()
    preset = VoiceFactory(preset=True)

    assert voice.owner and voice.consent_at and voice.audio.name in media_files()
    assert voice.duration_ms == 6000
    assert (preset.owner, preset.source, preset.consent_statement) == (None, VoiceSource.PRESET, "")


def test_a_succeeded_job_has_a_playable_output():
    job = GenerationJobFactory(succeeded=True)

    assert job.status == JobStatus.SUCCEEDED
    output = job.outputs.get()
    assert output.owner == job.owner
    with default_storage.open(output.file.name) as f, av.open(f) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert GenerationJobFactory().status == JobStatus.QUEUED


def test_a_work_is_shared_through_the_service(settings):
    settings.EXPLORE_MODERATION = "post"

    work = ExploreWorkFactory(title="Lunch")

    assert (work.title, work.status, work.author) == ("Lunch", WorkStatus.APPROVED, work.job.owner)
    assert work.output == work.job.outputs.get()


def test_an_endpoint_wants_every_event():
    endpoint = WebhookEndpointFactory()

    assert endpoint.events == [] and endpoint.secret.startswith("whsec_")
