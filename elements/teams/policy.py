"""The one access policy: may this user do this to this object?

Every element, reference image, voice, export, job and media-file check asks `allowed(user,
obj, action)`, or, for a list or a locked lookup, filters by `scope(user, model, action)`,
the same rule as a query condition. Nothing else in the code decides access.

A library is a user's own (the rows whose `team` is empty: its owner may do everything) or a
team's, where the member's role decides (`ROLE_ACTIONS`). Anyone else may do nothing, and is
told `NOT_FOUND` exactly as for an id no row has (`get_or_not_found`).

Objects of higher apps (a generation job, its outputs) register their own rule and scope with
`register` (`generation.apps`), so the lower app never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import BooleanField, F, Func, Q, QuerySet

from elements.teams.models import (
    PERSONAL_LIBRARY,
    Team,
    TeamInvitation,
    TeamMembership,
    TeamRole,
)


class Action(StrEnum):
    # --- what may be done to a library's content (elements, their images, voices)
    VIEW = "view"  # see it in a listing, open it, see its images
    USE = "use"  # mention it, bind it in a job, bind the voice to an element
    EDIT = "edit"  # create in the library, change, delete, import into it
    DOWNLOAD_VOICE = "download_voice"  # the voice's audio file (URL, export)
    EXPORT = "export"  # a bundle of the library's elements (voice files need DOWNLOAD_VOICE)
    # --- what may be done to a team itself
    SEE_TEAM = "see_team"  # its members, roles and invitations
    MANAGE_MEMBERS = "manage_members"  # invite, cancel an invitation, remove a member
    CHANGE_ROLES = "change_roles"  # make a member admin, editor or viewer
    MANAGE_OWNERS = "manage_owners"  # make or unmake an owner, transfer ownership
    DELETE_TEAM = "delete_team"  # and rename it: the owners' (billing and deletion)


_CONTENT = frozenset({Action.VIEW, Action.USE, Action.EXPORT})
_EDITOR = _CONTENT | {Action.EDIT, Action.DOWNLOAD_VOICE}
_ADMIN = _EDITOR | {Action.SEE_TEAM, Action.MANAGE_MEMBERS, Action.CHANGE_ROLES}

# The role matrix. A viewer uses and sees; an editor also creates, edits, deletes and
# downloads voice files; an admin also manages members and their roles (below owner); an
# owner also makes owners, transfers ownership, renames and deletes the team.
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    TeamRole.OWNER: frozenset(Action),
    TeamRole.ADMIN: frozenset(_ADMIN),
    TeamRole.EDITOR: frozenset(_EDITOR | {Action.SEE_TEAM}),
    TeamRole.VIEWER: frozenset(_CONTENT | {Action.SEE_TEAM}),
}
# The owner of a personal library may do all that a library allows.
PERSONAL_ACTIONS = frozenset(_EDITOR)


def roles_allowing(action: Action) -> list[str]:
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


@dataclass(frozen=True)
class Library:
    """A library: a user's own (`team` None) or a team's."""

    owner_id: int | None = None
    team: Team | None = None

    @property
    def team_id(self) -> int | None:
        return self.team.pk if self.team is not None else None

    @property
    def is_personal(self) -> bool:
        return self.team is None

    @property
    def qualifier(self) -> str:
        """What follows the name in a qualified mention: `[@Hero@<qualifier>]`."""
        return PERSONAL_LIBRARY if self.team is None else self.team.handle

    def owns(self, obj: Any) -> bool:
        """Whether an element or voice belongs to this library."""
        if self.team is not None:
            return bool(obj.team_id == self.team.pk)
        return obj.team_id is None and obj.owner_id == self.owner_id

    def rows(self) -> Q:
        """This library's elements or voices as a query condition."""
        if self.team is not None:
            return Q(team_id=self.team.pk)
        return Q(team__isnull=True, owner_id=self.owner_id)


def personal_library(user: AbstractBaseUser) -> Library:
    return Library(owner_id=user.pk)


def team_role(user: AbstractBaseUser, team_id: int | None) -> str | None:
    """The user's role in the team, or None (not a member): one query, never cached, so a
    member removed a moment ago has no role now."""
    if team_id is None or not user.is_authenticated:
        return None
    roles = TeamMembership.objects.filter(team_id=team_id, user_id=user.pk).values_list(
        "role", flat=True
    )
    return next(iter(roles), None)


def library_actions(user: AbstractBaseUser, library: Library) -> frozenset[Action]:
    """What `user` may do in `library` (empty: nothing, not even learn it exists)."""
    if not user.is_authenticated:
        return frozenset()
    if library.team is None:
        return PERSONAL_ACTIONS if library.owner_id == user.pk else frozenset()
    role = team_role(user, library.team.pk)
    return ROLE_ACTIONS.get(role, frozenset()) if role else frozenset()


# --- Rules per kind of object -------------------------------------------------------------------

Rule = Callable[[AbstractBaseUser, Any, Action], bool]
ScopeRule = Callable[[AbstractBaseUser, Action], Q]
_RULES: dict[type[models.Model], Rule] = {}
_SCOPES: dict[type[models.Model], ScopeRule] = {}


