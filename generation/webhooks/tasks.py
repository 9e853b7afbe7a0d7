"""django-q2 tasks of webhook delivery: thin wrappers over `generation.webhooks.services`.

A delivery task takes the delivery's id and does nothing unless the delivery is pending, due
and not leased by another worker, so a duplicate or late task is harmless. Retries are not
enqueued by the failing attempt: `sweep_webhook_deliveries` (every minute, see
`manage.py ensure_schedules`) enqueues whatever is due, which also rescues deliveries whose
worker died before or during an attempt.

Deliveries go to a queue of their own, `<cluster name>-webhooks`, worked by the webhook
cluster (`Q_QUEUE=webhooks manage.py qcluster`, which `manage.py serve` starts): a receiver
that never answers then holds a webhook worker for `WEBHOOK_TIMEOUT_SECONDS`, and renders
never wait behind it. Measured: 4 short jobs with such a receiver took 23.8 s instead of
6.1 s when deliveries shared the render workers (bench/webhooks.py).
"""

from __future__ import annotations

from typing import Any

from django_q.conf import Conf
from django_q.tasks import async_task

from generation.webhooks import services

DELIVER_FUNC = "generation.webhooks.tasks.deliver_webhook"
SWEEP_FUNC = "generation.webhooks.tasks.sweep_webhook_deliveries"
SWEEP_SCHEDULE_NAME = "generation.sweep_webhook_deliveries"
SWEEP_CRON = "* * * * *"
WEBHOOK_QUEUE_SUFFIX = "-webhooks"


def webhook_queue() -> str:
    """The webhook cluster's queue: named after the site's cluster (`Q_CLUSTER_NAME`), as
    `elementsite.settings` names that cluster when `Q_QUEUE=webhooks`."""
    return f"{Conf.PREFIX}{WEBHOOK_QUEUE_SUFFIX}"


def enqueue_delivery(delivery_id: Any) -> None:
    """Hand a delivery to the webhook workers (after the transaction that wrote it commits)."""
    async_task(
        DELIVER_FUNC,
        int(delivery_id),
        task_name=f"webhook-{delivery_id}",
        cluster=webhook_queue(),
    )


def deliver_webhook(delivery_id: int) -> str:
    return services.webhook_deliver(delivery_id=int(delivery_id))


def sweep_webhook_deliveries() -> dict[str, int]:
    return services.webhook_sweep()
