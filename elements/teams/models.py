"""Teams and their members. A team owns a library of elements and voices (`Element.team`,
`Voice.team`); the user's own library is the rows whose `team` is empty."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Trim
from django.utils import timezone

from elements.teams.deletion import leave_teams

TEAM_NAME_MAX = 60
# A handle names the team's library in a qualified mention, `[@Hero@studio-nine]`: lower-case
# letters, digits and inner hyphens, so it can never hold the `@`, `[` or `]` the mention
# syntax is made of. "me" is the personal library's qualifier and can't be a team's.
TEAM_HANDLE_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$"
PERSONAL_LIBRARY = "me"
RESERVED_HANDLES = frozenset({PERSONAL_LIBRARY, "personal", "all", "team", "teams"})


class TeamRole(models.TextChoices):
    # Ordered from most to least rights; `ROLE_RANK` compares them.
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {TeamRole.OWNER: 4, TeamRole.ADMIN: 3, TeamRole.EDITOR: 2, TeamRole.VIEWER: 1}


class Team(models.Model):
    """A team and its shared library."""

    name = models.CharField(max_length=TEAM_NAME_MAX)
    handle = models.CharField(
        max_length=30,
        unique=True,
        validators=[RegexValidator(TEAM_HANDLE_PATTERN)],
        help_text="Names the library in qualified mentions: `[@Hero@<handle>]`.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(name=Trim("name")) & ~Q(name=""), name="elements_team_name_trimmed"
            ),
            models.CheckConstraint(
                condition=~Q(handle="") & ~Q(handle__in=RESERVED_HANDLES),
                name="elements_team_handle_not_reserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (@{self.handle})"


class TeamMembership(models.Model):
    """A user's place in a team. A team always keeps one owner or more
    (`elements.teams.services`)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    # A deleted account's memberships go; a team it was the last owner of gets a new one,
    # or goes when no member stays (elements.teams.deletion).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=leave_teams, related_name="team_memberships"
    )
    role = models.CharField(max_length=8, choices=TeamRole.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="elements_team_member_once"),
        ]
        indexes = [models.Index(fields=["user", "team"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class TeamInvitation(models.Model):
    """An invitation to join a team with a role, which the invitee accepts or declines."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    role = models.CharField(max_length=8, choices=TeamRole.choices)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "invitee"],
                condition=Q(status="pending"),
                name="elements_team_invitation_pending_once",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "status"])]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.team} as {self.role} ({self.status})"
