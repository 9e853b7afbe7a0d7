"""Reads of the element library, always scoped to a library the reader may see
(`elements.teams.policy`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Collate, Length, Lower

from elements.models import (
    Element,
    ElementStatus,
    ReferenceImage,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from elements.teams.models import PERSONAL_LIBRARY
from elements.teams.policy import Action, Library, permitted, personal_library


def element_count(*, owner: AbstractBaseUser | None = None, library: Library | None = None) -> int:
    """How many elements a library holds (default: `owner`'s own, which counts only their
    team-less rows), the number compared with its element limit."""
    if library is None:
        assert owner is not None
        library = personal_library(owner)
    return Element.objects.filter(library.rows()).count()


@dataclass(frozen=True)
class ElementFilters:
    type: str | None = None
    status: str | None = None
    search: str | None = None


def element_list(
    *,
    owner: AbstractBaseUser,
    filters: ElementFilters | None = None,
    library: Library | None = None,
) -> QuerySet[Element]:
    """The elements of `library` (default: `owner`'s own) that `owner`, the reader, may see
    (none of a library they are not a member of), newest change first, optionally filtered."""
    library = library or personal_library(owner)
    qs = permitted(owner, Element, Action.VIEW).filter(library.rows())
    if filters is not None:
        if filters.type:
            qs = qs.filter(type=filters.type)
        if filters.status:
            qs = qs.filter(status=filters.status)
        if filters.search and filters.search.strip():
            term = filters.search.strip()
            qs = qs.filter(Q(name__icontains=term) | Q(description__icontains=term))
    return qs.order_by("-updated_at", "-id")


def element_get(*, owner: AbstractBaseUser, element_id: int) -> Element | None:
    """An element of any library `owner` (the reader) may see, or None."""
    return (
        permitted(owner, Element, Action.VIEW)
        .filter(pk=element_id)
        .select_related("voice", "team")
        .prefetch_related(Prefetch("images", ReferenceImage.objects.order_by("position")))
        .first()
    )


# The one rule for which elements a user may mention (and use in generation): the `@` picker,
# the prompt preview's "did you mean" and the compiler all read it. A processing, failed or
# blocked element is left out everywhere.
MENTIONABLE_STATUSES: frozenset[str] = frozenset({ElementStatus.ACTIVE})


def element_is_mentionable(status: str) -> bool:
    return status in MENTIONABLE_STATUSES


def usable_elements(*, owner: AbstractBaseUser) -> QuerySet[Element]:
    """Elements the user can mention and use in generation now (MENTIONABLE_STATUSES), in
    every library they may USE: their own and their teams' (one query, the teams a
    subquery)."""
    return permitted(owner, Element, Action.USE).filter(status__in=MENTIONABLE_STATUSES)


# What `libraryName` says of the user's own library.
PERSONAL_LIBRARY_NAME = "Personal"


@dataclass(frozen=True)
class MentionSuggestion:
    element_id: int
    name: str
    type: str
    match: str  # "prefix", "contains" or "fuzzy"
    library: str = PERSONAL_LIBRARY  # its library's qualifier: "me" or a team's handle
    library_name: str = PERSONAL_LIBRARY_NAME
    # The text to insert: `[@Name]` when that resolves to this very element (it is in the
    # personal library, or in the only library the user may use that has the name), else
    # the qualified `[@Name@handle]`, as `generation.prompts` resolves them.
    mention: str = ""


# (pk, name, type, team handle or None, team name or None, unqualified)
_Row = tuple[int, str, str, str | None, str | None, bool]


def _suggestion(row: _Row, match: str) -> MentionSuggestion:
    pk, name, kind, handle, team_name, unqualified = row
    library = handle or PERSONAL_LIBRARY
    return MentionSuggestion(
        element_id=pk,
        name=name,
        type=kind,
        match=match,
        library=library,
        library_name=team_name or PERSONAL_LIBRARY_NAME,
        mention=f"[@{name}]" if unqualified else f"[@{name}@{library}]",
    )


def _with_unqualified(rows: list[tuple[Any, ...]], all_rows: list[tuple[Any, ...]]) -> list[_Row]:
    """`rows` (pk, name, type, handle, team name) with whether `[@Name]` resolves to each:
    it does for an element of the personal library, and for a team's when no other element
    the user may use (in any state: the compiler resolves names before states) has its name."""
    count: dict[str, int] = {}
    for row in all_rows:
        folded = " ".join(row[1].split()).casefold()
        count[folded] = count.get(folded, 0) + 1
    return [
        (*row[:5], row[3] is None or count.get(" ".join(row[1].split()).casefold(), 0) <= 1)
        for row in rows
    ]


def _bytewise(expression: Any) -> Any:
    """Orders like Python's `str` ordering (by code point): PostgreSQL's "C" collation;
    SQLite's default (BINARY) already does."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


FUZZY_CUTOFF = 0.6


def _close(term: str, name: str) -> float:
    """`SequenceMatcher.ratio()`, or 0 when its cheap upper bounds are already below the
    cutoff (as `difflib.get_close_matches` does): most names of a big library stop there."""
    matcher = difflib.SequenceMatcher(None, term, name)
    if matcher.real_quick_ratio() < FUZZY_CUTOFF or matcher.quick_ratio() < FUZZY_CUTOFF:
        return 0.0
    return matcher.ratio()


