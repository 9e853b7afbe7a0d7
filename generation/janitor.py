"""The janitor: what crashed processes and failed writes left behind.

A worker killed while it stores a render (SIGKILL, OOM, a lost machine) leaves files that no
row names, since the rows die with its transaction; one killed while it renders leaves its
temporary folder. Nothing in the request path can clean those up, so a scheduled task
(`generation.tasks.run_janitor`, `manage.py janitor` by hand) does:

- **stored files** under the folders the service writes (`MEDIA_FOLDERS`) that no row
  references and that are older than `JANITOR_ORPHAN_MIN_AGE_SECONDS` (an hour: a file is
  written before the row that names it commits, so a young file may be a write in flight);
- **temporary folders** `job-<job id>-<pid>-…` of dead workers: nobody renders the job now
  (it ended, is gone, or its heartbeat is stale) and the folder's process is not alive on this
  machine (folders are local: each machine's janitor run cleans its own; point
  GENERATION_WORK_DIR at a folder of this service's own);
- **idempotency keys** past their time.

Every run is recorded (`JanitorRun`, listed in the admin) with what it removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from elements.models import Element, ElementExport, ReferenceImage, Voice
from generation.explore.models import ExploreWorkFile
from generation.idempotency import purge_expired_keys
from generation.models import (
    GenerationJob,
    GenerationOutput,
    JanitorRun,
    JobElement,
    JobElementImage,
    JobInput,
    JobStatus,
)
from generation.providers.kling.models import ProviderVoice
from generation.selectors import WORK_DIR_PREFIX, job_stale_after

# Where the service stores files; `kling/` holds transient uploads the Kling sync deletes
# itself once the provider fetched them, and anything else in the bucket is not ours.
MEDIA_FOLDERS = ("elements", "voices", "jobs", "outputs", "exports")
# A `job-*` folder the janitor can't read a job from (an older release named them
# `job-<random>`) is removed once it is older than any render may run (Q_TIMEOUT is 10 min).
UNNAMED_FOLDER_MAX_AGE = timedelta(hours=6)
_WORK_DIR = re.compile(rf"^{re.escape(WORK_DIR_PREFIX)}([0-9a-f]{{32}})-(\d+)-")
# Every column that names a stored file: the FileFields, and the pins that share their names.
_REFERENCES: tuple[tuple[type, str], ...] = (
    (Voice, "audio"),
    (Element, "video_source"),
    (Element, "clip"),
    (ReferenceImage, "image"),
    (ReferenceImage, "thumbnail"),
    (GenerationOutput, "file"),
    (GenerationOutput, "poster"),
    (GenerationOutput, "thumbnail"),
    (JobElement, "voice_file"),
    (JobElement, "clip_file"),
    (JobElementImage, "file"),
    (JobInput, "file"),
    (ExploreWorkFile, "file"),
    (ProviderVoice, "voice_file"),
    # A bundle whose export's row did not commit (its worker was killed while storing it).
    (ElementExport, "file"),
)

Progress = Callable[[int, int], None]


@dataclass
class JanitorReport:
    dry_run: bool
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    folders: list[str] = field(default_factory=list)
    keys: int = 0
    checked_files: int = 0


def referenced_files() -> set[str]:
    """Every stored name some row references."""
    names: set[str] = set()
    for model, column in _REFERENCES:
        names.update(
            model._default_manager.exclude(**{column: ""}).values_list(column, flat=True)  # type: ignore[attr-defined]
        )
    names.discard(None)  # type: ignore[arg-type]
    return names


def stored_files(folders: tuple[str, ...] = MEDIA_FOLDERS) -> Iterator[str]:
    """The names of every file in the storage under `folders`."""
    todo = list(folders)
    while todo:
        folder = todo.pop()
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        todo.extend(f"{folder}/{sub}" for sub in subfolders)
        yield from (f"{folder}/{name}" for name in files)


def work_dir_root() -> Path:
    return Path(settings.GENERATION_WORK_DIR or tempfile.gettempdir())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def dead_work_dirs(root: Path | None = None) -> list[Path]:
    """The renderer's temporary folders whose worker is gone (see the module docstring)."""
    root = root or work_dir_root()
    try:
        candidates = [
            p for p in root.iterdir() if p.is_dir() and p.name.startswith(WORK_DIR_PREFIX)
        ]
    except FileNotFoundError:
        return []
    now = timezone.now()
    parsed: dict[Path, tuple[uuid.UUID, int]] = {}
    dead: list[Path] = []
    for path in candidates:
        match = _WORK_DIR.match(path.name)
        if match is None:
            age = time.time() - path.stat().st_mtime
            if age > UNNAMED_FOLDER_MAX_AGE.total_seconds():
                dead.append(path)
            continue
        parsed[path] = (uuid.UUID(match.group(1)), int(match.group(2)))
    jobs = {
        job.pk: job
        for job in GenerationJob.objects.filter(pk__in={j for j, _ in parsed.values()}).only(
            "status", "heartbeat_at"
        )
    }
    for path, (job_id, pid) in parsed.items():
        job = jobs.get(job_id)
        beat = job.heartbeat_at if job is not None else None
        # Nobody renders it now: ended, gone, or its worker silent past the threshold.
        idle = (
            job is None
            or job.status != JobStatus.RUNNING
            or beat is None
            or beat < now - job_stale_after()
        )
        if not idle:
            continue
        # Its own process is gone (a pid reused since by another process keeps the folder
        # until it is older than any render may run).
        old = time.time() - path.stat().st_mtime > UNNAMED_FOLDER_MAX_AGE.total_seconds()
        if not _pid_alive(pid) or (old and (job is None or job.is_finished)):
            dead.append(path)
    return sorted(dead)


