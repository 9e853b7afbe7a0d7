"""Reads of generation jobs and outputs, always scoped to an owner."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from elements.teams.policy import Action, permitted
from generation.explore.models import ExploreWorkFile
from generation.models import (
    GenerationJob,
    GenerationOutput,
    JobElement,
    JobElementImage,
    JobInput,
    JobStatus,
)

# The renderer's temporary folders: `job-<job id hex>-<pid>-<random>` (see generation.tasks).
WORK_DIR_PREFIX = "job-"


def job_stale_after() -> datetime.timedelta:
    """How long a running job's heartbeat may be silent before its worker counts as dead
    (`GENERATION_HEARTBEAT_STALE_SECONDS`)."""
    return datetime.timedelta(seconds=settings.GENERATION_HEARTBEAT_STALE_SECONDS)


def job_is_stalled(job: GenerationJob, now: datetime.datetime | None = None) -> bool:
    """A running job whose worker went quiet: shown until the sweep has it taken again."""
    if job.status != JobStatus.RUNNING:
        return False
    now = now or timezone.now()
    return job.heartbeat_at is None or job.heartbeat_at < now - job_stale_after()


def pinned_file_names(names: Iterable[str]) -> set[str]:
    """Which of these stored files a submitted job still pins (and so must be kept)."""
    names = [n for n in names if n]
    if not names:
        return set()
    pinned = set(JobElementImage.objects.filter(file__in=names).values_list("file", flat=True))
    pinned |= set(
        JobElement.objects.filter(voice_file__in=names).values_list("voice_file", flat=True)
    )
    pinned |= set(
        JobElement.objects.filter(clip_file__in=names).values_list("clip_file", flat=True)
    )
    pinned |= set(JobInput.objects.filter(file__in=names).values_list("file", flat=True))
    # A shared work's frozen recipe keeps its files after its job or element goes.
    pinned |= set(ExploreWorkFile.objects.filter(file__in=names).values_list("file", flat=True))
    return pinned


def job_list(
    *, owner: AbstractBaseUser, status: str | None = None, model: str | None = None
) -> QuerySet[GenerationJob]:
    # The submitter's jobs only, whatever team's elements they used (generation.access).
    qs = permitted(owner, GenerationJob, Action.VIEW)
    if status:
        qs = qs.filter(status=status)
    if model:
        qs = qs.filter(model=model)
    return qs.order_by("-created_at")


def output_list(*, owner: AbstractBaseUser) -> QuerySet[GenerationOutput]:
    return permitted(owner, GenerationOutput, Action.VIEW).order_by("-created_at", "-id")
