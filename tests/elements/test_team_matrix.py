"""The role matrix, walked whole: each role of a team, a non-member and a member who was
removed, against every query, mutation, mention and media URL that touches a team library.

Each case starts from the same team library (an element with three images and a bound team
voice, a second team voice, a pending invitation, a second member) and asks one operation
as one actor. `elements.teams.policy.ROLE_ACTIONS` says whether the actor may; the answer must
agree, and a refusal must leave every row and every stored file as it was. A non-member (and
a removed member) is told NOT_FOUND, exactly what an unknown id gets; a member whose role
forbids is told ROLE_FORBIDDEN.

`test_every_mutation_is_in_the_matrix` keeps the walk whole: a new mutation must be put in
the matrix or among the ones that touch no library, with the reason."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from strawberry import relay

from accounts.models import CreditLedgerEntry
from accounts.services import credits_grant
from elements.bundles.export import element_export_start
from elements.models import (
    Element,
    ElementExport,
    ReferenceImage,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
    Voice,
)
from elements.teams.policy import ROLE_ACTIONS, Action
from generation.models import GenerationJob
from tests.conftest import media_files
from tests.factories import (
    ElementFactory,
    GenerationJobFactory,
    ReferenceImageFactory,
    UserFactory,
    VoiceFactory,
    _tiny_mp4,
)
from tests.support.graphql import UploadClient, logged_in_client
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db

HANDLE = "studio-nine"
CONSENT = "I recorded this myself and may use it."
ACTORS = ["owner", "admin", "editor", "viewer", "non_member", "removed"]


def gid(kind: str, pk: int) -> str:
    return str(relay.GlobalID(kind, str(pk)))


@dataclass
class World:
    team: Team
    owner: Any
    actor: Any
    actor_role: str | None  # None: not a member (never, or removed)
    element: Element
    voice: Voice
    spare_voice: Voice
    images: list[ReferenceImage]
    other_member: TeamMembership
    invitation: TeamInvitation
    client: UploadClient
    urls: dict[str, str]  # media URLs handed to the actor while it could see them
    job: GenerationJob  # the owner's: a job is its submitter's alone, team or not
    bundle: bytes = b""  # someone else's bundle, for the import (`PREPARE`)


def build_world(actor_kind: str) -> World:
    owner = UserFactory(username="ana")
    team = Team.objects.create(name="Studio Nine", handle=HANDLE, created_by=owner)
    TeamMembership.objects.create(team=team, user=owner, role=TeamRole.OWNER)
    voice = VoiceFactory(owner=owner, team=team, name="Team voice")
    spare_voice = VoiceFactory(owner=owner, team=team, name="Spare voice")
    element = ElementFactory(owner=owner, team=team, name="Hero", voice=voice, images=0)
    images = [
        ReferenceImageFactory(element=element, position=p, color=(p * 60, 90, 30)) for p in range(3)
    ]
    other = UserFactory(username="cleo")
    other_member = TeamMembership.objects.create(team=team, user=other, role=TeamRole.EDITOR)
    invitee = UserFactory(username="dan")
    invitation = TeamInvitation.objects.create(
        team=team, invitee=invitee, invited_by=owner, role=TeamRole.VIEWER
    )
    UserFactory(username="eve")  # someone to invite
    job = GenerationJobFactory(owner=owner, succeeded=True, prompt="[@Hero] waves.")
    role: str | None
    if actor_kind == "owner":
        actor, role = owner, TeamRole.OWNER
    else:
        actor = UserFactory(username="ben")
        role = actor_kind if actor_kind in ("admin", "editor", "viewer") else None
        if role is not None or actor_kind == "removed":
            membership = TeamMembership.objects.create(
                team=team, user=actor, role=role or TeamRole.EDITOR
            )
    credits_grant(user=actor, amount=500, reason="Matrix test")
    client = logged_in_client(actor)
    urls: dict[str, str] = {}
    if actor_kind == "removed":
        # While a member it was handed the files' URLs; then it was removed.
        urls = media_urls(client, element)
        membership.delete()
    return World(
        team,
        owner,
        actor,
        role,
        element,
        voice,
        spare_voice,
        images,
        other_member,
        invitation,
        client,
        urls,
        job,
    )


def media_urls(client: UploadClient, element: Element) -> dict[str, str]:
    data = client(
        "query ($id: ID!) { element(id: $id) { images { url thumbnailUrl } voice { audioUrl } } }",
        {"id": gid("Element", element.pk)},
    )["element"]
    urls = {"image": data["images"][0]["url"], "thumbnail": data["images"][0]["thumbnailUrl"]}
    if data["voice"] and data["voice"]["audioUrl"]:
        urls["voice"] = data["voice"]["audioUrl"]
    return urls


def state() -> dict[str, Any]:
    """Everything a refused operation must leave as it was."""
    return {
        "elements": sorted(
            Element.objects.values_list(
                "pk", "name", "description", "version", "status", "voice_id", "team_id"
            )
        ),
        "images": sorted(
            ReferenceImage.objects.values_list("pk", "element_id", "position", "role", "image")
        ),
        "voices": sorted(Voice.objects.values_list("pk", "name", "team_id", "status")),
        "teams": sorted(Team.objects.values_list("pk", "name", "handle")),
        "members": sorted(TeamMembership.objects.values_list("pk", "team_id", "user_id", "role")),
        "invitations": sorted(
            TeamInvitation.objects.values_list("pk", "invitee_id", "role", "status")
        ),
        "jobs": GenerationJob.objects.count(),
        "ledger": CreditLedgerEntry.objects.count(),
        "exports": ElementExport.objects.count(),
        "files": media_files(),
    }


# --- The operations ---------------------------------------------------------------------------

# What an operation needs: an action on the team's library (or the team), or OWN_JOB: the job
# is the submitter's (the team's owner here), whatever anyone's role.
OWN_JOB = "own_job"
DENIALS = ("NOT_FOUND", "ROLE_FORBIDDEN", "UNKNOWN_MENTION")
# Operations that reach the element by a mention: one the actor may not use is a name that
# resolves to nothing, exactly like a name no library has.
BY_MENTION = {"generationSubmit"}


@dataclass(frozen=True)
class Outcome:
    refused_with: str | None  # NOT_FOUND / ROLE_FORBIDDEN, or None: the access check passed


def outcome_of(payload: dict) -> Outcome:
    """An answer's access verdict. A payload refused for another reason (a job already
    finished can't be cancelled) passed the access check."""
    if payload.get("__typename") != "OperationInfo":
        return Outcome(None)
    codes = {m["code"] for m in payload["messages"]}
    denied = codes & set(DENIALS)
    assert len(denied) <= 1 and (not denied or codes == denied), payload
    return Outcome(denied.pop() if denied else None)