def run_janitor(
    *,
    dry_run: bool = False,
    min_age: timedelta | None = None,
    progress: Progress | None = None,
) -> JanitorReport:
    """One pass (see the module docstring); `progress(done, total)` follows the files."""
    started = timezone.now()
    if min_age is None:
        min_age = timedelta(seconds=settings.JANITOR_ORPHAN_MIN_AGE_SECONDS)
    report = JanitorReport(dry_run=dry_run)

    # The listing comes before the references are read: a file written after the listing
    # is not looked at, and one whose row commits meanwhile is seen referenced.
    names = list(stored_files())
    referenced = referenced_files()
    cutoff = started - min_age
    for done, name in enumerate(names, start=1):
        report.checked_files += 1
        if name not in referenced and _orphan(name, cutoff):
            report.files.append(name)
            with contextlib.suppress(FileNotFoundError):
                report.bytes += default_storage.size(name)
            if not dry_run:
                default_storage.delete(name)
        if progress is not None:
            progress(done, len(names))

    for path in dead_work_dirs():
        report.folders.append(str(path))
        if not dry_run:
            shutil.rmtree(path, ignore_errors=True)

    if not dry_run:
        report.keys = purge_expired_keys()

    JanitorRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        dry_run=dry_run,
        checked_files=report.checked_files,
        files_removed=len(report.files),
        bytes_removed=report.bytes,
        folders_removed=len(report.folders),
        keys_removed=report.keys,
        removed=(report.files + report.folders)[: JanitorRun.LISTED_MAX],
    )
    return report


def _orphan(name: str, cutoff: datetime) -> bool:
    """An unreferenced file old enough to go, checked again by name just before removal: a
    row naming it may have committed since the references were read."""
    try:
        if default_storage.get_modified_time(name) > cutoff:
            return False
    except FileNotFoundError:
        return False  # gone meanwhile
    return not any(
        model._default_manager.filter(**{column: name}).exists()  # type: ignore[attr-defined]
        for model, column in _REFERENCES
    )
