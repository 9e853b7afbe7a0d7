"""Teams through GraphQL alone: the queries, each mutation's answer and refusal codes, and the
number of queries the team list takes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from elements.teams import services
from elements.teams.models import InvitationStatus, Team, TeamInvitation, TeamMembership
from tests.factories import UserFactory
from tests.support.graphql import GraphQLClient, logged_in_client

pytestmark = pytest.mark.django_db

TEAM_FIELDS = """
  id name handle createdAt viewerRole
  members { id username role joinedAt isViewer }
  invitations { id teamName teamHandle invitedBy invitee role status createdAt }
  viewerCan { manageMembers changeRoles manageOwners deleteTeam edit leave }
"""

TEAMS = "{ teams { FIELDS } }".replace("FIELDS", TEAM_FIELDS)
TEAM = "query ($h: String!) { team(handle: $h) { FIELDS } }".replace("FIELDS", TEAM_FIELDS)
MY_INVITATIONS = "{ myInvitations { id teamName teamHandle invitedBy role status } }"


def mutation(name: str, input_type: str, result: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{
    __typename
    {result}
    ... on OperationInfo {{ messages {{ kind field code message }} }}
  }}
}}"""


TEAM_RESULT = "... on TeamResult { team { FIELDS } }".replace("FIELDS", TEAM_FIELDS)
INVITATION_RESULT = (
    "... on TeamInvitationResult { invitation { id role status teamHandle invitedBy invitee } }"
)
MEMBER_RESULT = "... on TeamMemberResult { member { id username role isViewer } }"
DELETE_RESULT = "... on DeleteResult { deletedId }"

CREATE = mutation("teamCreate", "TeamCreateInput", TEAM_RESULT)
UPDATE = mutation("teamUpdate", "TeamUpdateInput", TEAM_RESULT)
DELETE = mutation("teamDelete", "TeamIdInput", DELETE_RESULT)
INVITE = mutation("teamInvite", "TeamInviteInput", INVITATION_RESULT)
CANCEL = mutation("teamInvitationCancel", "TeamInvitationIdInput", INVITATION_RESULT)
ACCEPT = mutation("teamInvitationAccept", "TeamInvitationIdInput", TEAM_RESULT)
DECLINE = mutation("teamInvitationDecline", "TeamInvitationIdInput", INVITATION_RESULT)
ROLE_CHANGE = mutation("teamMemberRoleChange", "TeamMemberRoleChangeInput", MEMBER_RESULT)
REMOVE = mutation("teamMemberRemove", "TeamMemberIdInput", DELETE_RESULT)
LEAVE = mutation("teamLeave", "TeamIdInput", DELETE_RESULT)
TRANSFER = mutation("teamOwnershipTransfer", "TeamOwnershipTransferInput", TEAM_RESULT)


def gid(type_name: str, pk: Any) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def codes(payload: dict) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def fields(payload: dict) -> list[str | None]:
    return [m["field"] for m in payload["messages"]]


def state() -> tuple:
    return (
        sorted(TeamMembership.objects.values_list("team_id", "user_id", "role")),
        sorted(TeamInvitation.objects.values_list("team_id", "invitee_id", "role", "status")),
        sorted(Team.objects.values_list("id", "name", "handle")),
    )


@pytest.fixture
def owner() -> Any:
    return UserFactory(username="olga")


@pytest.fixture
def api(owner) -> GraphQLClient:
    return logged_in_client(owner)


def make_team(owner: Any, handle: str = "studio-nine", name: str = "Studio Nine") -> Team:
    return services.team_create(user=owner, name=name, handle=handle)


def add(team: Team, role: str, username: str | None = None) -> tuple[Any, TeamMembership]:
    user = UserFactory(**({"username": username} if username else {}))
    member = TeamMembership.objects.create(team=team, user=user, role=role)
    return user, member


def test_create_a_team_and_read_it_back(api, owner):
    payload = api(CREATE, {"input": {"name": " Studio Nine ", "handle": "Studio-Nine"}})[
        "teamCreate"
    ]
    assert payload["__typename"] == "TeamResult", payload
    team = payload["team"]
    assert (team["name"], team["handle"], team["viewerRole"]) == (
        "Studio Nine",
        "studio-nine",
        "OWNER",
    )
    assert [(m["username"], m["role"], m["isViewer"]) for m in team["members"]] == [
        ("olga", "OWNER", True)
    ]
    assert team["viewerCan"] == {
        "manageMembers": True,
        "changeRoles": True,
        "manageOwners": True,
        "deleteTeam": True,
        "edit": True,
        "leave": False,
    }
    assert api(TEAMS)["teams"] == [team]
    assert api(TEAM, {"h": "studio-nine"})["team"] == team
    assert api(TEAM, {"h": "nobody"})["team"] is None


