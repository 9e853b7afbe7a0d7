"""Staff see a video element's trimmed clip in a player and its keyframes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from elements.admin import clip_url, image_preview_url
from elements.models import Element
from elements.video_elements import video_element_create
from tests.factories import ElementFactory, UserFactory
from tests.support import videos

pytestmark = pytest.mark.django_db


def video_element(data: bytes, capture: Any) -> Element:
    with capture(execute=True):
        element = video_element_create(
            owner=UserFactory(),
            name="Astronaut",
            video=SimpleUploadedFile("clip.mp4", data),
            trim_start=0.0,
            trim_end=4.0,
            consent_statement="I am the person in this clip and I agree.",
        ).element
    return Element.objects.get(pk=element.pk)


def test_a_video_element_page_has_the_clip_player_and_the_keyframes(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    element = video_element(videos.astronaut_clip(), django_capture_on_commit_callbacks)
    page = admin_client.get(reverse("admin:elements_element_change", args=[element.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    assert f'<video controls preload="metadata" width="480" src="{clip_url(element)}"' in content
    frames = list(element.images.order_by("position"))
    assert len(frames) == 4
    for frame in frames:
        assert image_preview_url(frame) in content
    # Each keyframe's caption: its role, its time in the clip and the face's pose.
    moments = element.video_report["keyframes"]
    assert [m["pose"] for m in moments] == ["frontal"] * 4
    assert f"main · {moments[0]['time']:.1f} s · frontal" in content
    assert f"#3 · {moments[3]['time']:.1f} s · frontal" in content
    assert "12 frames sampled at 3 fps; a face in 12, two or more in 0" in content
    assert "kept as the native voice" in content
    assert element.clip.name not in content  # never the storage name

    # The clip streams, whole or by byte range (for seeking).
    whole = admin_client.get(clip_url(element))
    with default_storage.open(element.clip.name, "rb") as stored:
        data = stored.read()
    assert b"".join(whole.streaming_content) == data
    assert whole["Content-Type"] == "video/mp4"
    part = admin_client.get(clip_url(element), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]


def test_a_failed_video_element_shows_why(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    element = video_element(videos.coffee_clip(), django_capture_on_commit_callbacks)

    content = admin_client.get(
        reverse("admin:elements_element_change", args=[element.pk])
    ).content.decode()

    assert "NO_FACE: A face was found in 0 of 12 sampled frames" in content
    assert clip_url(element) in content


def test_the_clip_is_for_staff_only(
    client: Client, admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    element = video_element(videos.coffee_clip(), django_capture_on_commit_callbacks)
    client.force_login(element.owner)

    response = client.get(clip_url(element))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert admin_client.post(clip_url(element)).status_code == 405
    missing = reverse("admin:elements_element_clip_file", args=[0])
    assert admin_client.get(missing).status_code == 404


def test_image_elements_have_no_video_section(admin_client: Client) -> None:
    element = ElementFactory()

    content = admin_client.get(
        reverse("admin:elements_element_change", args=[element.pk])
    ).content.decode()

    assert "trimmed clip" not in content
