"""The team-libraries row of the benchmarks: `mentionSuggestions` (the `@` picker, on every
keystroke) for a member of 5 teams of 500 elements each (3,000 elements it may use, with its
own 500) against a user with only a personal library of 500, the baseline, in the same run.

    .venv/bin/python bench/teams.py [--quick] [--database postgres://…/scratch_db]

Both users type the same terms (prefixes of 1–4 letters, a name part, a typo, a bare `@`):
the target is p95(team member) ≤ 2× p95(personal only), and the same number of SQL queries
for every term (the teams are a subquery, never a query each). Measured twice: the selector
(`elements.selectors.mention_suggestions`) and the GraphQL field through Django's test
client. Rounds alternate the users; each figure is the median over rounds of a round's p95.
SQLite in a scratch folder unless `--database` names a scratch database (its seeded rows
are deleted at the end). Also `bench/api.py --only teams`; see bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run import ROOT, setup_django

TEAMS = 5
PER_LIBRARY = 500
# What a user types after `@`: the first letters of a name (the SQL prefix query fills the
# list in both libraries), then a word's middle, a typo, a name part with its space, and
# nothing that matches (the ranking in Python, over every name, in both).
TERMS = ("", "s", "st", "r", "m", "b", "oon", "ive", "knigth", "red f", "zzq", "fxo")
WORDS = (
    "amber",
    "arrow",
    "ash",
    "aspen",
    "atlas",
    "bear",
    "birch",
    "blade",
    "bloom",
    "boulder",
    "brook",
    "canyon",
    "cedar",
    "cinder",
    "cloud",
    "comet",
    "copper",
    "coral",
    "crane",
    "crow",
    "dawn",
    "dragon",
    "dune",
    "eagle",
    "ember",
    "falcon",
    "fern",
    "flint",
    "fox",
    "frost",
    "garnet",
    "ghost",
    "glade",
    "granite",
    "hawk",
    "hazel",
    "heron",
    "iris",
    "ivory",
    "jade",
    "juniper",
    "knight",
    "lark",
    "lotus",
    "lynx",
    "maple",
    "marble",
    "meadow",
    "mist",
    "moon",
    "moss",
    "nova",
    "oak",
    "onyx",
    "orchid",
    "otter",
    "pearl",
    "pine",
    "quartz",
    "raven",
    "red",
    "reef",
    "river",
    "robin",
    "rose",
    "ruby",
    "sage",
    "shadow",
    "silver",
    "sky",
    "slate",
    "sparrow",
    "spruce",
    "star",
    "stone",
    "storm",
    "street",
    "sun",
    "thistle",
    "thorn",
    "tide",
    "tiger",
    "timber",
    "topaz",
    "vale",
    "violet",
    "willow",
    "wind",
    "wolf",
    "wren",
)


def names(seed: int, count: int) -> list[str]:
    """`count` names unique in one library ("Silver Fox 12"): libraries overlap a little,
    as real ones do, so some names are in two libraries (their mention is qualified)."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        first, second = rng.sample(WORDS, 2)
        out.add(f"{first.title()} {second.title()} {rng.randrange(1, 40)}")
    return sorted(out)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed() -> tuple[Any, Any, list[Any]]:
    from django.db import connection

    from accounts.models import User
    from elements.models import Element
    from elements.teams.models import Team, TeamMembership, TeamRole

    stamp = int(time.time())
    solo = User.objects.create_user(username=f"bench-solo-{stamp}")
    member = User.objects.create_user(username=f"bench-member-{stamp}")
    creator = User.objects.create_user(username=f"bench-creator-{stamp}")
    rows = [Element(owner=solo, name=n, type="character") for n in names(1, PER_LIBRARY)]
    rows += [Element(owner=member, name=n, type="character") for n in names(2, PER_LIBRARY)]
    for t in range(TEAMS):
        team = Team.objects.create(
            name=f"Bench {t}", handle=f"bench-{stamp % 100000}-{t}", created_by=creator
        )
        TeamMembership.objects.create(team=team, user=creator, role=TeamRole.OWNER)
        TeamMembership.objects.create(team=team, user=member, role=TeamRole.VIEWER)
        rows += [
            Element(owner=creator, team=team, name=n, type="prop")
            for n in names(10 + t, PER_LIBRARY)
        ]
    Element.objects.bulk_create(rows, batch_size=1000)
    if connection.vendor == "postgresql":
        # As a live database's statistics would be; fresh rows have none yet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE elements_element, elements_teammembership, elements_team")
    return solo, member, [solo, member, creator]


