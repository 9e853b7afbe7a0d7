"""django-q2 tasks of webhook delivery: thin wrappers over `generation.webhook_services`.

A delivery task takes the delivery's id and does nothing unless the delivery is pending, due
and not leased by another worker, so a duplicate or late task is harmless. Retries are not
enqueued by the failing attempt: `sweep_webhook_deliveries` (every minute, see
`manage.py ensure_schedules`) enqueues whatever is due, which also rescues deliveries whose
worker died before or during an attempt.
"""

from __future__ import annotations

from typing import Any

from django_q.tasks import async_task

from generation import webhook_services

DELIVER_FUNC = "generation.webhook_tasks.deliver_webhook"
SWEEP_FUNC = "generation.webhook_tasks.sweep_webhook_deliveries"
SWEEP_SCHEDULE_NAME = "generation.sweep_webhook_deliveries"
SWEEP_CRON = "* * * * *"


def enqueue_delivery(delivery_id: Any) -> None:
    """Hand a delivery to the workers (after the transaction that wrote it commits)."""
    async_task(DELIVER_FUNC, int(delivery_id), task_name=f"webhook-{delivery_id}")


def deliver_webhook(delivery_id: int) -> str:
    return webhook_services.webhook_deliver(delivery_id=int(delivery_id))


def sweep_webhook_deliveries() -> dict[str, int]:
    return webhook_services.webhook_sweep()
