"""Video character elements on the `kling` provider: the clip pinned on the job, synced as a
`video_refer` element that the fake Kling fetches from our signed media link (served by a
live server) and holds to the documented rules, once per element version."""

# The `kling` fixture (the fake Kling server) is in tests/generation/conftest.py.

from __future__ import annotations

import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from elements import services as element_services
from elements.models import Element, ElementStatus, VoiceSource
from elements.video_elements import video_element_create
from generation.explore import services as explore_services
from generation.models import GenerationJob, JobElement, JobStatus
from generation.providers.kling.limits import JobParts, check_job
from generation.providers.kling.models import ProviderElement, SyncState
from generation.selectors import pinned_file_names
from tests.conftest import media_files
from tests.support import videos
from tests.support.studio import job_of, nothing_moved, studio_client, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    return studio_client(user, description="A small boy in a school uniform.")


CONSENT = "I am the person in this clip and I agree to its use."
PROMPT = "[@Astronaut Live] waves at the camera and says hello."


@pytest.fixture
def astronaut(api, django_capture_on_commit_callbacks) -> Element:
    """A video character made from 1–7 s of the astronaut clip (480×360, speech), processed
    inline: keyframes and its native voice."""
    upload = SimpleUploadedFile("clip.mp4", videos.astronaut_clip(), content_type="video/mp4")
    with django_capture_on_commit_callbacks(execute=True):
        made = video_element_create(
            owner=api.user,
            name="Astronaut Live",
            video=upload,
            trim_start=1.0,
            trim_end=7.0,
            consent_statement=CONSENT,
            description="An astronaut in a white suit.",
        )
    element = Element.objects.select_related("voice").get(pk=made.element.pk)
    assert element.status == ElementStatus.ACTIVE, element.failure_message
    assert element.voice is not None and element.voice.source == VoiceSource.VIDEO
    assert element.video_report["native_voice_id"] == element.voice.pk
    return element


def _run(api, django_capture_on_commit_callbacks, prompt: str = PROMPT) -> GenerationJob:
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(api, prompt)
    assert result["__typename"] == "GenerationJobResult", result
    job = job_of(result)
    job.refresh_from_db()
    return job


def _element_bodies(kling) -> list[dict[str, Any]]:
    return [t.body for t in kling.created("element")]


# Kling fetches the clip from a live server: a transactional test.
@pytest.mark.django_db(transaction=True)
def test_a_video_element_is_synced_as_video_refer_once_per_version(
    api, kling, astronaut, live_server, settings, django_capture_on_commit_callbacks
):
    # given: Kling fetches our media from a live server
    settings.KLING_CALLBACK_BASE_URL = live_server.url

    # when: a Video 3.0 Omni job mentions the video character
    first = _run(api, django_capture_on_commit_callbacks)

    # then: it succeeded, with the clip pinned on the job
    assert first.status == JobStatus.SUCCEEDED, first.error_message
    pinned = JobElement.objects.get(job=first)
    assert pinned.clip_file == astronaut.clip.name and pinned.clip_sound is True
    # the element went to Kling as a video character, from a link Kling fetched
    (body,) = _element_bodies(kling)
    assert body["reference_type"] == "video_refer"
    assert "element_image_list" not in body
    (video,) = body["element_video_list"]["refer_videos"]
    width, height, seconds, has_audio, size = kling.element_videos[video["video_url"]]
    # 480×360 → scaled and padded to 1080P 16:9; the native voice's sound kept, so Kling
    # binds it itself: no custom voice, no element_voice_id
    assert (width, height) == (1920, 1080)
    assert 5.9 <= seconds <= 6.1 and has_audio and 0 < size <= 200 * 1024 * 1024
    assert "element_voice_id" not in body and not kling.created("voice")
    assert body["tag_list"] == [{"tag_id": "o_102"}]
    row = ProviderElement.objects.get(element=astronaut)
    assert (row.reference_type, row.state, row.version) == (
        "video_refer",
        SyncState.READY,
        astronaut.version,
    )
    assert kling.elements[int(row.provider_element_id)]["element_voice_info"]["voice_id"]
    (omni,) = [b for f, b in kling.bodies if f == "omni-video"]
    assert omni["element_list"] == [{"element_id": int(row.provider_element_id)}]
    assert "<<<element_1>>>" in omni["prompt"]
    # the converted copy Kling fetched is gone; the link served it and nothing else
    assert not [n for n in media_files() if n.startswith("kling/")]
    path = urllib.parse.urlsplit(video["video_url"]).path
    assert Client().get(path).status_code == 404  # deleted after the sync
    assert Client().get(path[:-4] + "abcd").status_code == 404

    # when: a second job uses the same version
    second = _run(api, django_capture_on_commit_callbacks)

    # then: the element is reused
    assert second.status == JobStatus.SUCCEEDED, second.error_message
    assert len(kling.created("element")) == 1
    assert len(kling.created("omni-video")) == 2

    # when: the owner removes the native voice (a new version) and a third job runs
    element_services.voice_unbind(owner=api.user, element_id=astronaut.pk)
    third = _run(api, django_capture_on_commit_callbacks)

    # then: a new provider element, from the clip without its sound (else Kling would bind
    # the removed voice again), and the old version deleted on Kling
    assert third.status == JobStatus.SUCCEEDED, third.error_message
    assert len(kling.created("element")) == 2
    latest = _element_bodies(kling)[-1]
    (video,) = latest["element_video_list"]["refer_videos"]
    assert kling.element_videos[video["video_url"]][:2] == (1920, 1080)
    assert kling.element_videos[video["video_url"]][3] is False
    assert "element_voice_id" not in latest
    rows = ProviderElement.objects.filter(element=astronaut).order_by("version")
    assert [r.state for r in rows] == [SyncState.DELETED, SyncState.READY]
    assert kling.elements[int(rows[0].provider_element_id)]["status"] == "deleted"


