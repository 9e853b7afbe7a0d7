"""Running jobs in django-q2 workers.

The job row, not the broker, is the source of truth. `run_job` takes a job only when it is
queued, or running with a heartbeat gone stale (its worker died); a duplicate delivery finds
it running with a fresh heartbeat and does nothing. The Redis broker keeps no delivery
receipts, so a killed worker's task would be lost: `sweep_stale_jobs`, scheduled every
minute, re-enqueues jobs whose heartbeat went stale and fails (and refunds) those past their
attempts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from elementsite.errors import DATABASE_UNAVAILABLE
from elementsite.storage import (
    StorageError,
    StorageErrorCode,
    remove_quietly,
    save_file,
    storage_error_code,
)
from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, GenerationOutput, JobKind, JobStatus
from generation.multiview import multiview_store
from generation.providers.base import JobCanceled, ProviderError, RenderedOutput, Requeue
from generation.providers.kling.client import KlingConfigError
from generation.providers.registry import get_provider
from generation.selectors import WORK_DIR_PREFIX, job_stale_after
from generation.services import job_finish
from generation.webhooks.services import job_event_emit, job_stalled_emit

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
STAFF_ERROR_MAX = 4000  # characters of an exception's message kept for staff
T = TypeVar("T")


def stale_after() -> timedelta:
    return job_stale_after()


def storage_retry_delays() -> list[float]:
    """Seconds to wait before each new try of a render whose storage was unavailable."""
    return [float(d) for d in settings.GENERATION_STORAGE_RETRY_DELAYS]


def work_dir_root() -> str | None:
    """Where renders keep their temporary folders (None: the system's temporary folder)."""
    return settings.GENERATION_WORK_DIR or None


def work_dir_prefix(job_id: Any) -> str:
    """`job-<job id>-<pid>-`: the janitor reads which job and which process a folder is of."""
    return f"{WORK_DIR_PREFIX}{uuid.UUID(str(job_id)).hex}-{os.getpid()}-"


def max_attempts() -> int:
    return int(settings.GENERATION_MAX_ATTEMPTS)


def enqueue_consistency(job_id: Any) -> None:
    """Hand a succeeded job to the workers for its consistency report."""
    async_task(
        "generation.tasks.check_consistency",
        str(job_id),
        task_name=f"consistency-{job_id}"[:100],
    )


def check_consistency(job_id: str) -> bool:
    """Measure how each shot of a succeeded job shows the elements it mentions
    (`generation.consistency`); a job gone or not succeeded is skipped."""
    from generation.consistency import job_consistency_check

    return job_consistency_check(job_id) is not None


def enqueue_job(job_id: Any) -> bool:
    """Hand a job to the workers (call after the transaction that created it commits).

    The job is committed and charged by then, so a broker that is down (Redis refusing the
    connection) must not turn an accepted job into an error for the client, who would retry
    and pay twice: the job stays queued and `sweep_stale_jobs` hands it over once the broker
    is back. Returns whether the broker took it."""
    try:
        async_task("generation.tasks.run_job", str(job_id), task_name=f"job-{job_id}"[:100])
    except Exception:
        logger.warning(
            "generation job %s: the broker refused it; it stays queued for the sweep",
            job_id,
            exc_info=True,
        )
        return False
    return True


def _claim(job_id: str) -> GenerationJob | None:
    """Lock the job and mark it running, if this delivery may run it."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        now = timezone.now()
        stale = job.heartbeat_at is None or job.heartbeat_at < now - stale_after()
        if job.status == JobStatus.RUNNING and not stale:
            return None  # another worker has it
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None  # finished: a late or duplicate delivery
        if job.cancel_requested:
            job_finish(job, JobStatus.CANCELED, message="Canceled by you.")
            return None
        if job.attempts >= max_attempts():
            job_finish(
                job,
                JobStatus.FAILED,
                code=GenerationErrorCode.WORKER_LOST,
                message="The job was interrupted too often; your credits were refunded.",
            )
            return None
        first_start = job.started_at is None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.stalled_at = None  # taken again: no longer stranded
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "stalled_at"])
        if first_start:
            # Taken again after its worker died, it had started already: no second event.
            job_event_emit(job)
        return job


class _ProgressReporter:
    """Writes progress and the heartbeat (throttled) and notices a cancel request."""

    def __init__(self, job: GenerationJob) -> None:
        self.job = job
        self.last_write = timezone.now()
        self.last_value = -1

    def __call__(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))
        now = timezone.now()
        if percent == self.last_value and now - self.last_write < HEARTBEAT_EVERY:
            return
        self.last_value, self.last_write = percent, now
        GenerationJob.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            progress=percent, heartbeat_at=now
        )
        if GenerationJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCanceled


def _store(job: GenerationJob, rendered: RenderedOutput, written: list[str]) -> GenerationOutput:
    """Store one output's files and row; every name joins `written` before its write."""
    stem = uuid.uuid4().hex
    output = GenerationOutput(
        job=job,
        owner_id=job.owner_id,
        kind=rendered.kind,
        width=rendered.width,
        height=rendered.height,
        duration_ms=rendered.duration_ms,
        has_audio=rendered.has_audio,
    )
    for field, path, folder in (
        (output.file, rendered.path, "outputs"),
        (output.poster, rendered.poster, "outputs/posters"),
        (output.thumbnail, rendered.thumbnail, "outputs/thumbs"),
    ):
        with path.open("rb") as f:
            field.name = save_file(f"{folder}/{stem}{path.suffix}", File(f), written)
    output.save()
    return output


def _finish(job: GenerationJob, rendered: Any) -> str:
    """Store what the provider made and end the job, in one transaction; the files of a
    transaction that fails are removed at once."""
    written: list[str] = []
    try:
        with transaction.atomic():
            locked = GenerationJob.objects.select_for_update().get(pk=job.pk)
            if locked.status != JobStatus.RUNNING:
                return "dropped"
            if locked.cancel_requested:
                job_finish(locked, JobStatus.CANCELED, message="Canceled by you.")
                return "canceled"
            if locked.kind == JobKind.MULTIVIEW:
                multiview_store(locked, rendered)
            else:
                for item in rendered:
                    _store(locked, item, written)
            measure = locked.kind == JobKind.GENERATION and settings.GENERATION_CONSISTENCY
            # Measured: its generation.succeeded event waits for the report, to carry it.
            job_finish(locked, JobStatus.SUCCEEDED, measure_consistency=measure)
            if measure:
                # How faithful the output is to its elements, measured once it is stored.
                # Robust: a broker that is down costs the report, never the succeeded job
                # (the sweep sends its event once the pass is overdue).
                transaction.on_commit(lambda: enqueue_consistency(job.pk), robust=True)
    except BaseException:
        for name in written:
            remove_quietly(name)
        raise
    return "succeeded"


def _with_storage_retries(job: GenerationJob, step: Callable[[], T]) -> T:
    """Run `step`; while the storage is unavailable, try again after each delay of
    `storage_retry_delays()` (the heartbeat kept fresh meanwhile, a cancel honoured). A full
    storage, or one still down after the last delay, raises StorageError."""
    delays = iter(storage_retry_delays())
    while True:
        try:
            return step()
        except Exception as exc:
            code = storage_error_code(exc)
            if code is None:
                raise
            delay = next(delays, None)
            if code != StorageErrorCode.UNAVAILABLE or delay is None:
                raise exc if isinstance(exc, StorageError) else StorageError(code) from exc
            logger.warning(
                "generation job %s: storage unavailable, trying again in %.0f s", job.pk, delay
            )
            _wait(job, delay)


def _wait(job: GenerationJob, seconds: float) -> None:
    """Sleep with the heartbeat kept fresh, so the sweep doesn't take the job meanwhile."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, HEARTBEAT_EVERY.total_seconds()))
        GenerationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            heartbeat_at=timezone.now()
        )
        if GenerationJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
            raise JobCanceled


def run_job(job_id: str) -> str:
    """The worker's task for one job; safe to deliver twice."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        provider = get_provider(job.provider)
        # Named after the job and this process: a worker killed mid-render leaves it, and
        # the janitor tells a dead worker's folder from a live one's by those.
        with tempfile.TemporaryDirectory(
            prefix=work_dir_prefix(job.pk), dir=work_dir_root(), ignore_cleanup_errors=True
        ) as workdir:
            progress = _ProgressReporter(job)
            rendered = _with_storage_retries(
                job, lambda: provider.run(job, workdir=Path(workdir), progress=progress)
            )
            return _with_storage_retries(job, lambda: _finish(job, rendered))
    except JobCanceled:
        return _end(job.pk, JobStatus.CANCELED, "", "Canceled by you.")
    except Requeue:
        return _requeue(job.pk)
    except ProviderError as exc:
        return _end(job.pk, JobStatus.FAILED, exc.code, exc.message, staff_error=exc.detail)
    except StorageError as exc:
        why = "is full" if exc.storage_code == StorageErrorCode.FULL else "was unavailable"
        return _end(
            job.pk,
            JobStatus.FAILED,
            exc.storage_code,
            f"File storage {why}; your credits were refunded. Try again later.",
        )
    except DATABASE_UNAVAILABLE as exc:
        return _retry_after_outage(job, exc)
    except KlingConfigError as exc:
        logger.error("generation job %s: %s", job.pk, exc)
        return _end(
            job.pk,
            JobStatus.FAILED,
            GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
            "The generation service is not set up; your credits were refunded.",
        )
    except Exception as exc:
        logger.exception("generation job %s failed", job.pk)
        # Our bug: staff see what it was on the job's admin page; the user a plain message.
        return _end(
            job.pk,
            JobStatus.FAILED,
            GenerationErrorCode.INTERNAL_ERROR,
            "Something went wrong while rendering; your credits were refunded.",
            staff_error=f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}",
        )


