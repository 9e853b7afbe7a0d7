"""What happens to a team library when a user's account is deleted.

A team element or voice has an `owner` too: the member who created it. With a plain CASCADE
on `owner`, deleting that member's account would take their work out of the team's library.
Instead, when a user is deleted:

- their personal elements and voices go with them (CASCADE, as before);
- their team elements and voices are handed to the team's heir (`team_heirs`): the
  longest-standing remaining owner; if the user was the team's last owner, the remaining
  member with the highest role (admin, then editor, then viewer), the longest-standing first,
  who is made an OWNER so the team keeps one;
- a team left with no member at all is deleted with its library.

Why the `on_delete` of the foreign keys and not a `pre_delete` receiver on the user: Django's
deletion collector picks the rows it will delete (and the updates it will make) before it sends
any `pre_delete`; a receiver that moved the elements would be too late, they are deleted by
primary key anyway. An `on_delete` handler is asked while the collector collects, for every
way a user is deleted (`user.delete()`, a queryset's `delete()`, the admin's "delete
selected"), and it only reads: the hand-over is scheduled as the collector's own field updates,
so the admin's "are you sure?" page (which collects without deleting) changes nothing, and it
lists the teams that will be deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import CASCADE

if TYPE_CHECKING:  # the models name these handlers: imported where they run
    from elements.teams.models import TeamMembership


def team_heirs(
    team_ids: Iterable[int], leaving_user_ids: Iterable[int], *, using: str = "default"
) -> dict[int, TeamMembership | None]:
    """Per team, the membership that takes over what leaving users created in it: its
    longest-standing owner among those who stay; with none, the staying member of the highest
    role, the longest-standing first; None when no member stays (the team goes)."""
    from elements.teams.models import ROLE_RANK, TeamMembership, TeamRole

    team_ids = set(team_ids)
    leaving = set(leaving_user_ids)
    heirs: dict[int, TeamMembership | None] = dict.fromkeys(team_ids)
    staying = (
        TeamMembership.objects.using(using)
        .filter(team_id__in=team_ids)
        .exclude(user_id__in=leaving)
        .order_by("created_at", "id")
    )
    for member in staying:
        current = heirs[member.team_id]
        if current is None or ROLE_RANK[TeamRole(member.role)] > ROLE_RANK[TeamRole(current.role)]:
            heirs[member.team_id] = member
    return heirs


def _leaving_user_ids(collector: Any, field: Any) -> set[int]:
    # Every user the collector deletes, not only the owner of these rows: a heir must not be
    # someone deleted in the same batch.
    return {user.pk for user in collector.data.get(field.remote_field.model, ())}


def hand_over_team_rows(collector: Any, field: Any, sub_objs: Any, using: str) -> None:
    """`on_delete` of `Element.owner` and `Voice.owner`: personal rows CASCADE; team rows
    go to the team's heir (`team_heirs`), or with the team when no member stays."""
    rows = list(sub_objs)
    if not rows:
        return
    model = type(rows[0])
    team_of = dict(
        model._base_manager.using(using)
        .filter(pk__in=[row.pk for row in rows])
        .values_list("pk", "team_id")
    )
    personal = [row for row in rows if team_of.get(row.pk) is None]
    in_teams = [row for row in rows if team_of.get(row.pk) is not None]
    heirs = team_heirs(
        {team_of[row.pk] for row in in_teams}, _leaving_user_ids(collector, field), using=using
    )
    orphaned = []
    by_heir: dict[int, list[Any]] = defaultdict(list)
    for row in in_teams:
        heir = heirs[team_of[row.pk]]
        if heir is None:
            orphaned.append(row)
        else:
            by_heir[heir.user_id].append(row)
    if personal or orphaned:
        going = model._base_manager.using(using).filter(pk__in=[r.pk for r in personal + orphaned])
        CASCADE(collector, field, going, using)
    users = field.remote_field.model._base_manager.using(using).in_bulk(list(by_heir))
    for user_id, objs in by_heir.items():
        collector.add_field_update(field, users[user_id], objs)


def leave_teams(collector: Any, field: Any, sub_objs: Any, using: str) -> None:
    """`on_delete` of `TeamMembership.user`: the memberships go (CASCADE); a team whose last
    owner leaves gets its heir made an OWNER; a team no member stays in is deleted with its
    library."""
    from elements.teams.models import Team, TeamMembership, TeamRole

    rows = list(sub_objs)
    if not rows:
        return
    team_ids = set(
        TeamMembership.objects.using(using)
        .filter(pk__in=[row.pk for row in rows])
        .values_list("team_id", flat=True)
    )
    heirs = team_heirs(team_ids, _leaving_user_ids(collector, field), using=using)
    gone = [team_id for team_id, heir in heirs.items() if heir is None]
    promoted = [heir for heir in heirs.values() if heir is not None and heir.role != TeamRole.OWNER]
    if promoted:
        collector.add_field_update(TeamMembership._meta.get_field("role"), TeamRole.OWNER, promoted)
    if gone:
        collector.collect(
            list(Team.objects.using(using).filter(pk__in=gone)), fail_on_restricted=False
        )
    CASCADE(collector, field, sub_objs, using)
