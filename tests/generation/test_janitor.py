"""The janitor removes what crashed workers left (files no row names, dead workers' render
folders, expired idempotency keys) and nothing else; and a job whose worker went silent shows
`stalled: true` and tells its owner once."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from strawberry import relay

from accounts.models import User
from generation import tasks
from generation.janitor import dead_work_dirs, referenced_files, run_janitor, stored_files
from generation.models import GenerationJob, GenerationOutput, IdempotencyKey, JanitorRun, JobStatus
from generation.services import JobRequest, generation_submit
from generation.webhooks.models import WebhookEvent
from tests.conftest import GraphQLClient, media_files
from tests.factories import TEST_PASSWORD, GenerationJobFactory, WebhookEndpointFactory
from tests.support.jobs import PROMPT, library_owner


@pytest.fixture
def owner(user):
    return library_owner(user)


pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture(autouse=True)
def own_media(settings: Any, tmp_path: Path) -> None:
    """A media folder of this test's own: the run's shared one holds other tests' files,
    whose rows were rolled back with their tests (orphans, to the janitor)."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": str(media)},
        },
    }


def age(name: str, seconds: float) -> None:
    """Make a stored file look `seconds` old."""
    path = default_storage.path(name)
    then = time.time() - seconds
    os.utime(path, (then, then))


def orphan(folder: str, seconds: float) -> str:
    name = default_storage.save(f"{folder}/{uuid.uuid4().hex}.bin", ContentFile(b"left behind"))
    age(name, seconds)
    return name


