"""Running jobs in django-q2 workers.

The job row, not the broker, is the source of truth. `run_job` takes a job only when it is
queued, or running with a heartbeat gone stale (its worker died); a duplicate delivery finds
it running with a fresh heartbeat and does nothing. The Redis broker keeps no delivery
receipts, so a killed worker's task would be lost: `sweep_stale_jobs`, scheduled every
minute, re-enqueues jobs whose heartbeat went stale and fails (and refunds) those past their
attempts.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, GenerationOutput, JobKind, JobStatus
from generation.providers.base import JobCanceled, ProviderError, RenderedOutput, Requeue
from generation.providers.kling_client import KlingConfigError
from generation.providers.registry import get_provider
from generation.services import job_finish
from generation.webhook_services import job_event_emit

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "GENERATION_HEARTBEAT_STALE_SECONDS", 60))


def max_attempts() -> int:
    return int(getattr(settings, "GENERATION_MAX_ATTEMPTS", 3))


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
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])
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


def _store(job: GenerationJob, rendered: RenderedOutput) -> GenerationOutput:
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
    with rendered.path.open("rb") as f:
        output.file.save(f"{stem}{rendered.path.suffix}", File(f), save=False)
    with rendered.poster.open("rb") as f:
        output.poster.save(f"{stem}{rendered.poster.suffix}", File(f), save=False)
    with rendered.thumbnail.open("rb") as f:
        output.thumbnail.save(f"{stem}{rendered.thumbnail.suffix}", File(f), save=False)
    output.save()
    return output


def run_job(job_id: str) -> str:
    """The worker's task for one job; safe to deliver twice."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        provider = get_provider(job.provider)
        with tempfile.TemporaryDirectory(prefix="job-") as workdir:
            rendered = provider.run(job, workdir=Path(workdir), progress=_ProgressReporter(job))
            with transaction.atomic():
                locked = GenerationJob.objects.select_for_update().get(pk=job.pk)
                if locked.status != JobStatus.RUNNING:
                    return "dropped"
                if locked.cancel_requested:
                    job_finish(locked, JobStatus.CANCELED, message="Canceled by you.")
                    return "canceled"
                if locked.kind == JobKind.MULTIVIEW:
                    from elements.assists.services import multiview_store

                    multiview_store(locked, rendered)
                else:
                    for item in rendered:
                        _store(locked, item)
                job_finish(locked, JobStatus.SUCCEEDED)
        return "succeeded"
    except JobCanceled:
        return _end(job.pk, JobStatus.CANCELED, "", "Canceled by you.")
    except Requeue:
        return _requeue(job.pk)
    except ProviderError as exc:
        return _end(job.pk, JobStatus.FAILED, exc.code, exc.message)
    except KlingConfigError as exc:
        logger.error("generation job %s: %s", job.pk, exc)
        return _end(
            job.pk,
            JobStatus.FAILED,
            GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
            "The generation service is not set up; your credits were refunded.",
        )
    except Exception:
        logger.exception("generation job %s failed", job.pk)
        return _end(
            job.pk,
            JobStatus.FAILED,
            GenerationErrorCode.INTERNAL_ERROR,
            "Something went wrong while rendering; your credits were refunded.",
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


def _end(job_id: Any, status: str, code: str, message: str) -> str:
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if not job.is_finished:
            job_finish(job, status, code=code, message=message)
    return status


def sweep_stale_jobs() -> dict[str, int]:
    """Scheduled: re-enqueue jobs whose worker went quiet; the task itself fails those past
    their attempts. Also re-enqueues queued jobs nobody took (a lost Redis delivery)."""
    now = timezone.now()
    stale = list(
        GenerationJob.objects.filter(
            status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after()
        ).values_list("pk", flat=True)
    )
    # A queued job is measured from when it was last queued (a staff retry sets the
    # heartbeat), else from its creation.
    waiting = list(
        GenerationJob.objects.annotate(queued_at=Coalesce("heartbeat_at", "created_at"))
        .filter(status=JobStatus.QUEUED, queued_at__lt=now - stale_after())
        .values_list("pk", flat=True)
    )
    for job_id in stale + waiting:
        enqueue_job(job_id)
    return {"stale": len(stale), "waiting": len(waiting)}


def sync_provider_element(provider_element_id: int) -> str:
    """Create one element version on Kling now (staff's "sync now"; a job does the same on
    first use). Idempotent: a ready row is left alone, a running sync is waited for."""
    from generation.providers.kling import sync_element
    from generation.providers.kling_client import KlingClient

    row = sync_element(KlingClient.from_settings(), provider_element_id, time.sleep)
    return row.state


def cleanup_provider_elements(element_key: str) -> int:
    """Delete on Kling the older versions of an element that no pending job pins."""
    from generation.providers.kling import cleanup_old_versions
    from generation.providers.kling_client import KlingClient

    return cleanup_old_versions(KlingClient.from_settings(), [element_key])
