"""The provider interface: what turns a submitted job into files.

A provider either renders in the worker (`local`) or drives a remote API: submit the job,
then poll it (or be told by a callback) until it ends, then fetch the results into our
storage at once. Both report progress through the callback they are given, which also
raises `JobCanceled` when the user canceled the job.
"""

from __future__ import annotations

import abc
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils import timezone

from elementsite.backoff import Backoff
from generation.error_codes import GenerationErrorCode

if TYPE_CHECKING:
    from generation.models import GenerationJob

Progress = Callable[[int], None]


class JobCanceled(Exception):
    """The user canceled the job while it ran."""


class Requeue(Exception):
    """The job is not done but has held its worker long enough (a remote task can run for
    longer than a worker task may): put it back in the queue; the next delivery goes on
    from the task id saved on the job."""


class ProviderError(Exception):
    """A job the provider could not finish; `code` and `message` are shown to the user,
    `detail` (what went wrong inside) only to staff."""

    def __init__(
        self, code: str, message: str, *, retryable: bool = False, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.detail = detail


@dataclass(frozen=True)
class RenderedOutput:
    """One finished file in the worker's scratch folder, with its poster and thumbnail."""

    kind: str  # "image" | "video"
    path: Path
    poster: Path
    thumbnail: Path
    width: int
    height: int
    duration_ms: int | None = None
    has_audio: bool = False


class Provider(abc.ABC):
    name: str

    def check_submit(self, job: GenerationJob) -> None:  # noqa: B027
        """At submit, inside the transaction that creates the job and before the debit:
        raise a ValidationError (nothing is kept) for a job this provider can't take."""

    @abc.abstractmethod
    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        """Produce the job's outputs in `workdir`, calling `progress(0..100)` as it goes."""


@dataclass(frozen=True)
class RemoteStatus:
    state: str  # "submitted" | "processing" | "succeed" | "failed"
    progress: int = 0
    message: str = ""


class JobWaiter:
    """Waits between polls and back-off retries without going quiet: the job's heartbeat is
    written (and a cancel noticed) every slice, and a provider callback on the job (a hint,
    `provider_hint_at`) ends the wait early so the task is fetched again at once."""

    slice_seconds = 0.25

    def __init__(
        self, job: GenerationJob, progress: Progress, *, hold_for: float | None = None
    ) -> None:
        self.job = job
        self.progress = progress
        self.percent = job.progress
        self.hint = job.provider_hint_at
        # Past this (monotonic) time, a wait gives the worker back instead (`Requeue`).
        self.release_at = None if hold_for is None else time.monotonic() + hold_for

    def report(self, percent: int) -> None:
        self.percent = max(self.percent, min(99, percent))
        self.progress(self.percent)

    def _hinted(self) -> bool:
        from generation.models import GenerationJob

        hint = (
            GenerationJob.objects.filter(pk=self.job.pk)
            .values_list("provider_hint_at", flat=True)
            .first()
        )
        if hint is not None and hint != self.hint:
            self.hint = hint
            return True
        return False

    def __call__(self, seconds: float, *, wake_on_hint: bool = False) -> None:
        deadline = time.monotonic() + seconds
        if self.release_at is not None and deadline > self.release_at:
            raise Requeue
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(self.slice_seconds, left))
            self.progress(self.percent)
            if wake_on_hint and self._hinted():
                return


class RemoteProvider(Provider):
    """A provider behind an HTTP API: submit, poll with back-off, fetch results.

    The task id (and our own id for the task, set before the submit) are saved on the job
    at once, so a job taken again after its worker died polls the task it already has
    rather than paying for a second one. The raw status and message of every poll are kept
    on the job for staff."""

    poll_interval = 2.0
    max_poll_interval = 30.0
    # From the job's first start, across deliveries.
    task_timeout = 3600.0
    # How long one delivery may hold its worker (below the queue's task timeout).
    hold_worker_for: float | None = None

    @abc.abstractmethod
    def submit(self, job: GenerationJob) -> str:
        """Send the job; return the provider's task id."""

    @abc.abstractmethod
    def poll(self, job: GenerationJob, task_id: str) -> RemoteStatus:
        """The task's state now (a callback only hints that it changed)."""

    @abc.abstractmethod
    def fetch(self, job: GenerationJob, task_id: str, *, workdir: Path) -> list[RenderedOutput]:
        """Download the results (the provider deletes them after a while)."""

    def prepare(self, job: GenerationJob, wait: JobWaiter) -> None:
        """Before the submit: e.g. create what the request refers to on the provider."""

    def find_task(self, job: GenerationJob, external_id: str) -> str | None:
        """The task an earlier attempt submitted under `external_id`, if the provider has it."""
        return None

    def failure(self, status: RemoteStatus) -> ProviderError:
        return ProviderError(
            GenerationErrorCode.RENDER_FAILED, status.message or "The provider failed."
        )

    def new_external_id(self, job: GenerationJob) -> str:
        return f"job-{job.pk}"

    def _task_id(self, job: GenerationJob) -> str:
        from generation.models import GenerationJob

        if job.provider_task_id:
            return job.provider_task_id
        if job.provider_external_id:
            # An earlier attempt got as far as the submit: adopt its task if it exists.
            found = self.find_task(job, job.provider_external_id)
            if found:
                job.provider_task_id = found
                GenerationJob.objects.filter(pk=job.pk).update(provider_task_id=found)
                return found
        else:
            job.provider_external_id = self.new_external_id(job)
            GenerationJob.objects.filter(pk=job.pk).update(
                provider_external_id=job.provider_external_id
            )
        task_id = self.submit(job)
        job.provider_task_id = task_id
        GenerationJob.objects.filter(pk=job.pk).update(provider_task_id=task_id)
        return task_id

    def _record(self, job: GenerationJob, status: RemoteStatus) -> None:
        from generation.models import GenerationJob

        GenerationJob.objects.filter(pk=job.pk).update(
            provider_status=status.state[:16], provider_message=status.message[:500]
        )

    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        wait = JobWaiter(job, progress, hold_for=self.hold_worker_for)
        self.prepare(job, wait)
        task_id = self._task_id(job)
        wait.report(10)
        # The one back-off policy: from `poll_interval`, ×1.5 a query, up to `max_poll_interval`.
        backoff = Backoff(first=self.poll_interval, cap=self.max_poll_interval, factor=1.5)
        started = job.started_at or timezone.now()
        for attempt in itertools.count(1):
            status = self.poll(job, task_id)
            self._record(job, status)
            if status.state == "succeed":
                wait.report(95)
                return self.fetch(job, task_id, workdir=workdir)
            if status.state == "failed":
                raise self.failure(status)
            if (timezone.now() - started).total_seconds() > self.task_timeout:
                raise ProviderError(
                    GenerationErrorCode.PROVIDER_UNAVAILABLE,
                    "The provider took too long; your credits were refunded.",
                )
            wait.report(status.progress)
            wait(backoff.delay(attempt), wake_on_hint=True)
        raise AssertionError  # unreachable: itertools.count never ends