# Kling fetches the clip from a live server: a transactional test.
@pytest.mark.django_db(transaction=True)
def test_a_video_element_with_an_uploaded_voice_binds_it_and_sends_no_sound(
    api, kling, astronaut, live_server, settings, django_capture_on_commit_callbacks
):
    from tests.support.media import audio_upload

    settings.KLING_CALLBACK_BASE_URL = live_server.url
    element_services.voice_bind(
        owner=api.user,
        element_id=astronaut.pk,
        upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6, volume=0.8), name="Captain", consent_statement=CONSENT
        ),
    )

    job = _run(api, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert JobElement.objects.get(job=job).clip_sound is False
    (voice,) = kling.created("voice")
    (body,) = _element_bodies(kling)
    assert body["element_voice_id"] in kling.voices
    assert voice.body["voice_name"] == "Captain"
    (video,) = body["element_video_list"]["refer_videos"]
    assert kling.element_videos[video["video_url"]][3] is False  # no sound of its own


def test_video_o1_refuses_a_video_element_at_submit(api, kling, astronaut):
    before = media_files()

    result = submit(api, PROMPT, model="VIDEO_O1")

    assert result["__typename"] == "OperationInfo"
    assert [m["code"] for m in result["messages"]] == ["VIDEO_ELEMENT_NOT_SUPPORTED"]
    nothing_moved(before)
    assert kling.count("POST", "/v1") == 0


def test_kling_limits_on_a_pinned_clip(api, kling, astronaut, django_capture_on_commit_callbacks):
    # given: a queued job (its worker not run) pinning the clip
    with django_capture_on_commit_callbacks(execute=False):
        result = submit(api, PROMPT)
    assert result["__typename"] == "GenerationJobResult", result
    job = job_of(result)
    pinned = JobElement.objects.get(job=job)

    # a model without video elements (as if the job had been made for Video O1)
    job.model = "VIDEO_O1"
    messages = [m for _, m in check_job(JobParts.load(job)).found]
    assert any("video character elements work only with Video 3.0" in m for m in messages)

    # a clip Kling can't take: 2 s
    short = _clip_of(2)
    JobElement.objects.filter(pk=pinned.pk).update(clip_file=short)
    job.model = "VIDEO_3_0_OMNI"
    messages = [m for _, m in check_job(JobParts.load(job)).found]
    assert messages == [
        "Kling takes element videos of 3–8 s; the clip of “Astronaut Live” is 2.0 s."
    ]

    # a pin made before clips were kept
    JobElement.objects.filter(pk=pinned.pk).update(clip_file="")
    messages = [m for _, m in check_job(JobParts.load(job)).found]
    assert len(messages) == 1 and "before video clips were kept" in messages[0]
    default_storage.delete(short)


def _clip_of(seconds: int) -> str:
    data = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=640x360:rate=24:duration={seconds}",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mp4",
            "-movflags",
            "frag_keyframe+empty_moov",
            "pipe:1",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return default_storage.save("tests/short.mp4", ContentFile(data))


def test_a_pinned_clip_outlives_its_element_and_a_shared_recipe_keeps_it(
    api, kling, astronaut, admin_client, django_capture_on_commit_callbacks
):
    # given: a job pinning the clip (queued)
    with django_capture_on_commit_callbacks(execute=False):
        result = submit(api, PROMPT)
    job = job_of(result)
    clip = astronaut.clip.name
    assert pinned_file_names([clip]) == {clip}

    # the recipe frozen from it carries the clip, and counts it among its files
    recipe = explore_services.freeze_recipe(job)
    (element,) = recipe["elements"]
    assert (element["clip_file"], element["clip_sound"]) == (clip, True)
    assert clip in explore_services.recipe_files(recipe)

    # when: the owner deletes the element
    with django_capture_on_commit_callbacks(execute=True):
        element_services.element_delete(owner=api.user, element_id=astronaut.pk)

    # then: the clip the job pins is kept; the element's other files follow the usual rule
    assert not Element.objects.filter(pk=astronaut.pk).exists()
    assert default_storage.exists(clip)
    pinned = JobElement.objects.get(job=job)
    assert pinned.clip_file == clip
    # and staff still see it on the job
    page = admin_client.get(f"/admin/generation/generationjob/{job.pk}/change/").content.decode()
    preview = f"/admin/generation/generationjob/file/clip/{pinned.pk}/"
    assert preview in page
    response = admin_client.get(preview)
    assert response.status_code == 200
    with default_storage.open(clip, "rb") as f:
        assert b"".join(response.streaming_content) == f.read()

    # and once no job pins it any more, it is no longer protected
    GenerationJob.objects.filter(pk=job.pk).delete()
    assert pinned_file_names([clip]) == set()


def _stored_video(size: str, seconds: int, container: str = "mp4") -> str:
    codec = ["-c:v", "libvpx", "-b:v", "300k"] if container == "webm" else ["-c:v", "libx264"]
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / f"v.{container}"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                *("-loglevel", "error", "-f", "lavfi"),
                *("-i", f"testsrc=size={size}:rate=24:duration={seconds}"),
                *codec,
                *("-preset", "ultrafast", "-pix_fmt", "yuv420p") * (container != "webm"),
                str(out),
            ],
            check=True,
        )
        return default_storage.save(f"tests/v.{container}", ContentFile(out.read_bytes()))


