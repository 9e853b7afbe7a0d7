"""A job whose worker is killed mid-render (`kill -9`) still ends once, with its credits right.

A real `manage.py qcluster` (tests/support/clusters.py) renders a 12 s video from this run's
database on the configured broker. When the job is running and its progress has moved, the worker
process rendering it is found and SIGKILLed: it is the parent of the ffmpeg the local
provider feeds frames to. (django-q2 forks its workers, monitor and pusher from the
sentinel, so they all share the qcluster's command line; without `setproctitle` installed,
the ffmpeg child is what tells the busy worker apart.) The sentinel then starts a new
worker, and the job is taken again:

- ORM broker: the task has a delivery receipt, so the broker itself re-delivers it `retry`
  seconds after it handed it out; nothing else is done here.
- Redis broker: the task is gone with the worker. The sweep (scheduled every minute in
  production) is run here once the heartbeat went stale, and re-enqueues it.

The killed worker leaves its render folder (`job-<job>-<pid>-…`) behind; the janitor run
afterwards removes it and finds no stored file that no row names.

The job row decides: the second delivery takes a job whose heartbeat went stale (attempt 2)
and succeeds, or, past `GENERATION_MAX_ATTEMPTS`, fails it with WORKER_LOST and refunds.

Timings are short so the test is quick, and keep django-q2's rule `timeout < retry`: the
heartbeat is stale after 3 s, a task times out after 50 s (a render takes about 8 s here,
slower on a loaded machine) and the ORM broker re-delivers after 55 s.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_q.brokers import Broker
from django_q.conf import Conf
from django_q.tasks import async_task, fetch

from accounts.models import CreditLedgerEntry, LedgerKind
from accounts.selectors import credit_balance
from generation import janitor, tasks
from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, GenerationOutput, JobStatus
from generation.providers.local_render import FFMPEG
from tests.factories import UserFactory
from tests.support import clusters
from tests.support.jobs import library_owner, submit

STALE_SECONDS = 3
Q_TIMEOUT = 50
Q_RETRY = 55
START_CREDITS = 500
# 12 s at 1280x720: about 8 s of rendering on two cores, a window of several seconds.
PROMPT = (
    "Shot 1 (5s): [@Little Scholar] walks down [@Tokyo Street]. "
    'Shot 2 (4s): [@Little Scholar] says, "I see food and I eat it." '
    "Shot 3 (3s): The camera pulls back over [@Tokyo Street]."
)
RUNNING_TIMEOUT = 45.0  # cluster start, first delivery, render under way
FINISH_TIMEOUT = 180.0  # kill to the end of the job (ORM: retry, then a whole render)
RESULT_TIMEOUT = 30.0
POLL = 0.1


@pytest.fixture
def owner() -> Any:
    return library_owner(UserFactory(), credits=START_CREDITS)


@pytest.fixture
def through_broker(monkeypatch: pytest.MonkeyPatch, broker: Broker) -> None:
    """Tasks enqueued by this process go to the real broker, as in production: tests run
    them inline (Q_CLUSTER["sync"]), and django_q reads that from `Conf`, which
    override_settings doesn't reach."""
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def short_heartbeat(settings: Any, tmp_path: Path) -> None:
    """The sweep and the janitor run in this process: they must see the cluster's staleness
    and its render folders."""
    settings.GENERATION_HEARTBEAT_STALE_SECONDS = STALE_SECONDS
    settings.GENERATION_WORK_DIR = str(tmp_path / "worker-tmp")


