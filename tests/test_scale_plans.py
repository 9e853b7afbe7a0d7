"""The plans of the main statements at 10,000 rows: every statement the measured GraphQL
queries run (`tests.support.scale.QUERIES`, what `bench/scale.py` times at 1k and 1M rows)
reads the big tables through an index, and the creation history reads the owner's outputs in
index order instead of sorting them all.

Seeded with the bench's own SQL (`tests.support.scale.seed`), rows interleaved over time.
On PostgreSQL (CI's second pass) the plans are `EXPLAIN (FORMAT JSON)`; on SQLite,
`EXPLAIN QUERY PLAN` (full scans only: SQLite sorts every page outside the window of the
total count, whatever the index): both runs check, neither skips.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.support.graphql import GraphQLClient
from tests.support.scale import BIG_TABLES, QUERIES, SESSION_TABLES, pg_nodes, pg_plan, seed

pytestmark = pytest.mark.django_db

ROWS = 10_000
# The statement that pages the owner's outputs.
OUTPUT_PAGE = 'FROM "generation_generationoutput" WHERE ("generation_generationoutput"."owner_id" ='

OF_JOBS = '"generation_generationoutput"."job_id" IN'


@pytest.fixture
def scaled() -> GraphQLClient:
    seed(connection, ROWS, progress=lambda line: None)
    client = Client()
    client.force_login(User.objects.filter(username__startswith="scale-").order_by("pk").first())
    return GraphQLClient(client)


def statements(client: GraphQLClient, query: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        client(query)
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and not any(t in q["sql"] for t in SESSION_TABLES)
    ]


def problems(sql: str) -> list[str]:
    """What the statement's plan does that it must not: scan a big table whole, or (the
    owner's outputs) sort them."""
    # The page of the history, not the outputs of a page of jobs (a few, sorted).
    sorts_outputs = OUTPUT_PAGE in sql and "ORDER BY" in sql and OF_JOBS not in sql
    found: list[str] = []
    if connection.vendor == "postgresql":
        for node in pg_nodes(pg_plan(connection, sql, None)):
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                found.append(f"Seq Scan on {node['Relation Name']}")
            if sorts_outputs and node["Node Type"] in {"Sort", "Incremental Sort"}:
                found.append(f"{node['Node Type']} of the outputs by {node.get('Sort Key')}")
        return found
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        details = [str(row[-1]) for row in cursor.fetchall()]
    for detail in details:
        words = detail.split()
        # "SCAN t" reads the table whole; "SCAN t USING INDEX" / "SEARCH t …" do not.
        if words[:1] == ["SCAN"] and len(words) == 2 and words[1] in BIG_TABLES:
            found.append(detail)
    # No check of the outputs' order here: SQLite sorts the page outside the total count's
    # window (`COUNT(1) OVER ()` in a subquery) whatever the index; PostgreSQL's pass checks.
    return found


@pytest.mark.parametrize("name", list(QUERIES))
def test_each_statement_reads_the_big_tables_through_an_index(scaled, name):
    run = statements(scaled, QUERIES[name])

    assert run, "the query ran no statement of its own"
    assert {sql: problems(sql) for sql in run} == {sql: [] for sql in run}


def test_the_seed_is_interleaved_and_the_sizes_match():
    sizes = seed(connection, 1_000, progress=lambda line: None)
    owners = list(
        User.objects.filter(username__startswith="scale-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    from elements.models import Element
    from generation.models import GenerationOutput

    assert len(owners) == sizes.users == 10
    newest_first: list[Any] = list(
        Element.objects.filter(owner_id__in=owners)
        .order_by("-created_at")
        .values_list("owner_id", flat=True)[:10]
    )
    # Ten newest elements, ten different owners: not grouped by owner.
    assert len(set(newest_first)) == 10
    assert GenerationOutput.objects.filter(owner_id=owners[0]).count() == 100
