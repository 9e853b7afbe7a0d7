"""Seeding a library at scale with SQL alone, and reading the plans of its main statements.

`bench/scale.py` seeds 1,000 and 1,000,000 rows with it and times the GraphQL queries;
`tests/test_scale_plans.py` seeds 10,000 and checks that every statement those queries run
uses an index. One `seed` for both, so the test checks the plans the bench measured.

Rows are interleaved over time, not grouped by owner: row `i` of every big table belongs to
user `1 + (i - 1) % users` and is `i` steps later than row `i - 1`, so one user's rows are
spread over the whole table as they would be in production (a plan that is fast only because
an owner's rows sit on a few pages would hide here otherwise).

Sizes follow the number of elements (`rows`): a user has 100 elements (4 image rows each),
100 jobs with one output each, 20 shared works and 200 ledger entries, whatever `rows` is,
so the per-user work is the same at 1k and at 1M and only the tables grow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PER_USER = 100
SPAN_SECONDS = 365 * 24 * 3600  # the rows spread over a year
# The big tables: a statement of the measured queries must never scan one of them whole.
# (Users are a hundredth of the rows: 100 in the test's seed, two pages the planner rightly
# reads whole.)
BIG_TABLES = (
    "accounts_creditledgerentry",
    "elements_element",
    "elements_referenceimage",
    "generation_generationjob",
    "generation_generationoutput",
    "generation_explorework",
)
# The queries measured (bench/scale.py) and checked (tests/test_scale_plans.py), as the web
# studio sends them: a page of 20.
ME = """{ me { username tier { code name } isMember membershipExpiresAt elementLimit
               elementCount creditBalance freeMultiviewUsesLeftToday } }"""
ELEMENT_FIELDS = """totalCount pageInfo { hasNextPage endCursor }
  edges { node { id name type description version voice { name }
                 images { url thumbnailUrl width height role } } }"""
OUTPUT_FIELDS = "id kind width height url thumbnailUrl createdAt"
WORK_FIELDS = """id title caption model outputKind recreateCount createdAt authorName
  output { kind url posterUrl thumbnailUrl }"""
QUERIES: dict[str, str] = {
    "elements": f"{{ elements(first: 20) {{ {ELEMENT_FIELDS} }} }}",
    "elements search": f'{{ elements(first: 20, search: "banana") {{ {ELEMENT_FIELDS} }} }}',
    "mentionSuggestions prefix": (
        '{ mentionSuggestions(query: "Li", first: 10) { id name type match mention } }'
    ),
    "mentionSuggestions fuzzy": (
        '{ mentionSuggestions(query: "Bnana", first: 10) { id name type match mention } }'
    ),
    "generationJobs": (
        "{ generationJobs(first: 20) { totalCount edges { node { id status model prompt "
        f"createdAt outputs {{ {OUTPUT_FIELDS} }} }} }} }} }}"
    ),
    "generationOutputs": (
        "{ generationOutputs(first: 20) { totalCount edges { node "
        f"{{ {OUTPUT_FIELDS} }} }} }} }}"
    ),
    "exploreFeed NEWEST": (
        f"{{ exploreFeed(first: 20, order: NEWEST) {{ edges {{ node {{ {WORK_FIELDS} }} }} }} }}"
    ),
    "exploreFeed MOST_RECREATED": (
        "{ exploreFeed(first: 20, order: MOST_RECREATED) "
        f"{{ edges {{ node {{ {WORK_FIELDS} }} }} }} }}"
    ),
    "creditLedger": (
        "{ creditLedger(first: 20) { totalCount edges { node "
        "{ id kind amount balanceAfter reason reference createdAt } } } }"
    ),
    "me": ME,
}
# Statements every request makes whatever the query (the session): not a query's own.
SESSION_TABLES = ("django_session",)
NAME_WORDS = ("Little", "Tokyo", "Banana", "Astra", "Coffee", "Korean", "Big", "Street")


@dataclass(frozen=True)
class Sizes:
    rows: int

    @property
    def users(self) -> int:
        return max(1, self.rows // PER_USER)

    @property
    def elements(self) -> int:
        return self.rows

    @property
    def images(self) -> int:
        return 4 * self.rows

    @property
    def jobs(self) -> int:
        return self.rows

    @property
    def works(self) -> int:
        return self.rows // 5

    @property
    def ledger(self) -> int:
        return 2 * self.rows


class _Dialect:
    """The few expressions PostgreSQL and SQLite spell differently."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def insert(self, table: str, columns: str, n: int, select: str) -> str:
        """`INSERT … SELECT` over `i` = 1…n."""
        if self.pg:
            return (
                f"INSERT INTO {table} ({columns}) SELECT {select} "  # noqa: S608
                f"FROM generate_series(1::bigint, {n}) AS g(i)"
            )
        return (
            f"INSERT INTO {table} ({columns}) WITH RECURSIVE g(i) AS "  # noqa: S608
            f"(SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) SELECT {select} FROM g"
        )

    def ts(self, seconds: str) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '2026-01-01 00:00:00+00' + ({seconds}) * INTERVAL '1 second')"
        return f"datetime('2026-01-01 00:00:00', '+' || ({seconds}) || ' seconds')"

    def uuid(self, number: str) -> str:
        """A job id from its number (what Django stores for a UUIDField on each database)."""
        if self.pg:
            return f"lpad(to_hex({number}), 32, '0')::uuid"
        return f"printf('%032x', {number})"


