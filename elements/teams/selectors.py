"""Reads about teams: a user's teams, a team's members and invitations, and the element
limit a team library has."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Membership
from accounts.selectors import entitlements_for_membership, non_member_tier
from elements.teams.models import (
    InvitationStatus,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
)


def user_teams(*, user: AbstractBaseUser) -> QuerySet[Team]:
    """The teams `user` is a member of, by name (any role)."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user_id=user.pk).order_by("name", "id")


def _ranked_members() -> QuerySet[TeamMembership]:
    # Owners first, then admins, editors, viewers; in each role the longest-standing first.
    rank = Case(
        *(When(role=role, then=Value(i)) for i, role in enumerate(TeamRole.values)),
        output_field=IntegerField(),
    )
    return (
        TeamMembership.objects.select_related("user")
        .annotate(role_rank=rank)
        .order_by("role_rank", "created_at", "id")
    )


def team_members(*, team: Team) -> QuerySet[TeamMembership]:
    """The team's members with their users: owners first, then admins, editors and viewers,
    each role by who joined first."""
    return _ranked_members().filter(team_id=team.pk)


def members_prefetch(to_attr: str | None = None) -> Prefetch:
    """A team's members, in `team_members` order, for `prefetch_related`."""
    return Prefetch("memberships", queryset=_ranked_members(), to_attr=to_attr)


def team_pending_invitations(*, team: Team) -> QuerySet[TeamInvitation]:
    """The team's pending invitations, newest first."""
    return TeamInvitation.objects.filter(
        team_id=team.pk, status=InvitationStatus.PENDING
    ).select_related("invitee", "invited_by", "team")


def pending_invitations_prefetch(to_attr: str | None = None) -> Prefetch:
    """A team's pending invitations, newest first, for `prefetch_related`."""
    queryset = TeamInvitation.objects.filter(status=InvitationStatus.PENDING).select_related(
        "invitee", "invited_by", "team"
    )
    return Prefetch("invitations", queryset=queryset, to_attr=to_attr)


def user_pending_invitations(*, user: AbstractBaseUser) -> QuerySet[TeamInvitation]:
    """The invitations waiting for `user`'s answer, newest first."""
    if not user.is_authenticated:
        return TeamInvitation.objects.none()
    return TeamInvitation.objects.filter(
        invitee_id=user.pk, status=InvitationStatus.PENDING
    ).select_related("team", "invited_by", "invitee")


def team_owner_ids(*, team: Team) -> list[int]:
    return list(
        TeamMembership.objects.filter(team_id=team.pk, role=TeamRole.OWNER).values_list(
            "user_id", flat=True
        )
    )


def team_element_limit(team: Team) -> int:
    """How many elements the team's library may hold: the best `element_limit` among the
    team's owners, each by the tier in force for them now (`accounts.selectors
    .user_entitlements`, read here for all owners at once). A team whose owners are all
    non-members has the non-member limit. Two queries, whatever the number of owners."""
    owner_ids = team_owner_ids(team=team)
    now = timezone.now()
    non_member = non_member_tier()
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(user_id__in=owner_ids).select_related("tier")
    }
    limits = [
        entitlements_for_membership(
            memberships.get(owner_id), at=now, non_member=non_member
        ).element_limit
        for owner_id in owner_ids
    ]
    return max(limits, default=non_member.element_limit)
