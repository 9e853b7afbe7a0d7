"""Issue 11's "done when": every camera phrasing renders on the local provider as a video whose
length is the sum of its shots, through GraphQL against a running service.

A real `manage.py serve` (granian and the task cluster, tests/live_serve.py) on a fresh
database of the suite's kind; the demo user's API token; the phrasings split into as few
multi-shot jobs as the model's shot limit allows; each job polled over HTTP until the cluster
finishes it, its MP4 fetched from its signed URL as its owner, and measured with PyAV.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import pytest
from django.conf import settings

from generation.catalog import MAX_SHOTS, MIN_SHOT_SECONDS
from tests.live_serve import (
    Served,
    fetch,
    fresh_database,
    graphql,
    needs_proc,
    prepared,
    running,
    served_env,
)

JOBS_TIMEOUT = 150.0
PAN_EITHER_WAY = ("pan_left", "pan_right")

# Each phrasing of issue 11's list, with the move the compiler must read from it (a tuple:
# a direction-less pan turns whichever way the layout suggests, and the preview says which).
PHRASINGS: list[tuple[str, str | tuple[str, ...]]] = [
    ("The camera pushes in on the table.", "push_in"),
    ("Zoom in on the cup.", "push_in"),
    ("The camera pulls back from the table.", "pull_back"),
    ("Zoom out over the room.", "pull_back"),
    ("Reveal the whole street.", "pull_back"),
    ("Pan left across the room.", "pan_left"),
    ("The camera pans right to the door.", "pan_right"),
    ("Tilt up to the ceiling.", "tilt_up"),
    ("Tilt down to the floor.", "tilt_down"),
    ("The camera orbits the table.", "orbit"),
    ("Crane up over the crowd.", "crane_up"),
    ("The camera cranes down to the street.", "crane_down"),
    ("The camera follows the cat.", "follow"),
    ("Tracking shot along the river.", "follow"),
    ("The camera dollies in on the sofa.", "dolly_in"),
    ("Dolly out from the table.", "dolly_out"),
    ("Handheld, a little shaky.", "handheld"),
    ("Static shot of the table.", "static"),
    ("The camera pans across the room.", PAN_EITHER_WAY),
    ("摇镜头", PAN_EITHER_WAY),
    ("镜头缓缓推进", "push_in"),
    ("镜头环绕桌子", "orbit"),
    ("The camera pann right.", "pan_right"),
]

PREVIEW = """
query ($input: GenerationPreviewInput!) {
  generationPromptPreview(input: $input) {
    ok totalDuration issues { code message }
    shots { index duration cameraMove camera cameraNote }
  }
}"""

SUBMIT = """
mutation ($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

JOB = """
query ($id: ID!) {
  generationJob(id: $id) { status errorCode duration outputs { kind url durationMs } }
}"""


def batches() -> list[list[tuple[str, str | tuple[str, ...]]]]:
    return [PHRASINGS[i : i + MAX_SHOTS] for i in range(0, len(PHRASINGS), MAX_SHOTS)]


def prompt_of(batch: list[tuple[str, Any]]) -> str:
    return " ".join(
        f"Shot {n} ({MIN_SHOT_SECONDS}s): {words}" for n, (words, _) in enumerate(batch, 1)
    )


def job_input(batch: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        "model": "VIDEO_3_0_OMNI",
        "prompt": prompt_of(batch),
        "duration": MIN_SHOT_SECONDS * len(batch),
    }


def call(port: int, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = graphql(port, token, query, variables)
    assert answer is not None, "the service did not answer"
    assert not answer.get("errors"), answer
    return answer["data"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("live-camera")
    # The suite's broker too: Redis when it runs on PostgreSQL + Redis, else the ORM broker.
    redis = {"REDIS_URL": settings.Q_CLUSTER["redis"]} if settings.Q_CLUSTER.get("redis") else {}
    with fresh_database(data) as database_url:
        yield prepared(data, served_env(data, database_url, **redis))


def test_the_batches_cover_the_list_within_the_model_limits() -> None:
    assert len(batches()) == -(-len(PHRASINGS) // MAX_SHOTS)  # as few jobs as possible
    assert all(len(b) <= MAX_SHOTS for b in batches())
    assert sum(len(b) for b in batches()) == len(PHRASINGS)


@needs_proc
def test_every_camera_phrasing_renders_at_the_length_of_its_shots(served: Served) -> None:
    with running(served) as port:
        token = served.token

        # given: the preview reads each phrasing as the move it names
        for batch in batches():
            preview = call(port, token, PREVIEW, {"input": job_input(batch)})
            preview = preview["generationPromptPreview"]
            assert preview["ok"] is True, preview
            assert preview["totalDuration"] == MIN_SHOT_SECONDS * len(batch)
            assert len(preview["shots"]) == len(batch)
            for shot, (words, move) in zip(preview["shots"], batch, strict=True):
                moves = move if isinstance(move, tuple) else (move,)
                assert shot["cameraMove"] in moves, (words, shot)
                assert shot["duration"] == MIN_SHOT_SECONDS
                if isinstance(move, tuple):
                    assert shot["cameraNote"], (words, shot)  # says which way it chose

        # when: every job is submitted over HTTP and run by the service's cluster
        ids = []
        for batch in batches():
            submitted = call(port, token, SUBMIT, {"input": job_input(batch)})["generationSubmit"]
            assert submitted["__typename"] == "GenerationJobResult", submitted
            ids.append(submitted["job"]["id"])
        deadline = time.monotonic() + JOBS_TIMEOUT
        jobs: dict[str, dict[str, Any]] = {}
        while len(jobs) < len(ids):
            assert time.monotonic() < deadline, f"jobs unfinished: {jobs}\n{served.output()}"
            for job_id in set(ids) - set(jobs):
                job = call(port, token, JOB, {"id": job_id})["generationJob"]
                if job["status"] in {"SUCCEEDED", "FAILED", "CANCELED"}:
                    jobs[job_id] = job
            time.sleep(0.5)

        # then: each video, fetched by its signed URL (bound to its owner), lasts the sum of
        # its shots
        for job_id, batch in zip(ids, batches(), strict=True):
            job = jobs[job_id]
            assert job["status"] == "SUCCEEDED", (prompt_of(batch), job)
            expected = MIN_SHOT_SECONDS * len(batch)
            (video,) = [o for o in job["outputs"] if o["kind"] == "VIDEO"]
            status, headers, data = fetch(video["url"], token, {})
            assert status == 200, (status, data[:200])
            assert headers["content-type"] == "video/mp4"
            with av.open(io.BytesIO(data), mode="r") as container:
                stream = container.streams.video[0]
                assert stream.duration is not None and stream.time_base is not None
                assert stream.average_rate
                length = Fraction(stream.duration * stream.time_base)
                frame = 1 / Fraction(stream.average_rate)
                frames = sum(1 for _ in container.decode(video=0))
            assert abs(length - expected) <= frame, (prompt_of(batch), float(length))
            assert abs(frames * frame - expected) <= frame, (prompt_of(batch), frames)
            assert abs(video["durationMs"] / 1000 - expected) <= float(frame)


def test_the_misspelling_and_chinese_phrasings_are_in_the_list() -> None:
    words = [w for w, _ in PHRASINGS]
    assert any("pann " in w for w in words)
    for chinese in ("摇镜头", "推进", "环绕"):
        assert any(chinese in w for w in words)
