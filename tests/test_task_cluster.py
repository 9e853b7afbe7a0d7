"""The daily reset through a real django-q2 cluster: `manage.py qcluster` in a process of its
own, the configured broker (the ORM broker by default, Redis when REDIS_URL is set) and the
test database. Every other test runs tasks inline (Q_CLUSTER["sync"]); this one proves that a
task enqueued here is picked up, run and recorded by a cluster."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.brokers import Broker
from django_q.tasks import async_task, fetch

from accounts.models import CreditLedgerEntry, LedgerKind
from accounts.selectors import service_day
from accounts.services import daily_grant_key
from tests.factories import MembershipFactory, UserFactory, tier
from tests.support import clusters

RESULT_TIMEOUT = 60.0


@pytest.mark.django_db(transaction=True)
def test_daily_reset_runs_through_a_real_cluster(
    cluster_name: str, broker: Broker, tmp_path: Path
) -> None:
    expected_broker = "Redis" if settings.Q_CLUSTER.get("redis") else "ORM"
    assert type(broker).__name__ == expected_broker
    # given: a tier with a daily grant and a member of it, committed for the cluster to see
    pro = tier("pro")
    pro.daily_credit_grant = 25
    pro.save()
    member = UserFactory()
    MembershipFactory(
        user=member,
        tier=pro,
        started_at=timezone.now() - datetime.timedelta(days=30),
        expires_at=None,
    )
    log_path = tmp_path / "qcluster.log"

    with log_path.open("wb") as log:
        process = clusters.start(clusters.cluster_env(cluster_name), log)
        try:
            # when: the reset is enqueued through the broker (tests otherwise run tasks inline)
            task_id = async_task(
                "accounts.tasks.daily_reset_task", sync=False, broker=broker, save=True
            )
            deadline = time.monotonic() + RESULT_TIMEOUT
            task = None
            while time.monotonic() < deadline:
                task = fetch(task_id)
                if task is not None or process.poll() is not None:
                    break
                time.sleep(0.25)
        finally:
            clusters.stop(process)

    output = log_path.read_text(errors="replace")
    assert task is not None, (
        f"no result for task {task_id} within {RESULT_TIMEOUT:.0f} s "
        f"(cluster exit code {process.returncode}):\n{output}"
    )
    # then: the cluster ran it successfully and the grant is in the ledger
    assert task.success, f"{task.result}\n{output}"
    today = service_day()
    assert task.result["grants"] == 1, task.result
    entry = CreditLedgerEntry.objects.get(user=member, idempotency_key=daily_grant_key(today))
    assert entry.kind == LedgerKind.GRANT
    assert entry.amount == 25
    assert entry.balance_after == 25
