"""Scale: the same GraphQL queries against a library of 1,000 rows and of 1,000,000 rows.

    .venv/bin/python bench/scale.py --seed            # create, migrate and seed both databases
    .venv/bin/python bench/scale.py                   # measure (the databases must exist)
    .venv/bin/python bench/scale.py --explain FILE    # also EXPLAIN (ANALYZE, BUFFERS) at 1M
    .venv/bin/python bench/scale.py --drop            # drop both databases

PostgreSQL only (`--server`, default postgres://postgres@127.0.0.1:5432); the databases are
`scale_1k` and `scale_1m` (`--small`, `--large` change the row counts). Seeding is SQL alone
(`tests.support.scale.seed`, also used by `tests/test_scale_plans.py`). Each database gets a
worker process logged in as one seeded user; the parent alternates rounds between them (the
first worker changes every round) and reports, per query, the median over rounds of each
round's p50 and p95, the statements a query runs, and p95 at 1M / p95 at 1k. Not in CI (it
takes minutes and gigabytes); see bench/README.md, "Scale".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


SESSION_USER = 'SELECT "accounts_user"."id", "accounts_user"."password"'


def database_url(server: str, name: str) -> str:
    return f"{server.rstrip('/')}/{name}"


def django_env(url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "REDIS_URL" and not key.startswith("AWS_")
    }
    env.update(
        DATABASE_URL=url,
        DEBUG="1",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="elementsite.settings",
    )
    return env


# --- Seeding --------------------------------------------------------------------------------


def create_and_seed(server: str, name: str, rows: int) -> float:
    admin = database_url(server, "postgres")
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-qc", sql], check=True)  # noqa: S603, S607
    url = database_url(server, name)
    print(f"{name}: migrating")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=django_env(url),
        check=True,
    )
    print(f"{name}: seeding {rows:,} rows of each big table")
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--seed-worker", str(rows)],
        cwd=ROOT,
        env=django_env(url),
        check=True,
    )
    seconds = time.perf_counter() - started
    print(f"{name}: seeded in {seconds:.0f} s")
    return seconds


def seed_worker(rows: int) -> None:
    setup()
    from django.db import connection, transaction

    from tests.support.scale import seed

    with transaction.atomic():
        seed(connection, rows, fast=True, progress=lambda line: print(line, flush=True))


# --- Measuring ------------------------------------------------------------------------------


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measure_worker() -> None:
    """Reads commands on stdin, one a line; answers one JSON line each."""
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from tests.support.scale import QUERIES, SESSION_TABLES

    client = Client()
    client.force_login(User.objects.get(username="scale-1"))

    def run(query: str) -> Any:
        response = client.post(
            "/graphql", data=json.dumps({"query": query}), content_type="application/json"
        )
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
        return body

    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "round":
            times: dict[str, list[float]] = {}
            counts: dict[str, int] = {}
            for name, query in QUERIES.items():
                run(query)  # warm-up
                samples = []
                for _ in range(command["calls"]):
                    with CaptureQueriesContext(connection) as captured:
                        start = time.perf_counter()
                        run(query)
                        samples.append(time.perf_counter() - start)
                    counts[name] = len(captured.captured_queries)
                times[name] = samples
            answer: Any = {"times": times, "counts": counts}
        elif command["do"] == "explain":
            answer = {}
            for name, query in QUERIES.items():
                with CaptureQueriesContext(connection) as captured:
                    sample = run(query)
                plans = []
                for statement in captured.captured_queries:
                    sql = statement["sql"]
                    if not sql.startswith("SELECT") or any(t in sql for t in SESSION_TABLES):
                        continue
                    if sql.startswith(SESSION_USER):  # the request's user, by primary key
                        continue
                    with connection.cursor() as cursor:
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                    plans.append({"sql": sql, "plan": plan})
                answer[name] = {"plans": plans, "sample": json.dumps(sample)[:300]}
        else:
            raise SystemExit(f"unknown command {command!r}")
        print(json.dumps(answer), flush=True)


class Worker:
    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--measure-worker"],
            cwd=ROOT,
            env=django_env(url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.label} worker died")
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(workers: list[Worker], *, rounds: int, calls: int) -> dict[str, Any]:
    from tests.support.scale import QUERIES

    per_round: dict[str, dict[str, list[tuple[float, float]]]] = {w.label: {} for w in workers}
    counts: dict[str, dict[str, int]] = {}
    for number in range(rounds):
        order = workers if number % 2 == 0 else list(reversed(workers))
        for worker in order:
            answer = worker.ask(do="round", calls=calls)
            counts[worker.label] = answer["counts"]
            for name, samples in answer["times"].items():
                per_round[worker.label].setdefault(name, []).append(
                    (percentile(samples, 0.5), percentile(samples, 0.95))
                )
        print(f"  round {number + 1}/{rounds} done", flush=True)
    result: dict[str, Any] = {}
    for name in QUERIES:
        row: dict[str, Any] = {}
        for worker in workers:
            rounds_ = per_round[worker.label][name]
            row[worker.label] = {
                "p50": statistics.median(p50 for p50, _ in rounds_),
                "p95": statistics.median(p95 for _, p95 in rounds_),
                "queries": counts[worker.label][name],
            }
        result[name] = row
    return result


def print_table(result: dict[str, Any], small: str, large: str) -> None:
    print(
        f"\n| query | p50 {small} ms | p95 {small} ms | p50 {large} ms | p95 {large} ms "
        f"| queries {small} / {large} | p95 ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, row in result.items():
        s, b = row[small], row[large]
        print(
            f"| `{name}` | {s['p50'] * 1e3:.1f} | {s['p95'] * 1e3:.1f} | {b['p50'] * 1e3:.1f} "
            f"| {b['p95'] * 1e3:.1f} | {s['queries']} / {b['queries']} "
            f"| {b['p95'] / s['p95']:.2f}× |"
        )


def main() -> None:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seed", action="store_true", help="create and seed both databases")
    parser.add_argument("--drop", action="store_true", help="drop both databases and stop")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20, help="calls of each query a round")
    parser.add_argument("--explain", metavar="FILE", help="write the 1M plans to FILE")
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    parser.add_argument("--seed-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.seed_worker:
        seed_worker(args.seed_worker)
        return
    if args.measure_worker:
        measure_worker()
        return

    names = {"1k": "scale_1k", "1M": "scale_1m"}
    sizes = {"1k": args.small, "1M": args.large}
    if args.drop:
        for name in names.values():
            subprocess.run(  # noqa: S603
                [  # noqa: S607
                    "psql",
                    database_url(args.server, "postgres"),
                    "-qc",
                    f"DROP DATABASE IF EXISTS {name}",
                ],
                check=True,
            )
        return
    if args.seed:
        for label, name in names.items():
            create_and_seed(args.server, name, sizes[label])

    workers = [Worker(label, database_url(args.server, name)) for label, name in names.items()]
    try:
        print(f"measuring: {args.rounds} rounds x {args.calls} calls of each query, alternating")
        result = measure(workers, rounds=args.rounds, calls=args.calls)
        print_table(result, "1k", "1M")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
        if args.explain:
            plans = workers[1].ask(do="explain")
            with open(args.explain, "w") as out:
                for name, entry in plans.items():
                    out.write(f"### `{name}`\n\n")
                    for statement in entry["plans"]:
                        out.write(
                            f"```sql\n{statement['sql']}\n```\n```\n{statement['plan']}\n```\n\n"
                        )
            print(f"plans written to {args.explain}")
    finally:
        for worker in workers:
            worker.close()


if __name__ == "__main__":
    main()
