"""The daily reset through a real django-q2 cluster: `manage.py qcluster` in a process of its
own, the configured broker (the ORM broker by default, Redis when REDIS_URL is set) and the
test database. Every other test runs tasks inline (Q_CLUSTER["sync"]); this one proves that a
task enqueued here is picked up, run and recorded by a cluster."""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.tasks import async_task, fetch

from accounts.models import CreditLedgerEntry, LedgerKind
from accounts.selectors import service_day
from accounts.services import daily_grant_key
from tests.conftest import service_missing
from tests.factories import MembershipFactory, UserFactory, tier

ROOT = Path(__file__).resolve().parent.parent
RESULT_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def cluster_database_url() -> str:
    """A DATABASE_URL for the database this test run uses (the test database, not the one
    DATABASE_URL names)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = urllib.parse.quote(db.get("USER") or "", safe="")
        password = urllib.parse.quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{urllib.parse.quote(db['NAME'], safe='')}"
    raise AssertionError(f"no DATABASE_URL for {db['ENGINE']}")


def require_broker_server() -> None:
    redis_url = settings.Q_CLUSTER.get("redis")
    if not redis_url:
        return  # the ORM broker lives in the test database
    import redis

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis broker at {redis_url}: {exc}")


@pytest.fixture
def cluster_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A cluster name of this test's own: its queue can't be drained by another cluster on
    the same Redis (a `make run` nearby), nor hold leftovers from an interrupted run.

    django-q2 salts the task signature with the name, so this process signs with it too."""
    name = f"elementsite-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    return name


@pytest.fixture
def broker(cluster_name: str) -> Iterator[Broker]:
    require_broker_server()
    broker = get_broker(list_key=cluster_name)
    yield broker
    broker.purge_queue()  # nothing left behind if the cluster never got to the task


def cluster_env(cluster_name: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "Q_SYNC"}
    env.update(
        DJANGO_SETTINGS_MODULE="elementsite.settings",
        DEBUG="1",
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=cluster_database_url(),
        Q_CLUSTER_NAME=cluster_name,
        Q_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    redis_url = settings.Q_CLUSTER.get("redis")
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM lets the cluster stop its workers; whatever is left after that is killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
    # The cluster leads its own process group (start_new_session): this ends its workers too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT)


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
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=cluster_env(cluster_name),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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
            stop(process)

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
