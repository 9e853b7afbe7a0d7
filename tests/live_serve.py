"""A real `manage.py serve` for tests: granian, the task cluster and the webhook cluster in
subprocesses, on a database of their own (a throwaway SQLite file, or a fresh PostgreSQL
database on the server the suite uses). Its processes are found through /proc by a marker in
their environment, which every child and every process the cluster forks inherits.

Used by the serve command's own tests (tests/accounts/test_commands.py), the tests that drive
the whole service over HTTP (tests/test_live_*.py) and the web studio's browser tests
(tests/web/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts.management.commands.seed_demo import DEMO_USERNAME

BASE_DIR = Path(settings.BASE_DIR)


MARKER = "ELEMENTSITE_SERVE_TEST_MARKER"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# "[<name>-webhooks] running." on the ORM broker, "[django_q:<name>-webhooks:q] running." on
# Redis.
WEBHOOK_QUEUE = re.compile(r"-webhooks(:q)?\] running\.$")

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="process checks read /proc (Linux)"
)


def marked_processes(marker: str) -> dict[int, str]:
    """Live (non-zombie) processes carrying `marker` in their environment: pid → cmdline."""
    found: dict[int, str] = {}
    needle = f"{MARKER}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if stat.rpartition(")")[2].split()[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def post(
    port: int, token: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 10
) -> tuple[int, str, bytes]:
    """POST one GraphQL operation as the token's user: the status, content type and body,
    whatever the status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def graphql(port: int, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The JSON answer, or None while the server does not answer."""
    try:
        return json.loads(post(port, token, query, variables, timeout=3)[2])
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None


def me(port: int, token: str) -> Any:
    return graphql(port, token, "{ me { username } }")


def fetch(url: str, token: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """GET `url` as the token's user: the status, the headers (names in lower case) and the
    body."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers={**auth, **headers})  # noqa: S310 (http only)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            headers = {name.lower(): value for name, value in response.headers.items()}
            return response.status, headers, response.read()
    except urllib.error.HTTPError as error:
        headers = {name.lower(): value for name, value in error.headers.items()}
        return error.code, headers, error.read()


def http_answers(port: int) -> bool:
    """Any HTTP answer from /graphql (a GET without a query is refused) means the web server
    is up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/graphql", timeout=3) as response:
            return bool(response.status)
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class Served:
    """`manage.py serve` run with `env` (which must carry MARKER), its output in `log`. With
    the demo user's `token`, ready means that user is answered (the database is the one
    seeded for it); without, any HTTP answer."""

    def __init__(self, env: dict[str, str], log: Path, token: str = "") -> None:
        self.env = env
        self.log = log
        self.token = token
        self.marker = env[MARKER]
        self.media_root = Path()

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), *args],
            env=self.env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, port: int, *flags: str, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
        with self.log.open("wb") as log:
            command = ["serve", "--host", host, "--port", str(port), "--workers", "1", *flags]
            return subprocess.Popen(
                [sys.executable, str(BASE_DIR / "manage.py"), *command],
                env=self.env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def probe(self, port: int) -> Any:
        """Truthy once the web server answers."""
        if not self.token:
            return http_answers(port)
        body = me(port, self.token)
        if body is not None:
            assert body == {"data": {"me": {"username": DEMO_USERNAME}}}
        return body

    def clusters_running(self) -> bool:
        """Both clusters logged "running." (LOG_LEVEL=INFO): "Q Cluster <name> [<queue>]
        running.", the queue being `django_q:<name>-webhooks` on the ORM broker and
        `django_q:<name>-webhooks:q` on Redis for the webhook cluster."""
        lines = [line for line in self.output().splitlines() if line.endswith("] running.")]
        return len(lines) >= 2 and any(WEBHOOK_QUEUE.search(line) for line in lines)

    def wait_until_ready(
        self, serve: subprocess.Popen[bytes], port: int, timeout: float = START_TIMEOUT
    ) -> None:
        """Until the web server answers and both clusters run."""

        def answered() -> Any:
            if serve.poll() is not None:
                pytest.fail(f"serve exited early ({serve.returncode}):\n{self.output()}")
            return self.probe(port)

        wait_for(answered, timeout, "the web server to answer")
        wait_for(self.clusters_running, timeout, "the task cluster and the webhook cluster to run")

    def stop(self, serve: subprocess.Popen[bytes]) -> int:
        """Ctrl-C, as a person stops it; the exit code, once every child has gone."""
        serve.send_signal(signal.SIGINT)
        code = serve.wait(timeout=STOP_TIMEOUT)
        wait_for(lambda: not marked_processes(self.marker), 10, "every child to exit")
        return code

    def cleanup(self, serve: subprocess.Popen[bytes]) -> None:
        # Only reached when the test failed to stop everything: kill what this test started.
        if serve.poll() is None:
            serve.kill()
            serve.wait(timeout=10)
        for pid in marked_processes(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def fresh_database(data: Path) -> Iterator[str]:
    """A DATABASE_URL for an empty database of the kind this test run uses: a SQLite file under
    `data`, or a new database on the suite's PostgreSQL server (dropped afterwards, after its
    remaining sessions are ended)."""
    if not on_postgresql():
        yield f"sqlite:///{data / 'x.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    db = connection.settings_dict
    name = f"elementsite_live_{uuid.uuid4().hex[:12]}"
    server = postgres_dsn("postgres")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        user = urllib.parse.quote(db.get("USER") or "", safe="")
        password = urllib.parse.quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        yield f"postgres://{auth}{host}{port}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def postgres_dsn(dbname: str) -> str:
    """A libpq connection string to `dbname` on the suite's PostgreSQL server."""
    db = connection.settings_dict
    parts = {
        "dbname": dbname,
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "localhost",
        "port": str(db.get("PORT") or ""),
    }
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


def served_env(data: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `serve` on `database_url` with its data under `data`.

    On the ORM broker unless `extra` gives a REDIS_URL; the cluster has a name of its own
    either way, so no other cluster on the same Redis drains its queue."""
    env = {
        key: value
        for key, value in os.environ.items()
        # Hermetic: the embedded defaults only, whatever the suite itself runs against.
        if key not in {"REDIS_URL", "Q_SYNC", "AWS_STORAGE_BUCKET_NAME", "MEDIA_ROOT"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="elementsite.settings",
        DATABASE_URL=database_url,
        DATA_DIR=str(data),
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",  # wait_until_ready reads the clusters' "running." log lines
        Q_CLUSTER_NAME=f"elementsite-live-{uuid.uuid4().hex[:10]}",
        **{MARKER: uuid.uuid4().hex},
    )
    env.update(extra)
    return env


def prepared(data: Path, env: dict[str, str]) -> Served:
    """A `Served` whose database is migrated and holds the demo data, with the demo user's
    token."""
    served = Served(env, log=data / "serve.log")
    served.media_root = data / "media"
    served.manage("migrate", "--noinput")
    served.manage("seed_demo", "--if-empty")
    served.token = served.manage("createapitoken", DEMO_USERNAME).strip().splitlines()[-1]
    return served


@contextlib.contextmanager
def running(served: Served, *flags: str) -> Iterator[int]:
    """`serve` on a free port, ready; stopped with Ctrl-C afterwards, and anything left killed."""
    port = free_port()
    serve = served.start(port, *flags)
    try:
        served.wait_until_ready(serve, port)
        yield port
        serve.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            serve.wait(timeout=STOP_TIMEOUT)
    finally:
        served.cleanup(serve)
