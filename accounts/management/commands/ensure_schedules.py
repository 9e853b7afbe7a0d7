"""Create or update the django-q2 schedules this service relies on. Safe to run on every
deploy: each schedule is looked up by name, so running it again changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

from croniter import croniter
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule
from django_q.utils import localtime

from accounts.tasks import DAILY_RESET_CRON, DAILY_RESET_FUNC, DAILY_RESET_SCHEDULE_NAME
from generation.webhooks.tasks import SWEEP_CRON as WEBHOOK_SWEEP_CRON
from generation.webhooks.tasks import SWEEP_FUNC as WEBHOOK_SWEEP_FUNC
from generation.webhooks.tasks import SWEEP_SCHEDULE_NAME as WEBHOOK_SWEEP_SCHEDULE_NAME


def next_cron_run(cron: str) -> datetime.datetime:
    """The next time `cron` fires, in the clock django-q2's scheduler uses."""
    return croniter(cron, localtime()).get_next(datetime.datetime)


def ensure_cron_schedule(*, name: str, func: str, cron: str) -> tuple[Schedule, bool]:
    """Make exactly one schedule called `name` run `func` on `cron`; returns it and whether
    it was created.

    A pending `next_run` is kept while the cron stays the same, so a run that is overdue
    (the cluster was down at midnight) still happens as soon as a cluster starts.
    """
    fields = {
        "func": func,
        "schedule_type": Schedule.CRON,
        "cron": cron,
        "repeats": -1,
        "hook": None,
        "args": None,
        "kwargs": None,
        "cluster": None,
    }
    with transaction.atomic():
        # Schedule names are unique only by convention (the admin allows twins): keep the
        # oldest so the task is never enqueued twice a night.
        existing = list(Schedule.objects.select_for_update().filter(name=name).order_by("pk"))
        for twin in existing[1:]:
            twin.delete()
        if not existing:
            schedule = Schedule(name=name, next_run=next_cron_run(cron), **fields)
            schedule.full_clean()
            schedule.save()
            return schedule, True
        schedule = existing[0]
        cron_changed = schedule.cron != cron or schedule.schedule_type != Schedule.CRON
        for field, value in fields.items():
            setattr(schedule, field, value)
        if cron_changed or schedule.next_run is None:
            schedule.next_run = next_cron_run(cron)
        schedule.full_clean()
        schedule.save()
        return schedule, False


def every_minutes(minutes: int) -> str:
    """A cron that fires every `minutes` (1–59) minutes."""
    minutes = max(1, min(59, int(minutes)))
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def schedules() -> tuple[tuple[str, str, str], ...]:
    """(name, task, cron) of every schedule; read when the command runs, as the intervals
    are settings."""
    return (
        (DAILY_RESET_SCHEDULE_NAME, DAILY_RESET_FUNC, DAILY_RESET_CRON),
        # Jobs whose worker died (no heartbeat) are taken again; the Redis broker would lose them.
        (
            "generation.sweep_stale_jobs",
            "generation.tasks.sweep_stale_jobs",
            every_minutes(settings.GENERATION_SWEEP_INTERVAL_MINUTES),
        ),
        # Files no row names (a worker killed while storing) and dead workers' render folders.
        (
            "generation.janitor",
            "generation.tasks.run_janitor",
            every_minutes(settings.JANITOR_INTERVAL_MINUTES),
        ),
        # Webhook deliveries that are due: retries, and any whose worker died before sending.
        (WEBHOOK_SWEEP_SCHEDULE_NAME, WEBHOOK_SWEEP_FUNC, WEBHOOK_SWEEP_CRON),
        # Video elements whose processing job was lost are handed to the workers again.
        (
            "elements.sweep_stale_video_elements",
            "elements.tasks.sweep_stale_video_elements",
            "* * * * *",
        ),
        # Element exports: bundles past their time deleted, exports whose job was lost taken
        # again.
        ("elements.sweep_element_exports", "elements.tasks.sweep_element_exports", "*/5 * * * *"),
    )


class Command(BaseCommand):
    help = (
        "Create or update the scheduled tasks: the daily reset at midnight in TIME_ZONE and, "
        "every minute, the sweeps of generation jobs and video elements whose worker died and "
        "of due webhook deliveries; every 5 minutes, expired and lost element exports; and "
        "the janitor of orphaned files and render folders."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, func, cron in schedules():
            schedule, created = ensure_cron_schedule(name=name, func=func, cron=cron)
            verb = "Created" if created else "Updated"
            next_run = localtime(schedule.next_run).isoformat() if schedule.next_run else "—"
            self.stdout.write(
                f"{verb} schedule {schedule.name!r} → {schedule.func} "
                f"(cron {schedule.cron!r}, next run {next_run})"
            )
