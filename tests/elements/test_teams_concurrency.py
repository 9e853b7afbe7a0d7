"""Team rules under 40 simultaneous requests, on SQLite and PostgreSQL: a team never ends with
no owner, and the seat and team caps hold exactly (the team row is locked before counting)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from elements.teams import services
from elements.teams.models import InvitationStatus, Team, TeamInvitation, TeamMembership
from tests.factories import UserFactory
from tests.support.concurrency import THREADS, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


def error_code(result: object) -> str | None:
    if not isinstance(result, ValidationError):
        return None
    if hasattr(result, "error_dict"):
        return next(e.code for errors in result.error_dict.values() for e in errors)
    return result.error_list[0].code


def outcomes(results: list[object]) -> Counter[str | None]:
    unexpected = [r for r in results if isinstance(r, Exception) and error_code(r) is None]
    assert unexpected == []
    return Counter(error_code(r) or "ok" for r in results)


def owners(team: Team) -> int:
    return TeamMembership.objects.filter(team=team, role="owner").count()


def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    first, second = UserFactory(), UserFactory()
    team = services.team_create(user=first, name="Duo", handle="duo")
    second_m = TeamMembership.objects.create(team=team, user=second, role="owner")
    first_m = TeamMembership.objects.get(team=team, user=first)
    pairs = [(first, second_m), (second, first_m)]

    def demote(i: int) -> object:
        by, target = pairs[i % 2]
        return services.member_role_change(user=by, member_id=target.pk, role="admin")

    seen = outcomes(run_in_parallel(demote))
    assert owners(team) == 1
    # The loser is refused: a demoted owner may no longer touch an owner, or is the last one.
    assert set(seen) <= {"ok", "ROLE_FORBIDDEN", "LAST_OWNER"}
    assert seen["ROLE_FORBIDDEN"] + seen["LAST_OWNER"] >= 1


def test_owners_leaving_at_once_leave_one_owner():
    users = [UserFactory() for _ in range(10)]
    team = services.team_create(user=users[0], name="Crowd", handle="crowd")
    for user in users[1:]:
        TeamMembership.objects.create(team=team, user=user, role="owner")

    def leave(i: int) -> object:
        return services.team_leave(user=users[i % len(users)], team_id=team.pk)

    seen = outcomes(run_in_parallel(leave))
    assert owners(team) == 1
    assert TeamMembership.objects.filter(team=team).count() == 1
    assert seen["ok"] == 9
    assert set(seen) <= {"ok", "LAST_OWNER", "NOT_FOUND"}


def test_parallel_invitations_stop_at_the_seat_cap(monkeypatch):
    monkeypatch.setattr(services, "MAX_TEAM_SEATS", 10)
    owner = UserFactory()
    team = services.team_create(user=owner, name="Seats", handle="seats")
    invitees = [UserFactory() for _ in range(THREADS)]

    def invite(i: int) -> object:
        return services.team_invite(
            user=owner, team_id=team.pk, username=invitees[i].username, role="viewer"
        )

    seen = outcomes(run_in_parallel(invite))
    assert seen == Counter({"ok": 9, "TEAM_FULL": THREADS - 9})
    pending = TeamInvitation.objects.filter(team=team, status=InvitationStatus.PENDING).count()
    assert pending + TeamMembership.objects.filter(team=team).count() == 10


def test_parallel_creates_stop_at_the_team_cap(monkeypatch):
    monkeypatch.setattr(services, "MAX_TEAMS_PER_USER", 5)
    user = UserFactory()

    def create(i: int) -> object:
        return services.team_create(user=user, name=f"Team {i}", handle=f"team-{i}")

    seen = outcomes(run_in_parallel(create))
    assert seen == Counter({"ok": 5, "TOO_MANY_TEAMS": THREADS - 5})
    assert TeamMembership.objects.filter(user=user).count() == 5