def janitor_cleans_up(tmp_path: Path, killed: int) -> None:
    """The killed worker left its render folder; the janitor removes it, and leaves no stored
    file that no row names (`min_age` 0: the job is over, nothing is being written)."""
    scratch = tmp_path / "worker-tmp"
    left = [p.name for p in scratch.iterdir() if p.name.startswith("job-")]
    assert left and all(f"-{killed}-" in name for name in left), left
    report = janitor.run_janitor(min_age=datetime.timedelta(0))
    assert sorted(Path(p).name for p in report.folders) == sorted(left)
    assert not [p for p in scratch.iterdir() if p.name.startswith("job-")]
    assert set(janitor.stored_files()) <= janitor.referenced_files()


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the cluster exited ({self.process.returncode}) {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not {what} within {timeout:.0f} s:\n{self.log()}")
            time.sleep(POLL)


@contextlib.contextmanager
def running_cluster(cluster_name: str, tmp_path: Path, **extra: str) -> Iterator[Cluster]:
    scratch = tmp_path / "worker-tmp"  # what a killed worker leaves behind lands here
    scratch.mkdir()
    env = clusters.cluster_env(
        cluster_name,
        Q_WORKERS="1",
        Q_TIMEOUT=str(Q_TIMEOUT),
        Q_RETRY=str(Q_RETRY),
        GENERATION_HEARTBEAT_STALE_SECONDS=str(STALE_SECONDS),
        TMPDIR=str(scratch),
        GENERATION_WORK_DIR=str(scratch),
        **extra,
    )
    log_path = tmp_path / "qcluster.log"
    with log_path.open("wb") as log:
        process = clusters.start(env, log)
        try:
            yield Cluster(process, log_path)
        finally:
            clusters.stop(process)


def job_row(job: GenerationJob) -> GenerationJob:
    job.refresh_from_db()
    return job


def wait_until_rendering(job: GenerationJob, cluster: Cluster) -> None:
    cluster.wait_for(
        "rendering",
        lambda: job_row(job).status == JobStatus.RUNNING and job.progress >= 5,
        RUNNING_TIMEOUT,
    )
    assert job.progress < 90, f"the render was nearly done ({job.progress}%) before the kill"


def kill_rendering_worker(cluster: Cluster) -> int:
    """SIGKILL the cluster's worker that runs ffmpeg (see the module docstring); its pid."""
    family = clusters.descendants(cluster.pid)
    encoders = [pid for pid in family if clusters.cmdline(pid)[:1] == [FFMPEG]]
    assert len(encoders) == 1, f"expected one ffmpeg under the cluster, found {encoders}"
    parents = clusters.parent_pids()
    worker = parents[encoders[0]]
    assert worker in family, "the ffmpeg's parent is not a cluster process"
    # qcluster -> sentinel -> workers, monitor, pusher: a worker is not the sentinel.
    assert parents[worker] != cluster.pid, "found the sentinel, not a worker"
    assert "qcluster" in clusters.cmdline(worker), clusters.cmdline(worker)
    os.kill(worker, signal.SIGKILL)
    cluster.wait_for("the worker gone", lambda: not clusters.is_alive(worker), 10)
    return worker


def wait_until_stale(job: GenerationJob, cluster: Cluster) -> None:
    def stale() -> bool:
        beat = job_row(job).heartbeat_at
        return beat is not None and beat < timezone.now() - datetime.timedelta(
            seconds=STALE_SECONDS
        )

    cluster.wait_for("stale", stale, STALE_SECONDS + 10)


def sweep() -> None:
    """What the scheduled sweep does: the job's task goes to the cluster through the broker."""
    assert tasks.sweep_stale_jobs() == {"stale": 1, "waiting": 0}


def state(job: GenerationJob) -> tuple[Any, ...]:
    job.refresh_from_db()
    ledger = CreditLedgerEntry.objects.filter(user_id=job.owner_id).order_by("pk")
    return (
        job.status,
        job.error_code,
        job.attempts,
        job.progress,
        job.finished_at,
        list(GenerationOutput.objects.filter(job=job).values_list("pk", "file")),
        list(ledger.values_list("pk", "kind", "amount")),
        credit_balance(job.owner),
    )


def deliver_again(job: GenerationJob, broker: Broker, cluster: Cluster) -> None:
    """A late duplicate delivery, through the cluster and inline: nothing changes."""
    before = state(job)
    task_id = async_task("generation.tasks.run_job", str(job.pk), broker=broker, save=True)
    result: list[Any] = []

    def done() -> bool:
        task = fetch(task_id)
        if task is not None:
            result.append(task)
        return task is not None

    cluster.wait_for("the duplicate delivery done", done, RESULT_TIMEOUT)
    assert (result[0].success, result[0].result) == (True, "skipped"), result[0].result
    assert tasks.run_job(str(job.pk)) == "skipped"
    assert state(job) == before


def assert_ledger(job: GenerationJob, *, refunds: int) -> None:
    entries = CreditLedgerEntry.objects.filter(user_id=job.owner_id)
    debits = entries.filter(kind=LedgerKind.DEBIT)
    assert debits.count() == 1
    assert abs(debits.get().amount) == job.credits_charged > 0
    assert entries.filter(kind=LedgerKind.REFUND).count() == refunds
    expected = START_CREDITS if refunds else START_CREDITS - job.credits_charged
    assert credit_balance(job.owner) == expected
    assert sum(entries.values_list("amount", flat=True)) == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("through_broker", "short_heartbeat")
def test_killed_worker_job_is_taken_again_and_succeeds_once(
    owner: Any, cluster_name: str, broker: Broker, tmp_path: Path
) -> None:
    redis = bool(django_settings.Q_CLUSTER.get("redis"))
    job = submit(owner, prompt=PROMPT)  # committed; its task is on the broker
    assert job.duration == 12

    with running_cluster(cluster_name, tmp_path, GENERATION_MAX_ATTEMPTS="3") as cluster:
        wait_until_rendering(job, cluster)
        killed = kill_rendering_worker(cluster)
        killed_at = time.monotonic()
        row = job_row(job)
        assert (row.status, row.attempts, row.outputs.count()) == (JobStatus.RUNNING, 1, 0)

        if redis:  # the task died with the worker: only the sweep brings the job back
            wait_until_stale(job, cluster)
            sweep()
        # else the ORM broker re-delivers the task by itself, Q_RETRY s after handing it out
        cluster.wait_for("finished", lambda: job_row(job).is_finished, FINISH_TIMEOUT)
        if not redis:
            assert time.monotonic() - killed_at > Q_RETRY / 2  # the re-delivery, not chance

        assert job.status == JobStatus.SUCCEEDED, (job.error_code, job.error_message)
        assert (job.attempts, job.progress, job.error_code) == (2, 100, "")
        output = GenerationOutput.objects.get(job=job)
        assert (output.kind, output.duration_ms, output.has_audio) == ("video", 12000, True)
        assert output.file.storage.exists(output.file.name)
        assert_ledger(job, refunds=0)
        janitor_cleans_up(tmp_path, killed)
        assert output.file.storage.exists(output.file.name)  # the janitor kept the job's files
        deliver_again(job, broker, cluster)  # done once
        assert "reincarnated worker" in cluster.log()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("through_broker", "short_heartbeat")
def test_killed_worker_job_past_its_attempts_fails_and_refunds_once(
    owner: Any, cluster_name: str, broker: Broker, tmp_path: Path
) -> None:
    job = submit(owner, prompt=PROMPT)

    with running_cluster(cluster_name, tmp_path, GENERATION_MAX_ATTEMPTS="1") as cluster:
        wait_until_rendering(job, cluster)
        killed = kill_rendering_worker(cluster)
        # Either broker: the sweep re-enqueues it, and the delivery finds no attempt left.
        wait_until_stale(job, cluster)
        sweep()
        cluster.wait_for("finished", lambda: job_row(job).is_finished, FINISH_TIMEOUT)

        assert (job.status, job.error_code) == (JobStatus.FAILED, GenerationErrorCode.WORKER_LOST)
        assert job.attempts == 1
        assert not GenerationOutput.objects.filter(job=job).exists()
        assert_ledger(job, refunds=1)
        janitor_cleans_up(tmp_path, killed)
        deliver_again(job, broker, cluster)
