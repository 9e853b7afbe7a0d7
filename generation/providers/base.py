"""The provider interface: what turns a submitted job into files.

A provider either renders in the worker (`local`) or drives a remote API: submit the job,
then poll it (or be told by a callback) until it ends, then fetch the results into our
storage at once. Both report progress through the callback they are given, which also
raises `JobCanceled` when the user canceled the job.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generation.models import GenerationJob

Progress = Callable[[int], None]


class JobCanceled(Exception):
    """The user canceled the job while it ran."""


class ProviderError(Exception):
    """A job the provider could not finish; `code` is shown to the user."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


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

    @abc.abstractmethod
    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        """Produce the job's outputs in `workdir`, calling `progress(0..100)` as it goes."""


@dataclass(frozen=True)
class RemoteStatus:
    state: str  # "submitted" | "processing" | "succeed" | "failed"
    progress: int = 0
    message: str = ""


class RemoteProvider(Provider):
    """A provider behind an HTTP API: submit, poll with back-off, fetch results."""

    poll_interval = 2.0
    max_poll_interval = 30.0

    @abc.abstractmethod
    def submit(self, job: GenerationJob) -> str:
        """Send the job; return the provider's task id."""

    @abc.abstractmethod
    def poll(self, job: GenerationJob, task_id: str) -> RemoteStatus:
        """The task's state now (a callback only hints that it changed)."""

    @abc.abstractmethod
    def fetch(self, job: GenerationJob, task_id: str, *, workdir: Path) -> list[RenderedOutput]:
        """Download the results (the provider deletes them after a while)."""

    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        task_id = job.provider_task_id or self.submit(job)
        interval = self.poll_interval
        while True:
            status = self.poll(job, task_id)
            if status.state == "succeed":
                return self.fetch(job, task_id, workdir=workdir)
            if status.state == "failed":
                raise ProviderError("RENDER_FAILED", status.message or "The provider failed.")
            progress(min(99, status.progress))
            time.sleep(interval)
            interval = min(self.max_poll_interval, interval * 1.5)