def _requeue(job_id: Any) -> str:
    """Back in the queue, still waiting on its provider: not an attempt that failed."""
    with transaction.atomic():
        requeued = GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, attempts=F("attempts") - 1, heartbeat_at=timezone.now()
        )
        if requeued:
            logger.info("generation job %s gave its worker back; queued again", job_id)
            transaction.on_commit(lambda: enqueue_job(job_id))
    return "requeued"


# How long a worker waits for a database that went away before leaving its job to the sweep:
# a restart takes seconds; the sweep comes back after GENERATION_HEARTBEAT_STALE_SECONDS.
OUTAGE_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def _retry_after_outage(job: GenerationJob, exc: BaseException) -> str:
    """The database went away mid-job (a restart, a failover, its sessions ended, a SQLite
    file locked past the busy timeout): neither the user's fault nor a bug, so not a failure
    to refund. Drop the dead connection (django-q2 would reuse it for its next task) and queue
    the job again, waiting a few seconds for the database if need be. If it is still away, the
    job stays running, its heartbeat goes stale and `sweep_stale_jobs` takes it.

    Within `GENERATION_OUTAGE_GRACE_SECONDS` of its start the try is given back, like a
    `Requeue`: a few outages in a row don't fail the job. After that it counts, so a job that
    meets the same error every time (a query that times out, not an outage) spends its
    attempts and fails, refunded, instead of running for ever."""
    job_id = job.pk
    grace = timedelta(seconds=settings.GENERATION_OUTAGE_GRACE_SECONDS)
    forgiven = job.started_at is not None and timezone.now() - job.started_at < grace
    logger.warning(
        "generation job %s: the database went away (%s); queueing it again",
        job_id,
        type(exc).__name__,
    )
    for delay in (*OUTAGE_RETRY_DELAYS, None):
        _drop_connection()
        try:
            with transaction.atomic():
                requeued = GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                    status=JobStatus.QUEUED,
                    heartbeat_at=timezone.now(),
                    attempts=F("attempts") - (1 if forgiven else 0),
                )
                if requeued:
                    transaction.on_commit(lambda: enqueue_job(job_id))
            return "requeued"
        except DATABASE_UNAVAILABLE:
            if delay is None:
                break
            time.sleep(delay)
    logger.warning("generation job %s: the database is still away; left for the sweep", job_id)
    _drop_connection()
    return "left for the sweep"


