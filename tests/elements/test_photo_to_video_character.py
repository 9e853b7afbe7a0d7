"""A new user's whole path through the assists, with GraphQL alone on the user's side: uploads the
astronaut photo and is told "character", gets a description, completes views (free three
times as a member, then charged), and makes a video character element from a clip whose
keyframes and native voice appear in the library. Staff's only part is the membership and
the credits, which users don't grant themselves."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD, MembershipFactory, tier
from tests.support import videos
from tests.support.assists import COMPLETE, DESCRIBE, DETECT, ME, UPDATE
from tests.support.graphql import UploadClient
from tests.support.photos import photo_upload
from tests.support.video_elements import video_element_create

pytestmark = pytest.mark.django_db

REGISTER = """
mutation ($input: AccountRegisterInput!) {
  accountRegister(input: $input) { __typename }
}"""

ELEMENT_CREATE = """
mutation ($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename
    ... on ElementWithWarningsResult {
      element { id type detectedSubject { type confidence evidence } }
    }
    ... on OperationInfo { messages { field code } }
  }
}"""

LIBRARY = """
{ elements(first: 20) { totalCount edges { node {
    name type source status
    images { role origin }
    voice { name source consentAt }
} } } }"""


def test_a_new_user_from_photo_to_video_character(
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = UploadClient(GraphQLClient().client)
    registered = api(REGISTER, {"input": {"username": "maya", "password": TEST_PASSWORD}})
    assert registered["accountRegister"]["__typename"] == "AccountRegisterResult", registered
    user = User.objects.get(username="maya")
    MembershipFactory(user=user, tier=tier("standard"))
    welcome = credit_balance(user)  # the non-member tier's signup grant
    credits_grant(user=user, amount=7, reason="top-up")

    # the photo is a character, says detection, before anything is stored
    told = api.upload(DETECT, {"image": None}, {"image": photo_upload("astronaut")})
    assert told["subjectTypeDetect"]["type"] == "CHARACTER"
    assert told["subjectTypeDetect"]["evidence"].startswith("1 frontal face")

    # four elements from it (main + one extra each: two free slots each)
    ids = []
    for n in range(4):
        created = api.upload(
            ELEMENT_CREATE,
            {
                "input": {
                    "name": f"Astronaut {n + 1}",
                    "type": "CHARACTER",
                    "mainImage": None,
                    "extraImages": [None],
                }
            },
            {
                "input.mainImage": photo_upload("astronaut"),
                "input.extraImages.0": photo_upload("astronaut"),
            },
        )["elementCreate"]
        assert created["__typename"] == "ElementWithWarningsResult", created
        assert created["element"]["detectedSubject"]["type"] == "CHARACTER"
        ids.append(created["element"]["id"])

    # a description from the image, kept with elementUpdate
    text = api(DESCRIBE, {"id": ids[0]})["elementDescribe"]["description"]
    assert text.startswith("Character, half-body, 1 face") and len(text) <= 100
    kept = api(UPDATE, {"input": {"id": ids[0], "description": text}})
    assert kept["elementUpdate"]["element"]["description"] == text

    # views: free three times, then 5 credits
    assert api(ME)["me"]["freeMultiviewUsesLeftToday"] == 3
    paid = []
    for element_id in ids:
        with django_capture_on_commit_callbacks(execute=True):
            done = api(COMPLETE, {"input": {"elementId": element_id}})["elementMultiViewComplete"]
        assert done["__typename"] == "MultiViewJobResult", done
        paid.append((done["freeUse"], done["creditsCharged"]))
    assert paid == [(True, 0), (True, 0), (True, 0), (False, 5)]
    me = api(ME)["me"]
    assert (me["freeMultiviewUsesLeftToday"], me["creditBalance"]) == (0, welcome + 2)

    # a video character element from a clip
    with django_capture_on_commit_callbacks(execute=True):
        made = video_element_create(api, videos.astronaut_clip(), 1.0, 7.0, name="Astronaut Live")
    assert made["__typename"] == "ElementResult", made

    library = {e["node"]["name"]: e["node"] for e in api(LIBRARY)["elements"]["edges"]}
    assert len(library) == 5
    for n in range(4):
        origins = [i["origin"] for i in library[f"Astronaut {n + 1}"]["images"]]
        assert origins == ["UPLOAD", "UPLOAD", "MULTIVIEW", "MULTIVIEW"]
    live = library["Astronaut Live"]
    assert (live["type"], live["source"], live["status"]) == ("CHARACTER", "VIDEO", "ACTIVE")
    assert [i["origin"] for i in live["images"]] == ["VIDEO_FRAME"] * 4
    assert live["images"][0]["role"] == "MAIN"
    assert live["voice"]["source"] == "VIDEO" and live["voice"]["consentAt"]