def mutation(name: str, input_type: str) -> str:
    return f"""
    mutation ($input: {input_type}!) {{
      {name}(input: $input) {{
        __typename
        ... on OperationInfo {{ messages {{ code field }} }}
      }}
    }}"""


def run_mutation(
    w: World, name: str, input_type: str, value: dict, files: dict | None = None
) -> Outcome:
    query = mutation(name, input_type)
    if files:
        data = w.client.upload(query, {"input": value}, files)
    else:
        data = w.client(query, {"input": value})
    return outcome_of(data[name])


def E(w: World) -> str:
    return gid("Element", w.element.pk)


def Img(w: World, n: int) -> str:
    return gid("ReferenceImage", w.images[n].pk)


def _element_create(w: World) -> Outcome:
    value = {
        "name": "Sidekick",
        "type": "PROP",
        "library": HANDLE,
        "mainImage": None,
        "extraImages": [None],
    }
    files = {
        "input.mainImage": image_upload(),
        "input.extraImages.0": image_upload(color=(9, 9, 9)),
    }
    return run_mutation(w, "elementCreate", "ElementCreateInput", value, files)


def _video_element_create(w: World) -> Outcome:
    value = {
        "name": "Clip",
        "video": None,
        "trimStart": 0.0,
        "trimEnd": 4.0,
        "consentStatement": CONSENT,
        "library": HANDLE,
    }
    files = {"input.video": io.BytesIO(_tiny_mp4())}
    files["input.video"].name = "clip.mp4"  # type: ignore[attr-defined]
    return run_mutation(w, "videoElementCreate", "VideoElementCreateInput", value, files)


def _voice_upload(w: World) -> Outcome:
    value = {"name": "New voice", "consentStatement": CONSENT, "file": None, "library": HANDLE}
    return run_mutation(w, "voiceUpload", "VoiceSampleInput", value, {"input.file": audio_upload()})


def _image_add(w: World) -> Outcome:
    value = {"elementId": E(w), "file": None}
    files = {"input.file": image_upload(color=(1, 2, 3))}
    return run_mutation(w, "elementImageAdd", "ElementImageAddInput", value, files)


def _image_replace(w: World) -> Outcome:
    value = {"elementId": E(w), "imageId": Img(w, 1), "file": None}
    files = {"input.file": image_upload(color=(3, 2, 1))}
    return run_mutation(w, "elementImageReplace", "ElementImageReplaceInput", value, files)


