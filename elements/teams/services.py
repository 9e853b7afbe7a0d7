"""Team management: creating, renaming and deleting a team, inviting, answering invitations,
changing roles, removing and leaving, and handing ownership over.

Every rule about who may do what is asked of `elements.teams.policy`: someone who is not a
member is told NOT_FOUND exactly as for an id no team has (`get_or_not_found`); a member whose
role does not allow the action is told ROLE_FORBIDDEN (`can_see_but_not`).

Concurrency: every change to a team's members, roles or invitations first locks the team's
row (`select_for_update`), then reads the counts its rules need (owners, seats). Two owners
demoting each other at once queue on that lock, so the second sees one owner left and is
refused with LAST_OWNER; two invitations at the last seat can't both pass TEAM_FULL. Changes
that count a user's teams (creating one, accepting an invitation) also lock the user's row,
always after the team's, so the locks are taken in one order. On SQLite `select_for_update`
does nothing, but every transaction takes the write lock when it starts (IMMEDIATE), which
serializes them all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from elements.models import Element, ReferenceImage, Voice
from elements.services import delete_files_after_commit
from elements.signals import voice_withdrawn
from elements.teams import policy
from elements.teams.error_codes import TeamErrorCode
from elements.teams.models import (
    RESERVED_HANDLES,
    TEAM_NAME_MAX,
    InvitationStatus,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
)
from elements.teams.policy import Action
from elementsite.errors import field_error
from elementsite.ids import row_key

logger = logging.getLogger(__name__)

# A team holds at most this many members and pending invitations together.
MAX_TEAM_SEATS = 100
# A user belongs to at most this many teams (pending invitations don't count).
MAX_TEAMS_PER_USER = 20

NOT_FOUND = TeamErrorCode.NOT_FOUND
_HANDLE_MAX = 30
NEEDS_OWNER = "A team needs an owner: make another member owner first."


# --- Checks ---------------------------------------------------------------------------------


def _not_found(field: str, what: str = "team") -> ValidationError:
    return field_error(field, f"No such {what}.", NOT_FOUND)


def _forbidden(field: str | None, message: str) -> ValidationError:
    return field_error(field, message, TeamErrorCode.ROLE_FORBIDDEN)


def _require(user: AbstractBaseUser, team: Team, action: Action, *, field: str) -> None:
    """`action` allowed to `user` on `team` (read now, after the team's lock): a member
    whose role forbids it gets ROLE_FORBIDDEN, anyone else NOT_FOUND (a member removed
    while this request waited for the lock is no longer one)."""
    if policy.allowed(user, team, action):
        return
    if policy.can_see_but_not(user, team, action):
        raise _forbidden(field, "Your role in this team does not allow this.")
    raise _not_found(field)


def _locked_team(user: AbstractBaseUser, team_id: object, action: Action, *, field: str) -> Team:
    """The team `team_id`, locked, if `user` is a member allowed `action`."""
    team = policy.get_or_not_found(
        user,
        Team.objects.select_for_update(),
        team_id,
        Action.SEE_TEAM,
        field=field,
        message="No such team.",
        code=NOT_FOUND,
    )
    _require(user, team, action, field=field)
    return team


def _lock_user(user_id: int) -> None:
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def _owner_count(team: Team) -> int:
    return TeamMembership.objects.filter(team_id=team.pk, role=TeamRole.OWNER).count()


def _seats_taken(team: Team) -> int:
    members = TeamMembership.objects.filter(team_id=team.pk).count()
    pending = TeamInvitation.objects.filter(
        team_id=team.pk, status=InvitationStatus.PENDING
    ).count()
    return members + pending


def _teams_of(user_id: int) -> int:
    return TeamMembership.objects.filter(user_id=user_id).count()


def _check_team_cap(user_id: int, *, field: str | None) -> None:
    if _teams_of(user_id) >= MAX_TEAMS_PER_USER:
        raise field_error(
            field,
            f"A user can belong to at most {MAX_TEAMS_PER_USER} teams.",
            TeamErrorCode.TOO_MANY_TEAMS,
        )


def clean_team_name(name: str) -> str:
    """A team's name, trimmed: required, at most TEAM_NAME_MAX characters."""
    text = (name or "").strip()
    if not text:
        raise field_error("name", "Give the team a name.", TeamErrorCode.NAME_REQUIRED)
    if len(text) > TEAM_NAME_MAX:
        raise field_error(
            "name",
            f"A team's name has at most {TEAM_NAME_MAX} characters.",
            TeamErrorCode.NAME_TOO_LONG,
        )
    return text


def clean_team_handle(handle: str) -> str:
    """A team's handle, trimmed and in lower case: 1–30 of a–z, 0–9 and inner hyphens (it
    names the library in `[@Hero@<handle>]`), not a reserved word such as "me"."""
    text = (handle or "").strip().lower()
    if text in RESERVED_HANDLES:
        raise field_error(
            "handle", f"“{text}” is reserved; choose another handle.", TeamErrorCode.HANDLE_RESERVED
        )
    validator = Team._meta.get_field("handle").validators
    try:
        if not text or len(text) > _HANDLE_MAX:
            raise ValidationError("bad")
        for check in validator:
            check(text)
    except ValidationError:
        raise field_error(
            "handle",
            "A handle is 1–30 lower-case letters, digits and inner hyphens, e.g. studio-nine.",
            TeamErrorCode.HANDLE_INVALID,
        ) from None
    return text


def clean_role(role: str) -> str:
    if role not in TeamRole.values:
        raise field_error(
            "role", "The role is owner, admin, editor or viewer.", TeamErrorCode.ROLE_INVALID
        )
    return role


def _handle_taken() -> ValidationError:
    return field_error("handle", "Another team has this handle.", TeamErrorCode.HANDLE_TAKEN)


# --- Teams ----------------------------------------------------------------------------------


def team_create(*, user: AbstractBaseUser, name: str, handle: str) -> Team:
    """Create a team; its creator is its first OWNER. The handle is unique (HANDLE_TAKEN),
    well formed (HANDLE_INVALID) and not reserved (HANDLE_RESERVED); a user belongs to at
    most MAX_TEAMS_PER_USER teams (TOO_MANY_TEAMS)."""
    name = clean_team_name(name)
    handle = clean_team_handle(handle)
    try:
        with transaction.atomic():
            _lock_user(user.pk)
            _check_team_cap(user.pk, field=None)
            if Team.objects.filter(handle=handle).exists():
                raise _handle_taken()
            team = Team(name=name, handle=handle, created_by_id=user.pk)
            team.full_clean(validate_unique=False, validate_constraints=False)
            team.save()
            TeamMembership.objects.create(team=team, user_id=user.pk, role=TeamRole.OWNER)
    except IntegrityError:
        # Another request took the handle between the check and the insert.
        raise _handle_taken() from None
    return team


def team_update(*, user: AbstractBaseUser, team_id: object, name: str) -> Team:
    """Rename a team: its owners only (an admin, editor or viewer: ROLE_FORBIDDEN). The
    handle never changes: qualified mentions in saved prompts name it."""
    name = clean_team_name(name)
    with transaction.atomic():
        team = _locked_team(user, team_id, Action.DELETE_TEAM, field="team")
        if team.name != name:
            team.name = name
            team.full_clean(validate_unique=False, validate_constraints=False)
            team.save(update_fields=["name"])
    return team


def _team_files(team: Team) -> tuple[list[str], list[str]]:
    """The stored files of the team's elements (images, thumbnails, clips, video sources)
    and of its voices."""
    names: list[str] = []
    images = ReferenceImage.objects.filter(element__team_id=team.pk).values_list(
        "image", "thumbnail"
    )
    for image, thumbnail in images:
        names += [image, thumbnail]
    for clip, source in Element.objects.filter(team_id=team.pk).values_list("clip", "video_source"):
        names += [clip, source]
    voices = [a for a in Voice.objects.filter(team_id=team.pk).values_list("audio", flat=True) if a]
    return [n for n in names if n], voices


def team_delete(*, user: AbstractBaseUser, team_id: object) -> int:
    """Delete a team with its library: its owners only (`team_purge` says what goes).
    Returns the team's id."""
    with transaction.atomic():
        team = _locked_team(user, team_id, Action.DELETE_TEAM, field="team")
        return team_purge(team=team)


def team_purge(*, team: Team) -> int:
    """Delete `team` and its library, with no role check (its owners through `team_delete`,
    staff in the admin). Its elements, their images and its voices go with it, and their
    files are deleted once the transaction commits, except those a submitted job or shared
    work still pins (`elements.services.delete_files_after_commit`, as when an element is
    deleted). Elements of other libraries bound to one of its voices lose the voice, with a
    notice (as when a voice is deleted). Returns the team's id."""
    with transaction.atomic():
        pk = team.pk
        element_files, voice_files = _team_files(team)
        for voice_id, voice_name in Voice.objects.filter(team_id=pk).values_list("pk", "name"):
            Element.objects.filter(voice_id=voice_id).exclude(team_id=pk).update(
                voice=None,
                voice_notice=f"The voice “{voice_name}” was deleted with its team.",
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
        Team.objects.filter(pk=pk).delete()
        delete_files_after_commit(element_files + voice_files)
        _voices_withdrawn_after_commit(voice_files)
    return pk


def _voices_withdrawn_after_commit(voice_files: Iterable[str]) -> None:
    files = list(voice_files)

    def send() -> None:
        for voice_file in files:
            for receiver, result in voice_withdrawn.send_robust(
                sender=Voice, voice_file=voice_file
            ):
                if isinstance(result, Exception):
                    logger.error("voice_withdrawn receiver %r failed: %s", receiver, result)

    if files:
        transaction.on_commit(send)


# --- Invitations ----------------------------------------------------------------------------


def _find_user(username: str) -> Any:
    text = (username or "").strip()
    invitee = (
        get_user_model().objects.filter(username__iexact=text, is_active=True).first()
        if text
        else None
    )
    if invitee is None:
        raise field_error("username", "No user has this username.", TeamErrorCode.USER_NOT_FOUND)
    return invitee


def team_invite(
    *, user: AbstractBaseUser, team_id: object, username: str, role: str
) -> TeamInvitation:
    """Invite a user, by username, to join the team with `role`: admins and owners; only
    owners may invite an OWNER (ROLE_FORBIDDEN). Refused: an unknown or inactive username
    (USER_NOT_FOUND), oneself (CANNOT_INVITE_SELF), a member (ALREADY_MEMBER), someone with
    a pending invitation to the team (INVITATION_PENDING), and a team whose members and
    pending invitations already fill MAX_TEAM_SEATS (TEAM_FULL)."""
    role = clean_role(role)
    with transaction.atomic():
        team = _locked_team(user, team_id, Action.MANAGE_MEMBERS, field="team")
        if role == TeamRole.OWNER:
            _require(user, team, Action.MANAGE_OWNERS, field="role")
        invitee = _find_user(username)
        if invitee.pk == user.pk:
            raise field_error(
                "username", "You are in this team already.", TeamErrorCode.CANNOT_INVITE_SELF
            )
        if TeamMembership.objects.filter(team_id=team.pk, user_id=invitee.pk).exists():
            raise field_error(
                "username", "This user is a member already.", TeamErrorCode.ALREADY_MEMBER
            )
        pending = TeamInvitation.objects.filter(
            team_id=team.pk, invitee_id=invitee.pk, status=InvitationStatus.PENDING
        )
        if pending.exists():
            raise field_error(
                "username",
                "This user has an invitation to the team waiting for an answer.",
                TeamErrorCode.INVITATION_PENDING,
            )
        if _seats_taken(team) >= MAX_TEAM_SEATS:
            raise field_error(
                "team",
                f"A team has at most {MAX_TEAM_SEATS} members and pending invitations.",
                TeamErrorCode.TEAM_FULL,
            )
        return TeamInvitation.objects.create(
            team=team, invitee=invitee, invited_by_id=user.pk, role=role
        )


def _own_invitation(user: AbstractBaseUser, invitation_id: object) -> TeamInvitation:
    """An invitation to `user`, locked after its team; anyone else's is NOT_FOUND. (An
    invitation is its invitee's to answer, like a personal object: not a team rule.)"""
    key = row_key(TeamInvitation, invitation_id)
    team_id = (
        TeamInvitation.objects.filter(pk=key, invitee_id=user.pk)
        .values_list("team_id", flat=True)
        .first()
    )
    if team_id is None:
        raise _not_found("invitation", "invitation")
    list(Team.objects.select_for_update().filter(pk=team_id).values_list("pk"))
    invitation = (
        TeamInvitation.objects.select_for_update()
        .filter(pk=key, invitee_id=user.pk)
        .select_related("team")
        .first()
    )
    if invitation is None:  # the team was deleted meanwhile
        raise _not_found("invitation", "invitation")
    return invitation


def _check_pending(invitation: TeamInvitation) -> None:
    if invitation.status != InvitationStatus.PENDING:
        raise field_error(
            "invitation",
            f"This invitation was {invitation.status} already.",
            TeamErrorCode.INVITATION_NOT_PENDING,
        )


def invitation_accept(*, user: AbstractBaseUser, invitation_id: object) -> Team:
    """Accept an invitation to you (anyone else's: NOT_FOUND): you join the team with its
    role. Refused when it was answered or cancelled already (INVITATION_NOT_PENDING) and
    when you belong to MAX_TEAMS_PER_USER teams already (TOO_MANY_TEAMS). The invitation's
    seat becomes the member's, so the team's seat count does not change."""
    with transaction.atomic():
        invitation = _own_invitation(user, invitation_id)
        _check_pending(invitation)
        _lock_user(user.pk)
        if TeamMembership.objects.filter(team_id=invitation.team_id, user_id=user.pk).exists():
            raise field_error(
                "invitation", "You are a member already.", TeamErrorCode.ALREADY_MEMBER
            )
        _check_team_cap(user.pk, field="invitation")
        now = timezone.now()
        TeamMembership.objects.create(
            team_id=invitation.team_id, user_id=user.pk, role=invitation.role, created_at=now
        )
        invitation.status = InvitationStatus.ACCEPTED
        invitation.responded_at = now
        invitation.save(update_fields=["status", "responded_at"])
        return invitation.team


def invitation_decline(*, user: AbstractBaseUser, invitation_id: object) -> TeamInvitation:
    """Decline an invitation to you (anyone else's: NOT_FOUND); one answered or cancelled
    already: INVITATION_NOT_PENDING."""
    with transaction.atomic():
        invitation = _own_invitation(user, invitation_id)
        _check_pending(invitation)
        invitation.status = InvitationStatus.DECLINED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
        return invitation


def invitation_cancel(*, user: AbstractBaseUser, invitation_id: object) -> TeamInvitation:
    """Cancel a pending invitation of the team: admins and owners; an invitation to become
    an OWNER only owners (ROLE_FORBIDDEN). Someone not in the team (the invitee included):
    NOT_FOUND; one answered already: INVITATION_NOT_PENDING."""
    with transaction.atomic():
        invitation = _team_row_locked(user, TeamInvitation, invitation_id, field="invitation")
        team = invitation.team
        _require(user, team, Action.MANAGE_MEMBERS, field="invitation")
        if invitation.role == TeamRole.OWNER:
            _require(user, team, Action.MANAGE_OWNERS, field="invitation")
        _check_pending(invitation)
        invitation.status = InvitationStatus.CANCELLED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
        return invitation


# --- Members --------------------------------------------------------------------------------


def _team_row_locked(user: AbstractBaseUser, model: type[Any], key: object, *, field: str) -> Any:
    """A membership or invitation of a team `user` is a member of, read again after its
    team's row is locked; any other: NOT_FOUND on `field`."""
    what = "member" if model is TeamMembership else "invitation"
    row = policy.get_or_not_found(
        user, model, key, Action.SEE_TEAM, field=field, message=f"No such {what}.", code=NOT_FOUND
    )
    list(Team.objects.select_for_update().filter(pk=row.team_id).values_list("pk"))
    fresh = (
        model.objects.select_for_update(of=("self",))
        .filter(pk=row.pk)
        .select_related("team", "user" if model is TeamMembership else "invitee")
        .first()
    )
    if fresh is None or not policy.allowed(user, fresh.team, Action.SEE_TEAM):
        raise _not_found(field, what)
    return fresh


def _check_not_last_owner(membership: TeamMembership, *, field: str, message: str) -> None:
    if membership.role == TeamRole.OWNER and _owner_count(membership.team) <= 1:
        raise field_error(field, message, TeamErrorCode.LAST_OWNER)


def member_role_change(*, user: AbstractBaseUser, member_id: object, role: str) -> TeamMembership:
    """Give a member another role: admins and owners may make anyone below owner an admin,
    editor or viewer; making or unmaking an OWNER needs an owner (ROLE_FORBIDDEN). An
    editor or viewer: ROLE_FORBIDDEN. The last owner can't be demoted (LAST_OWNER)."""
    role = clean_role(role)
    with transaction.atomic():
        member = _team_row_locked(user, TeamMembership, member_id, field="member")
        team = member.team
        _require(user, team, Action.CHANGE_ROLES, field="member")
        if TeamRole.OWNER in (role, member.role):
            _require(user, team, Action.MANAGE_OWNERS, field="role")
        if member.role == role:
            return member
        _check_not_last_owner(
            member,
            field="role",
            message=NEEDS_OWNER,
        )
        member.role = role
        member.updated_at = timezone.now()
        member.save(update_fields=["role", "updated_at"])
        return member


def member_remove(*, user: AbstractBaseUser, member_id: object) -> int:
    """Remove a member from the team: admins and owners; removing an owner needs an owner
    (ROLE_FORBIDDEN), and the last owner can't be removed (LAST_OWNER). The elements they
    created stay in the team's library. Returns the membership's id."""
    with transaction.atomic():
        member = _team_row_locked(user, TeamMembership, member_id, field="member")
        team = member.team
        _require(user, team, Action.MANAGE_MEMBERS, field="member")
        if member.role == TeamRole.OWNER:
            _require(user, team, Action.MANAGE_OWNERS, field="member")
        _check_not_last_owner(
            member,
            field="member",
            message=NEEDS_OWNER,
        )
        pk = member.pk
        member.delete()
    return pk


def team_leave(*, user: AbstractBaseUser, team_id: object) -> int:
    """Leave a team (any member). Its last owner can't (LAST_OWNER): hand the ownership
    over, or delete the team. The elements you created stay in its library. Returns the
    membership's id."""
    with transaction.atomic():
        team = _locked_team(user, team_id, Action.SEE_TEAM, field="team")
        member = TeamMembership.objects.select_related("team").get(team_id=team.pk, user_id=user.pk)
        _check_not_last_owner(
            member,
            field="team",
            message="You are the team's last owner: make another member owner, or delete the team.",
        )
        pk = member.pk
        member.delete()
    return pk


def ownership_transfer(*, user: AbstractBaseUser, team_id: object, member_id: object) -> Team:
    """Hand the team over: the member becomes an OWNER and the caller (an owner; anyone
    else: ROLE_FORBIDDEN) an ADMIN. A member of another team: NOT_FOUND on `member`.
    Naming yourself changes nothing."""
    with transaction.atomic():
        team = _locked_team(user, team_id, Action.MANAGE_OWNERS, field="team")
        target = (
            TeamMembership.objects.select_for_update()
            .filter(team_id=team.pk, pk=row_key(TeamMembership, member_id))
            .first()
        )
        if target is None:
            raise _not_found("member", "member")
        if target.user_id == user.pk:
            return team
        now = timezone.now()
        if target.role != TeamRole.OWNER:
            TeamMembership.objects.filter(pk=target.pk).update(role=TeamRole.OWNER, updated_at=now)
        TeamMembership.objects.filter(team_id=team.pk, user_id=user.pk).update(
            role=TeamRole.ADMIN, updated_at=now
        )
    return team
