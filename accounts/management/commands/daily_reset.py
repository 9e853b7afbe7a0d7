"""Run the daily reset by hand: the same service the midnight schedule runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from accounts import services
from accounts.selectors import service_day
from accounts.tasks import reset_summary


def _plain(text: str) -> str:
    # stderr's default style is the error colour; progress is not an error.
    return text


class ProgressBar:
    """A one-line text bar, redrawn in place on a terminal; elsewhere (logs, pipes) only the
    finished line is written so the output stays readable."""

    def __init__(self, out: OutputWrapper, label: str, width: int = 30) -> None:
        self.out = out
        self.label = label
        self.width = width
        self.interactive = out.isatty()
        self._last_drawn = -1

    def __call__(self, done: int, total: int) -> None:
        finished = done >= total
        if not self.interactive and not finished:
            return
        filled = self.width if total <= 0 else self.width * done // total
        if filled == self._last_drawn and not finished:
            return  # redrawing the same bar for every user would flood a slow terminal
        self._last_drawn = filled
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total}"
        if self.interactive:
            self.out.write("\r" + line, style_func=_plain, ending="\n" if finished else "")
            self.out.flush()
        else:
            self.out.write(line, style_func=_plain)
        if finished:
            self._last_drawn = -1  # a caught-up day starts a new bar


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
