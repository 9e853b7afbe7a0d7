"""The GraphQL and submit rows of the benchmarks alone (issue 18): `creditLedger`, the
Explore feed against its JSON view, the listing over HTTP, `generation_submit`, the
server CPU that a page of the web studio costs, and `mentionSuggestions` for a member of 5
teams (`bench/teams.py`), each against its baseline measured in the same run.

    .venv/bin/python bench/api.py [--quick] [--only creditLedger,explore,listing,...]

`make bench` runs the same cases among the others; see bench/README.md.
"""

from __future__ import annotations

from run import Rows, run_selected

CASES = ("creditLedger", "explore", "generation_submit", "studio", "listing", "teams")


def graphql_rows() -> Rows:
    from features import explore
    from listing import run_listing
    from run import credit_ledger, submit_latency
    from studio import studio_pages
    from teams import teams

    return {
        "creditLedger": credit_ledger,
        "explore": explore,
        "generation_submit": submit_latency,
        "studio": studio_pages,
        "listing": run_listing,
        "teams": teams,
    }


def main() -> None:
    run_selected(
        __doc__.splitlines()[0],
        CASES,
        graphql_rows,
        "summary (ratio to its baseline; listing: GraphQL/JSON req/s, higher is better):",
    )


if __name__ == "__main__":
    main()
