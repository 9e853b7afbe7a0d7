"""`videoElementCreate` through GraphQL multipart, then the element as the library shows it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from elements.models import Element
from tests.conftest import media_files
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support import videos
from tests.support.graphql import UploadClient
from tests.support.video_elements import video_element_create as create

pytestmark = pytest.mark.django_db

ELEMENT = """
query ($id: ID!) {
  element(id: $id) {
    name type source status progress failureCode failureMessage trimStart trimEnd clipUrl
    images { role position origin width height url thumbnailUrl }
    voice { name source consentAt durationMs audioUrl }
  }
}
"""


@pytest.fixture
def api(user: Any) -> UploadClient:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return UploadClient(client)


def test_a_new_user_makes_a_character_from_a_clip_and_finds_it_in_the_library(
    api: UploadClient, django_capture_on_commit_callbacks: Any
) -> None:
    # when: the upload comes back processing; the job runs when the request commits
    with django_capture_on_commit_callbacks(execute=True):
        created = create(api, videos.astronaut_clip(), 1.0, 7.0)

    assert created["__typename"] == "ElementResult", created
    answer = created["element"]
    assert (answer["status"], answer["progress"], answer["type"], answer["source"]) == (
        "PROCESSING",
        0,
        "CHARACTER",
        "VIDEO",
    )
    assert (answer["trimStart"], answer["trimEnd"], answer["clipUrl"]) == (1.0, 7.0, None)
    assert answer["images"] == [] and answer["voice"] is None

    # then: the element, ready, with its keyframes and native voice
    element = api(ELEMENT, {"id": answer["id"]})["element"]
    assert (element["status"], element["progress"], element["failureCode"]) == (
        "ACTIVE",
        100,
        "",
    )
    assert [(i["role"], i["position"], i["origin"]) for i in element["images"]] == [
        ("MAIN", 0, "VIDEO_FRAME"),
        ("EXTRA", 1, "VIDEO_FRAME"),
        ("EXTRA", 2, "VIDEO_FRAME"),
        ("EXTRA", 3, "VIDEO_FRAME"),
    ]
    voice = element["voice"]
    assert voice["source"] == "VIDEO" and voice["consentAt"]
    assert voice["name"] == "Astronaut (from video)"
    # The owner's signed URLs serve the clip, a keyframe and the voice.
    clip = api.client.get(element["clipUrl"])
    assert clip.status_code == 200 and clip["Content-Type"] == "video/mp4"
    assert b"ftyp" in b"".join(clip.streaming_content)[:16]
    assert api.client.get(element["images"][0]["url"]).status_code == 200
    assert api.client.get(voice["audioUrl"]).status_code == 200
    # Another user gets nothing from the same URL.
    other = Client()
    stranger = UserFactory()
    other.login(username=stranger.username, password=TEST_PASSWORD)
    assert other.get(element["clipUrl"]).status_code in (403, 404)

    # and in the library listing
    listing = api("{ elements { edges { node { name status images { origin } } } } }")
    (node,) = [e["node"] for e in listing["elements"]["edges"]]
    assert node["name"] == "Astronaut" and len(node["images"]) == 4


def test_a_failed_element_shows_its_code_in_the_library(
    api: UploadClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = create(api, videos.two_astronauts_clip(), 0.0, 4.0)

    element = api(ELEMENT, {"id": created["element"]["id"]})["element"]
    assert (element["status"], element["failureCode"]) == ("FAILED", "MULTIPLE_PEOPLE")
    assert "more than one face" in element["failureMessage"]
    assert element["images"] == [] and element["voice"] is None
    assert element["clipUrl"]  # the clip stays, to see why
    failed = api("{ elements(status: FAILED) { edges { node { name } } } }")
    assert [e["node"]["name"] for e in failed["elements"]["edges"]] == ["Astronaut"]


@pytest.mark.parametrize(
    ("make", "start", "end", "field", "code"),
    [
        (videos.astronaut_clip, 0.0, 2.0, "trimEnd", "TRIM_TOO_SHORT"),
        (videos.astronaut_clip, 0.0, 12.0, "trimEnd", "TRIM_TOO_LONG"),
        (videos.astronaut_clip, 6.0, 10.0, "trimEnd", "TRIM_OUTSIDE_VIDEO"),
        (videos.make_audio_only_mp4, 0.0, 4.0, "video", "VIDEO_NO_VIDEO_STREAM"),
    ],
)
def test_bad_input_gets_a_typed_error_and_leaves_nothing(
    api: UploadClient, make: Any, start: float, end: float, field: str, code: str
) -> None:
    before = media_files()

    refused = create(api, make(), start, end)

    assert refused["__typename"] == "OperationInfo"
    assert [(m["field"], m["code"]) for m in refused["messages"]] == [(field, code)]
    assert not Element.objects.exists()
    assert media_files() == before


def test_listing_video_elements_takes_a_fixed_number_of_queries(
    api: UploadClient, user: Any
) -> None:
    query = """{ elements(first: 100) { edges { node {
        name status progress failureCode trimStart trimEnd clipUrl images { origin url }
    } } } }"""

    def add(n: int) -> None:
        for _ in range(n):
            Element.objects.create(
                owner=user,
                name=f"v{Element.objects.count()}",
                type="character",
                source="video",
                status="failed",
                failure_code="NO_FACE",
                clip="elements/clips/x.mp4",
                trim_start=0.0,
                trim_end=4.0,
            )

    api.csrf_token()
    add(3)
    with CaptureQueriesContext(connection) as few:
        api(query)
    add(30)
    with CaptureQueriesContext(connection) as many:
        data = api(query)
    assert len(data["elements"]["edges"]) == 33
    assert len(few) == len(many) <= 7, [q["sql"][:150] for q in many.captured_queries]
