"""The element limit of a team's library (until `elements.teams.selectors.team_element_limit`
of the teams work lands, which answers the same)."""

from __future__ import annotations

from accounts.selectors import user_entitlements
from elements.teams.models import Team, TeamMembership, TeamRole


def team_element_limit(team: Team) -> int:
    """The best element limit among the team's owners' tiers (0 with no owner): a team's
    library is as big as the best plan one of its owners pays for."""
    owners = (
        TeamMembership.objects.filter(team_id=team.pk, role=TeamRole.OWNER)
        .select_related("user")
        .order_by("pk")
    )
    return max((user_entitlements(m.user).element_limit for m in owners), default=0)
