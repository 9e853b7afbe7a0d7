"""What a page of the web studio costs the server: process CPU time per request of the
studio's own list queries (issue 18), through Django's test client, logged in.

- **Library of 150**: `LibraryPage` as the studio sends it (the document is read from
  `web/src/routes/Library.tsx`), 100 then the remaining 50 after the first page's cursor.
- **Job list of 50**: `JobsPage` (web/src/routes/Jobs.tsx), `generationJobs(first: 50)`.
- **Explore feed of 50**: `ExploreFeed` (web/src/routes/Explore.tsx), newest first.

Every document is read from the studio's source, so the figures follow what it sends.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from run import ROOT

JOBS = 50


def studio_document(path: str, name: str) -> str:
    """The GraphQL text of `const <name> = graphql(`…`)` in a web/src file."""
    source = (ROOT / "web" / "src" / path).read_text()
    found = re.search(rf"{name}\s*=\s*graphql\(`(.*?)`\)", source, re.S)
    if found is None:
        raise SystemExit(f"{name} is not in web/src/{path} any more.")
    return found.group(1)


def _seed_jobs(owner: Any) -> None:
    from generation.models import GenerationJob, GenerationOutput, JobStatus

    for n in range(JOBS):
        video = n % 2 == 0
        job = GenerationJob.objects.create(
            owner=owner,
            model="VIDEO_3_0_OMNI",
            mode="std",
            prompt=f"Shot 1 (5s): [@Little Scholar] walks through the rain, take {n}.",
            provider="local",
            status=JobStatus.SUCCEEDED,
            progress=100,
        )
        GenerationOutput.objects.create(
            job=job,
            owner=owner,
            kind="video" if video else "image",
            file=f"outputs/studio-{n}.{'mp4' if video else 'png'}",
            poster=f"outputs/posters/studio-{n}.jpg",
            thumbnail=f"outputs/thumbs/studio-{n}.jpg",
            width=1280,
            height=720,
            duration_ms=5000 if video else None,
            has_audio=video,
        )


def cpu_per_request(
    title: str, pages: list[tuple[str, Callable[[], Any]]], *, calls: int, repeats: int
) -> dict[str, float]:
    """Process CPU time (`time.process_time`) per request of each page, in rounds that
    alternate the pages after a warm-up; prints min / median / max over the rounds."""
    for _, call in pages:
        call()
    rounds: dict[str, list[float]] = {name: [] for name, _ in pages}
    for _ in range(repeats):
        for name, call in pages:
            start = time.process_time()
            for _ in range(calls):
                call()
            rounds[name].append((time.process_time() - start) / calls)
    print(f"\n{title}")
    medians = {}
    for name, values in rounds.items():
        medians[name] = statistics.median(values)
        print(
            f"  {name:<44} server CPU {medians[name] * 1e3:6.1f} ms/request  (rounds, min / "
            f"median / max: {min(values) * 1e3:.1f} / {medians[name] * 1e3:.1f} / "
            f"{max(values) * 1e3:.1f} ms)"
        )
    print(f"  ({calls} requests x {repeats} rounds a page; process CPU time, Django test client)")
    return medians


def studio_pages(quick: bool) -> dict[str, float]:
    """Django must be set up. Returns CPU milliseconds per request by page (keys ending in
    `_ms`: not ratios)."""
    from django.test import Client
    from features import FEED_PAGE, _seed_feed
    from listing import ELEMENTS, seed

    from accounts.models import User

    seed("bench-studio")
    user = User.objects.get(username="bench-studio")
    _seed_jobs(user)
    viewer = _seed_feed("bench-studio")
    # One client per user, so no login happens inside a timed round.
    clients = {}
    for who in (user, viewer):
        clients[who.pk] = Client()
        clients[who.pk].force_login(who)

    def post(query: str, variables: dict[str, Any], as_user: Any) -> Callable[[], Any]:
        body = json.dumps({"query": query, "variables": variables})
        own = clients[as_user.pk]

        def call() -> Any:
            response = own.post("/graphql", data=body, content_type="application/json")
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
            return response

        return call

    library = studio_document("routes/Library.tsx", "LibraryPageDocument")
    variables = {"order": "UPDATED_DESC", "first": 100}
    first = post(library, variables, user)
    page = first().json()["data"]["elements"]
    rest = post(library, {**variables, "after": page["pageInfo"]["endCursor"]}, user)
    second = rest().json()["data"]["elements"]
    if page["totalCount"] != ELEMENTS or len(page["edges"]) + len(second["edges"]) != ELEMENTS:
        raise SystemExit("The library page doesn't list the whole library.")
    # The studio's own documents for its job list and Explore feed.
    job_list = studio_document("routes/Jobs.tsx", "JobsPageDocument")
    feed_page = studio_document("routes/Explore.tsx", "ExploreFeedDocument")
    feed_variables = {"order": "NEWEST", "first": FEED_PAGE}
    jobs = post(job_list, {"first": JOBS}, user)
    if len(jobs().json()["data"]["generationJobs"]["edges"]) != JOBS:
        raise SystemExit("The job list doesn't list the jobs.")
    feed = post(feed_page, feed_variables, viewer)
    if len(feed().json()["data"]["exploreFeed"]["edges"]) != FEED_PAGE:
        raise SystemExit("The Explore feed isn't a full page.")

    timed = post
    cursor = page["pageInfo"]["endCursor"]
    medians = cpu_per_request(
        "What a page of the web studio costs the server (CPU per request)",
        [
            (f"library, first 100 of {ELEMENTS} (LibraryPage)", timed(library, variables, user)),
            (
                f"library, the other {ELEMENTS - 100} (LibraryPage, after)",
                timed(library, {**variables, "after": cursor}, user),
            ),
            (
                f"job list, generationJobs(first: {JOBS}) (JobsPage)",
                timed(job_list, {"first": JOBS}, user),
            ),
            (
                f"Explore feed, exploreFeed(first: {FEED_PAGE}) (ExploreFeed)",
                timed(feed_page, feed_variables, viewer),
            ),
        ],
        calls=3 if quick else 10,
        repeats=3 if quick else 7,
    )
    names = list(medians)
    library_ms = (medians[names[0]] + medians[names[1]]) * 1e3
    print(f"  the whole library of {ELEMENTS} (both requests): {library_ms:.1f} ms")
    return {
        "studio_library_ms": library_ms,
        "studio_jobs_ms": medians[names[2]] * 1e3,
        "studio_feed_ms": medians[names[3]] * 1e3,
    }