def query_counts(user: Any) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from elements.selectors import mention_suggestions

    counts = {}
    for term in TERMS:
        with CaptureQueriesContext(connection) as ctx:
            mention_suggestions(owner=user, query=term, first=10)
        counts[term] = len(ctx.captured_queries)
    return counts


def timed_round(call: Callable[[str], object], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        for term in TERMS:
            start = time.perf_counter()
            call(term)
            samples.append(time.perf_counter() - start)
    return samples


def p95_ratio(
    title: str,
    solo: Callable[[str], object],
    member: Callable[[str], object],
    *,
    rounds: int,
    calls: int,
) -> float:
    """The median over rounds of each side's p95, alternating which side goes first."""
    for call in (solo, member):  # warm-up
        timed_round(call, 1)
    p95s: dict[str, list[float]] = {"solo": [], "member": []}
    p50s: dict[str, list[float]] = {"solo": [], "member": []}
    for number in range(rounds):
        order = [("solo", solo), ("member", member)]
        for label, call in order if number % 2 == 0 else reversed(order):
            samples = timed_round(call, calls)
            p95s[label].append(percentile(samples, 0.95))
            p50s[label].append(percentile(samples, 0.5))
    s95, m95 = statistics.median(p95s["solo"]), statistics.median(p95s["member"])
    s50, m50 = statistics.median(p50s["solo"]), statistics.median(p50s["member"])
    ratio = m95 / s95
    print(f"\n{title}")
    print(f"  personal only (500)            p50 {s50 * 1e3:7.2f} ms   p95 {s95 * 1e3:7.2f} ms")
    print(f"  5 teams x 500 + personal 500   p50 {m50 * 1e3:7.2f} ms   p95 {m95 * 1e3:7.2f} ms")
    print(
        f"  p95 ratio {ratio:.2f}x (target <= 2x), p50 ratio {m50 / s50:.2f}x  "
        f"({rounds} rounds x {calls} x {len(TERMS)} terms; per-round p95 ratios "
        + ", ".join(f"{m / s:.2f}" for s, m in zip(p95s["solo"], p95s["member"], strict=True))
        + ")"
    )
    return ratio


def teams(quick: bool) -> dict[str, float]:
    from django.db import connection
    from django.test import Client

    from elements.selectors import mention_suggestions

    solo, member, made = seed()
    try:
        print(f"\nmentionSuggestions, {connection.vendor}: SQL queries per term")
        solo_counts, member_counts = query_counts(solo), query_counts(member)
        for term in TERMS:
            print(
                f"  {term!r:<10} personal only {solo_counts[term]}   5 teams {member_counts[term]}"
            )
        same = solo_counts == member_counts
        print(f"  equal for every term: {'yes' if same else 'NO'}")

        rounds, calls = (5, 2) if quick else (9, 5)
        selector = p95_ratio(
            "mention_suggestions (the selector), p95 over the terms",
            lambda term: mention_suggestions(owner=solo, query=term, first=10),
            lambda term: mention_suggestions(owner=member, query=term, first=10),
            rounds=rounds,
            calls=calls,
        )
        clients = {}
        for user in (solo, member):
            client = Client()
            client.force_login(user)
            clients[user.pk] = client
        document = (
            "query ($q: String!) { mentionSuggestions(query: $q, first: 10) "
            "{ id name libraryQualifier mention } }"
        )

        def graphql(user: Any) -> Callable[[str], object]:
            def call(term: str) -> object:
                response = clients[user.pk].post(
                    "/graphql",
                    {"query": document, "variables": {"q": term}},
                    content_type="application/json",
                )
                assert response.status_code == 200 and b'"errors"' not in response.content, (
                    response.content
                )
                return response

            return call

        over_http = p95_ratio(
            "mentionSuggestions (GraphQL through the test client), p95 over the terms",
            graphql(solo),
            graphql(member),
            rounds=rounds,
            calls=max(1, calls // 2),
        )
    finally:
        for user in made:
            user.delete()
    return {
        "mentions_teams_p95": selector,
        "mentions_teams_gql_p95": over_http,
        "mentions_teams_queries_equal": 1.0 if same else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    parser.add_argument("--database", help="a scratch database URL instead of SQLite")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir), args.database)
        from django.db import connections

        try:
            ratios = teams(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<30} {ratio:6.2f}x")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
