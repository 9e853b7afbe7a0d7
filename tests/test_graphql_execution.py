"""The executor's short path for plain leaves (elementsite.graphql_execution), the plain
columns' direct read (elementsite.graphql_columns) and the stack room the schema runs in
(elementsite.stack_room) change nothing in an answer: each is compared here with the
machinery it replaces."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from accounts import services
from accounts.models import CreditLedgerEntry
from elementsite import graphql_columns
from elementsite.graphql_execution import FastLeafExecutor
from elementsite.schema import schema
from elementsite.stack_room import call_with_stack_room
from generation.models import GenerationJob, GenerationOutput, JobStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LEDGER = """
query ($first: Int) {
  creditLedger(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { reference id kind amount balanceAfter reason createdAt } }
  }
}"""

JOBS = """
{
  generationJobs(first: 10) {
    edges { node {
      status id kind model mode prompt duration aspectRatio progress errorCode errorMessage
      creditsCharged createdAt startedAt finishedAt stalled refunded
      outputs { kind width height durationMs hasAudio createdAt url jobId }
      again: progress
    } }
  }
}"""


def _answers(client: Any, query: str, variables: dict[str, Any] | None = None) -> list[str]:
    """The raw JSON answers (key order included) of the fast executor and the plain one."""
    answers = []
    fast = schema.execution_context_class
    assert fast is FastLeafExecutor
    for executor in (FastLeafExecutor, StrawberryGraphQLCoreExecutionContext):
        schema.execution_context_class = executor
        try:
            answers.append(client.post(query, variables).content.decode())
        finally:
            schema.execution_context_class = fast
    return answers


def _without_signatures(answer: str) -> Any:
    # Signed URLs carry a timestamp: compare them up to the token.
    data = json.loads(answer)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, str) and "/media-files/" in value:
            return value.split("/media-files/")[0]
        return value

    return strip(data)


def test_a_ledger_page_is_the_same_through_both_executors(logged_in, user):
    for n in range(12):
        services.credits_grant(user=user, amount=n + 1, reason=f"Grant {n}", reference=f"r:{n}")
    services.credits_debit(user=user, amount=3, reason="A debit")
    fast, plain = _answers(logged_in(), LEDGER, {"first": 10})
    assert fast == plain
    edges = json.loads(fast)["data"]["creditLedger"]["edges"]
    assert [e["node"]["kind"] for e in edges[:2]] == ["DEBIT", "GRANT"]
    # The key order is the query's, the short-path fields mixed with the others.
    assert list(edges[0]["node"]) == [
        "reference", "id", "kind", "amount", "balanceAfter", "reason", "createdAt"
    ]  # fmt: skip


def test_a_job_list_is_the_same_through_both_executors(logged_in, user):
    for n in range(3):
        job = GenerationJob.objects.create(
            owner=user,
            model="VIDEO_3_0_OMNI",
            mode="std",
            prompt=f"Shot 1 (5s): take {n}.",
            provider="local",
            status=JobStatus.SUCCEEDED if n else JobStatus.QUEUED,
            duration=5 if n else None,
        )
        if n:
            GenerationOutput.objects.create(
                job=job, owner=user, kind="video", file=f"outputs/{n}.mp4", width=8, height=6
            )
    fast, plain = _answers(logged_in(), JOBS)
    assert "errors" not in json.loads(fast)
    assert _without_signatures(fast) == _without_signatures(plain)
    nodes = [e["node"] for e in json.loads(fast)["data"]["generationJobs"]["edges"]]
    assert [n["duration"] for n in nodes] == [5, 5, None]
    assert nodes[0]["again"] == nodes[0]["progress"]


def test_a_null_in_a_non_null_leaf_is_the_same_error_through_both(logged_in, user, monkeypatch):
    from django.db.models.signals import post_init

    services.credits_grant(user=user, amount=5, reason="Grant", reference="r")

    # A value the schema promises never to be null: both executors must refuse it alike.
    def null_reason(instance: Any, **kwargs: Any) -> None:
        instance.__dict__["reason"] = None

    post_init.connect(null_reason, sender=CreditLedgerEntry)
    try:
        fast, plain = _answers(logged_in(), LEDGER, {"first": 5})
    finally:
        post_init.disconnect(null_reason, sender=CreditLedgerEntry)

    def without_error_id(answer: str) -> Any:
        body = json.loads(answer)
        for error in body["errors"]:
            error_id = error["extensions"].pop("errorId")
            error["message"] = error["message"].replace(error_id, "<id>")
        return body

    assert json.loads(fast)["errors"][0]["path"][-1] == "reason"
    assert without_error_id(fast) == without_error_id(plain)


def test_a_plain_column_reads_what_strawberry_django_reads(user):
    from accounts.graphql.types import CreditLedgerEntryType

    entry = services.credits_grant(user=user, amount=5, reason="Grant", reference="r")
    fields = {f.python_name: f for f in CreditLedgerEntryType.__strawberry_definition__.fields}
    for name in ("kind", "amount", "balance_after", "reason", "reference", "created_at"):
        field = fields[name]
        assert isinstance(field, graphql_columns.ColumnField)
        direct = field.get_result(entry, None, [], {})
        generic = super(graphql_columns.ColumnField, field).get_result(entry, None, [], {})
        assert direct == generic
        assert type(direct) is type(generic)
    # A deferred column is loaded the usual way.
    deferred = CreditLedgerEntry.objects.only("pk").get(pk=entry.pk)
    assert fields["reason"].get_result(deferred, None, [], {}) == "Grant"


def test_the_stack_room_call_returns_and_raises_as_the_function_does():
    assert call_with_stack_room(lambda a, *, b: a + b, 1, b=2) == 3
    with pytest.raises(ZeroDivisionError):
        call_with_stack_room(lambda: 1 / 0)


def test_the_stack_room_frame_is_larger_than_an_ordinary_chunk():
    from elementsite import stack_room

    code = stack_room._call_in_roomy_frame.__code__
    # 16 KiB chunks of 8-byte words: the frame alone needs more than one.
    assert code.co_nlocals * 8 > 16 * 1024
    # And recursion under it still works to the interpreter's usual limit.
    depth = sys.getrecursionlimit() // 2

    def down(n: int) -> int:
        return n if n == 0 else down(n - 1)

    assert call_with_stack_room(down, depth) == 0


def test_total_count_is_the_windows_count_from_a_subquery_of_the_same_statement(
    logged_in, user, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from elementsite import relay

    for n in range(7):
        services.credits_grant(user=user, amount=1, reason=f"Grant {n}", reference=f"r:{n}")
    services.credits_grant(user=UserFactory(), amount=1, reason="Someone else's")
    client = logged_in()
    client.csrf_token()
    first = client(LEDGER, {"first": 3})["creditLedger"]
    after = "query ($after: String) { creditLedger(first: 5, after: $after) { totalCount } }"

    # One request at a time: Django empties the query log when a request starts.
    with CaptureQueriesContext(connection) as queries:
        answers = [client.post(LEDGER, {"first": 3}).content]
    page = [q["sql"] for q in queries.captured_queries if "creditledgerentry" in q["sql"]]
    answers += [
        # Past the end: no row to read the count off, strawberry-django counts the list.
        client.post(after, {"after": first["pageInfo"]["endCursor"]}).content,
        client.post(after, {"after": _last_cursor(client)}).content,
    ]
    with monkeypatch.context() as patched:
        patched.setattr(relay, "_with_total_count", lambda *args, **kwargs: None)
        windowed = [
            client.post(LEDGER, {"first": 3}).content,
            client.post(after, {"after": first["pageInfo"]["endCursor"]}).content,
            client.post(after, {"after": _last_cursor(client)}).content,
        ]

    assert answers == windowed
    assert [json.loads(a)["data"]["creditLedger"]["totalCount"] for a in answers] == [7, 7, 7]
    assert len(page) == 1
    assert "COUNT(*)" in page[0] and " OVER " not in page[0]


def _last_cursor(client: Any) -> str:
    query = "{ creditLedger(first: 100) { pageInfo { endCursor } } }"
    return client(query)["creditLedger"]["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    "arguments",
    ["first: 2", "first: 2, outputKind: IMAGE", "first: 2, order: MOST_RECREATED"],
)
def test_a_filtered_feed_counts_what_the_window_counts(logged_in, user, monkeypatch, arguments):
    from elementsite import relay

    _share_works(user, 5)
    query = f"{{ exploreFeed({arguments}) {{ totalCount edges {{ node {{ id }} }} }} }}"
    client = logged_in()
    answer = client.post(query).content
    with monkeypatch.context() as patched:
        patched.setattr(relay, "_with_total_count", lambda *args, **kwargs: None)
        windowed = client.post(query).content
    assert answer == windowed
    assert json.loads(answer)["data"]["exploreFeed"]["totalCount"] == (
        2 if "IMAGE" in arguments else 4
    )


def _share_works(user: Any, count: int) -> None:
    """`count` works of `user` on Explore, every other one a video; the last one pending."""
    from generation.explore.models import ExploreWork, WorkStatus

    for n in range(count):
        job = GenerationJob.objects.create(
            owner=user, model="VIDEO_3_0_OMNI", mode="std", prompt=f"Take {n}.",
            provider="local", status=JobStatus.SUCCEEDED,
        )  # fmt: skip
        output = GenerationOutput.objects.create(
            job=job, owner=user, kind="video" if n % 2 else "image", file=f"o/{n}.mp4",
            poster=f"o/{n}.jpg", thumbnail=f"o/t{n}.jpg", width=8, height=6,
            duration_ms=5000 if n % 2 else None, has_audio=bool(n % 2),
        )  # fmt: skip
        ExploreWork.objects.create(
            job=job, output=output, author=user, title=f"Work {n}", prompt=job.prompt,
            model=job.model, output_kind=output.kind, recreate_count=n % 3, recipe={},
            status=WorkStatus.APPROVED if n != count - 1 else WorkStatus.PENDING,
        )  # fmt: skip


FEED = """
query ($first: Int!) {
  exploreFeed(first: $first) {
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
    edges { cursor node {
      id title caption model outputKind recreateCount createdAt promptText authorName
      output { kind width height durationMs hasAudio url posterUrl thumbnailUrl }
    } }
    again: edges { node { title } }
  }
}"""


def test_an_explore_page_is_the_same_through_both_executors(logged_in, user):
    _share_works(user, 6)
    fast, plain = _answers(logged_in(), FEED, {"first": 3})
    assert "errors" not in json.loads(fast)
    assert _without_signatures(fast) == _without_signatures(plain)
    feed = json.loads(fast)["data"]["exploreFeed"]
    assert [e["node"]["title"] for e in feed["edges"]] == ["Work 4", "Work 3", "Work 2"]
    assert [e["node"]["title"] for e in feed["again"]] == ["Work 4", "Work 3", "Work 2"]
    assert feed["pageInfo"]["hasNextPage"] is True


def test_an_error_under_an_edge_is_the_same_through_both_executors(logged_in, user, monkeypatch):
    from generation.explore.graphql.types import ExploreWorkNode

    _share_works(user, 4)
    fields = {f.python_name: f for f in ExploreWorkNode.__strawberry_definition__.fields}

    def fails_on_the_second(root: Any) -> str:
        if root.title == "Work 1":
            raise ValueError("boom")
        return root.author.shown_name

    monkeypatch.setattr(fields["author_name"], "compute", fails_on_the_second)
    fast, plain = _answers(logged_in(), FEED, {"first": 3})

    def comparable(answer: str) -> Any:
        body = _without_signatures(answer)
        for error in body["errors"]:
            error_id = error["extensions"].pop("errorId", "")
            error["message"] = error["message"].replace(error_id, "<id>")
        return body

    assert comparable(fast) == comparable(plain)
    assert json.loads(fast)["errors"][0]["path"][:3] == ["exploreFeed", "edges", 1]


PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  creditLedger(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { reference } }
  }
}"""