def mention_suggestions(
    *, owner: AbstractBaseUser, query: str, first: int = 10, library: Library | None = None
) -> list[MentionSuggestion]:
    """For the `@` picker: names starting with `query` first (shortest first), then names
    containing it, then close names (typos). Only usable elements of the libraries the user
    may USE (their own and their teams'; `library` alone when given), each with the mention
    to insert (`MentionSuggestion.mention`).

    Runs on every keystroke, so the prefix match is SQL on the `(owner, lower(name))` and
    `(team, lower(name))` indexes with a LIMIT: when it fills the list (a short prefix in a
    big library, the common case) that one query is all; whether `[@Name]` would resolve to
    each row is an EXISTS in it. Otherwise a second query reads every element the user may
    use (each library is capped by its element limit) and ranks the rest here: containing
    first, then the close ones by `difflib`. The teams are a subquery of each: the number of
    queries doesn't grow with them. (A name that only casefold matches, "Straße" for
    "strass", is offered as a prefix only when the list is not full.)"""
    first = max(1, min(first, 50))
    typed = (query or "").strip().lstrip("@[")
    term = typed.casefold()
    reachable = permitted(owner, Element, Action.USE)
    usable = usable_elements(owner=owner)
    if library is not None:
        usable = usable.filter(library.rows())
    columns = ("pk", "name", "type", "team__handle", "team__name")

    def everything() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The usable rows to rank and every row reachable (for the names' owners), read in
        one query."""
        rows = list(reachable.order_by().values_list(*columns, "status", "team_id", "owner_id"))
        if library is None:
            candidates = [r[:5] for r in rows if r[5] in MENTIONABLE_STATUSES]
        else:
            candidates = [
                r[:5]
                for r in rows
                if r[5] in MENTIONABLE_STATUSES
                and (r[6] == library.team_id if library.team is not None else r[6] is None)
            ]
        return candidates, [r[:5] for r in rows]

    if not term:
        # Just `@`: the first names in casefold order, which no database's ORDER BY follows.
        candidates, all_rows = everything()
        candidates.sort(key=lambda r: (r[1].casefold(), r[0]))
        rows = _with_unqualified(candidates[:first], all_rows)
        return [_suggestion(row, "prefix") for row in rows]
    prefix: list[_Row] = []
    # SQLite's LOWER folds ASCII letters only: a term with others is matched here, below.
    if term.isascii():
        # Another element the user may use by this name: on the unique (lower(name), library)
        # indexes, so one probe per row returned.
        others_named = (
            reachable.alias(folded=Lower("name"))
            .filter(folded=Lower(OuterRef("name")))
            .exclude(pk=OuterRef("pk"))
            .values("pk")
        )
        prefix = [
            (*row[:5], row[3] is None or not row[5])
            for row in usable.alias(folded=Lower("name"))
            .filter(folded__startswith=typed.lower())
            .annotate(shadowed=Exists(others_named))
            .order_by(Length("name"), _bytewise(Lower("name")), "pk")
            .values_list(*columns, "shadowed")[:first]
        ]
    contains: list[_Row] = []
    rest: list[_Row] = []
    if len(prefix) < first:
        taken = {row[0] for row in prefix}
        candidates, all_rows = everything()
        for row in _with_unqualified([r for r in candidates if r[0] not in taken], all_rows):
            folded = row[1].casefold()
            # The rule is casefold's; LOWER misses a few (ß is "ss" to casefold).
            if folded.startswith(term):
                prefix.append(row)
            elif term in folded:
                contains.append(row)
            else:
                rest.append(row)
    prefix.sort(key=lambda r: (len(r[1]), r[1].casefold(), r[0]))
    contains.sort(key=lambda r: (r[1].casefold().index(term), r[1].casefold(), r[0]))
    out = [_suggestion(row, "prefix") for row in prefix]
    out += [_suggestion(row, "contains") for row in contains]
    if len(out) < first and rest:
        scored = []
        for row in rest:
            folded = row[1].casefold()
            # Compare with the name's start as well, so "banan" finds "Banana Cat".
            ratio = max(_close(term, folded), _close(term, folded[: len(term) + 1]))
            if ratio >= FUZZY_CUTOFF:
                scored.append((-ratio, folded, row[0], row))
        scored.sort()
        out += [_suggestion(row, "fuzzy") for *_, row in scored]
    return out[:first]


def voice_list(
    *, owner: AbstractBaseUser, source: str | None = None, library: Library | None = None
) -> QuerySet[Voice]:
    """Presets of the Voice Library and the voices of `library` (default: `owner`'s own) that
    `owner`, the reader, may see: those one may bind to an element of that library. Active
    ones only."""
    library = library or personal_library(owner)
    qs = permitted(owner, Voice, Action.VIEW).filter(
        library.rows() | Q(owner__isnull=True, source=VoiceSource.PRESET),
        status=VoiceStatus.ACTIVE,
    )
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("source", "name", "id")