def register(model: type[models.Model], *, rule: Rule, scope: ScopeRule) -> None:
    """Let `allowed` and `scope` answer for `model` (a higher app's: jobs, outputs)."""
    _RULES[model] = rule
    _SCOPES[model] = scope


def _library_rule(user: AbstractBaseUser, obj: Any, action: Action) -> bool:
    if obj.team_id is None:
        return obj.owner_id == user.pk and action in PERSONAL_ACTIONS
    role = team_role(user, obj.team_id)
    return role is not None and action in ROLE_ACTIONS[role]


def library_scope(user: AbstractBaseUser, action: Action, prefix: str = "") -> Q:
    """Rows of every library where `user` may do `action`, as one condition (a subquery for
    the teams: one query whatever the number of teams)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    own = (
        Q(**{f"{prefix}team__isnull": True, f"{prefix}owner_id": user.pk})
        if action in PERSONAL_ACTIONS
        else Q(pk__in=[])
    )
    return own | Q(InTeams(F(f"{prefix}team_id"), user_id=user.pk, roles=roles_allowing(action)))


def teams_allowing(user: AbstractBaseUser, action: Action) -> QuerySet[Any]:
    """The ids of the teams where `user`'s role allows `action`, as a subquery."""
    return TeamMembership.objects.filter(user_id=user.pk, role__in=roles_allowing(action)).values(
        "team_id"
    )


class InTeams(Func):
    """`team_id IN (SELECT …)` of the teams where the user's role is one of `roles` (what
    `teams_allowing` selects), written `team_id = ANY(ARRAY(SELECT …))` on PostgreSQL: the
    array is computed once, so each side of the OR with the user's own rows is an index
    scan (an IN subquery is a hashed filter, and the OR made PostgreSQL read the table).

    The subquery is written here, not compiled from a queryset: every scoped read (the
    listing, a submit's compile and pins) has one, and building and compiling that queryset
    each time cost more than the rest of the read's condition."""

    output_field = BooleanField()

    def __init__(self, column: Any, *, user_id: Any, roles: list[str]) -> None:
        super().__init__(column)
        self.user_id = user_id
        self.roles = tuple(roles)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        if not self.roles:  # as `role__in=[]` would: no team can match
            raise EmptyResultSet
        column, column_params = compiler.compile(self.source_expressions[0])
        meta = TeamMembership._meta
        quote = connection.ops.quote_name
        alias = quote("policy_member")
        # Names from the model's metadata, every value a parameter.
        rows = (
            f"(SELECT {alias}.{quote(meta.get_field('team').column)} "  # noqa: S608
            f"FROM {quote(meta.db_table)} {alias} "
            f"WHERE {alias}.{quote(meta.get_field('user').column)} = %s "
            f"AND {alias}.{quote(meta.get_field('role').column)} "
            f"IN ({', '.join(['%s'] * len(self.roles))}))"
        )
        params = [*column_params, self.user_id, *self.roles]
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY{rows})", params
        return f"{column} IN {rows}", params


def _team_rule(team_of: Callable[[Any], int]) -> Rule:
    """The rule for a team (`team_of` = its pk) or a part of one, a membership or an
    invitation (`team_of` = its team_id): what the user's role in that team allows."""

    def rule(user: AbstractBaseUser, row: Any, action: Action) -> bool:
        role = team_role(user, team_of(row))
        return role is not None and action in ROLE_ACTIONS[role]

    return rule


def _team_scope(column: str) -> ScopeRule:
    return lambda user, action: Q(**{f"{column}__in": teams_allowing(user, action)})


def _voice_rule(user: AbstractBaseUser, voice: Any, action: Action) -> bool:
    if voice.owner_id is None:  # a preset of the shared Voice Library
        return action in (Action.VIEW, Action.USE, Action.DOWNLOAD_VOICE)
    return _library_rule(user, voice, action)


def _voice_scope(user: AbstractBaseUser, action: Action) -> Q:
    scoped = library_scope(user, action)
    if action in (Action.VIEW, Action.USE, Action.DOWNLOAD_VOICE):
        scoped |= Q(owner__isnull=True, source="preset")
    return scoped


def _image_rule(user: AbstractBaseUser, image: Any, action: Action) -> bool:
    return _library_rule(user, image.element, action)


def _export_rule(user: AbstractBaseUser, export: Any, action: Action) -> bool:
    # A bundle is its requester's: what they were allowed to put in it when they asked.
    return bool(export.owner_id == user.pk) and action in (Action.VIEW, Action.EXPORT)


