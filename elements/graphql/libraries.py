"""Libraries in GraphQL: the `libraries` query, the `library: String` argument every list and
create takes, and the viewer's role per team, read once per request.

A library argument is "me" (or null / empty) for the viewer's own library, else a team's
handle; a handle the viewer is not a member of is NOT_FOUND on `library`, exactly as one no
team has (`elements.teams.policy.resolve_library`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, current_user, require_user
from elements.error_codes import ElementErrorCode
from elements.selectors import element_count
from elements.services import library_element_limit
from elements.teams.models import PERSONAL_LIBRARY, TeamMembership, TeamRole
from elements.teams.policy import (
    PERSONAL_ACTIONS,
    ROLE_ACTIONS,
    Action,
    Library,
    resolve_library,
    user_libraries,
)
from elementsite.errors import ClientError, field_error
from elementsite.graphql_enums import choices_enum

PERSONAL_LIBRARY_NAME = "Personal"

# The one registration of TeamRole as a GraphQL enum (the teams' GraphQL uses it too).
choices_enum(
    TeamRole,
    description="A member's role in a team, from most to least rights.",
    value_descriptions={
        "OWNER": "Everything: also makes owners, hands the team over, renames and deletes it.",
        "ADMIN": "An editor who also invites and removes members and changes roles below owner.",
        "EDITOR": "Creates, edits and deletes the library's elements; downloads voice files.",
        "VIEWER": "Sees, uses (mentions, binds) and exports the library's elements.",
    },
)


@strawberry.enum(description="Whose library it is.")
class LibraryKind(Enum):
    PERSONAL = strawberry.enum_value("personal", description="The viewer's own library.")
    TEAM = strawberry.enum_value("team", description="A team's shared library.")


# --- The viewer's teams, once per request ------------------------------------------------------


@dataclass(frozen=True)
class TeamSeat:
    """The viewer's place in one team: what the element fields need, read once."""

    team_id: int
    handle: str
    name: str
    role: str

    @property
    def actions(self) -> frozenset[Action]:
        return ROLE_ACTIONS[self.role]


_SEATS_KEY = "_elements_viewer_teams"


def viewer_seats(info: Info) -> dict[int, TeamSeat]:
    """The viewer's teams by id, with their role: one query per request, kept on the request
    (a listing's every element asks; the next request reads them again, so a member removed
    now has no role from then on)."""
    request = info.context.request
    seats: dict[int, TeamSeat] | None = getattr(request, _SEATS_KEY, None)
    if seats is None:
        user = current_user(info)
        seats = {}
        if user is not None:
            for m in TeamMembership.objects.filter(user_id=user.pk).select_related("team"):
                seats[m.team_id] = TeamSeat(m.team_id, m.team.handle, m.team.name, m.role)
        setattr(request, _SEATS_KEY, seats)
    return seats


def viewer_actions(info: Info, *, owner_id: int | None, team_id: int | None) -> frozenset[Action]:
    """What the viewer may do to an element or voice of this library (no query past the
    first of the request)."""
    if team_id is not None:
        seat = viewer_seats(info).get(team_id)
        return seat.actions if seat is not None else frozenset()
    user = current_user(info)
    return PERSONAL_ACTIONS if user is not None and owner_id == user.pk else frozenset()


def library_label(info: Info, team_id: int | None) -> tuple[str, str]:
    """(qualifier, name) of a library of the viewer's."""
    if team_id is None:
        return PERSONAL_LIBRARY, PERSONAL_LIBRARY_NAME
    seat = viewer_seats(info).get(team_id)
    # Unreachable for a row the viewer may see; a row read just after leaving the team says
    # no more than its id.
    return (seat.handle, seat.name) if seat is not None else ("", "")


# --- The library argument ----------------------------------------------------------------------

LIBRARY_ARGUMENT = (
    '"me" (or null) for your own library, else a team\'s handle; NOT_FOUND when you are not '
    "a member of such a team."
)


def library_argument(info: Info, qualifier: str | None) -> Library:
    """A mutation's library: NOT_FOUND on `library` for a handle the viewer is not in."""
    library = resolve_library(require_user(info), qualifier)
    if library is None:
        raise field_error("library", "No such library.", ElementErrorCode.NOT_FOUND)
    return library


def library_query_argument(info: Info, qualifier: str | None) -> Library:
    """A query's library: a GraphQL error NOT_FOUND (field `library`) for a handle the viewer
    is not in."""
    library = resolve_library(require_user(info), qualifier)
    if library is None:
        raise ClientError("No such library.", ElementErrorCode.NOT_FOUND, field="library")
    return library


# --- Types ---------------------------------------------------------------------------------------


@strawberry.type(description="What the viewer may do in a library (their role's rights).")
class LibraryPermissions:
    view: bool = strawberry.field(description="See its elements and voices.")
    use: bool = strawberry.field(description="Mention its elements and bind its voices.")
    edit: bool = strawberry.field(description="Create, change, delete and import into it.")
    download_voice: bool = strawberry.field(description="Download its voices' audio.")
    export: bool = strawberry.field(
        description="Export its elements (voice files only with downloadVoice)."
    )

    @classmethod
    def of(cls, actions: frozenset[Action]) -> LibraryPermissions:
        return cls(
            view=Action.VIEW in actions,
            use=Action.USE in actions,
            edit=Action.EDIT in actions,
            download_voice=Action.DOWNLOAD_VOICE in actions,
            export=Action.EXPORT in actions,
        )


@strawberry.type(name="Library", description="A library the viewer reaches: their own or a team's.")
class LibraryType:
    qualifier: str = strawberry.field(
        description='"me" for your own library, else the team\'s handle: `[@Name@<qualifier>]`.'
    )
    name: str = strawberry.field(description="The team's name, or “Personal”.")
    kind: LibraryKind = strawberry.field(description="Personal or a team's.")
    team_id: relay.GlobalID | None = strawberry.field(
        description="The team's global id; null for your own library."
    )
    role: TeamRole = strawberry.field(  # type: ignore[valid-type]
        description="Your role in it (OWNER for your own library)."
    )
    element_count: int = strawberry.field(description="How many elements it holds.")
    element_limit: int = strawberry.field(
        description="How many it may hold: your tier's, or the best tier of the team's owners."
    )
    viewer_can: LibraryPermissions = strawberry.field(description="What you may do in it.")


@strawberry.type
class LibraryQuery:
    @strawberry.field(
        description="Your own library first, then each team's you are a member of (by name).",
        permission_classes=[IsAuthenticated],
    )
    def libraries(self, info: Info) -> list[LibraryType]:
        user = require_user(info)
        out = []
        for access in user_libraries(user):
            library = access.library
            team = library.team
            out.append(
                LibraryType(
                    qualifier=library.qualifier,
                    name=team.name if team is not None else PERSONAL_LIBRARY_NAME,
                    kind=LibraryKind.PERSONAL if team is None else LibraryKind.TEAM,
                    team_id=relay.GlobalID("Team", str(team.pk)) if team is not None else None,
                    role=TeamRole(access.role),
                    element_count=element_count(library=library),
                    element_limit=library_element_limit(library, user),
                    viewer_can=LibraryPermissions.of(access.actions),
                )
            )
        return out