def _drop_connection() -> None:
    # The next query opens a new connection. (Inside an atomic block, only in tests that wrap
    # a task in one, closing would break the block: the block's owner cleans up.)
    if not connection.in_atomic_block:
        with contextlib.suppress(DatabaseError):
            connection.close()


def _end(job_id: Any, status: str, code: str, message: str, *, staff_error: str = "") -> str:
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if not job.is_finished:
            job_finish(job, status, code=code, message=message)
            if staff_error:
                job.staff_error = staff_error[:STAFF_ERROR_MAX]
                job.save(update_fields=["staff_error"])
    return status


def sweep_stale_jobs() -> dict[str, int]:
    """Scheduled: re-enqueue jobs whose worker went quiet; the task itself fails those past
    their attempts. Also re-enqueues queued jobs nobody took (a lost Redis delivery, or a
    broker that was down at submit). A stranded job's owner hears of it once per stall: its
    `generation.stalled` webhook event is written when the sweep first finds it. Also gives up
    on overdue consistency passes (`sweep_overdue_consistency`)."""
    now = timezone.now()
    stale = list(
        GenerationJob.objects.filter(
            status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after()
        ).values_list("pk", flat=True)
    )
    for job_id in stale:
        with transaction.atomic():
            if GenerationJob.objects.filter(
                pk=job_id, status=JobStatus.RUNNING, stalled_at__isnull=True
            ).update(stalled_at=now):
                job_stalled_emit(GenerationJob.objects.get(pk=job_id))
    # A queued job is measured from when it was last queued (a staff retry sets the
    # heartbeat), else from its creation.
    waiting = list(
        GenerationJob.objects.annotate(queued_at=Coalesce("heartbeat_at", "created_at"))
        .filter(status=JobStatus.QUEUED, queued_at__lt=now - stale_after())
        .values_list("pk", flat=True)
    )
    for job_id in stale + waiting:
        enqueue_job(job_id)
    unmeasured = sweep_overdue_consistency()
    if unmeasured:
        logger.warning("%d succeeded jobs not measured in time; their events sent", unmeasured)
    return {"stale": len(stale), "waiting": len(waiting)}