def _register_own() -> None:
    from elements.models import Element, ElementExport, ReferenceImage, Voice

    register(Element, rule=_library_rule, scope=library_scope)
    register(Voice, rule=_voice_rule, scope=_voice_scope)
    register(
        ReferenceImage,
        rule=_image_rule,
        scope=lambda user, action: library_scope(user, action, "element__"),
    )
    register(
        ElementExport,
        rule=_export_rule,
        scope=lambda user, action: (
            Q(owner_id=user.pk) if action in (Action.VIEW, Action.EXPORT) else Q(pk__in=[])
        ),
    )
    register(Team, rule=_team_rule(lambda team: team.pk), scope=_team_scope("pk"))
    for part in (TeamMembership, TeamInvitation):
        register(part, rule=_team_rule(lambda row: row.team_id), scope=_team_scope("team_id"))


_OWN_REGISTERED: list[bool] = []


def _ensure_own() -> None:
    # Not "no rule yet": a higher app registers its own in `ready()`, before any check.
    if not _OWN_REGISTERED:
        _OWN_REGISTERED.append(True)
        _register_own()


def _rule_for(model: type[models.Model]) -> Rule:
    _ensure_own()
    for klass in model.__mro__:
        if klass in _RULES:
            return _RULES[klass]
    raise LookupError(f"no access rule for {model.__name__}")


# --- The policy ---------------------------------------------------------------------------------


def allowed(user: AbstractBaseUser | None, obj: Any, action: Action) -> bool:
    """Whether `user` may do `action` to `obj` (an element, image, voice, export, team, a
    `Library`, or a registered model's row). Never raises for a stranger's object."""
    if user is None or not user.is_authenticated or obj is None:
        return False
    if isinstance(obj, Library):
        return action in library_actions(user, obj)
    return _rule_for(type(obj))(user, obj, action)


M = TypeVar("M", bound=models.Model)


def scope(user: AbstractBaseUser | None, model: type[models.Model], action: Action) -> Q:
    """`allowed` as a query condition on `model`'s rows."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    _ensure_own()
    for klass in model.__mro__:
        if klass in _SCOPES:
            return _SCOPES[klass](user, action)
    raise LookupError(f"no access scope for {model.__name__}")


def permitted(
    user: AbstractBaseUser | None, rows: QuerySet[M] | type[M], action: Action
) -> QuerySet[M]:
    """The rows of `rows` on which `user` may do `action`."""
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    return queryset.filter(scope(user, queryset.model, action))


def get_or_not_found(
    user: AbstractBaseUser | None,
    rows: QuerySet[M] | type[M],
    key: object,
    action: Action,
    *,
    field: str | None,
    message: str,
    code: str,
) -> M:
    """The row `key` of `rows` if `user` may do `action` to it; else `code` (the app's
    NOT_FOUND) on `field`, the same answer as for a key no row has."""
    from elementsite.ids import row_or_not_found

    return row_or_not_found(
        permitted(user, rows, action), key, field=field, message=message, code=code
    )


def can_see_but_not(user: AbstractBaseUser | None, obj: Any, action: Action) -> bool:
    """A member who may see `obj` but not do `action` to it (a viewer editing): told
    FORBIDDEN rather than NOT_FOUND, since they already know it exists."""
    return allowed(user, obj, Action.VIEW) and not allowed(user, obj, action)


# --- Libraries a user reaches -------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryAccess:
    library: Library
    role: str  # "owner" for one's own library

    @property
    def actions(self) -> frozenset[Action]:
        if self.library.is_personal:
            return PERSONAL_ACTIONS
        return ROLE_ACTIONS[self.role]


def user_libraries(user: AbstractBaseUser) -> list[LibraryAccess]:
    """The user's own library, then each team's they are a member of (by name): one query."""
    if not user.is_authenticated:
        return []
    out = [LibraryAccess(personal_library(user), TeamRole.OWNER)]
    memberships = (
        TeamMembership.objects.filter(user_id=user.pk)
        .select_related("team")
        .order_by("team__name", "team_id")
    )
    out += [LibraryAccess(Library(team=m.team), m.role) for m in memberships]
    return out


def resolve_library(user: AbstractBaseUser, qualifier: str | None) -> Library | None:
    """The library a client names (`library` arguments, the `@…` of a qualified mention):
    empty or "me" for the user's own, else a team's handle. None when the user is not a
    member of such a team, or there is none: the caller answers NOT_FOUND either way."""
    text = (qualifier or "").strip().lower()
    if not text or text == PERSONAL_LIBRARY:
        return personal_library(user)
    team = Team.objects.filter(handle=text, memberships__user_id=user.pk).first()
    return Library(team=team) if team is not None else None


def library_of(obj: Any) -> Library:
    """The library an element or a (non-preset) voice belongs to; its `team` must be loaded
    or loadable (`select_related("team")` spares the query)."""
    if obj.team_id is not None:
        return Library(team=obj.team)
    return Library(owner_id=obj.owner_id)


def refusal(user: AbstractBaseUser | None, obj: Any, action: Action) -> str | None:
    """Why `user` may not do `action` to `obj`: None (allowed), "forbidden" (a member who
    sees it but whose role forbids: ROLE_FORBIDDEN) or "not_found" (anyone else)."""
    if allowed(user, obj, action):
        return None
    return "forbidden" if allowed(user, obj, Action.VIEW) else "not_found"