def _bundle(w: World) -> None:
    """A bundle of someone else's element, made before the state is taken."""
    zoe = UserFactory(username="zoe")
    ElementFactory(owner=zoe, name="Lantern", type="prop")
    w.bundle = element_export_start(owner=zoe, all_elements=True).file.open("rb").read()


def _import(w: World) -> Outcome:
    value = {"bundle": None, "library": HANDLE, "onConflict": "RENAME"}
    bundle = io.BytesIO(w.bundle)
    bundle.name = "elements.zip"  # type: ignore[attr-defined]
    return run_mutation(w, "elementImport", "ElementImportInput", value, {"input.bundle": bundle})


def _submit(w: World) -> Outcome:
    value = {"model": "VIDEO_3_0_OMNI", "prompt": "[@Hero] waves at the camera.", "duration": 5}
    return run_mutation(w, "generationSubmit", "GenerationSubmitInput", value)


def _describe(w: World) -> Outcome:
    data = w.client(
        "query ($id: ID!) { elementDescribe(elementId: $id) {"
        " __typename ... on OperationInfo { messages { code field } } } }",
        {"id": E(w)},
    )
    return outcome_of(data["elementDescribe"])


def _cancel(w: World) -> Outcome:
    data = w.client(
        "mutation ($id: ID!) { generationCancel(id: $id) {"
        " __typename ... on OperationInfo { messages { code field } } } }",
        {"id": gid("GenerationJob", w.job.pk)},
    )
    return outcome_of(data["generationCancel"])


def _share(w: World) -> Outcome:
    output = w.job.outputs.get()
    data = w.client(
        "mutation ($job: ID!, $output: ID!) { generationShare(jobId: $job, outputId: $output,"
        ' title: "Wave") { __typename ... on OperationInfo { messages { code field } } } }',
        {"job": gid("GenerationJob", w.job.pk), "output": gid("GenerationOutput", output.pk)},
    )
    return outcome_of(data["generationShare"])


def _simple(
    name: str, input_type: str, value: Callable[[World], dict]
) -> Callable[[World], Outcome]:
    return lambda w: run_mutation(w, name, input_type, value(w))


TEAM = lambda w: gid("Team", w.team.pk)  # noqa: E731
OTHER = lambda w: gid("TeamMember", w.other_member.pk)  # noqa: E731

