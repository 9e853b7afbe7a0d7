"""Run the daily reset by hand: the same service the midnight schedule runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.selectors import service_day
from accounts.tasks import reset_summary
from elementsite.progress import ProgressBar


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--day must be a date as YYYY-MM-DD, got {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Run the daily reset now: grant the tiers' daily credits for today (and missed days "
        "within DAILY_GRANT_CATCH_UP_DAYS) and prune old free-use counters. Running it again "
        "grants nothing twice."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--day",
            help="The service day to reset, as YYYY-MM-DD (default: today in TIME_ZONE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = service_day()
        day = parse_day(options["day"]) if options["day"] else today
        if day > today:
            raise CommandError(f"{day} has not begun yet in the service time zone ({today}).")
        result = services.daily_reset(
            today=day, progress=ProgressBar(self.stderr, "Granting daily credits")
        )
        summary = reset_summary(result)
        self.stdout.write(f"Days reset: {', '.join(summary['days'])}")
        self.stdout.write(f"Credit grants: {summary['grants']}")
        self.stdout.write(f"Free-use counters pruned: {summary['counters_pruned']}")