def sweep_overdue_consistency() -> int:
    """Succeeded jobs whose consistency pass has not reported within
    `GENERATION_CONSISTENCY_TIMEOUT_SECONDS` (its task lost with a broker that was down, its
    worker killed, or still stuck in the queue): stored as not measured, and their
    `generation.succeeded` event written with `consistency: null`. A pass that reports later
    still replaces the report, but no second event goes out."""
    from generation.consistency import consistency_give_up

    limit = timezone.now() - timedelta(seconds=settings.GENERATION_CONSISTENCY_TIMEOUT_SECONDS)
    overdue = list(
        GenerationJob.objects.filter(consistency_pending=True, finished_at__lt=limit).values_list(
            "pk", flat=True
        )
    )
    return sum(1 for job_id in overdue if consistency_give_up(job_id))


def run_janitor() -> dict[str, int]:
    """Scheduled: remove what crashed workers and failed writes left (`generation.janitor`)."""
    from generation.janitor import run_janitor as janitor_pass

    report = janitor_pass()
    return {"files": len(report.files), "folders": len(report.folders), "keys": report.keys}


def sync_provider_element(provider_element_id: int) -> str:
    """Create one element version on Kling now (staff's "sync now"; a job does the same on
    first use). Idempotent: a ready row is left alone, a running sync is waited for."""
    from generation.providers.kling.client import KlingClient
    from generation.providers.kling.sync import sync_element

    row = sync_element(KlingClient.from_settings(), provider_element_id, time.sleep)
    return row.state


def cleanup_provider_elements(element_key: str) -> int:
    """Delete on Kling the older versions of an element that no pending job pins."""
    from generation.providers.kling.client import KlingClient
    from generation.providers.kling.sync import cleanup_old_versions

    return cleanup_old_versions(KlingClient.from_settings(), [element_key])
