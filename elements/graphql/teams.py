"""Teams in GraphQL: the viewer's teams, their members and invitations, and the mutations
that manage them (`elements.teams.services`). A team the viewer is not a member of is never
reachable: `team(handle:)` answers null and a mutation NOT_FOUND, as for a team that does not
exist (`elements.teams.policy`)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, current_user, require_user
from elements.graphql.mutations import DeleteResult
from elements.teams import policy, selectors, services
from elements.teams.models import (
    InvitationStatus,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
)
from elements.teams.policy import ROLE_ACTIONS, Action
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.ids import node_pk
from elementsite.relay import PkNodeID

# TeamRole is registered as a GraphQL enum by `elements.graphql.libraries` (imported above
# through `mutations`), once.
choices_enum(
    InvitationStatus,
    name="TeamInvitationStatus",
    description="Where an invitation to a team stands.",
)
TeamRoleEnum = TeamRole

# The attributes the team queries prefetch into (`_teams_queryset`).
_MEMBERS = "ranked_members"
_PENDING = "pending_invitations"


def _viewer_id(info: Info) -> int | None:
    user = current_user(info)
    return user.pk if user is not None else None


def _members(team: Team) -> list[TeamMembership]:
    members = getattr(team, _MEMBERS, None)
    if members is None:
        members = list(selectors.team_members(team=team))
        setattr(team, _MEMBERS, members)
    return members


def _viewer_role(team: Team, info: Info) -> str | None:
    viewer = _viewer_id(info)
    return next((m.role for m in _members(team) if m.user_id == viewer), None)


@strawberry.type(description="What the viewer may do with a team, by their role.")
class TeamPermissions:
    manage_members: bool = strawberry.field(
        description="Invite members, cancel invitations and remove members (admins, owners)."
    )
    change_roles: bool = strawberry.field(
        description="Make members admins, editors or viewers (admins, owners)."
    )
    manage_owners: bool = strawberry.field(
        description="Make or unmake owners and hand the team over (owners)."
    )
    delete_team: bool = strawberry.field(description="Rename or delete the team (owners).")
    edit: bool = strawberry.field(
        description="Create, change and delete the library's elements (editors and above)."
    )
    leave: bool = strawberry.field(
        description="Leave the team: everyone but its last owner, who hands it over first."
    )


@strawberry_django.type(
    TeamMembership, name="TeamMember", description="A member of a team the viewer belongs to."
)
class TeamMemberNode(PkNodeID, relay.Node):
    role: TeamRoleEnum = column(description="Their role in the team.")
    joined_at: datetime.datetime = column(
        description="When they joined the team.", field_name="created_at"
    )

    @strawberry_django.field(description="Their username.", select_related=["user"])
    def username(self, root: TeamMembership) -> str:
        return root.user.username

    @strawberry_django.field(description="True for the viewer's own membership.", only=["user_id"])
    def is_viewer(self, root: TeamMembership, info: Info) -> bool:
        return bool(root.user_id == _viewer_id(info))

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return policy.permitted(current_user(info), queryset, Action.SEE_TEAM)


def _invitation_scope(info: Info) -> Q:
    # The invitee sees their invitations; a team's admins and owners see the team's.
    user = current_user(info)
    if user is None:
        return Q(pk__in=[])
    return Q(invitee_id=user.pk) | policy.scope(user, TeamInvitation, Action.MANAGE_MEMBERS)


@strawberry_django.type(
    TeamInvitation,
    name="TeamInvitation",
    description="An invitation to join a team with a role: the invitee's to accept or "
    "decline, the team's admins' and owners' to cancel.",
)
class TeamInvitationNode(PkNodeID, relay.Node):
    role: TeamRoleEnum = column(description="The role the invitee gets on accepting.")
    status: InvitationStatus = column(description="Pending until answered or cancelled.")
    created_at: datetime.datetime = column(description="When it was sent.")

    @strawberry_django.field(description="The team's name.", select_related=["team"])
    def team_name(self, root: TeamInvitation) -> str:
        return root.team.name

    @strawberry_django.field(
        description="The team's handle: its library's qualifier.", select_related=["team"]
    )
    def team_handle(self, root: TeamInvitation) -> str:
        return root.team.handle

    @strawberry_django.field(
        description="The username of who sent it; null if their account is gone.",
        select_related=["invited_by"],
    )
    def invited_by(self, root: TeamInvitation) -> str | None:
        return root.invited_by.username if root.invited_by is not None else None

    @strawberry_django.field(description="The invitee's username.", select_related=["invitee"])
    def invitee(self, root: TeamInvitation) -> str:
        return root.invitee.username

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return queryset.filter(_invitation_scope(info))


@strawberry_django.type(
    Team, name="Team", description="A team the viewer is a member of, and its shared library."
)
class TeamNode(PkNodeID, relay.Node):
    name: str = column(description="The team's name.")
    handle: str = column(
        description='Unique; names the team\'s library: `library: "<handle>"` arguments and '
        "qualified mentions `[@Hero@<handle>]`."
    )
    created_at: datetime.datetime = column(description="When the team was created.")

    @strawberry.field(description="The viewer's role in the team.")
    def viewer_role(self, root: Team, info: Info) -> TeamRoleEnum:
        return TeamRole(_viewer_role(root, info) or TeamRole.VIEWER)

    @strawberry.field(
        description="The members: owners first, then admins, editors and viewers, each by "
        "who joined first."
    )
    def members(self, root: Team) -> list[TeamMemberNode]:
        return _members(root)  # type: ignore[return-value]

    @strawberry.field(
        description="Pending invitations, newest first; empty unless the viewer may manage "
        "members (admins, owners)."
    )
    def invitations(self, root: Team, info: Info) -> list[TeamInvitationNode]:
        role = _viewer_role(root, info)
        if role is None or Action.MANAGE_MEMBERS not in ROLE_ACTIONS[role]:
            return []
        pending = getattr(root, _PENDING, None)
        if pending is None:
            pending = list(selectors.team_pending_invitations(team=root))
        return pending  # type: ignore[no-any-return]

    @strawberry.field(description="What the viewer may do with the team.")
    def viewer_can(self, root: Team, info: Info) -> TeamPermissions:
        role = _viewer_role(root, info)
        actions = ROLE_ACTIONS.get(role, frozenset()) if role else frozenset()
        owners = sum(1 for m in _members(root) if m.role == TeamRole.OWNER)
        return TeamPermissions(
            manage_members=Action.MANAGE_MEMBERS in actions,
            change_roles=Action.CHANGE_ROLES in actions,
            manage_owners=Action.MANAGE_OWNERS in actions,
            delete_team=Action.DELETE_TEAM in actions,
            edit=Action.EDIT in actions,
            leave=role is not None and not (role == TeamRole.OWNER and owners <= 1),
        )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return policy.permitted(current_user(info), queryset, Action.SEE_TEAM)


def _teams_queryset(info: Info) -> QuerySet[Team]:
    """The viewer's teams with their members and pending invitations: three queries for any
    number of teams."""
    return selectors.user_teams(user=require_user(info)).prefetch_related(
        selectors.members_prefetch(to_attr=_MEMBERS),
        selectors.pending_invitations_prefetch(to_attr=_PENDING),
    )


@strawberry.type
class TeamQuery:
    @strawberry.field(
        description="The viewer's teams, by name.", permission_classes=[IsAuthenticated]
    )
    def teams(self, info: Info) -> list[TeamNode]:
        return list(_teams_queryset(info))  # type: ignore[arg-type]

    @strawberry.field(
        description="One of the viewer's teams by its handle; null if there is none or the "
        "viewer is not a member.",
        permission_classes=[IsAuthenticated],
    )
    def team(
        self,
        info: Info,
        handle: Annotated[str, strawberry.argument(description="The team's handle.")],
    ) -> TeamNode | None:
        return _teams_queryset(info).filter(handle=handle.strip().lower()).first()  # type: ignore[return-value]

    @strawberry.field(
        description="Invitations waiting for the viewer's answer, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def my_invitations(self, info: Info) -> list[TeamInvitationNode]:
        return list(selectors.user_pending_invitations(user=require_user(info)))  # type: ignore[arg-type]


# --- Mutations ------------------------------------------------------------------------------


@strawberry.input(description="A new team.")
class TeamCreateInput:
    name: str = strawberry.field(description="The team's name, 1–60 characters.")
    handle: str = strawberry.field(
        description="Unique, 1–30 lower-case letters, digits and inner hyphens (e.g. "
        "`studio-nine`); names the library in `[@Hero@studio-nine]`. It can't change later."
    )


@strawberry.input(description="A new name for a team.")
class TeamUpdateInput:
    team: strawberry.ID = strawberry.field(description="The team.")
    name: str = strawberry.field(description="The new name, 1–60 characters.")


@strawberry.input(description="A team to act on.")
class TeamIdInput:
    team: strawberry.ID = strawberry.field(description="The team.")


@strawberry.input(description="Someone to invite to a team.")
class TeamInviteInput:
    team: strawberry.ID = strawberry.field(description="The team.")
    username: str = strawberry.field(description="The username of who to invite.")
    role: TeamRoleEnum = strawberry.field(
        description="The role they get on accepting; OWNER only when an owner invites."
    )


@strawberry.input(description="An invitation to act on.")
class TeamInvitationIdInput:
    invitation: strawberry.ID = strawberry.field(description="The invitation.")


@strawberry.input(description="A member and their new role.")
class TeamMemberRoleChangeInput:
    member: strawberry.ID = strawberry.field(description="The member (a TeamMember id).")
    role: TeamRoleEnum = strawberry.field(description="The new role.")


@strawberry.input(description="A member to act on.")
class TeamMemberIdInput:
    member: strawberry.ID = strawberry.field(description="The member (a TeamMember id).")


@strawberry.input(description="Who becomes the team's owner.")
class TeamOwnershipTransferInput:
    team: strawberry.ID = strawberry.field(description="The team.")
    member: strawberry.ID = strawberry.field(
        description="The member who becomes an owner; you become an admin."
    )


@strawberry.type(description="The team after the change.")
class TeamResult:
    team: TeamNode = strawberry.field(description="The team.")


@strawberry.type(description="The invitation after the change.")
class TeamInvitationResult:
    invitation: TeamInvitationNode = strawberry.field(description="The invitation.")


@strawberry.type(description="The member after the change.")
class TeamMemberResult:
    member: TeamMemberNode = strawberry.field(description="The member.")


def _gid(node_type: type, pk: object) -> relay.GlobalID:
    return relay.GlobalID(node_type.__strawberry_definition__.name, str(pk))  # type: ignore[attr-defined]


@strawberry.type
class TeamMutation:
    @strawberry_django.mutation(description="Create a team; you are its first owner.")
    def team_create(
        self,
        info: Info,
        input: Annotated[TeamCreateInput, strawberry.argument(description="The new team.")],
    ) -> TeamResult:
        team = services.team_create(user=require_user(info), name=input.name, handle=input.handle)
        return TeamResult(team=team)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Rename a team (owners).")
    def team_update(
        self,
        info: Info,
        input: Annotated[TeamUpdateInput, strawberry.argument(description="The team and name.")],
    ) -> TeamResult:
        team = services.team_update(
            user=require_user(info), team_id=node_pk(input.team, TeamNode), name=input.name
        )
        return TeamResult(team=team)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Delete a team with its library: its elements and voices (owners)."
    )
    def team_delete(
        self,
        info: Info,
        input: Annotated[TeamIdInput, strawberry.argument(description="The team to delete.")],
    ) -> DeleteResult:
        pk = services.team_delete(user=require_user(info), team_id=node_pk(input.team, TeamNode))
        return DeleteResult(deleted_id=_gid(TeamNode, pk))

    @strawberry_django.mutation(
        description="Invite a user to a team by username (admins, owners; OWNER: owners)."
    )
    def team_invite(
        self,
        info: Info,
        input: Annotated[TeamInviteInput, strawberry.argument(description="Who and as what.")],
    ) -> TeamInvitationResult:
        invitation = services.team_invite(
            user=require_user(info),
            team_id=node_pk(input.team, TeamNode),
            username=input.username,
            role=TeamRole(input.role).value,
        )
        return TeamInvitationResult(invitation=invitation)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Cancel a pending invitation (admins, owners).")
    def team_invitation_cancel(
        self,
        info: Info,
        input: Annotated[
            TeamInvitationIdInput, strawberry.argument(description="The invitation to cancel.")
        ],
    ) -> TeamInvitationResult:
        invitation = services.invitation_cancel(
            user=require_user(info),
            invitation_id=node_pk(input.invitation, TeamInvitationNode),
        )
        return TeamInvitationResult(invitation=invitation)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Accept an invitation to you: you join the team.")
    def team_invitation_accept(
        self,
        info: Info,
        input: Annotated[
            TeamInvitationIdInput, strawberry.argument(description="The invitation to accept.")
        ],
    ) -> TeamResult:
        team = services.invitation_accept(
            user=require_user(info),
            invitation_id=node_pk(input.invitation, TeamInvitationNode),
        )
        return TeamResult(team=team)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Decline an invitation to you.")
    def team_invitation_decline(
        self,
        info: Info,
        input: Annotated[
            TeamInvitationIdInput, strawberry.argument(description="The invitation to decline.")
        ],
    ) -> TeamInvitationResult:
        invitation = services.invitation_decline(
            user=require_user(info),
            invitation_id=node_pk(input.invitation, TeamInvitationNode),
        )
        return TeamInvitationResult(invitation=invitation)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Change a member's role (admins, owners; making or unmaking an owner: "
        "owners). The last owner can't be demoted."
    )
    def team_member_role_change(
        self,
        info: Info,
        input: Annotated[
            TeamMemberRoleChangeInput, strawberry.argument(description="The member and role.")
        ],
    ) -> TeamMemberResult:
        member = services.member_role_change(
            user=require_user(info),
            member_id=node_pk(input.member, TeamMemberNode),
            role=TeamRole(input.role).value,
        )
        return TeamMemberResult(member=member)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Remove a member from a team (admins, owners; an owner: owners). The "
        "elements they created stay in the team's library."
    )
    def team_member_remove(
        self,
        info: Info,
        input: Annotated[TeamMemberIdInput, strawberry.argument(description="The member.")],
    ) -> DeleteResult:
        pk = services.member_remove(
            user=require_user(info), member_id=node_pk(input.member, TeamMemberNode)
        )
        return DeleteResult(deleted_id=_gid(TeamMemberNode, pk))

    @strawberry_django.mutation(
        description="Leave a team; `deletedId` is your TeamMember id. Its last owner can't: "
        "hand it over or delete it."
    )
    def team_leave(
        self,
        info: Info,
        input: Annotated[TeamIdInput, strawberry.argument(description="The team to leave.")],
    ) -> DeleteResult:
        pk = services.team_leave(user=require_user(info), team_id=node_pk(input.team, TeamNode))
        return DeleteResult(deleted_id=_gid(TeamMemberNode, pk))

    @strawberry_django.mutation(
        description="Hand a team over (owners): the member becomes an owner, you an admin."
    )
    def team_ownership_transfer(
        self,
        info: Info,
        input: Annotated[
            TeamOwnershipTransferInput, strawberry.argument(description="The team and member.")
        ],
    ) -> TeamResult:
        team = services.ownership_transfer(
            user=require_user(info),
            team_id=node_pk(input.team, TeamNode),
            member_id=node_pk(input.member, TeamMemberNode),
        )
        return TeamResult(team=team)  # type: ignore[arg-type]