# name -> (what it needs, how to ask it)
MUTATIONS: dict[str, tuple[Action | str, Callable[[World], Outcome]]] = {
    "elementCreate": (Action.EDIT, _element_create),
    "videoElementCreate": (Action.EDIT, _video_element_create),
    "elementUpdate": (
        Action.EDIT,
        _simple("elementUpdate", "ElementUpdateInput", lambda w: {"id": E(w), "description": "x"}),
    ),
    "elementDelete": (
        Action.EDIT,
        _simple("elementDelete", "ElementIdInput", lambda w: {"id": E(w)}),
    ),
    "elementImageAdd": (Action.EDIT, _image_add),
    "elementImageReplace": (Action.EDIT, _image_replace),
    "elementImageRemove": (
        Action.EDIT,
        _simple(
            "elementImageRemove",
            "ElementImageInput",
            lambda w: {"elementId": E(w), "imageId": Img(w, 2)},
        ),
    ),
    "elementImageSetMain": (
        Action.EDIT,
        _simple(
            "elementImageSetMain",
            "ElementImageInput",
            lambda w: {"elementId": E(w), "imageId": Img(w, 1)},
        ),
    ),
    "elementImageReorder": (
        Action.EDIT,
        _simple(
            "elementImageReorder",
            "ElementImageReorderInput",
            lambda w: {"elementId": E(w), "imageIds": [Img(w, 2), Img(w, 1)]},
        ),
    ),
    "elementVoiceBind": (
        Action.EDIT,
        _simple(
            "elementVoiceBind",
            "ElementVoiceBindInput",
            lambda w: {"elementId": E(w), "voiceId": gid("Voice", w.spare_voice.pk)},
        ),
    ),
    "elementVoiceUnbind": (
        Action.EDIT,
        _simple("elementVoiceUnbind", "ElementIdInput", lambda w: {"id": E(w)}),
    ),
    "elementMultiViewComplete": (
        Action.EDIT,
        _simple(
            "elementMultiViewComplete",
            "ElementMultiViewCompleteInput",
            lambda w: {"elementId": gid("Element", w.element.pk)},
        ),
    ),
    "elementDescribe (query)": (Action.EDIT, _describe),
    "voiceUpload": (Action.EDIT, _voice_upload),
    "voiceDelete": (
        Action.EDIT,
        _simple("voiceDelete", "VoiceIdInput", lambda w: {"id": gid("Voice", w.spare_voice.pk)}),
    ),
    "elementExport": (
        Action.EXPORT,
        _simple("elementExport", "ElementExportInput", lambda w: {"library": HANDLE, "all": True}),
    ),
    "elementImport": (Action.EDIT, _import),
    "generationSubmit": (Action.USE, _submit),
    "generationCancel": (OWN_JOB, _cancel),
    "generationShare": (OWN_JOB, _share),
    "teamInvite": (
        Action.MANAGE_MEMBERS,
        _simple(
            "teamInvite",
            "TeamInviteInput",
            lambda w: {"team": TEAM(w), "username": "eve", "role": "VIEWER"},
        ),
    ),
    "teamInvitationCancel": (
        Action.MANAGE_MEMBERS,
        _simple(
            "teamInvitationCancel",
            "TeamInvitationIdInput",
            lambda w: {"invitation": gid("TeamInvitation", w.invitation.pk)},
        ),
    ),
    "teamMemberRemove": (
        Action.MANAGE_MEMBERS,
        _simple("teamMemberRemove", "TeamMemberIdInput", lambda w: {"member": OTHER(w)}),
    ),
    "teamMemberRoleChange": (
        Action.CHANGE_ROLES,
        _simple(
            "teamMemberRoleChange",
            "TeamMemberRoleChangeInput",
            lambda w: {"member": OTHER(w), "role": "VIEWER"},
        ),
    ),
    "teamOwnershipTransfer": (
        Action.MANAGE_OWNERS,
        _simple(
            "teamOwnershipTransfer",
            "TeamOwnershipTransferInput",
            lambda w: {"team": TEAM(w), "member": OTHER(w)},
        ),
    ),
    "teamUpdate": (
        Action.DELETE_TEAM,
        _simple("teamUpdate", "TeamUpdateInput", lambda w: {"team": TEAM(w), "name": "Nine"}),
    ),
    "teamDelete": (
        Action.DELETE_TEAM,
        _simple("teamDelete", "TeamIdInput", lambda w: {"team": TEAM(w)}),
    ),
}

# Mutations that touch no team library, and where their access is tested.
NOT_IN_THE_MATRIX = {
    "accountRegister": "no object of anyone's (tests/accounts)",
    "login": "no object of anyone's (tests/accounts)",
    "logout": "no object of anyone's (tests/accounts)",
    "apiTokenCreate": "the viewer's own tokens (tests/accounts)",
    "apiTokenRevoke": "the viewer's own tokens (tests/accounts)",
    "likenessChallengeStart": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessClaim": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessDelete": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessAllowEveryone": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessAllowUser": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessDecline": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "likenessGrantWithdraw": "the viewer's own likeness (tests/elements/test_likeness.py)",
    "exploreUnshare": "a shared work is its author's (tests/generation explore tests)",
    "exploreRecreate": "a public snapshot, not a library (tests/generation explore tests)",
    "exploreReport": "a public snapshot, not a library (tests/generation explore tests)",
    "webhookEndpointCreate": "the viewer's own endpoints (tests/generation webhooks)",
    "webhookEndpointDelete": "the viewer's own endpoints (tests/generation webhooks)",
    "teamCreate": "makes a new team (tests/elements/test_teams.py)",
    "teamInvitationAccept": "the invitee's own (tests/elements/test_teams_graphql.py)",
    "teamInvitationDecline": "the invitee's own (tests/elements/test_teams_graphql.py)",
    "teamLeave": "one's own membership (tests/elements/test_teams.py)",
}


# What an operation needs in place before the state it must not change is taken.
PREPARE: dict[str, Callable[[World], None]] = {"elementImport": _bundle}


def expected(w: World, operation: str, needs: Action | str) -> Outcome:
    if needs == OWN_JOB:
        return Outcome(None if w.actor == w.owner else "NOT_FOUND")
    if w.actor_role is None:
        return Outcome("UNKNOWN_MENTION" if operation in BY_MENTION else "NOT_FOUND")
    assert isinstance(needs, Action)
    return Outcome(None if needs in ROLE_ACTIONS[w.actor_role] else "ROLE_FORBIDDEN")


