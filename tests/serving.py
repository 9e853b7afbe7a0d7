"""A real `manage.py serve` in a subprocess, for the tests of the command itself
(tests/accounts/test_commands.py) and the browser tests (tests/web/), which drive the service
exactly as `make run` starts it: granian and both django-q2 clusters.

Its processes are found through /proc by a marker in their environment, which every child and
every process the cluster forks inherits.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
MARKER = "ELEMENTSITE_SERVE_TEST_MARKER"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
WEBHOOK_QUEUE = re.compile(r"-webhooks(:q)?\] running\.$")


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
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


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
    """`manage.py serve` run with `env` (which must carry MARKER), its output in `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.marker = env[MARKER]

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
        return http_answers(port)

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
