"""Reads of the element library, always scoped to a library the reader may see
(`elements.teams.policy`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Collate, Length, Lower

from elements.models import (
    Element,
    ElementStatus,
    ReferenceImage,
    Voice,
    VoiceSource,
    VoiceStatus,
)
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
    """Elements the owner can mention and use in generation now (MENTIONABLE_STATUSES)."""
    return Element.objects.filter(owner_id=owner.pk, status__in=MENTIONABLE_STATUSES)


@dataclass(frozen=True)
class MentionSuggestion:
    element_id: int
    name: str
    type: str
    match: str  # "prefix", "contains" or "fuzzy"


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
    *, owner: AbstractBaseUser, query: str, first: int = 10
) -> list[MentionSuggestion]:
    """For the `@` picker: names starting with `query` first (shortest first), then names
    containing it, then close names (typos). Only the owner's usable elements.

    Runs on every keystroke, so the prefix match is SQL on the `(owner, lower(name))` index
    (`elements_owner_name_prefix`) with a LIMIT: when it fills the list (a short prefix in a
    big library, the common case) that one query is all. Otherwise a second query reads the
    other usable names (a library is capped by the tier's element limit) and ranks them
    here: containing first, then the close ones by `difflib`. (A name that only casefold
    matches, "Straße" for "strass", is offered as a prefix only when the list is not full.)"""
    first = max(1, min(first, 50))
    typed = (query or "").strip().lstrip("@[")
    term = typed.casefold()
    usable = usable_elements(owner=owner).alias(folded=Lower("name"))
    if not term:
        # Just `@`: the first names in casefold order, which no database's ORDER BY follows.
        rows = list(usable.order_by().values_list("pk", "name", "type"))
        rows.sort(key=lambda r: r[1].casefold())
        return [MentionSuggestion(pk, name, kind, "prefix") for pk, name, kind in rows[:first]]
    prefix: list[tuple[int, str, str]] = []
    others = usable
    # SQLite's LOWER folds ASCII letters only: a term with others is matched here, below.
    if term.isascii():
        starts = Q(folded__startswith=typed.lower())
        prefix = list(
            usable.filter(starts)
            .order_by(Length("name"), _bytewise(Lower("name")), "pk")
            .values_list("pk", "name", "type")[:first]
        )
        others = usable.exclude(starts)
    contains, rest = [], []
    if len(prefix) < first:
        for row in others.order_by().values_list("pk", "name", "type"):
            folded = row[1].casefold()
            # The rule is casefold's; LOWER misses a few (ß is "ss" to casefold).
            if folded.startswith(term):
                prefix.append(row)
            elif term in folded:
                contains.append(row)
            else:
                rest.append(row)
    prefix.sort(key=lambda r: (len(r[1]), r[1].casefold()))
    contains.sort(key=lambda r: (r[1].casefold().index(term), r[1].casefold()))
    out = [MentionSuggestion(pk, n, k, "prefix") for pk, n, k in prefix]
    out += [MentionSuggestion(pk, n, k, "contains") for pk, n, k in contains]
    if len(out) < first and rest:
        scored = []
        for pk, name, kind in rest:
            folded = name.casefold()
            # Compare with the name's start as well, so "banan" finds "Banana Cat".
            ratio = max(_close(term, folded), _close(term, folded[: len(term) + 1]))
            if ratio >= FUZZY_CUTOFF:
                scored.append((-ratio, folded, pk, name, kind))
        scored.sort()
        out += [MentionSuggestion(pk, n, k, "fuzzy") for _, _, pk, n, k in scored]
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
