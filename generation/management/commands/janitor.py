"""`manage.py janitor [--dry-run] [--min-age SECONDS]`: one pass of the janitor by hand (the
schedule runs the same pass every JANITOR_INTERVAL_MINUTES)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from generation.janitor import run_janitor

BAR_WIDTH = 30


class ProgressBar:
    """A one-line bar on stderr, redrawn at most once per percent (stdout keeps the report)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\rchecking stored files [{bar}] {done}/{total} ({percent}%)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Remove stored files no row references (older than JANITOR_ORPHAN_MIN_AGE_SECONDS), "
        "the temporary render folders of dead workers and expired idempotency keys; report "
        "what was removed. With --dry-run, only report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Only files older than this (default: JANITOR_ORPHAN_MIN_AGE_SECONDS).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        min_age = options["min_age"]
        progress = None if options["no_progress"] else ProgressBar(sys.stderr)
        report = run_janitor(
            dry_run=dry_run,
            min_age=timedelta(seconds=min_age) if min_age is not None else None,
            progress=progress,
        )
        verb = "Would remove" if dry_run else "Removed"
        for name in report.files:
            self.stdout.write(f"{verb} file {name}")
        for folder in report.folders:
            self.stdout.write(f"{verb} folder {folder}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(report.files)} of {report.checked_files} stored files "
                f"({report.bytes} bytes), {len(report.folders)} temporary folders"
                + ("" if dry_run else f", {report.keys} expired idempotency keys")
                + "."
            )
        )
