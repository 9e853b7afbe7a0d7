"""The GraphQL and submit rows of the benchmarks alone (issue 18): `creditLedger`, the
Explore feed against its JSON view, the listing over HTTP, `generation_submit`, and the
server CPU that a page of the web studio costs, each against its baseline measured in the
same run.

    .venv/bin/python bench/api.py [--quick] [--only creditLedger,explore,listing,...]

`make bench` runs the same cases among the others; see bench/README.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from run import setup_django

CASES = ("creditLedger", "explore", "generation_submit", "studio", "listing")


def run_graphql(quick: bool, only: set[str]) -> dict[str, float]:
    from features import explore
    from listing import run_listing
    from run import credit_ledger, submit_latency
    from studio import studio_pages

    runs: dict[str, Callable[[bool], dict[str, float]]] = {
        "creditLedger": credit_ledger,
        "explore": explore,
        "generation_submit": submit_latency,
        "studio": studio_pages,
        "listing": run_listing,
    }
    ratios: dict[str, float] = {}
    for name in CASES:
        if not only or name in only:
            ratios.update(runs[name](quick))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    parser.add_argument(
        "--only", default="", help=f"comma-separated, among {', '.join(CASES)} (default: all)"
    )
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    if unknown := only - set(CASES):
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = run_graphql(args.quick, only)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline; listing: GraphQL/JSON req/s, higher is better):")
    for name, ratio in ratios.items():
        unit = " ms CPU a request" if name.endswith("_ms") else "x"
        print(f"  {name:<24} {ratio:6.2f}{unit}")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