@pytest.mark.django_db(transaction=True)
def test_the_fake_fetches_video_refer_videos_and_refuses_what_kling_documents_as_invalid(
    kling, live_server, settings
):
    from generation.providers.kling.client import KlingClient, KlingError, KlingSettings
    from generation.providers.kling.urls import media_url

    settings.KLING_CALLBACK_BASE_URL = live_server.url
    client = KlingClient(KlingSettings.load())
    good = _stored_video("1920x1080", 4)

    def element(url: str, **extra: Any) -> dict[str, Any]:
        return {
            "element_name": "Astronaut",
            "element_description": "An astronaut.",
            "reference_type": "video_refer",
            "element_video_list": {"refer_videos": [{"video_url": url}]},
            **extra,
        }

    for body, reason in (
        (element(media_url(_stored_video("480x360", 4))), "1080P 16:9 or 9:16"),
        # (the fake checks the format, then the length, then the size: small clips do)
        (element(media_url(_stored_video("320x180", 2))), "3-8s"),
        (element(media_url(_stored_video("180x320", 9))), "3-8s"),
        (element(media_url(_stored_video("320x180", 4, "webm"))), "mp4/mov"),
        (element(media_url(good)[:-4] + "abcd"), "could not be fetched"),
        (element("elements/clips/x.mp4"), "must be a URL"),
        ({**element(media_url(good)), "element_video_list": {"refer_videos": []}}, "exactly 1"),
    ):
        with pytest.raises(KlingError) as caught:
            client.call("POST", "/v1/general/advanced-custom-elements", body)
        assert (caught.value.status, caught.value.code) == (400, 1201), body
        assert reason in caught.value.message
    assert kling.tasks == {}

    # a conforming clip is taken, and its element can't go to Video O1
    created = client.call("POST", "/v1/general/advanced-custom-elements", element(media_url(good)))
    path = f"/v1/general/advanced-custom-elements/{created['task_id']}"
    for _ in range(20):  # every query moves the fake's clock on
        if (data := client.call("GET", path))["task_status"] == "succeed":
            break
    (made,) = data["task_result"]["elements"]
    assert made["reference_type"] == "video_refer"
    with pytest.raises(KlingError) as caught:
        client.call(
            "POST",
            "/v1/videos/omni-video",
            {
                "model_name": "kling-video-o1",
                "prompt": "<<<element_1>>> waves",
                "aspect_ratio": "16:9",
                "element_list": [{"element_id": made["element_id"]}],
            },
        )
    assert caught.value.code == 1201 and "multi-image elements only" in caught.value.message


def test_a_clip_kling_cannot_fetch_is_a_configuration_error_at_submit(
    api, kling, astronaut, settings
):
    # Local storage and no public address: Kling could not fetch the clip.
    settings.KLING_CALLBACK_BASE_URL = ""
    element_services.voice_unbind(owner=api.user, element_id=astronaut.pk)
    before = media_files()

    result = submit(api, PROMPT)

    assert [m["code"] for m in result["messages"]] == ["PROVIDER_NOT_CONFIGURED"]
    assert "KLING_CALLBACK_BASE_URL" in result["messages"][0]["message"]
    nothing_moved(before)
    assert kling.count("POST", "/v1") == 0
