"""Team libraries through GraphQL: the `libraries` query, `library` arguments, what each role
sees (viewerCan, voice URLs), media links that stop working when a member is removed, and
ids of another team's library answered NOT_FOUND in every mutation."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from elements import services
from elements.models import Element, ReferenceImage, Voice
from elements.teams.models import Team, TeamMembership, TeamRole
from elements.teams.policy import Library
from tests.conftest import media_files
from tests.factories import (
    TEST_PASSWORD,
    ElementFactory,
    MembershipFactory,
    UserFactory,
    VoiceFactory,
    tier,
)
from tests.support.elements import CONSENT
from tests.support.graphql import UploadClient
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db


def client_for(user) -> UploadClient:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return UploadClient(client)


@pytest.fixture
def studio():
    team = Team.objects.create(name="Studio Nine", handle="studio-nine")
    people = {name: UserFactory(username=name) for name in ("olive", "ed", "vi", "sam")}
    TeamMembership.objects.create(team=team, user=people["olive"], role=TeamRole.OWNER)
    TeamMembership.objects.create(team=team, user=people["ed"], role=TeamRole.EDITOR)
    TeamMembership.objects.create(team=team, user=people["vi"], role=TeamRole.VIEWER)
    return team, people


def team_element(team, user, name="Hero", voice=True) -> Element:
    return services.element_create(
        owner=user,
        name=name,
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 2, 3))],
        voice_upload=(
            services.VoiceUpload(file=audio_upload(), name="Hero voice", consent_statement=CONSENT)
            if voice
            else None
        ),
        library=Library(team=team),
    ).element


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def snapshot() -> tuple:
    return (
        Element.objects.count(),
        ReferenceImage.objects.count(),
        Voice.objects.count(),
        frozenset(media_files()),
    )


LIST = """query ($library: String) { elements(library: $library) { edges { node {
  name libraryQualifier libraryName qualifiedMention
  viewerCan { edit delete downloadVoice use }
  voice { name libraryQualifier audioUrl }
  images { url thumbnailUrl }
} } } }"""


def test_libraries_lists_mine_then_my_teams_with_role_counts_and_rights(studio):
    team, p = studio
    MembershipFactory(user=p["olive"], tier=tier("pro"))
    team_element(team, p["ed"], voice=False)

    data = client_for(p["vi"])(
        """{ libraries { qualifier name kind teamId role elementCount elementLimit
             viewerCan { view use edit downloadVoice export } } }"""
    )["libraries"]

    assert data[0]["qualifier"] == "me" and data[0]["kind"] == "PERSONAL"
    assert data[0]["role"] == "OWNER" and data[0]["teamId"] is None
    assert data[0]["viewerCan"] == {
        "view": True,
        "use": True,
        "edit": True,
        "downloadVoice": True,
        "export": True,
    }
    assert data[1] == {
        "qualifier": "studio-nine",
        "name": "Studio Nine",
        "kind": "TEAM",
        "teamId": gid("Team", team.pk),
        "role": "VIEWER",
        "elementCount": 1,
        "elementLimit": tier("pro").element_limit,
        "viewerCan": {
            "view": True,
            "use": True,
            "edit": False,
            "downloadVoice": False,
            "export": True,
        },
    }
    assert client_for(p["sam"])("{ libraries { qualifier } }")["libraries"] == [{"qualifier": "me"}]


def test_each_role_sees_the_team_library_with_its_rights(studio):
    team, p = studio
    team_element(team, p["ed"])

    as_viewer = client_for(p["vi"])(LIST, {"library": "studio-nine"})["elements"]["edges"]
    (node,) = [e["node"] for e in as_viewer]
    assert node["libraryQualifier"] == "studio-nine"
    assert node["libraryName"] == "Studio Nine"
    assert node["qualifiedMention"] == "[@Hero@studio-nine]"
    assert node["viewerCan"] == {
        "edit": False,
        "delete": False,
        "downloadVoice": False,
        "use": True,
    }
    assert node["voice"]["libraryQualifier"] == "studio-nine"
    assert node["voice"]["audioUrl"] is None  # a viewer may not download voices
    assert all(i["url"] and i["thumbnailUrl"] for i in node["images"])

    (editor,) = [
        e["node"]
        for e in client_for(p["ed"])(LIST, {"library": "studio-nine"})["elements"]["edges"]
    ]
    assert editor["viewerCan"] == {"edit": True, "delete": True, "downloadVoice": True, "use": True}
    assert editor["voice"]["audioUrl"]
    # Their own library holds none of it.
    assert client_for(p["ed"])(LIST, {"library": "me"})["elements"]["edges"] == []
    mine = client_for(p["ed"])
    own = services.element_create(
        owner=p["ed"],
        name="Own",
        element_type="prop",
        main_image=image_upload(),
        extra_images=[image_upload()],
    ).element
    (node,) = [e["node"] for e in mine(LIST)["elements"]["edges"]]
    assert (node["name"], node["qualifiedMention"], node["libraryQualifier"]) == (
        own.name,
        "[@Own@me]",
        "me",
    )


def test_a_stranger_is_told_not_found_for_the_library_and_every_id(studio):
    team, p = studio
    element = team_element(team, p["ed"])
    api = client_for(p["sam"])
    for query in (
        LIST,
        "query ($library: String) { voices(library: $library) { edges { node { id } } } }",
    ):
        body = api.post(query, {"library": "studio-nine"}).json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
    # Unknown and foreign handles answer alike.
    unknown = api.post(LIST, {"library": "no-such-team"}).json()
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for type_name, pk in (
        ("Element", element.pk),
        ("Voice", element.voice_id),
        ("ReferenceImage", element.images.get(role="main").pk),
    ):
        node = api("query ($id: ID!) { node(id: $id) { id } }", {"id": gid(type_name, pk)})
        assert node["node"] is None


MUTATION = """mutation ($input: TYPE!) { NAME(input: $input) {
  __typename ... on OperationInfo { messages { field code } } } }"""


def run(api: UploadClient, name: str, input_type: str, value: dict) -> list[str]:
    query = MUTATION.replace("TYPE", input_type).replace("NAME", name)
    payload = api(query, {"input": value})[name]
    assert payload["__typename"] == "OperationInfo", (name, payload)
    return [m["code"] for m in payload["messages"]]


def _operations(element: Element, voice_gid: str, own_element_gid: str) -> list[tuple]:
    element_gid = gid("Element", element.pk)
    image_gid = gid("ReferenceImage", element.images.get(role="extra").pk)
    return [
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
            {"elementId": own_element_gid, "voiceId": voice_gid},
        ),
        ("elementVoiceUnbind", "ElementIdInput", {"id": element_gid}),
        ("voiceDelete", "VoiceIdInput", {"id": voice_gid}),
        ("elementDescribe", "ElementIdInput", {"id": element_gid}),
        ("elementExport", "ElementExportInput", {"ids": [element_gid]}),
    ]


def test_a_member_of_team_a_using_team_b_ids_gets_not_found_in_every_mutation(studio):
    team, p = studio
    other = Team.objects.create(name="Other", handle="other-team")
    bea = UserFactory(username="bea")
    TeamMembership.objects.create(team=other, user=bea, role=TeamRole.OWNER)
    element = team_element(team, p["ed"])
    beas = team_element(other, bea, name="Bea's", voice=False)
    api = client_for(bea)
    before = snapshot()
    for name, input_type, value in _operations(
        element, gid("Voice", element.voice_id), gid("Element", beas.pk)
    ):
        if name == "elementDescribe":
            continue  # not an input-object mutation; covered by the services' test
        assert run(api, name, input_type, value) == ["NOT_FOUND"], name
    assert snapshot() == before
    element.refresh_from_db()
    assert element.version == 1


def test_a_viewer_is_refused_with_role_forbidden_and_nothing_changes(studio):
    team, p = studio
    element = team_element(team, p["ed"])
    api = client_for(p["vi"])
    before = snapshot()
    element_gid = gid("Element", element.pk)
    image_gid = gid("ReferenceImage", element.images.get(role="extra").pk)
    for name, input_type, value in [
        ("elementUpdate", "ElementUpdateInput", {"id": element_gid, "name": "x"}),
        ("elementDelete", "ElementIdInput", {"id": element_gid}),
        (
            "elementImageSetMain",
            "ElementImageInput",
            {"elementId": element_gid, "imageId": image_gid},
        ),
        ("elementVoiceUnbind", "ElementIdInput", {"id": element_gid}),
        ("voiceDelete", "VoiceIdInput", {"id": gid("Voice", element.voice_id)}),
    ]:
        assert run(api, name, input_type, value) == ["ROLE_FORBIDDEN"], name
    # Creating and uploading into the team's library.
    create = api.upload(
        MUTATION.replace("TYPE", "ElementCreateInput").replace("NAME", "elementCreate"),
        {
            "input": {
                "name": "Nope",
                "type": "PROP",
                "mainImage": None,
                "extraImages": [None],
                "library": "studio-nine",
            }
        },
        {"input.mainImage": image_upload(), "input.extraImages.0": image_upload()},
    )["elementCreate"]
    assert [(m["field"], m["code"]) for m in create["messages"]] == [("library", "ROLE_FORBIDDEN")]
    upload = api.upload(
        MUTATION.replace("TYPE", "VoiceSampleInput").replace("NAME", "voiceUpload"),
        {
            "input": {
                "file": None,
                "name": "v",
                "consentStatement": CONSENT,
                "library": "studio-nine",
            }
        },
        {"input.file": audio_upload()},
    )["voiceUpload"]
    assert [m["code"] for m in upload["messages"]] == ["ROLE_FORBIDDEN"]
    assert snapshot() == before
    element.refresh_from_db()
    assert (element.name, element.version) == ("Hero", 1)
    # A handle the viewer is not in: NOT_FOUND on `library`.
    unknown = api.upload(
        MUTATION.replace("TYPE", "VoiceSampleInput").replace("NAME", "voiceUpload"),
        {"input": {"file": None, "name": "v", "consentStatement": CONSENT, "library": "nope"}},
        {"input.file": audio_upload()},
    )["voiceUpload"]
    assert [(m["field"], m["code"]) for m in unknown["messages"]] == [("library", "NOT_FOUND")]


def test_an_editor_creates_through_graphql_in_the_team_library(studio):
    team, p = studio
    api = client_for(p["ed"])
    payload = api.upload(
        """mutation ($input: ElementCreateInput!) { elementCreate(input: $input) {
          __typename ... on ElementWithWarningsResult { element { name qualifiedMention } }
          ... on OperationInfo { messages { field code } } } }""",
        {
            "input": {
                "name": "Made",
                "type": "PROP",
                "mainImage": None,
                "extraImages": [None],
                "library": "studio-nine",
            }
        },
        {"input.mainImage": image_upload(), "input.extraImages.0": image_upload()},
    )["elementCreate"]
    assert payload["element"] == {"name": "Made", "qualifiedMention": "[@Made@studio-nine]"}
    made = Element.objects.get(name="Made")
    assert (made.team_id, made.owner_id) == (team.pk, p["ed"].pk)


def test_a_removed_member_loses_access_at_once_even_to_an_issued_media_url(studio):
    team, p = studio
    team_element(team, p["ed"])
    api = client_for(p["ed"])
    (node,) = [e["node"] for e in api(LIST, {"library": "studio-nine"})["elements"]["edges"]]
    image_url, voice_url = node["images"][0]["url"], node["voice"]["audioUrl"]
    assert api.client.get(image_url).status_code == 200
    assert api.client.get(voice_url).status_code == 200
    # Another user can't use Ed's links.
    assert client_for(p["vi"]).client.get(image_url).status_code == 404

    TeamMembership.objects.filter(team=team, user=p["ed"]).delete()

    assert api.client.get(image_url).status_code == 404
    assert api.client.get(voice_url).status_code == 404
    body = api.post(LIST, {"library": "studio-nine"}).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_an_editor_demoted_to_viewer_can_no_longer_fetch_the_voice(studio):
    team, p = studio
    team_element(team, p["ed"])
    api = client_for(p["ed"])
    (node,) = [e["node"] for e in api(LIST, {"library": "studio-nine"})["elements"]["edges"]]
    voice_url = node["voice"]["audioUrl"]
    TeamMembership.objects.filter(team=team, user=p["ed"]).update(role=TeamRole.VIEWER)
    assert api.client.get(voice_url).status_code == 404
    assert api.client.get(node["images"][0]["url"]).status_code == 200


def test_listing_a_team_library_takes_the_same_queries_for_10_and_60_elements(studio, settings):
    team, p = studio
    settings.ELEMENT_IMAGE_MIN_SIDE = 1
    MembershipFactory(user=p["olive"], tier=tier("ultra"))
    api = client_for(p["vi"])
    query = """{ elements(library: "studio-nine", first: 100) { edges { node {
        name libraryQualifier libraryName qualifiedMention
        viewerCan { edit delete downloadVoice use }
        voice { name audioUrl libraryQualifier } images { url thumbnailUrl }
    } } } }"""
    voice = VoiceFactory(owner=p["ed"], team=team, name="Team voice")

    def add(n: int) -> None:
        for i in range(n):
            ElementFactory(
                owner=p["ed"],
                team=team,
                name=f"e{Element.objects.count()}-{i}",
                voice=voice,
                images__width=10,
                images__height=10,
            )

    api.csrf_token()
    add(10)
    with CaptureQueriesContext(connection) as ten:
        api(query)
    add(50)
    with CaptureQueriesContext(connection) as many:
        data: Any = api(query)
    assert len(data["elements"]["edges"]) == 60
    assert len(ten) == len(many) <= 9, [q["sql"][:150] for q in many.captured_queries]