def test_create_refusals_answer_codes_and_leave_nothing(api, owner):
    make_team(owner)
    before = state()
    cases = [
        ({"name": "  ", "handle": "ok"}, "NAME_REQUIRED", "name"),
        ({"name": "x" * 61, "handle": "ok"}, "NAME_TOO_LONG", "name"),
        ({"name": "A", "handle": "Bad handle!"}, "HANDLE_INVALID", "handle"),
        ({"name": "A", "handle": "me"}, "HANDLE_RESERVED", "handle"),
        ({"name": "A", "handle": "studio-nine"}, "HANDLE_TAKEN", "handle"),
    ]
    for given, code, field in cases:
        payload = api(CREATE, {"input": given})["teamCreate"]
        assert codes(payload) == [code], given
        assert fields(payload) == [field]
    assert state() == before


def test_a_stranger_sees_no_team_and_gets_not_found(owner):
    team = make_team(owner)
    stranger = logged_in_client(UserFactory())
    assert stranger(TEAMS)["teams"] == []
    assert stranger(TEAM, {"h": team.handle})["team"] is None
    before = state()
    payload = stranger(UPDATE, {"input": {"team": gid("Team", team.pk), "name": "Mine"}})
    assert codes(payload["teamUpdate"]) == ["NOT_FOUND"]
    payload = stranger(DELETE, {"input": {"team": gid("Team", team.pk)}})
    assert codes(payload["teamDelete"]) == ["NOT_FOUND"]
    payload = stranger(
        INVITE, {"input": {"team": gid("Team", team.pk), "username": "x", "role": "VIEWER"}}
    )
    assert codes(payload["teamInvite"]) == ["NOT_FOUND"]
    # A mangled id and an id of another type answer the same.
    for bad in ("nonsense", gid("Element", team.pk)):
        payload = stranger(DELETE, {"input": {"team": bad}})
        assert codes(payload["teamDelete"]) == ["NOT_FOUND"]
    node = stranger("query ($id: ID!) { node(id: $id) { id } }", {"id": gid("Team", team.pk)})
    assert node["node"] is None
    assert state() == before


def test_invite_accept_and_the_invitation_lists(api, owner):
    team = make_team(owner)
    invitee = UserFactory(username="ben")
    payload = api(
        INVITE, {"input": {"team": gid("Team", team.pk), "username": "BEN", "role": "EDITOR"}}
    )["teamInvite"]
    assert payload["__typename"] == "TeamInvitationResult", payload
    invitation = payload["invitation"]
    assert (invitation["role"], invitation["status"], invitation["invitedBy"]) == (
        "EDITOR",
        "PENDING",
        "olga",
    )
    assert [i["invitee"] for i in api(TEAMS)["teams"][0]["invitations"]] == ["ben"]

    ben = logged_in_client(invitee)
    assert [i["teamHandle"] for i in ben(MY_INVITATIONS)["myInvitations"]] == ["studio-nine"]
    # Another user can't answer it.
    other = logged_in_client(UserFactory())
    before = state()
    refused = other(ACCEPT, {"input": {"invitation": invitation["id"]}})["teamInvitationAccept"]
    assert codes(refused) == ["NOT_FOUND"]
    assert state() == before

    accepted = ben(ACCEPT, {"input": {"invitation": invitation["id"]}})["teamInvitationAccept"]
    assert accepted["__typename"] == "TeamResult", accepted
    assert accepted["team"]["viewerRole"] == "EDITOR"
    assert accepted["team"]["invitations"] == []  # an editor doesn't see them
    assert accepted["team"]["viewerCan"]["edit"] is True
    assert accepted["team"]["viewerCan"]["manageMembers"] is False
    assert ben(MY_INVITATIONS)["myInvitations"] == []
    again = ben(ACCEPT, {"input": {"invitation": invitation["id"]}})["teamInvitationAccept"]
    assert codes(again) == ["INVITATION_NOT_PENDING"]


def test_decline_and_cancel(api, owner):
    team = make_team(owner)
    ben, cat = UserFactory(), UserFactory()
    first = services.team_invite(user=owner, team_id=team.pk, username=ben.username, role="viewer")
    second = services.team_invite(user=owner, team_id=team.pk, username=cat.username, role="admin")
    declined = logged_in_client(ben)(
        DECLINE, {"input": {"invitation": gid("TeamInvitation", first.pk)}}
    )["teamInvitationDecline"]
    assert declined["invitation"]["status"] == "DECLINED"
    cancelled = api(CANCEL, {"input": {"invitation": gid("TeamInvitation", second.pk)}})[
        "teamInvitationCancel"
    ]
    assert cancelled["invitation"]["status"] == "CANCELLED"
    # The invitee can't cancel (they are not in the team).
    third = services.team_invite(user=owner, team_id=team.pk, username=cat.username, role="viewer")
    refused = logged_in_client(cat)(
        CANCEL, {"input": {"invitation": gid("TeamInvitation", third.pk)}}
    )["teamInvitationCancel"]
    assert codes(refused) == ["NOT_FOUND"]
    third.refresh_from_db()
    assert third.status == InvitationStatus.PENDING


