"""The `@` picker's ranking rule written plainly, to check the SQL-assisted one against."""

from __future__ import annotations

import difflib


def ranked_in_python(names: list[tuple[int, str, str]], query: str, first: int) -> list:
    """The rule as it was written before SQL took the prefixes: every name ranked here."""
    term = (query or "").strip().lstrip("@[").casefold()
    rows = list(names)
    if not term:
        rows.sort(key=lambda r: r[1].casefold())
        return [(pk, "prefix") for pk, _, _ in rows[:first]]
    prefix, contains, rest = [], [], []
    for row in rows:
        folded = row[1].casefold()
        if folded.startswith(term):
            prefix.append(row)
        elif term in folded:
            contains.append(row)
        else:
            rest.append(row)
    prefix.sort(key=lambda r: (len(r[1]), r[1].casefold()))
    contains.sort(key=lambda r: (r[1].casefold().index(term), r[1].casefold()))
    out = [(pk, "prefix") for pk, _, _ in prefix] + [(pk, "contains") for pk, _, _ in contains]
    if len(out) < first and rest:
        scored = []
        for pk, name, _ in rest:
            folded = name.casefold()
            ratio = max(
                difflib.SequenceMatcher(None, term, folded).ratio(),
                difflib.SequenceMatcher(None, term, folded[: len(term) + 1]).ratio(),
            )
            if ratio >= 0.6:
                scored.append((-ratio, folded, pk))
        scored.sort()
        out += [(pk, "fuzzy") for _, _, pk in scored]
    return out[:first]
