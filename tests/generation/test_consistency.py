"""Consistency of every output (`generation.consistency`): a job rendered by the local
provider, whose third shot deliberately shows another character's pixels under the name it
mentions, is flagged on that shot only."""

from __future__ import annotations

import av
import numpy as np
import pytest
from strawberry import relay

from generation.consistency import sample_frames, shot_windows
from generation.models import JobConsistency, JobStatus
from generation.providers.local import LocalProvider
from generation.providers.local_render import Layer, ShotSpec, render_video
from tests.support.consistency import PROMPT, consistency_library
from tests.support.jobs import submit
from tests.support.photos import photo
from tests.support.studio import studio_client

pytestmark = pytest.mark.django_db

CONSISTENCY = """
query ($id: ID!) {
  generationJob(id: $id) {
    consistency {
      status score drifted checkedAt
      shots { shotIndex elementPosition elementName method score present drift }
    }
  }
}"""


@pytest.fixture
def swapped_third_shot(monkeypatch):
    """The local provider draws Bob wherever the third shot mentions Alice."""
    original = LocalProvider._shot_layers
    calls = {"n": 0}

    def layers(self, in_shot, images, carried, files):
        calls["n"] += 1
        if calls["n"] == 3:
            bob = [p for p in self._pins if p.name == "Bob"]
            in_shot = [bob[0] if p.name == "Alice" else p for p in in_shot]
        return original(self, in_shot, images, carried, files)

    original_video = LocalProvider._video

    def video(self, job, elements, *args, **kwargs):
        self._pins = list(elements)
        return original_video(self, job, elements, *args, **kwargs)

    monkeypatch.setattr(LocalProvider, "_shot_layers", layers)
    monkeypatch.setattr(LocalProvider, "_video", video)


def test_the_wrong_shot_is_flagged_and_the_others_pass(
    user, settings, swapped_third_shot, django_capture_on_commit_callbacks, admin_client
):
    settings.GENERATION_CONSISTENCY = True
    consistency_library(user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(user, prompt=PROMPT, duration=8)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    report = JobConsistency.objects.get(job=job)
    assert report.status == "done"
    rows = {(r.shot_index, r.job_element.name): r for r in report.shots.all()}
    assert set(rows) == {(1, "Alice"), (2, "Bob"), (3, "Alice"), (4, "Alice"), (4, "Mug")}
    wrong = rows[(3, "Alice")]
    assert wrong.method == "face" and wrong.present and wrong.drift, wrong.detail
    for key, row in rows.items():
        if key != (3, "Alice"):
            assert not row.drift, (key, row.score, row.detail)
            assert row.present and row.score >= 0.5
    assert rows[(4, "Mug")].method == "appearance"
    assert report.drifted == 1
    assert report.score is not None and 0 < report.score < 1
    assert report.score == pytest.approx(sum(r.score for r in rows.values()) / 5, abs=1e-3)
    # The owner sees it on the job.
    api = studio_client(user)
    seen = api(CONSISTENCY, {"id": str(relay.GlobalID("GenerationJob", str(job.pk)))})
    shown = seen["generationJob"]["consistency"]
    assert shown["status"] == "DONE" and shown["drifted"] == 1
    assert [(s["shotIndex"], s["elementName"], s["drift"]) for s in shown["shots"]] == [
        (1, "Alice", False),
        (2, "Bob", False),
        (3, "Alice", True),
        (4, "Alice", False),
        (4, "Mug", False),
    ]
    # Staff see it on the job's admin page.
    page = admin_client.get(f"/admin/generation/generationjob/{job.pk}/change/")
    assert page.status_code == 200
    assert "shot 3 Alice: face 0.24 DRIFT" in page.content.decode()


def test_no_report_when_switched_off(user, django_capture_on_commit_callbacks):
    consistency_library(user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(user, prompt=PROMPT, duration=8)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert not JobConsistency.objects.filter(job=job).exists()
    job_id = str(relay.GlobalID("GenerationJob", str(job.pk)))
    seen = studio_client(user)(CONSISTENCY, {"id": job_id})
    assert seen["generationJob"]["consistency"] is None


def test_shot_windows_follow_the_output_length():
    plan = {"shots": [{"index": 1, "duration": 2}, {"index": 2, "duration": 3}]}
    windows = shot_windows(plan, 10.0)
    assert [(round(a, 3), round(b, 3)) for _, a, b in windows] == [(0, 4), (4, 10)]
    assert shot_windows({}, 5.0) == []


def test_sampled_frames_are_the_nearest_frames_of_a_full_decode(tmp_path):
    """`sample_frames` decodes from keyframes and skips unreferenced frames: what it returns
    must be, pixel for pixel, the frame a decode of every frame puts nearest to each time (a
    tie to the later one), and the renderer must start every shot on a keyframe."""
    # given a 3-shot render with a camera move (every frame differs from the next)
    scene = tmp_path / "scene.png"
    photo("coffee").save(scene)
    layers = [Layer(scene, "background")]
    shots = [ShotSpec(1.0, text, layers) for text in ("Push in", "Pan left", "Pull back")]
    video = tmp_path / "video.mp4"
    render_video(shots, video, width=320, height=180, fps=24)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        base = float(stream.time_base)
        every = [
            ((f.pts or 0) * base, f.key_frame, f.to_ndarray(format="rgb24"))
            for f in container.decode(stream)
        ]
    assert [round(at, 3) for at, key, _ in every if key] == [0.0, 1.0, 2.0]
    step = 1 / 24
    times = [0.5, 1.5, 2.5, 0.0, 2.9, 9.0, -1.0, 1.0 + step / 2, 0.25, 0.26, 1.5, 2 - step / 3]

    # when
    frames = sample_frames(video, times)

    # then
    assert len(frames) == len(times)
    for t, frame in zip(times, frames, strict=True):
        nearest = min(every, key=lambda f: (abs(f[0] - t), -f[0]))
        assert np.array_equal(np.asarray(frame), nearest[2]), t