def test_roles_remove_leave_and_transfer(api, owner):
    team = make_team(owner)
    editor, editor_member = add(team, "editor", "eve")
    admin, admin_member = add(team, "admin", "adam")

    # An editor can't change roles.
    before = state()
    refused = logged_in_client(editor)(
        ROLE_CHANGE,
        {"input": {"member": gid("TeamMember", admin_member.pk), "role": "VIEWER"}},
    )["teamMemberRoleChange"]
    assert codes(refused) == ["ROLE_FORBIDDEN"]
    assert state() == before

    changed = api(
        ROLE_CHANGE, {"input": {"member": gid("TeamMember", editor_member.pk), "role": "ADMIN"}}
    )["teamMemberRoleChange"]
    assert changed["member"]["role"] == "ADMIN"

    # The last owner can't leave.
    owner_member = TeamMembership.objects.get(team=team, user=owner)
    before = state()
    assert codes(api(LEAVE, {"input": {"team": gid("Team", team.pk)}})["teamLeave"]) == [
        "LAST_OWNER"
    ]
    assert state() == before

    transferred = api(
        TRANSFER,
        {"input": {"team": gid("Team", team.pk), "member": gid("TeamMember", admin_member.pk)}},
    )["teamOwnershipTransfer"]
    assert transferred["__typename"] == "TeamResult", transferred
    assert transferred["team"]["viewerRole"] == "ADMIN"
    roles = {m["username"]: m["role"] for m in transferred["team"]["members"]}
    assert roles == {"olga": "ADMIN", "adam": "OWNER", "eve": "ADMIN"}

    removed = logged_in_client(admin)(
        REMOVE, {"input": {"member": gid("TeamMember", editor_member.pk)}}
    )["teamMemberRemove"]
    assert removed["deletedId"] == gid("TeamMember", editor_member.pk)

    left = api(LEAVE, {"input": {"team": gid("Team", team.pk)}})["teamLeave"]
    assert left["deletedId"] == gid("TeamMember", owner_member.pk)
    assert api(TEAMS)["teams"] == []


def test_rename_and_delete(api, owner):
    team = make_team(owner)
    renamed = api(UPDATE, {"input": {"team": gid("Team", team.pk), "name": "Studio Ten"}})[
        "teamUpdate"
    ]
    assert renamed["team"]["name"] == "Studio Ten"
    admin, _ = add(team, "admin")
    before = state()
    refused = logged_in_client(admin)(DELETE, {"input": {"team": gid("Team", team.pk)}})
    assert codes(refused["teamDelete"]) == ["ROLE_FORBIDDEN"]
    assert state() == before
    deleted = api(DELETE, {"input": {"team": gid("Team", team.pk)}})["teamDelete"]
    assert deleted["deletedId"] == gid("Team", team.pk)
    assert not Team.objects.filter(pk=team.pk).exists()


def test_teams_take_the_same_queries_for_one_team_or_five(api, owner):
    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            api(TEAMS)
        return len(queries)

    team = make_team(owner, "t-0")
    add(team, "editor")
    services.team_invite(
        user=owner, team_id=team.pk, username=UserFactory().username, role="viewer"
    )
    api(TEAMS)  # the session's first request loads more than the teams
    one = measure()
    for i in range(1, 5):
        team = make_team(owner, f"t-{i}")
        add(team, "editor")
        add(team, "viewer")
        services.team_invite(
            user=owner, team_id=team.pk, username=UserFactory().username, role="viewer"
        )
    assert len(api(TEAMS)["teams"]) == 5
    assert measure() == one
    with CaptureQueriesContext(connection) as queries:
        api(TEAMS)
    team_queries = [q["sql"] for q in queries if "elements_team" in q["sql"]]
    assert len(team_queries) == 3, team_queries  # teams, members, pending invitations


def test_anonymous_clients_are_refused(owner):
    make_team(owner)
    anonymous = GraphQLClient()
    for query in (TEAMS, MY_INVITATIONS):
        body = anonymous.post(query).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_AUTHENTICATED"]
    payload = anonymous(CREATE, {"input": {"name": "A", "handle": "a"}})["teamCreate"]
    assert codes(payload) == ["NOT_AUTHENTICATED"]
    assert Team.objects.count() == 1