def test_a_page_built_with_its_cursors_is_strawberrys_page(logged_in, user, monkeypatch):
    """`ListConnection._page` gives each edge its cursor of this list at once; strawberry's
    own page then `_rescope` (its path before) gives the same answer for every slice."""
    from elementsite.relay import ListConnection

    for n in range(9):
        services.credits_grant(user=user, amount=1, reason=f"Grant {n}", reference=f"r:{n}")
    client = logged_in()
    client.csrf_token()
    cursors = [e["cursor"] for e in client(PAGE, {"first": 9})["creditLedger"]["edges"]]
    cases: list[dict[str, Any]] = [
        {"first": 3},
        {"first": 0},
        {"first": 9},
        {"first": 20},
        {"first": 3, "after": cursors[2]},
        {"first": 3, "after": cursors[6]},
        {"first": 3, "after": cursors[8]},
        {"last": 2, "before": cursors[5]},
        {"last": 9, "before": cursors[3]},
        {"first": 2, "before": cursors[4]},
        {"first": 4, "after": cursors[1], "before": cursors[4]},
        {"first": 3, "after": "not a cursor"},
    ]
    built = [client.post(PAGE, case).content for case in cases]
    with monkeypatch.context() as patched:
        patched.setattr(ListConnection, "_page", classmethod(lambda *args, **kwargs: None))
        strawberrys = [client.post(PAGE, case).content for case in cases]
    assert built == strawberrys
    pages = [json.loads(answer) for answer in built]
    assert [e["node"]["reference"] for e in pages[4]["data"]["creditLedger"]["edges"]] == [
        "r:5", "r:4", "r:3"
    ]  # fmt: skip
    assert pages[0]["data"]["creditLedger"]["pageInfo"]["hasNextPage"] is True
    assert pages[-1]["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


SHAPED = """
query ($first: Int, $withId: Boolean!, $noKind: Boolean!) {
  creditLedger(first: $first) {
    ... { totalCount }
    edges {
      __typename
      node {
        ...Entry
        id @include(if: $withId)
        kind @skip(if: $noKind)
        howMuch: amount
        amount
        ... @include(if: $withId) { again: id reason }
      }
      node2: node { reference }
    }
  }
}
fragment Entry on CreditLedgerEntry { reference createdAt amount }
"""


@pytest.mark.parametrize("with_id", [True, False])
@pytest.mark.parametrize("no_kind", [True, False])
def test_a_selection_shaped_by_fragments_aliases_and_directives_is_the_same(
    logged_in, user, with_id, no_kind
):
    """A selection's steps are worked out once per execution: what the variables include
    or skip, aliases of one field and fragments merged into one field are the same through
    both executors, and one process answers each set of variables with its own."""
    for n in range(4):
        services.credits_grant(user=user, amount=n + 1, reason=f"Grant {n}", reference=f"r:{n}")
    client = logged_in()
    variables = {"first": 3, "withId": with_id, "noKind": no_kind}
    fast, plain = _answers(client, SHAPED, variables)
    assert "errors" not in json.loads(fast)
    assert fast == plain
    node = json.loads(fast)["data"]["creditLedger"]["edges"][0]["node"]
    assert ("id" in node, "again" in node, "kind" in node) == (with_id, with_id, not no_kind)
    assert list(node)[:3] == ["reference", "createdAt", "amount"]


def test_plain_rows_build_the_instance_django_builds(user):
    """`elementsite.model_rows.plain_rows`: the same loaded columns, the same state, the
    other columns deferred (read from the database when asked for), and Django's own
    `from_db` as soon as an init signal has a receiver."""
    from django.db.models import Model
    from django.db.models.signals import post_init

    from elementsite.model_rows import plain_rows

    services.credits_grant(user=user, amount=4, reason="Grant", reference="r:1")
    query = CreditLedgerEntry.objects.filter(user=user).only("id", "amount", "created_at")
    (built,) = list(query)
    assert CreditLedgerEntry.from_db.__func__ is not Model.from_db.__func__  # type: ignore[attr-defined]

    django_built = Model.from_db.__func__(  # type: ignore[attr-defined]
        CreditLedgerEntry,
        built._state.db,
        ["id", "amount", "created_at"],
        (built.id, built.amount, built.created_at),
    )
    state = {k: v for k, v in built.__dict__.items() if k != "_state"}
    assert state == {k: v for k, v in django_built.__dict__.items() if k != "_state"}
    assert (built._state.adding, built._state.db) == (False, django_built._state.db)
    assert built.get_deferred_fields() == django_built.get_deferred_fields()
    assert built.reason == "Grant"  # deferred: read when asked for
    assert CreditLedgerEntry.objects.get(pk=built.pk) == built

    seen: list[Any] = []

    def receiver(instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=CreditLedgerEntry)
    try:
        (again,) = list(query.all())
    finally:
        post_init.disconnect(receiver, sender=CreditLedgerEntry)
    assert seen == [again]

    # A model whose instances Django builds with more than stored columns is refused.
    with pytest.raises(TypeError, match="poster"):
        plain_rows(GenerationOutput)
