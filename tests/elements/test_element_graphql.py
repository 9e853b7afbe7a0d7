"""The element library through GraphQL alone, uploads as multipart requests."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from strawberry import relay

from elements import services
from elements.models import Element, ReferenceImage, Voice
from tests.conftest import media_files
from tests.factories import TEST_PASSWORD, ElementFactory, UserFactory, VoiceFactory, tier
from tests.support.graphql import UploadClient
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db

CONSENT = "I recorded this myself and may use it."

ELEMENT_FIELDS = """
  id name type description status version voiceNotice
  voice { id name source durationMs audioUrl }
  images { id role position width height url thumbnailUrl }
"""

CREATE = """
mutation ($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename
    ... on ElementWithWarningsResult { element { FIELDS } voiceWarnings { code message } }
    ... on OperationInfo { messages { kind field code message } }
  }
}""".replace("FIELDS", ELEMENT_FIELDS)


@pytest.fixture
def api(user) -> UploadClient:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return UploadClient(client)


def create(api: UploadClient, *, extras: int = 2, voice: dict | None = None, **fields) -> dict:
    variables = {
        "input": {
            "name": fields.get("name", "Little Scholar"),
            "type": fields.get("type", "CHARACTER"),
            "description": fields.get("description", ""),
            "mainImage": None,
            "extraImages": [None] * extras,
            **({"voice": voice} if voice is not None else {}),
        }
    }
    files: dict[str, Any] = {"input.mainImage": fields.get("main", image_upload())}
    for i in range(extras):
        files[f"input.extraImages.{i}"] = image_upload(color=(i * 40, 90, 10))
    if voice and "sample" in voice:
        files["input.voice.sample.file"] = fields.get("voice_file", audio_upload())
    return api.upload(CREATE, variables, files)["elementCreate"]


def codes(payload: dict) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def snapshot() -> tuple:
    return (
        Element.objects.count(),
        ReferenceImage.objects.count(),
        Voice.objects.count(),
        frozenset(media_files()),
    )


def test_create_a_voiced_character_with_three_images(api, user):
    voice = {"sample": {"file": None, "name": "Scholar", "consentStatement": CONSENT}}

    payload = create(api, voice=voice, description="Blue robe, round glasses")

    element = payload["element"]
    assert element["name"] == "Little Scholar"
    assert element["type"] == "CHARACTER"
    assert [i["role"] for i in element["images"]] == ["MAIN", "EXTRA", "EXTRA"]
    assert element["voice"]["source"] == "UPLOAD"
    assert payload["voiceWarnings"] == []
    # The signed URLs serve the owner the files.
    response = api.client.get(element["images"][0]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert api.client.get(element["voice"]["audioUrl"]).status_code == 200
    # …and nobody else.
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(element["images"][0]["url"]).status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"extras": 0}, "TOO_FEW_IMAGES"),
        ({"extras": 4}, "TOO_MANY_IMAGES"),
        ({"name": "Bad]Name"}, "NAME_INVALID_CHARACTERS"),
        ({"main": image_upload(width=1, height=1)}, "IMAGE_TOO_SMALL"),
        (
            {
                "type": "PROP",
                "voice": {"sample": {"file": None, "name": "v", "consentStatement": CONSENT}},
            },
            "VOICE_NOT_ALLOWED",
        ),
        (
            {
                "voice": {"sample": {"file": None, "name": "v", "consentStatement": CONSENT}},
                "voice_file": audio_upload(seconds=2),
            },
            "AUDIO_TOO_SHORT",
        ),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing(api, kwargs, code):
    before = snapshot()
    payload = create(api, **kwargs)
    assert code in codes(payload)
    assert snapshot() == before


def test_name_taken_in_another_case(api):
    create(api, name="Banana Cat", type="ANIMAL")
    before = snapshot()
    assert codes(create(api, name="BANANA CAT", type="ANIMAL")) == ["NAME_TAKEN"]
    assert snapshot() == before


def test_list_search_and_filter(api, user):
    create(api, name="Banana Cat", type="ANIMAL", description="yellow cat")
    create(api, name="Korean Girl", description="red scarf")
    create(api, name="Tokyo Street", type="SCENE")
    services.element_create(
        owner=UserFactory(),
        name="Banana Dog",
        element_type="animal",
        main_image=image_upload(),
        extra_images=[image_upload()],
    )
    query = """
    query ($type: ElementType, $search: String, $order: ElementOrder) {
      elements(type: $type, search: $search, order: $order) {
        totalCount edges { node { name } }
      }
    }"""

    def names(**variables) -> list[str]:
        data = api(query, variables)["elements"]
        return [e["node"]["name"] for e in data["edges"]]

    assert names(order="NAME_ASC") == ["Banana Cat", "Korean Girl", "Tokyo Street"]
    assert names(type="SCENE") == ["Tokyo Street"]
    assert names(search="scarf") == ["Korean Girl"]
    assert names(search="banana") == ["Banana Cat"]


def test_mention_suggestions_prefix_then_fuzzy_own_usable_only(api, user):
    for name in ("Banana Cat", "Little Scholar", "Big Banana"):
        create(api, name=name, type="OTHER")
    blocked = Element.objects.get(name="Little Scholar")
    services.element_block(staff=UserFactory(is_staff=True), element=blocked, reason="x")
    query = "query ($q: String!) { mentionSuggestions(query: $q) { name match mention } }"

    assert api(query, {"q": "ban"})["mentionSuggestions"] == [
        {"name": "Banana Cat", "match": "prefix", "mention": "[@Banana Cat]"},
        {"name": "Big Banana", "match": "contains", "mention": "[@Big Banana]"},
    ]
    assert [s["name"] for s in api(query, {"q": "Bnana Cat"})["mentionSuggestions"]] == [
        "Banana Cat"
    ]
    assert api(query, {"q": "little"})["mentionSuggestions"] == []


def test_edit_image_ops_and_voice_binding(api, user):
    element = create(api)["element"]
    element_id = element["id"]
    update = """
    mutation ($input: ElementUpdateInput!) {
      elementUpdate(input: $input) {
        __typename ... on ElementResult { element { name version } }
        ... on OperationInfo { messages { code } }
      }
    }"""
    data = api(update, {"input": {"id": element_id, "name": "Scholar"}})["elementUpdate"]
    assert data["element"] == {"name": "Scholar", "version": 2}

    add = """
    mutation ($input: ElementImageAddInput!) {
      elementImageAdd(input: $input) {
        __typename ... on ElementImageResult { image { id role position } element { version } }
        ... on OperationInfo { messages { code } }
      }
    }"""
    added = api.upload(
        add, {"input": {"elementId": element_id, "file": None}}, {"input.file": image_upload()}
    )["elementImageAdd"]
    assert added["image"]["position"] == 3

    set_main = """
    mutation ($input: ElementImageInput!) {
      elementImageSetMain(input: $input) {
        __typename ... on ElementResult { element { images { id role } } }
      }
    }"""
    images = api(set_main, {"input": {"elementId": element_id, "imageId": added["image"]["id"]}})
    assert images["elementImageSetMain"]["element"]["images"][0] == {
        "id": added["image"]["id"],
        "role": "MAIN",
    }

    upload_voice = """
    mutation ($input: VoiceSampleInput!) {
      voiceUpload(input: $input) {
        __typename ... on VoiceUploadResult { voice { id } warnings { code } }
      }
    }"""
    voice = api.upload(
        upload_voice,
        {"input": {"file": None, "name": "Calm", "consentStatement": CONSENT}},
        {"input.file": audio_upload()},
    )["voiceUpload"]["voice"]
    bind = """
    mutation ($input: ElementVoiceBindInput!) {
      elementVoiceBind(input: $input) {
        __typename ... on ElementWithWarningsResult { element { voice { id } } }
        ... on OperationInfo { messages { code } }
      }
    }"""
    bound = api(bind, {"input": {"elementId": element_id, "voiceId": voice["id"]}})
    assert bound["elementVoiceBind"]["element"]["voice"]["id"] == voice["id"]
    unbind = """
    mutation ($id: ID!) {
      elementVoiceUnbind(input: {id: $id}) {
        __typename ... on ElementResult { element { voice { id } } }
      }
    }"""
    assert api(unbind, {"id": element_id})["elementVoiceUnbind"]["element"]["voice"] is None


def test_another_users_ids_are_not_found_in_every_mutation(api, user):
    other = UserFactory()
    theirs = services.element_create(
        owner=other,
        name="Theirs",
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload()],
    ).element
    their_voice = services.voice_upload(
        owner=other,
        upload=services.VoiceUpload(file=audio_upload(), name="v", consent_statement=CONSENT),
    ).voice
    mine = create(api)["element"]
    element_gid = str(relay.GlobalID("Element", str(theirs.pk)))
    their_image = theirs.images.get(role="main")
    image_gid = str(relay.GlobalID("ReferenceImage", str(their_image.pk)))
    voice_gid = str(relay.GlobalID("Voice", str(their_voice.pk)))
    operations = [
        ("elementUpdate", "ElementUpdateInput", {"id": element_gid, "name": "x"}),
        ("elementDelete", "ElementIdInput", {"id": element_gid}),
        (
            "elementImageRemove",
            "ElementImageInput",
            {"elementId": element_gid, "imageId": image_gid},
        ),
        (
            "elementImageSetMain",
            "ElementImageInput",
            {"elementId": element_gid, "imageId": image_gid},
        ),
        (
            "elementImageReorder",
            "ElementImageReorderInput",
            {"elementId": element_gid, "imageIds": [image_gid]},
        ),
        (
            "elementVoiceBind",
            "ElementVoiceBindInput",
            {"elementId": mine["id"], "voiceId": voice_gid},
        ),
        ("elementVoiceUnbind", "ElementIdInput", {"id": element_gid}),
        ("voiceDelete", "VoiceIdInput", {"id": voice_gid}),
    ]
    before = snapshot()
    for name, input_type, value in operations:
        query = f"""
        mutation ($input: {input_type}!) {{
          {name}(input: $input) {{ __typename ... on OperationInfo {{ messages {{ code }} }} }}
        }}"""
        payload = api(query, {"input": value})[name]
        assert codes(payload) == ["NOT_FOUND"], name
    assert snapshot() == before
    theirs.refresh_from_db()
    assert (theirs.name, theirs.version) == ("Theirs", 1)
    # Reads can't reach it either.
    node = api("query ($id: ID!) { node(id: $id) { id } }", {"id": element_gid})["node"]
    assert node is None
    assert (
        api("query ($id: ID!) { element(id: $id) { id } }", {"id": element_gid})["element"] is None
    )


def test_me_reports_the_quota_and_why(api, user):
    non_member = tier("non_member")
    non_member.element_limit = 1
    non_member.save()
    create(api)
    me = api(
        "{ me { elementCount elementLimit canCreateElements canEditElements elementQuotaReason } }"
    )["me"]
    assert me["elementCount"] == me["elementLimit"] == 1
    assert me["canCreateElements"] is False
    assert me["canEditElements"] is True
    assert "full" in me["elementQuotaReason"]
    assert codes(create(api, name="Second")) == ["ELEMENT_LIMIT_REACHED"]


def test_voices_lists_presets_and_mine_only(api, user):
    VoiceFactory(preset=True, name="Preset")
    services.voice_upload(
        owner=user,
        upload=services.VoiceUpload(file=audio_upload(), name="Mine", consent_statement=CONSENT),
    )
    services.voice_upload(
        owner=UserFactory(),
        upload=services.VoiceUpload(file=audio_upload(), name="Theirs", consent_statement=CONSENT),
    )
    data = api("{ voices { edges { node { name isPreset } } } }")["voices"]
    assert sorted((e["node"]["name"], e["node"]["isPreset"]) for e in data["edges"]) == [
        ("Mine", False),
        ("Preset", True),
    ]


def test_listing_takes_the_same_queries_for_10_and_150_elements(
    api, user, django_assert_num_queries, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.ELEMENT_IMAGE_MIN_SIDE = 1
    non_member = tier("non_member")
    non_member.element_limit = 500
    non_member.save()
    query = """{ elements(first: 100) { edges { node {
        name voice { name audioUrl } images { url thumbnailUrl width }
    } } } }"""
    voice = VoiceFactory(preset=True, name="Preset")

    def add(n: int) -> None:
        for i in range(n):
            ElementFactory(
                owner=user,
                name=f"e{Element.objects.count()}-{i}",
                voice=voice,
                images__width=10,
                images__height=10,
            )

    api.csrf_token()
    add(10)
    with CaptureQueriesContext(connection) as ten:
        api(query)
    add(140)
    with CaptureQueriesContext(connection) as many:
        data = api(query)
    assert len(data["elements"]["edges"]) == 100
    assert len(ten) == len(many) <= 7, [q["sql"][:150] for q in many.captured_queries]
