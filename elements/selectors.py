"""Reads of the element library, always scoped to a library the reader may see
(`elements.teams.policy`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Collate, Length, Lower

from elements.models import (
    ELEMENT_NAME_MAX,
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


# (pk, name, type, team handle or None, team name or None)
_Row = tuple[int, str, str, str | None, str | None]


def _suggestion(row: _Row, match: str, unqualified: bool) -> MentionSuggestion:
    pk, name, kind, handle, team_name = row
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


def _bytewise(expression: Any) -> Any:
    """Orders like Python's `str` ordering (by code point): PostgreSQL's "C" collation;
    SQLite's default (BINARY) already does."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


FUZZY_CUTOFF = 0.6


class _Fuzzy:
    """`max(ratio(term, name), ratio(term, name's start))` where it can reach the cutoff, else
    0, as `difflib.get_close_matches` does. The two upper bounds it checks first (the lengths,
    then the characters in common) are computed here without building a `SequenceMatcher`,
    which most names of a big library never need."""

    def __init__(self, term: str) -> None:
        self.term = term
        self.counts = {char: term.count(char) for char in set(term)}

    def ratio(self, folded: str) -> float:
        best = 0.0
        # Compare with the name's start as well, so "banan" finds "Banana Cat".
        for candidate in (folded, folded[: len(self.term) + 1]):
            total = len(self.term) + len(candidate)
            if 2.0 * min(len(self.term), len(candidate)) / total < FUZZY_CUTOFF:
                continue
            common = sum(min(n, candidate.count(char)) for char, n in self.counts.items())
            if 2.0 * common / total < FUZZY_CUTOFF:
                continue
            best = max(best, difflib.SequenceMatcher(None, self.term, candidate).ratio())
        return best


class _NameCondition(Func):
    """A condition on the element's `name` written as SQL once, `{name}` standing for the
    column wherever the query puts it (the ORM would inline and compile a tree of a hundred
    expressions on every keystroke). The SQL holds numbers computed here; the typed text is
    only ever a parameter."""

    output_field = BooleanField()

    def __init__(self, sql: str, params: list[Any]) -> None:
        super().__init__(F("name"))
        self.sql, self.params = sql, params

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        column, column_params = compiler.compile(self.source_expressions[0])
        assert not column_params
        return self.sql.replace("{name}", column), list(self.params)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _NameSQL:
    """The SQL of `_NameCondition`s, on SQLite and PostgreSQL."""

    def __init__(self) -> None:
        sqlite = connection.vendor == "sqlite"
        self.octets = "LENGTH(CAST({name} AS BLOB))" if sqlite else "OCTET_LENGTH({name})"
        # Case-insensitive for ASCII, which is all it is asked here (SQLite's LIKE is).
        self.has = "{text} LIKE %s ESCAPE '\\'" if sqlite else "{text} ILIKE %s ESCAPE '\\'"

    def non_ascii(self) -> _NameCondition:
        """A character beyond ASCII: what the database lower-cases differently from
        Python's casefold ("Straße"), so such names are always read and matched here."""
        return _NameCondition(f"{self.octets} > LENGTH({{name}})", [])

    def may_match(self, term: str) -> _NameCondition:
        """Names that contain `term` (an ASCII one), or that `_Fuzzy` may find close to it,
        or beyond ASCII: a superset of what the ranking keeps.

        Closeness: `_Fuzzy` keeps a name when the whole name or its start (`size + 1`
        characters) has a ratio of at least 0.6 with the term, and checks first, for each,
        that 2·x / (size + length) ≥ 0.6 for x the shorter length, then for x the characters
        they have in common: Σ min(count in the term, count in the text) over the term's
        characters. Here the same, as integers and a little loose
        (10·x ≥ 3·(size + length) - 1), a character the term has once by a LIKE, one it has
        more often by counting it (REPLACE)."""
        size = len(term)
        whole_length = "LENGTH({name})"
        start_length = (
            f"(CASE WHEN {whole_length} > {size + 1} THEN {size + 1} ELSE {whole_length} END)"
        )
        params: list[Any] = [f"%{_like_escaped(term)}%"]
        parts = [f"{self.octets} > {whole_length}", self.has.format(text="{name}")]
        for text, length, longest in (
            ("{name}", whole_length, ELEMENT_NAME_MAX),
            (f"SUBSTR({{name}}, 1, {size + 1})", start_length, size + 1),
        ):
            fits = [n for n in range(1, longest + 1) if 10 * min(n, size) >= 3 * (n + size) - 1]
            if not fits:
                continue
            common = []
            for char in sorted(set(term)):
                times = term.count(char)
                if times == 1:
                    common.append(f"(CASE WHEN {self.has.format(text=text)} THEN 1 ELSE 0 END)")
                    params.append(f"%{_like_escaped(char)}%")
                else:
                    held = f"(LENGTH({text}) - LENGTH(REPLACE(LOWER({text}), %s, '')))"
                    common.append(f"(CASE WHEN {held} > {times} THEN {times} ELSE {held} END)")
                    params += [char, char]
            # The length first: the database skips the rest when it fails.
            parts.append(
                f"({length} BETWEEN {fits[0]} AND {fits[-1]}"
                f" AND 10 * ({' + '.join(common)}) >= 3 * ({length} + {size}) - 1)"
            )
        return _NameCondition("(" + " OR ".join(parts) + ")", params)