@pytest.mark.parametrize("actor_kind", ACTORS)
@pytest.mark.parametrize("operation", sorted(MUTATIONS))
def test_mutation(actor_kind: str, operation: str) -> None:
    # given
    w = build_world(actor_kind)
    needs, ask = MUTATIONS[operation]
    want = expected(w, operation, needs)
    if operation in PREPARE:
        PREPARE[operation](w)
    before = state()
    # when
    got = ask(w)
    # then
    assert got == want, (actor_kind, operation)
    if got.refused_with is not None:
        assert state() == before, (actor_kind, operation)


def test_every_mutation_is_in_the_matrix() -> None:
    from elementsite.schema import schema

    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    walked = {name.split(" ")[0] for name in MUTATIONS}
    assert walked.isdisjoint(NOT_IN_THE_MATRIX)
    assert mutations == (walked - {"elementDescribe"}) | set(NOT_IN_THE_MATRIX)


# --- Reads, mentions and files ------------------------------------------------------------------


def post(w: World, query: str, variables: dict | None = None) -> dict:
    response = w.client.post(query, variables or {})
    assert response.status_code == 200
    return response.json()


def error_code(body: dict) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@pytest.mark.parametrize("actor_kind", ACTORS)
def test_reads_mentions_and_files(actor_kind: str) -> None:
    # given
    w = build_world(actor_kind)
    member = w.actor_role is not None
    actions = ROLE_ACTIONS[w.actor_role] if w.actor_role is not None else frozenset()
    before = state()
    element_id, voice_id = E(w), gid("Voice", w.voice.pk)

    # by id, through both entry points
    element = post(w, "query ($id: ID!) { element(id: $id) { name } }", {"id": element_id})
    node = post(w, "query ($id: ID!) { node(id: $id) { id } }", {"id": element_id})
    voice = post(w, "query ($id: ID!) { node(id: $id) { id } }", {"id": voice_id})
    assert (element["data"]["element"] is not None) is member
    assert (node["data"]["node"] is not None) is member
    assert (voice["data"]["node"] is not None) is member

    # listings: a stranger learns nothing, not even that the library exists
    for field in ("elements", "voices"):
        body = post(w, f'{{ {field}(library: "{HANDLE}") {{ edges {{ node {{ name }} }} }} }}')
        if member:
            names = {e["node"]["name"] for e in body["data"][field]["edges"]}
            assert ("Hero" in names) if field == "elements" else ("Team voice" in names)
        else:
            assert error_code(body) == "NOT_FOUND"
    libraries = post(w, "{ libraries { qualifier } }")["data"]["libraries"]
    assert (HANDLE in {lib["qualifier"] for lib in libraries}) is member
    team = post(w, "query ($h: String!) { team(handle: $h) { name } }", {"h": HANDLE})
    assert (team["data"]["team"] is not None) is member
    # the team's pending invitations: only who may manage members sees them
    if member:
        invitations = post(w, f'{{ team(handle: "{HANDLE}") {{ invitations {{ id }} }} }}')
        shown = invitations["data"]["team"]["invitations"]
        assert bool(shown) is (Action.MANAGE_MEMBERS in actions)

    # mentions: the picker, the preview and the compiler agree
    picker = post(w, '{ mentionSuggestions(query: "He") { name } }')["data"]
    assert ("Hero" in {s["name"] for s in picker["mentionSuggestions"]}) is member
    preview = post(
        w,
        "query ($input: GenerationPreviewInput!) { generationPromptPreview(input: $input) {"
        " issues { code } } }",
        {"input": {"model": "VIDEO_3_0_OMNI", "prompt": "[@Hero] waves.", "duration": 5}},
    )["data"]["generationPromptPreview"]
    codes = {i["code"] for i in preview["issues"]}
    assert ("UNKNOWN_MENTION" in codes) is not member
    qualified = post(
        w,
        "query ($input: GenerationPreviewInput!) { generationPromptPreview(input: $input) {"
        " issues { code } } }",
        {"input": {"model": "VIDEO_3_0_OMNI", "prompt": f"[@Hero@{HANDLE}] waves.", "duration": 5}},
    )["data"]["generationPromptPreview"]
    assert ("UNKNOWN_MENTION" in {i["code"] for i in qualified["issues"]}) is not member

    # files: members read the images; the voice file only with DOWNLOAD_VOICE
    if member:
        urls = media_urls(w.client, w.element)
        assert ("voice" in urls) is (Action.DOWNLOAD_VOICE in actions)
        for url in urls.values():
            assert w.client.client.get(url).status_code == 200, url
    else:
        # links issued while a member (removed), or the owner's own: refused all the same
        owner_urls = media_urls(logged_in_client(w.owner), w.element)
        for url in [*w.urls.values(), *owner_urls.values()]:
            assert w.client.client.get(url).status_code == 404, url
    assert state() == before
