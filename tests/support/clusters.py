"""A real django-q2 cluster for tests: `manage.py qcluster` in a process group of its own, on
the configured broker (the ORM broker by default, Redis when REDIS_URL is set), this run's
test database and media folder. Every other test runs tasks inline (Q_CLUSTER["sync"])."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import settings
from django.db import connection
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf

from generation.webhooks.tasks import WEBHOOK_QUEUE_SUFFIX
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
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


def use_cluster_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A cluster name of the test's own: its queue can't be drained by another cluster on
    the same Redis (a `make run` nearby), nor hold leftovers from an interrupted run.

    django-q2 salts the task signature with the name, and `get_broker()` reads the queue
    name from it, so this process signs and enqueues with it too."""
    name = f"elementsite-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    return name


@contextlib.contextmanager
def open_broker(cluster_name: str) -> Iterator[Broker]:
    require_broker_server()
    broker = get_broker(list_key=cluster_name)
    try:
        yield broker
    finally:
        # Nothing left behind if a cluster never got to a task, on either queue.
        broker.purge_queue()
        get_broker(list_key=cluster_name + WEBHOOK_QUEUE_SUFFIX).purge_queue()


def cluster_env(cluster_name: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "Q_SYNC"}
    env.update(
        DJANGO_SETTINGS_MODULE="elementsite.settings",
        DEBUG="1",
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=cluster_database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        GENERATION_WORK_DIR=str(settings.GENERATION_WORK_DIR),
        Q_CLUSTER_NAME=cluster_name,
        Q_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    redis_url = settings.Q_CLUSTER.get("redis")
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def webhook_cluster_env(cluster_name: str, **extra: str) -> dict[str, str]:
    """The environment of the webhook cluster (`Q_QUEUE=webhooks`) beside `cluster_name`'s."""
    return cluster_env(cluster_name, **{"Q_QUEUE": "webhooks", "WEBHOOK_WORKERS": "1", **extra})


def start(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[Any]:
    """`manage.py qcluster`, leading a new process group (see `stop`)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


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


# --- processes, from /proc ---------------------------------------------------------------------


def parent_pids() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid …": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    parents = parent_pids()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_alive(pid: int) -> bool:
    """Running (a zombie, killed but not yet reaped by its parent, counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}
