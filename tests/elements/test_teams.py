"""Team management services: every path and every refusal (each refusal proves that no
membership, invitation, role or team changed), team deletion with its files, and what a
deleted account leaves to its teams."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import MembershipTier
from elements.models import Element, ReferenceImage, Voice
from elements.teams import selectors, services
from elements.teams.deletion import team_heirs
from elements.teams.models import InvitationStatus, Team, TeamInvitation, TeamMembership
from tests.conftest import media_files
from tests.factories import (
    ElementFactory,
    GenerationJobFactory,
    MembershipFactory,
    UserFactory,
    VoiceFactory,
)

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def state() -> tuple:
    """Every team, membership (with role) and invitation (with status)."""
    return (
        sorted(Team.objects.values_list("id", "name", "handle")),
        sorted(TeamMembership.objects.values_list("team_id", "user_id", "role")),
        sorted(TeamInvitation.objects.values_list("team_id", "invitee_id", "role", "status", "id")),
        sorted(Element.objects.values_list("id", "owner_id", "team_id")),
    )


def codes(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [e.code for errors in error.error_dict.values() for e in errors]  # type: ignore[misc]
    return [e.code for e in error.error_list]  # type: ignore[misc]


def error_fields(error: ValidationError) -> list[str]:
    return list(error.error_dict) if hasattr(error, "error_dict") else []


def refused(code: str, call: Callable[[], Any], field: str | None = None) -> None:
    before = state()
    with pytest.raises(ValidationError) as caught:
        call()
    assert codes(caught.value) == [code]
    if field is not None:
        assert error_fields(caught.value) == [field]
    assert state() == before


@pytest.fixture
def owner() -> Any:
    return UserFactory(username="olga")


@pytest.fixture
def team(owner) -> Team:
    return services.team_create(user=owner, name="Studio Nine", handle="studio-nine")


def member(team: Team, role: str, **user_fields: Any) -> tuple[Any, TeamMembership]:
    user = UserFactory(**user_fields)
    return user, TeamMembership.objects.create(team=team, user=user, role=role)


def role_of(team: Team, user: Any) -> str | None:
    return (
        TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    )


# --- create, rename ----------------------------------------------------------------------------


def test_the_creator_is_the_first_owner(owner):
    team = services.team_create(user=owner, name="  Studio Nine ", handle=" Studio-Nine ")
    assert (team.name, team.handle, team.created_by_id) == ("Studio Nine", "studio-nine", owner.pk)
    assert list(TeamMembership.objects.filter(team=team).values_list("user_id", "role")) == [
        (owner.pk, "owner")
    ]
    assert list(selectors.user_teams(user=owner)) == [team]


@pytest.mark.parametrize(
    ("name", "handle", "code", "field"),
    [
        ("", "ok", "NAME_REQUIRED", "name"),
        ("   ", "ok", "NAME_REQUIRED", "name"),
        ("x" * 61, "ok", "NAME_TOO_LONG", "name"),
        ("A", "", "HANDLE_INVALID", "handle"),
        ("A", "-bad", "HANDLE_INVALID", "handle"),
        ("A", "bad-", "HANDLE_INVALID", "handle"),
        ("A", "a@b", "HANDLE_INVALID", "handle"),
        ("A", "a" * 31, "HANDLE_INVALID", "handle"),
        ("A", "me", "HANDLE_RESERVED", "handle"),
        ("A", "Teams", "HANDLE_RESERVED", "handle"),
        ("A", "STUDIO-nine", "HANDLE_TAKEN", "handle"),
    ],
)
def test_create_refusals(team, owner, name, handle, code, field):
    refused(code, lambda: services.team_create(user=owner, name=name, handle=handle), field)


def test_a_user_belongs_to_a_limited_number_of_teams(owner, monkeypatch):
    monkeypatch.setattr(services, "MAX_TEAMS_PER_USER", 2)
    services.team_create(user=owner, name="One", handle="one")
    services.team_create(user=owner, name="Two", handle="two")
    refused("TOO_MANY_TEAMS", lambda: services.team_create(user=owner, name="3", handle="three"))


def test_only_owners_rename(team, owner):
    services.team_update(user=owner, team_id=team.pk, name=" Studio Ten ")
    team.refresh_from_db()
    assert (team.name, team.handle) == ("Studio Ten", "studio-nine")
    admin, _ = member(team, "admin")
    refused(
        "ROLE_FORBIDDEN",
        lambda: services.team_update(user=admin, team_id=team.pk, name="X"),
        "team",
    )
    stranger = UserFactory()
    refused(
        "NOT_FOUND", lambda: services.team_update(user=stranger, team_id=team.pk, name="X"), "team"
    )
    refused("NOT_FOUND", lambda: services.team_update(user=owner, team_id=10**9, name="X"))
    refused("NOT_FOUND", lambda: services.team_update(user=owner, team_id="nonsense", name="X"))
    refused("NAME_REQUIRED", lambda: services.team_update(user=owner, team_id=team.pk, name=" "))


# --- delete -------------------------------------------------------------------------------------


def test_only_owners_delete_a_team(team, owner):
    admin, _ = member(team, "admin")
    refused("ROLE_FORBIDDEN", lambda: services.team_delete(user=admin, team_id=team.pk))
    refused("NOT_FOUND", lambda: services.team_delete(user=UserFactory(), team_id=team.pk))
    assert services.team_delete(user=owner, team_id=team.pk) == team.pk
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not TeamMembership.objects.exists()


def test_deleting_a_team_removes_its_library_and_files_but_not_pinned_ones(
    team, owner, django_capture_on_commit_callbacks
):
    from generation.models import JobElement, JobElementImage

    editor, _ = member(team, "editor")
    pinned_element = ElementFactory(owner=editor, team=team, name="Pinned")
    other_element = ElementFactory(owner=owner, team=team, name="Other")
    team_voice = VoiceFactory(owner=owner, team=team)
    personal = ElementFactory(owner=owner, name="Mine")
    personal_voiced = ElementFactory(owner=owner, name="Voiced", voice=team_voice)
    # A submitted job pins one element's images and the team voice (shared, not copied).
    job = GenerationJobFactory(owner=editor)
    pinned_images = list(pinned_element.images.all())
    job_element = JobElement.objects.create(
        job=job,
        position=1,
        element=pinned_element,
        name=pinned_element.name,
        type=pinned_element.type,
        version=1,
        voice_name=team_voice.name,
        voice_file=team_voice.audio.name,
    )
    for image in pinned_images:
        JobElementImage.objects.create(
            job_element=job_element,
            role=image.role,
            position=image.position,
            file=image.image.name,
            width=image.width,
            height=image.height,
        )
    pinned = {image.image.name for image in pinned_images} | {team_voice.audio.name}
    unpinned = {
        name
        for image in [*pinned_images, *other_element.images.all()]
        for name in (image.image.name, image.thumbnail.name)
    } - pinned
    personal_files = {
        name for image in personal.images.all() for name in (image.image.name, image.thumbnail.name)
    }
    assert pinned | unpinned | personal_files <= media_files()

    with django_capture_on_commit_callbacks(execute=True):
        services.team_delete(user=owner, team_id=team.pk)

    assert not Element.objects.filter(team_id=team.pk).exists()
    assert not Voice.objects.filter(pk=team_voice.pk).exists()
    assert not ReferenceImage.objects.filter(element_id=pinned_element.pk).exists()
    files = media_files()
    assert pinned <= files  # the job still needs them
    assert not (unpinned & files)
    assert personal_files <= files
    personal.refresh_from_db()
    personal_voiced.refresh_from_db()
    assert personal_voiced.voice_id is None
    assert "deleted with its team" in personal_voiced.voice_notice
    job_element.refresh_from_db()
    assert job_element.element_id is None


# --- invitations --------------------------------------------------------------------------------


def test_invite_and_accept(team, owner):
    ben = UserFactory(username="Ben")
    invitation = services.team_invite(user=owner, team_id=team.pk, username=" ben ", role="editor")
    assert (
        invitation.invitee_id,
        invitation.role,
        invitation.status,
        invitation.invited_by_id,
    ) == (
        ben.pk,
        "editor",
        "pending",
        owner.pk,
    )
    assert list(selectors.user_pending_invitations(user=ben)) == [invitation]
    assert list(selectors.team_pending_invitations(team=team)) == [invitation]
    joined = services.invitation_accept(user=ben, invitation_id=invitation.pk)
    assert joined == team
    assert role_of(team, ben) == "editor"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.responded_at is not None
    assert list(selectors.user_pending_invitations(user=ben)) == []


def test_invite_refusals(team, owner, monkeypatch):
    admin, _ = member(team, "admin")
    editor, _ = member(team, "editor")
    invitee = UserFactory()
    pending = UserFactory()
    services.team_invite(user=owner, team_id=team.pk, username=pending.username, role="viewer")
    inactive = UserFactory(is_active=False)

    def invite(by: Any, username: str, role: str = "viewer", team_id: Any = team.pk) -> Any:
        return lambda: services.team_invite(user=by, team_id=team_id, username=username, role=role)

    refused("USER_NOT_FOUND", invite(owner, "nobody-at-all"), "username")
    refused("USER_NOT_FOUND", invite(owner, ""), "username")
    refused("USER_NOT_FOUND", invite(owner, inactive.username), "username")
    refused("CANNOT_INVITE_SELF", invite(owner, owner.username), "username")
    refused("ALREADY_MEMBER", invite(owner, editor.username), "username")
    refused("INVITATION_PENDING", invite(owner, pending.username), "username")
    refused("ROLE_INVALID", invite(owner, invitee.username, role="boss"), "role")
    refused("ROLE_FORBIDDEN", invite(admin, invitee.username, role="owner"), "role")
    refused("ROLE_FORBIDDEN", invite(editor, invitee.username), "team")
    refused("NOT_FOUND", invite(UserFactory(), invitee.username), "team")
    refused("NOT_FOUND", invite(owner, invitee.username, team_id="x"), "team")
    # An admin may invite below owner, an owner may invite an owner.
    services.team_invite(user=admin, team_id=team.pk, username=invitee.username, role="admin")
    services.team_invite(user=owner, team_id=team.pk, username=UserFactory().username, role="owner")


def test_a_team_has_a_limited_number_of_seats(team, owner, monkeypatch):
    # Members and pending invitations share the seats: 1 owner + 1 member + 1 invitation.
    monkeypatch.setattr(services, "MAX_TEAM_SEATS", 3)
    member(team, "viewer")
    first = services.team_invite(
        user=owner, team_id=team.pk, username=UserFactory().username, role="viewer"
    )
    late = UserFactory()

    def invite_late() -> Any:
        return services.team_invite(
            user=owner, team_id=team.pk, username=late.username, role="viewer"
        )

    refused("TEAM_FULL", invite_late, "team")
    # A declined invitation frees its seat; accepting one keeps the count.
    services.invitation_decline(user=first.invitee, invitation_id=first.pk)
    invitation = invite_late()
    services.invitation_accept(user=late, invitation_id=invitation.pk)
    refused(
        "TEAM_FULL",
        lambda: services.team_invite(
            user=owner, team_id=team.pk, username=UserFactory().username, role="viewer"
        ),
    )


def test_answering_invitations(team, owner, monkeypatch):
    ben = UserFactory()
    invitation = services.team_invite(
        user=owner, team_id=team.pk, username=ben.username, role="viewer"
    )
    # Only the invitee answers: the owner who sent it, a stranger, a bad id: NOT_FOUND.
    for someone in (owner, UserFactory()):
        refused(
            "NOT_FOUND",
            lambda u=someone: services.invitation_accept(user=u, invitation_id=invitation.pk),
            "invitation",
        )
        refused(
            "NOT_FOUND",
            lambda u=someone: services.invitation_decline(user=u, invitation_id=invitation.pk),
            "invitation",
        )
    refused("NOT_FOUND", lambda: services.invitation_accept(user=ben, invitation_id="x"))
    # The invitee is in too many teams already.
    monkeypatch.setattr(services, "MAX_TEAMS_PER_USER", 1)
    services.team_create(user=ben, name="Own", handle="own")
    refused(
        "TOO_MANY_TEAMS",
        lambda: services.invitation_accept(user=ben, invitation_id=invitation.pk),
        "invitation",
    )
    declined = services.invitation_decline(user=ben, invitation_id=invitation.pk)
    assert declined.status == InvitationStatus.DECLINED
    for answer in (services.invitation_accept, services.invitation_decline):
        refused(
            "INVITATION_NOT_PENDING",
            lambda a=answer: a(user=ben, invitation_id=invitation.pk),
            "invitation",
        )


def test_cancelling_invitations(team, owner):
    admin, _ = member(team, "admin")
    editor, _ = member(team, "editor")
    ben = UserFactory()
    as_viewer = services.team_invite(
        user=owner, team_id=team.pk, username=ben.username, role="viewer"
    )
    as_owner = services.team_invite(
        user=owner, team_id=team.pk, username=UserFactory().username, role="owner"
    )

    def cancel(by: Any, invitation: TeamInvitation) -> Any:
        return lambda: services.invitation_cancel(user=by, invitation_id=invitation.pk)

    refused("ROLE_FORBIDDEN", cancel(editor, as_viewer), "invitation")
    refused("ROLE_FORBIDDEN", cancel(admin, as_owner), "invitation")
    refused("NOT_FOUND", cancel(ben, as_viewer), "invitation")  # the invitee is not in the team
    refused("NOT_FOUND", cancel(UserFactory(), as_viewer), "invitation")
    assert services.invitation_cancel(user=admin, invitation_id=as_viewer.pk).status == "cancelled"
    assert services.invitation_cancel(user=owner, invitation_id=as_owner.pk).status == "cancelled"
    refused("INVITATION_NOT_PENDING", cancel(owner, as_viewer), "invitation")
    refused(
        "NOT_FOUND",
        lambda: services.invitation_accept(user=ben, invitation_id=10**9),
        "invitation",
    )
    refused(
        "INVITATION_NOT_PENDING",
        lambda: services.invitation_accept(user=ben, invitation_id=as_viewer.pk),
    )


# --- roles --------------------------------------------------------------------------------------


def test_role_changes(team, owner):
    admin, admin_m = member(team, "admin")
    editor, editor_m = member(team, "editor")
    viewer, viewer_m = member(team, "viewer")
    owner_m = TeamMembership.objects.get(team=team, user=owner)

    def change(by: Any, membership: TeamMembership, role: str) -> Any:
        return lambda: services.member_role_change(user=by, member_id=membership.pk, role=role)

    refused("ROLE_FORBIDDEN", change(editor, viewer_m, "editor"), "member")
    refused("ROLE_FORBIDDEN", change(viewer, viewer_m, "admin"), "member")
    refused("ROLE_FORBIDDEN", change(admin, viewer_m, "owner"), "role")  # making an owner
    refused("ROLE_FORBIDDEN", change(admin, owner_m, "admin"), "role")  # unmaking one
    refused("LAST_OWNER", change(owner, owner_m, "admin"), "role")
    refused("ROLE_INVALID", change(owner, viewer_m, "root"), "role")
    refused("NOT_FOUND", change(UserFactory(), viewer_m, "editor"), "member")
    refused(
        "NOT_FOUND",
        lambda: services.member_role_change(user=owner, member_id="x", role="viewer"),
        "member",
    )

    # An admin moves members below owner, themselves included.
    assert services.member_role_change(user=admin, member_id=viewer_m.pk, role="editor").role == (
        "editor"
    )
    services.member_role_change(user=admin, member_id=editor_m.pk, role="admin")
    # An owner makes an owner; then the first owner may step down.
    services.member_role_change(user=owner, member_id=admin_m.pk, role="owner")
    services.member_role_change(user=owner, member_id=owner_m.pk, role="viewer")
    assert role_of(team, owner) == "viewer"
    assert role_of(team, admin) == "owner"
    # Unchanged role: nothing to do, even for the last owner.
    services.member_role_change(user=admin, member_id=admin_m.pk, role="owner")


def test_a_member_of_another_team_is_not_found(team, owner):
    other = services.team_create(user=UserFactory(), name="Other", handle="other")
    _, theirs = member(other, "viewer")
    refused(
        "NOT_FOUND",
        lambda: services.member_role_change(user=owner, member_id=theirs.pk, role="editor"),
    )
    refused("NOT_FOUND", lambda: services.member_remove(user=owner, member_id=theirs.pk))
    refused(
        "NOT_FOUND",
        lambda: services.ownership_transfer(user=owner, team_id=team.pk, member_id=theirs.pk),
        "member",
    )


# --- remove, leave, transfer --------------------------------------------------------------------


def test_removing_members(team, owner):
    admin, admin_m = member(team, "admin")
    editor, editor_m = member(team, "editor")
    _, second_owner_m = member(team, "owner")
    owner_m = TeamMembership.objects.get(team=team, user=owner)
    created = ElementFactory(owner=editor, team=team, name="Kept")

    def remove(by: Any, membership: TeamMembership) -> Any:
        return lambda: services.member_remove(user=by, member_id=membership.pk)

    refused("ROLE_FORBIDDEN", remove(editor, admin_m), "member")
    refused("ROLE_FORBIDDEN", remove(admin, owner_m), "member")
    refused("NOT_FOUND", remove(UserFactory(), editor_m), "member")

    assert services.member_remove(user=admin, member_id=editor_m.pk) == editor_m.pk
    assert role_of(team, editor) is None
    # The element they created stays in the team, and they can no longer reach it.
    created.refresh_from_db()
    assert created.team_id == team.pk
    from elements.teams.policy import Action, allowed

    assert not allowed(editor, created, Action.VIEW)

    services.member_remove(user=owner, member_id=second_owner_m.pk)
    refused("LAST_OWNER", remove(owner, owner_m), "member")


def test_leaving(team, owner):
    viewer, _ = member(team, "viewer")
    refused("LAST_OWNER", lambda: services.team_leave(user=owner, team_id=team.pk), "team")
    refused("NOT_FOUND", lambda: services.team_leave(user=UserFactory(), team_id=team.pk), "team")
    services.team_leave(user=viewer, team_id=team.pk)
    assert role_of(team, viewer) is None
    # Alone in the team: the last owner still can't leave (delete the team instead).
    refused("LAST_OWNER", lambda: services.team_leave(user=owner, team_id=team.pk))


def test_ownership_transfer(team, owner):
    admin, admin_m = member(team, "admin")
    viewer, viewer_m = member(team, "viewer")
    refused(
        "ROLE_FORBIDDEN",
        lambda: services.ownership_transfer(user=admin, team_id=team.pk, member_id=admin_m.pk),
        "team",
    )
    refused(
        "NOT_FOUND",
        lambda: services.ownership_transfer(user=owner, team_id=team.pk, member_id="x"),
        "member",
    )
    services.ownership_transfer(user=owner, team_id=team.pk, member_id=viewer_m.pk)
    assert (role_of(team, viewer), role_of(team, owner)) == ("owner", "admin")
    # Now the former owner is an admin and can't hand it over.
    refused(
        "ROLE_FORBIDDEN",
        lambda: services.ownership_transfer(user=owner, team_id=team.pk, member_id=admin_m.pk),
    )
    # Naming yourself changes nothing.
    before = state()
    services.ownership_transfer(user=viewer, team_id=team.pk, member_id=viewer_m.pk)
    assert state() == before


# --- selectors ----------------------------------------------------------------------------------


def test_team_element_limit_is_the_best_among_its_owners(team, owner):
    non_member_limit = MembershipTier.objects.get(code="non_member").element_limit
    assert selectors.team_element_limit(team) == non_member_limit
    best = MembershipTier.objects.order_by("-element_limit").first()
    assert best is not None and best.element_limit > non_member_limit
    rich, _ = member(team, "admin")
    MembershipFactory(user=rich, tier=best)
    assert selectors.team_element_limit(team) == non_member_limit  # an admin's tier doesn't count
    TeamMembership.objects.filter(user=rich).update(role="owner")
    assert selectors.team_element_limit(team) == best.element_limit


def test_members_are_listed_owners_first_then_by_seniority(team, owner):
    viewer, _ = member(team, "viewer")
    admin, _ = member(team, "admin")
    second_owner, _ = member(team, "owner")
    assert [m.user_id for m in selectors.team_members(team=team)] == [
        owner.pk,
        second_owner.pk,
        admin.pk,
        viewer.pk,
    ]


# --- deleted accounts ----------------------------------------------------------------------------


def test_a_deleted_account_leaves_its_team_elements_to_an_owner(team, owner):
    editor, _ = member(team, "editor")
    second_owner, _ = member(team, "owner")
    team_element = ElementFactory(owner=editor, team=team, name="Team work")
    team_voice = VoiceFactory(owner=editor, team=team)
    personal = ElementFactory(owner=editor, name="Personal")
    personal_voice = VoiceFactory(owner=editor)

    editor.delete()

    team_element.refresh_from_db()
    team_voice.refresh_from_db()
    assert (team_element.owner_id, team_element.team_id) == (owner.pk, team.pk)
    assert team_voice.owner_id == owner.pk
    assert team_element.images.count() == 2
    assert not Element.objects.filter(pk=personal.pk).exists()
    assert not Voice.objects.filter(pk=personal_voice.pk).exists()
    assert role_of(team, owner) == "owner" and role_of(team, second_owner) == "owner"


def test_a_creator_who_left_the_team_still_leaves_their_elements_to_it(team, owner):
    former, membership = member(team, "editor")
    work = ElementFactory(owner=former, team=team, name="Left behind")
    membership.delete()
    former.delete()
    work.refresh_from_db()
    assert work.owner_id == owner.pk


def test_the_last_owner_deleted_promotes_the_highest_longest_standing_member(owner):
    team = services.team_create(user=owner, name="Crew", handle="crew")
    viewer, _ = member(team, "viewer")  # the longest-standing, but a viewer
    first_admin, _ = member(team, "admin")
    member(team, "admin")
    work = ElementFactory(owner=owner, team=team, name="Crew work")
    assert team_heirs([team.pk], [owner.pk])[team.pk].user_id == first_admin.pk  # type: ignore[union-attr]

    owner.delete()

    assert role_of(team, first_admin) == "owner"
    assert role_of(team, viewer) == "viewer"
    work.refresh_from_db()
    assert work.owner_id == first_admin.pk


def test_a_team_no_member_stays_in_is_deleted_with_its_library(owner):
    alone = services.team_create(user=owner, name="Alone", handle="alone")
    ElementFactory(owner=owner, team=alone, name="Solo")
    shared = services.team_create(user=owner, name="Shared", handle="shared")
    partner, _ = member(shared, "owner")
    kept = ElementFactory(owner=owner, team=shared, name="Kept")
    pending = services.team_invite(
        user=owner, team_id=alone.pk, username=UserFactory().username, role="viewer"
    )

    owner.delete()

    assert not Team.objects.filter(pk=alone.pk).exists()
    assert not Element.objects.filter(team_id=alone.pk).exists()
    assert not TeamInvitation.objects.filter(pk=pending.pk).exists()
    kept.refresh_from_db()
    assert kept.owner_id == partner.pk


def test_deleting_every_member_at_once_deletes_the_team(owner):
    team = services.team_create(user=owner, name="Pair", handle="pair")
    partner, _ = member(team, "viewer")
    ElementFactory(owner=partner, team=team, name="Theirs")
    ElementFactory(owner=owner, team=team, name="Mine")
    from accounts.models import User

    User.objects.filter(pk__in=[owner.pk, partner.pk]).delete()
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Element.objects.exists()


def test_the_admin_delete_preview_changes_nothing_and_lists_the_teams_that_go(
    team, owner, admin_client
):
    # The owner is the team's only member: deleting the account deletes the team.
    ElementFactory(owner=owner, team=team, name="Team work")
    crew = services.team_create(user=owner, name="Crew", handle="crew")
    _, heir = member(crew, "viewer")
    before = state()
    response = admin_client.get(f"/admin/accounts/user/{owner.pk}/delete/")
    assert response.status_code == 200
    assert state() == before
    content = response.content.decode()
    assert re.search(r"<li>Team: (<a [^>]*>)?Studio Nine \(@studio-nine\)", content)
    assert not re.search(r"<li>Team: (<a [^>]*>)?Crew", content)
    heir.refresh_from_db()
    assert heir.role == "viewer"
