"""django-q2 tasks of the accounts app."""

from __future__ import annotations

import logging
from typing import Any

from accounts import services

logger = logging.getLogger(__name__)

DAILY_RESET_SCHEDULE_NAME = "accounts.daily_reset"
DAILY_RESET_FUNC = "accounts.tasks.daily_reset_task"
# Midnight, evaluated by django-q2 in Q_CLUSTER["time_zone"], which the settings tie to
# TIME_ZONE: the same clock that keys the daily free-use counters.
DAILY_RESET_CRON = "0 0 * * *"


def reset_summary(result: services.DailyResetResult) -> dict[str, Any]:
    """A JSON-able account of one reset, stored by django-q2 as the task's result."""
    return {
        "days": [day.isoformat() for day in result.days],
        "grants": result.grants,
        "counters_pruned": result.counters_pruned,
    }


def daily_reset_task() -> dict[str, Any]:
    """The scheduled midnight reset.

    It takes no arguments on purpose: the service works out which days are due (today and any
    missed days within the catch-up window) and grants at most once per user and day, so a
    late, repeated or re-delivered run is harmless.
    """
    summary = reset_summary(services.daily_reset())
    logger.info("daily reset: %s", summary)
    return summary