def mention_suggestions(
    *, owner: AbstractBaseUser, query: str, first: int = 10, library: Library | None = None
) -> list[MentionSuggestion]:
    """For the `@` picker: names starting with `query` first (shortest first), then names
    containing it, then close names (typos). Only usable elements of the libraries the user
    may USE (their own and their teams'; `library` alone when given), each with the mention
    to insert (`MentionSuggestion.mention`).

    Runs on every keystroke, and a member of several teams may use thousands of elements,
    so the database narrows the rows before they are read, with a constant number of
    queries whatever the number of teams (each a subquery): the prefix match is SQL on the
    `(owner, lower(name))` and `(team, lower(name))` indexes with a LIMIT; when it fills the
    list (a short prefix, the common case) that one query is all. Otherwise a second query
    reads the names that contain the term or may be close to it (`_NameSQL.may_match`:
    bounds of `difflib`'s ratio) and the names beyond ASCII (matched here by casefold), and they are
    ranked here: containing first, then the close ones by `difflib`. Whether `[@Name]`
    resolves to each row read is an EXISTS in its query."""
    first = max(1, min(first, 50))
    typed = (query or "").strip().lstrip("@[")
    term = typed.casefold()
    reachable = permitted(owner, Element, Action.USE)
    usable = usable_elements(owner=owner)
    if library is not None:
        usable = usable.filter(library.rows())
    whole = usable
    if connection.vendor == "sqlite":
        # Every name, as a range on the `(owner, lower(name))` and `(team, lower(name))`
        # indexes: SQLite's statistics count the personal rows' empty team as one value
        # shared by all, so without a range it reads the whole table rather than the user's
        # libraries. (U+10FFFF is a noncharacter: no name starts with it.)
        whole = usable.alias(whole_name=Lower("name")).filter(
            whole_name__gte="", whole_name__lt=chr(0x10FFFF)
        )
    columns = ("pk", "name", "type", "team__handle", "team__name")
    # Another element the user may use by this name (in any state: the compiler resolves
    # names before states): one probe a row of each unique (lower(name), …) index, personal
    # and team, which the split lets the database use (with the policy's OR alone,
    # PostgreSQL read the whole table for each row).
    same_name = reachable.alias(same=Lower("name")).filter(same=Lower(OuterRef("name")))
    others_named = Exists(
        same_name.filter(team__isnull=True).exclude(pk=OuterRef("pk")).values("pk")
    ) | Exists(same_name.filter(team__isnull=False).exclude(pk=OuterRef("pk")).values("pk"))
    unqualified: dict[int, bool] = {}

    def read(rows: QuerySet[Element]) -> list[_Row]:
        """`rows` with whether `[@Name]` resolves to each: it does for an element of the
        personal library, and for a team's when no other element the user may use has its
        name."""
        out: list[_Row] = []
        for *row, shadowed in rows.annotate(shadowed=others_named).values_list(
            *columns, "shadowed"
        ):
            unqualified[row[0]] = row[3] is None or not shadowed
            out.append(tuple(row))  # type: ignore[arg-type]
        return out

    sql = _NameSQL()
    if not term:
        # Just `@`: the first names in casefold order, which no database's ORDER BY follows
        # beyond ASCII (where it is the C collation's): the first ASCII ones and every other.
        beyond_ascii = sql.non_ascii()
        ascii_first = (
            whole.exclude(beyond_ascii).order_by(_bytewise(Lower("name")), "pk").values("pk")
        )
        candidates = read(whole.filter(beyond_ascii | Q(pk__in=ascii_first[:first])).order_by())
        candidates.sort(key=lambda r: (r[1].casefold(), r[0]))
        return [_suggestion(row, "prefix", unqualified[row[0]]) for row in candidates[:first]]
    prefix: list[_Row] = []
    others = whole.order_by()
    # SQLite's LOWER folds ASCII letters only: a term with others is matched here, below.
    if term.isascii():
        starts = Q(folded__startswith=typed.lower())
        if connection.vendor == "sqlite":
            # SQLite's LIKE uses no index on an expression; the same prefix as a range does
            # (`(owner, lower(name))`, `(team, lower(name))`).
            low = typed.lower()
            starts &= Q(folded__gte=low, folded__lt=low[:-1] + chr(ord(low[-1]) + 1))
        prefix = read(
            usable.alias(folded=Lower("name"))
            .filter(starts)
            .order_by(Length("name"), _bytewise(Lower("name")), "pk")[:first]
        )
        others = whole.filter(sql.may_match(term)).order_by()
    contains: list[_Row] = []
    rest: list[_Row] = []
    if len(prefix) < first:
        taken = {row[0] for row in prefix}
        for row in read(others):
            if row[0] in taken:
                continue
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
    out = [(row, "prefix") for row in prefix] + [(row, "contains") for row in contains]
    if len(out) < first and rest:
        fuzzy = _Fuzzy(term)
        scored = []
        for row in rest:
            folded = row[1].casefold()
            ratio = fuzzy.ratio(folded)
            if ratio >= FUZZY_CUTOFF:
                scored.append((-ratio, folded, row[0], row))
        scored.sort()
        out += [(row, "fuzzy") for *_, row in scored]
    return [_suggestion(row, match, unqualified[row[0]]) for row, match in out[:first]]


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