def _base(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
    return int(cursor.fetchone()[0])


def seed(
    connection: Any, rows: int, *, fast: bool = False, progress: Callable[[str], None] = print
) -> Sizes:
    """Seeds `rows` elements and what goes with them (see the module docstring) beside
    whatever the database holds. `fast` (PostgreSQL, a superuser): foreign-key triggers off
    and the secondary indexes built once at the end, for the 1M-row seed; every row is
    consistent by construction."""
    sizes = Sizes(rows)
    d = _Dialect(connection.vendor)
    u, n = sizes.users, sizes.elements
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if fast and d.pg:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")
        ub = _base(cursor, "accounts_user")
        eb = _base(cursor, "elements_element")
        ob = _base(cursor, "generation_generationoutput")
        cursor.execute("SELECT id FROM accounts_membershiptier WHERE code = 'pro'")
        tier = int(cursor.fetchone()[0])
        owner = f"{ub} + 1 + (i - 1) % {u}"
        # The table's whole span over its rows: row i is i steps in.
        at = {count: d.ts(f"i * {SPAN_SECONDS} / {count}") for count in (n, sizes.ledger)}
        # The owner's k-th element, whatever the table's size, has the k-th word.
        word = f"CASE ((i - 1) / {u}) % 8 " + " ".join(
            f"WHEN {k} THEN '{w}'" for k, w in enumerate(NAME_WORDS)
        )
        steps: list[tuple[str, int, str]] = [
            (
                "accounts_user",
                u,
                d.insert(
                    "accounts_user",
                    "id, password, is_superuser, username, first_name, last_name, email, "
                    "is_staff, is_active, date_joined, display_name",
                    u,
                    f"{ub} + i, '!', FALSE, 'scale-' || ({ub} + i), '', '', '', FALSE, TRUE, "
                    f"{d.ts('0')}, ''",
                ),
            ),
            (
                "accounts_creditwallet",
                u,
                d.insert(
                    "accounts_creditwallet",
                    "balance, updated_at, user_id",
                    u,
                    f"1000, {d.ts('0')}, {ub} + i",
                ),
            ),
            (
                "accounts_membership",
                u,
                d.insert(
                    "accounts_membership",
                    "started_at, expires_at, user_id, tier_id",
                    u,
                    f"{d.ts('0')}, NULL, {ub} + i, {tier}",
                ),
            ),
            (
                "elements_element",
                n,
                d.insert(
                    "elements_element",
                    "id, owner_id, name, type, description, source, voice_notice, status, "
                    "blocked_reason, version, created_at, updated_at, detected_type, "
                    "detected_evidence, clip, failure_code, failure_message, "
                    "processing_attempts, progress, video_consent_statement, video_report, "
                    "video_source",
                    n,
                    f"{eb} + i, {owner}, {word} END || ' ' || i, "
                    "CASE i % 4 WHEN 0 THEN 'character' WHEN 1 THEN 'prop' WHEN 2 THEN 'scene' "
                    "ELSE 'animal' END, 'A seeded element, number ' || i, 'images', '', "
                    "CASE WHEN i % 50 = 0 THEN 'processing' ELSE 'active' END, '', 1, "
                    f"{at[n]}, {at[n]}, '', '', '', '', '', 0, 100, '', '{{}}', ''",
                ),
            ),
            (
                "elements_referenceimage",
                sizes.images,
                d.insert(
                    "elements_referenceimage",
                    "element_id, role, position, image, thumbnail, width, height, sha256, "
                    "origin, created_at",
                    sizes.images,
                    f"{eb} + 1 + (i - 1) / 4, CASE WHEN (i - 1) % 4 = 0 THEN 'main' "
                    "ELSE 'extra' END, (i - 1) % 4, 'elements/seed-' || i || '.jpg', "
                    "'elements/thumbs/seed-' || i || '.jpg', 1024, 1024, '', 'upload', "
                    f"{d.ts(f'((i - 1) / 4 + 1) * {SPAN_SECONDS} / {n}')}",
                ),
            ),
            (
                "generation_generationjob",
                n,
                d.insert(
                    "generation_generationjob",
                    "id, owner_id, kind, model, mode, prompt, duration, aspect_ratio, plan, "
                    "status, progress, error_code, error_message, staff_error, "
                    "credits_charged, provider, provider_task_id, provider_external_id, "
                    "provider_status, provider_message, attempts, cancel_requested, "
                    "consistency_pending, created_at, started_at, finished_at",
                    n,
                    f"{d.uuid(f'{ob} + i')}, {owner}, 'generation', 'VIDEO_3_0', 'std', "
                    "'A seeded prompt, number ' || i, 5, '16:9', '{}', 'succeeded', 100, "
                    f"'', '', '', 10, 'local', '', '', '', '', 1, FALSE, FALSE, {at[n]}, "
                    f"{at[n]}, {at[n]}",
                ),
            ),
            (
                "generation_generationoutput",
                n,
                d.insert(
                    "generation_generationoutput",
                    "id, job_id, owner_id, kind, file, poster, thumbnail, width, height, "
                    "duration_ms, has_audio, created_at",
                    n,
                    f"{ob} + i, {d.uuid(f'{ob} + i')}, {owner}, 'video', "
                    "'outputs/seed-' || i || '.mp4', 'outputs/posters/seed-' || i || '.jpg', "
                    "'outputs/thumbs/seed-' || i || '.jpg', 1280, 720, 5000, FALSE, "
                    f"{at[n]}",
                ),
            ),
            (
                "generation_explorework",
                sizes.works,
                # Every fifth output is shared; one work in ten waits for approval.
                d.insert(
                    "generation_explorework",
                    "author_id, job_id, output_id, title, caption, model, output_kind, prompt, "
                    "recipe, status, hidden_reason, recreate_count, created_at",
                    sizes.works,
                    f"{ub} + 1 + (5 * i - 1) % {u}, {d.uuid(f'{ob} + 5 * i')}, {ob} + 5 * i, "
                    "'Seeded work ' || i, '', 'VIDEO_3_0', 'video', 'A seeded prompt', '{}', "
                    "CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'approved' END, '', "
                    f"(i * 7919) % 100, {d.ts(f'5 * i * {SPAN_SECONDS} / {n}')}",
                ),
            ),
            (
                "accounts_creditledgerentry",
                sizes.ledger,
                d.insert(
                    "accounts_creditledgerentry",
                    "user_id, kind, amount, balance_after, reason, reference, created_at",
                    sizes.ledger,
                    f"{ub} + 1 + (i - 1) % {u}, CASE WHEN i % 2 = 0 THEN 'grant' "
                    "ELSE 'debit' END, CASE WHEN i % 2 = 0 THEN 100 ELSE -10 END, 1000, "
                    f"'Seeded movement', 'scale:' || i, {at[sizes.ledger]}",
                ),
            ),
        ]
        dropped = _drop_secondary_indexes(cursor, [t for t, _, _ in steps]) if fast else []
        for number, (table, count, sql) in enumerate(steps, 1):
            t0 = time.perf_counter()
            cursor.execute(sql)
            progress(
                f"[{number}/{len(steps) + 1}] {table}: {count:,} rows "
                f"in {time.perf_counter() - t0:.1f} s (total {time.perf_counter() - started:.0f} s)"
            )
        t0 = time.perf_counter()
        for number, definition in enumerate(dropped, 1):
            cursor.execute(definition)
            if number % 5 == 0 or number == len(dropped):
                progress(f"      indexes {number}/{len(dropped)} rebuilt")
        if d.pg:
            for table in [t for t, _, _ in steps if t != "generation_generationjob"]:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
            if fast:
                cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
        progress(
            f"[{len(steps) + 1}/{len(steps) + 1}] indexes and ANALYZE in "
            f"{time.perf_counter() - t0:.1f} s (total {time.perf_counter() - started:.0f} s)"
        )
    return sizes


def _drop_secondary_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drops the indexes of `tables` that back no constraint; returns their definitions."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [tables],
    )
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in found]


# --- Plans ----------------------------------------------------------------------------------


def pg_plan(connection: Any, sql: str, params: Any, *, analyze: bool = False) -> Any:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        plan = cursor.fetchone()[0]
    return plan if not isinstance(plan, str) else __import__("json").loads(plan)


def pg_plan_text(connection: Any, sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def pg_nodes(plan: Any) -> list[dict[str, Any]]:
    """Every node of an `EXPLAIN (FORMAT JSON)` plan, depth first."""
    out: list[dict[str, Any]] = []
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.get("Plans", [])))
    return out


def pg_problems(plan: Any) -> list[str]:
    """What a plan of the measured queries must not do: scan a big table whole, or sort
    rows it read without an index order."""
    problems = []
    for node in pg_nodes(plan):
        table = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and table in BIG_TABLES:
            problems.append(f"Seq Scan on {table}")
    return problems