@pytest.fixture
def finished_job(owner: Any, django_capture_on_commit_callbacks: Any) -> GenerationJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = generation_submit(
            owner=owner,
            request=JobRequest(model="VIDEO_3_0_OMNI", prompt=PROMPT),  # type: ignore[arg-type]
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    return job


def test_janitor_removes_old_files_no_row_names_and_keeps_the_rest(
    finished_job: GenerationJob,
) -> None:
    # given: the job's and elements' files (referenced, made old), and orphans old and young
    for name in media_files():
        age(name, 2 * HOUR)
    old = [orphan("outputs", 2 * HOUR), orphan("voices", 2 * HOUR), orphan("jobs/inputs", 2 * HOUR)]
    young = orphan("outputs/posters", 10 * 60)
    not_ours = default_storage.save("kling/element-clips/x.mp4", ContentFile(b"transient"))
    age(not_ours, 2 * HOUR)
    kept = media_files() - set(old)

    # when: a dry run, then a run
    dry = run_janitor(dry_run=True)
    assert sorted(dry.files) == sorted(old)
    assert dry.bytes == 3 * len(b"left behind")
    assert media_files() == kept | set(old)  # a dry run removes nothing
    report = run_janitor()

    # then
    assert sorted(report.files) == sorted(old)
    assert media_files() == kept
    assert young in kept and not_ours in kept
    output = GenerationOutput.objects.get(job=finished_job)
    assert {output.file.name, output.poster.name, output.thumbnail.name} <= kept
    # every stored file of ours that is left is referenced (or young)
    assert set(stored_files()) - referenced_files() == {young}
    runs = list(JanitorRun.objects.order_by("started_at"))
    assert [(r.dry_run, r.files_removed) for r in runs] == [(True, 3), (False, 3)]
    assert sorted(runs[1].removed) == sorted(old)


def test_janitor_removes_only_dead_workers_render_folders(
    finished_job: GenerationJob, settings: Any, tmp_path: Path
) -> None:
    settings.GENERATION_WORK_DIR = str(tmp_path)
    settings.GENERATION_HEARTBEAT_STALE_SECONDS = 60
    dead_pid = _dead_pid()
    running = GenerationJobFactory(
        owner=finished_job.owner,
        model=finished_job.model,
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    stalled = GenerationJobFactory(
        owner=finished_job.owner,
        model=finished_job.model,
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=5),
    )

    def folder(job_id: Any, pid: int, suffix: str = "abc") -> Path:
        path = tmp_path / f"job-{uuid.UUID(str(job_id)).hex}-{pid}-{suffix}"
        path.mkdir()
        (path / "frame.png").write_bytes(b"x")
        return path

    gone = [
        folder(finished_job.pk, dead_pid),  # ended, its worker dead
        folder(stalled.pk, dead_pid),  # silent, its worker dead
        folder(uuid.uuid4(), dead_pid),  # no such job
    ]
    legacy = tmp_path / "job-k2j3h4"
    legacy.mkdir()
    os.utime(legacy, (time.time() - 7 * HOUR,) * 2)
    gone.append(legacy)
    kept = [
        folder(running.pk, dead_pid, "live"),  # its heartbeat is fresh: a live worker's
        folder(stalled.pk, os.getpid(), "slow"),  # silent, but its process is alive here
        tmp_path / "job-recent",  # an unnamed folder, young
        tmp_path / "still-abc",  # not a render folder
    ]
    kept[2].mkdir()
    kept[3].mkdir()

    assert dead_work_dirs() == sorted(gone)
    report = run_janitor()

    assert sorted(report.folders) == sorted(str(p) for p in gone)
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_janitor_command_reports_with_a_progress_bar_and_dry_run(
    finished_job: GenerationJob,
) -> None:
    name = orphan("outputs", 2 * HOUR)
    out, err = io.StringIO(), io.StringIO()
    import sys as _sys

    real_stderr, _sys.stderr = _sys.stderr, err
    try:
        call_command("janitor", "--dry-run", stdout=out)
    finally:
        _sys.stderr = real_stderr
    assert f"Would remove file {name}" in out.getvalue()
    assert "Would remove 1 of" in out.getvalue()
    assert "checking stored files [" in err.getvalue() and "(100%)" in err.getvalue()
    assert default_storage.exists(name)

    out = io.StringIO()
    call_command("janitor", "--no-progress", stdout=out)
    assert f"Removed file {name}" in out.getvalue()
    assert not default_storage.exists(name)
    # --min-age: a young orphan goes only when asked
    young = orphan("outputs", 60)
    call_command("janitor", "--no-progress", stdout=io.StringIO())
    assert default_storage.exists(young)
    call_command("janitor", "--no-progress", "--min-age", "30", stdout=io.StringIO())
    assert not default_storage.exists(young)


def test_janitor_purges_expired_idempotency_keys(finished_job: GenerationJob) -> None:
    fresh = IdempotencyKey.objects.create(
        owner_id=finished_job.owner_id, key="a", operation="x", fingerprint="f", job=finished_job
    )
    expired = IdempotencyKey.objects.create(
        owner_id=finished_job.owner_id,
        key="b",
        operation="x",
        fingerprint="f",
        job=finished_job,
        created_at=timezone.now() - datetime.timedelta(hours=25),
    )
    assert run_janitor(dry_run=True).keys == 0
    assert run_janitor().keys == 1
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotencyKey.objects.filter(pk=expired.pk).exists()


def test_staff_see_the_janitor_runs_in_the_admin(finished_job: GenerationJob) -> None:
    name = orphan("outputs", 2 * HOUR)
    run_janitor()
    staff = User.objects.create_superuser("root", "r@example.com", TEST_PASSWORD)
    client = Client()
    client.force_login(staff)
    listing = client.get(reverse("admin:generation_janitorrun_changelist"))
    assert listing.status_code == 200
    run = JanitorRun.objects.get()
    detail = client.get(reverse("admin:generation_janitorrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert name in detail.content.decode()


# --- Stalled jobs -----------------------------------------------------------------------------


JOB = """query ($id: ID!) { generationJob(id: $id) { status stalled } }"""


def test_a_job_with_a_silent_worker_shows_stalled_until_taken_again(
    owner: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.GENERATION_HEARTBEAT_STALE_SECONDS = 60
    WebhookEndpointFactory(owner=owner, url="https://example.com/hook")
    with django_capture_on_commit_callbacks(execute=False):
        job = generation_submit(
            owner=owner,
            request=JobRequest(model="VIDEO_3_0_OMNI", prompt=PROMPT),  # type: ignore[arg-type]
        )
    client = Client()
    client.force_login(owner)
    api = GraphQLClient(client)
    job_id = str(relay.GlobalID("GenerationJob", str(job.pk)))
    assert api(JOB, {"id": job_id})["generationJob"] == {"status": "QUEUED", "stalled": False}

    # a worker took it, then went silent (killed) a while ago
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=30),
    )
    assert api(JOB, {"id": job_id})["generationJob"] == {"status": "RUNNING", "stalled": False}
    GenerationJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=90)
    )
    assert api(JOB, {"id": job_id})["generationJob"] == {"status": "RUNNING", "stalled": True}

    # the sweep tells the owner once (not on every pass), and hands the job over (here the
    # deliveries are kept back: no worker is free yet)
    enqueued: list[Any] = []
    monkeypatch.setattr(tasks, "enqueue_job", enqueued.append)
    assert tasks.sweep_stale_jobs() == {"stale": 1, "waiting": 0}
    assert tasks.sweep_stale_jobs() == {"stale": 1, "waiting": 0}
    assert enqueued == [job.pk, job.pk]
    assert api(JOB, {"id": job_id})["generationJob"] == {"status": "RUNNING", "stalled": True}
    events = WebhookEvent.objects.filter(owner=owner, type="generation.stalled")
    assert events.count() == 1
    body = json.loads(events.get().body)
    assert body["data"]["job"]["stalled"] is True
    assert body["data"]["job"]["status"] == "running"

    # taken again: no longer stalled, and its next event says so
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_job(str(job.pk)) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.stalled_at, job.attempts) == (JobStatus.SUCCEEDED, None, 2)
    assert api(JOB, {"id": job_id})["generationJob"] == {"status": "SUCCEEDED", "stalled": False}
    done = WebhookEvent.objects.filter(owner=owner, type="generation.succeeded").get()
    assert json.loads(done.body)["data"]["job"]["stalled"] is False
