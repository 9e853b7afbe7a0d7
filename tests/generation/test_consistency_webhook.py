"""The `generation.succeeded` webhook carries the job's consistency: with
GENERATION_CONSISTENCY on it is written when the consistency pass stores its report (or
fails, or is overdue), exactly once; with it off, when the job finishes, as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from strawberry import relay

from generation import consistency, tasks
from generation.models import GenerationJob, JobConsistency, JobStatus
from generation.webhooks import services as webhook_services
from generation.webhooks.models import WebhookEvent
from tests.support.consistency import PROMPT, consistency_library
from tests.support.jobs import submit
from tests.support.studio import studio_client
from tests.support.webhooks import Receiver, start_receiver

pytestmark = pytest.mark.django_db

PENDING = "query ($id: ID!) {generationJob(id: $id) {consistencyPending consistency {status}}}"


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    yield from start_receiver(["200"])


def _succeeded_events(job: GenerationJob) -> list[dict[str, Any]]:
    bodies = [json.loads(e.body) for e in WebhookEvent.objects.filter(type="generation.succeeded")]
    return [b["data"]["job"] for b in bodies if b["data"]["job"]["status"] == "succeeded"]


def _received(receiver: Receiver) -> list[dict[str, Any]]:
    bodies = [json.loads(r.body) for r in receiver.requests]
    return [b["data"]["job"] for b in bodies if b["type"] == "generation.succeeded"]


def _run(user: Any, capture: Any, receiver: Receiver) -> GenerationJob:
    consistency_library(user, capture)
    webhook_services.webhook_endpoint_create(
        owner=user, url=receiver.url(), events=["generation.succeeded"]
    )
    with capture(execute=True):
        job = submit(user, prompt=PROMPT, duration=8)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    return job


def test_the_succeeded_event_carries_the_scores_once(
    user, settings, receiver, django_capture_on_commit_callbacks
):
    settings.GENERATION_CONSISTENCY = True
    job = _run(user, django_capture_on_commit_callbacks, receiver)
    report = JobConsistency.objects.get(job=job)
    assert report.status == "done" and not job.consistency_pending
    (sent,) = _succeeded_events(job)
    shown = sent["consistency"]
    assert shown["score"] == report.score and shown["drifted"] == report.drifted
    assert [(s["shot_index"], s["element_name"]) for s in shown["shots"]] == [
        (1, "Alice"),
        (2, "Bob"),
        (3, "Alice"),
        (4, "Alice"),
        (4, "Mug"),
    ]
    by_pair = {(r.shot_index, r.job_element.name): r for r in report.shots.all()}
    for row in shown["shots"]:
        stored = by_pair[(row["shot_index"], row["element_name"])]
        assert (row["score"], row["present"], row["drift"], row["method"]) == (
            stored.score,
            stored.present,
            stored.drift,
            stored.method,
        )
    # The receiver got that one event, with the outputs too.
    (delivered,) = _received(receiver)
    assert delivered["consistency"] == shown and delivered["outputs"]
    # Measured again (a duplicate delivery of the task, a staff re-run): no second event.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.check_consistency(str(job.pk))
    assert len(_succeeded_events(job)) == 1
    assert tasks.sweep_overdue_consistency() == 0
    assert len(_succeeded_events(job)) == 1


def test_switched_off_the_event_goes_at_finish(
    user, settings, receiver, django_capture_on_commit_callbacks
):
    assert settings.GENERATION_CONSISTENCY is False
    job = _run(user, django_capture_on_commit_callbacks, receiver)
    assert not job.consistency_pending
    (sent,) = _succeeded_events(job)
    assert sent["consistency"] is None and sent["outputs"]
    assert len(_received(receiver)) == 1


def test_a_failed_pass_still_sends_the_event_without_scores(
    user, settings, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    settings.GENERATION_CONSISTENCY = True

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("decoder gone")

    monkeypatch.setattr(consistency, "measure", broken)
    job = _run(user, django_capture_on_commit_callbacks, receiver)
    assert JobConsistency.objects.get(job=job).status == "failed"
    (sent,) = _succeeded_events(job)
    assert sent["consistency"] is None and sent["outputs"]
    assert len(_received(receiver)) == 1


def test_a_lost_pass_is_swept_and_a_late_one_sends_nothing_more(
    user, settings, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    settings.GENERATION_CONSISTENCY = True
    settings.GENERATION_CONSISTENCY_TIMEOUT_SECONDS = 600
    monkeypatch.setattr(consistency, "measure", lambda *a, **k: [])
    monkeypatch.setattr(tasks, "enqueue_consistency", lambda job_id: None)  # the task is lost
    job = _run(user, django_capture_on_commit_callbacks, receiver)
    assert job.consistency_pending
    assert _succeeded_events(job) == []  # held back for the report
    api = studio_client(user)
    job_id = str(relay.GlobalID("GenerationJob", str(job.pk)))
    assert api(PENDING, {"id": job_id})["generationJob"] == {
        "consistencyPending": True,
        "consistency": None,
    }
    # Not yet overdue: the sweep leaves it.
    assert tasks.sweep_overdue_consistency() == 0
    GenerationJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(seconds=601)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_overdue_consistency() == 1
    report = JobConsistency.objects.get(job=job)
    assert report.status == "failed" and report.message == "Not measured in time."
    assert api(PENDING, {"id": job_id})["generationJob"] == {
        "consistencyPending": False,
        "consistency": {"status": "FAILED"},
    }
    (sent,) = _succeeded_events(job)
    assert sent["consistency"] is None
    assert len(_received(receiver)) == 1
    # The pass comes after all: its report replaces the placeholder, no second event.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.check_consistency(str(job.pk))
    assert JobConsistency.objects.get(job=job).status == "done"
    assert tasks.sweep_overdue_consistency() == 0
    assert len(_succeeded_events(job)) == 1
    assert len(_received(receiver)) == 1
