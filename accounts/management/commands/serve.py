"""Run the whole service in one foreground command: the web server and a django-q2 cluster.

Each child runs in a session of its own, so this process decides how they stop: Ctrl-C or
SIGTERM asks both to stop (the cluster lets running tasks finish), waits, then kills what is
left of each child's process group. If either child dies, the other is stopped too and the
command fails, so a supervisor sees one unit that is either whole or down. On Linux the
children also get SIGTERM if this process is killed outright, so nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands.seed_demo import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    STAFF_PASSWORD,
    STAFF_USERNAME,
)

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGTERM when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Resolved here, before fork: loading a library in the forked child is not safe.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return setup


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class Command(BaseCommand):
    help = (
        "Run the web server (runserver) and a django-q2 cluster (qcluster) in the foreground; "
        "Ctrl-C stops both."
    )
    # The web server child runs the system checks; running them here too only doubles output.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Task workers in the cluster (default: Q_WORKERS, else 2).",
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=20.0,
            help="Seconds to wait for each child to stop before killing it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        workers: int | None = options["workers"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1-65535, got {port}.")
        if workers is not None and workers < 1:
            raise CommandError(f"--workers must be at least 1, got {workers}.")
        self.stop_timeout: float = max(0.0, options["stop_timeout"])

        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._banner(netloc, workers or settings.Q_CLUSTER["workers"])

        cluster_env = dict(os.environ)
        if workers is not None:
            cluster_env["Q_WORKERS"] = str(workers)

        self.stop_requested: int | None = None
        self.force = False
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        children: list[Child] = []
        try:
            children.append(self._spawn("web server", ["runserver", netloc, "--noreload"]))
            if self.stop_requested is None:
                children.append(self._spawn("task cluster", ["qcluster"], env=cluster_env))
            died = self._supervise(children)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if died is not None:
            name, code = died
            raise CommandError(f"The {name} exited (code {code}), so everything was stopped.")
        self.stdout.write("Stopped.")

    def _banner(self, netloc: str, workers: int) -> None:
        base = f"http://{netloc}"
        lines = ["", "Element Library"]
        if getattr(settings, "GRAPHIQL", settings.DEBUG):
            lines.append(f"  GraphiQL    {base}/graphql")
        else:
            lines.append(f"  GraphQL     {base}/graphql  (POST only: GRAPHIQL is off)")
        lines.append(f"  Admin       {base}/admin/")
        if settings.DEBUG:
            lines += [
                f"  Demo user   {DEMO_USERNAME} / {DEMO_PASSWORD}",
                f"  Staff user  {STAFF_USERNAME} / {STAFF_PASSWORD}  (admin)",
                "  (created by `manage.py seed_demo` on an empty database)",
            ]
        lines += [
            f"Starting the web server and the task cluster ({workers} workers); Ctrl-C stops both.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested is not None:
            self.force = True  # a second Ctrl-C: stop waiting for a graceful exit
        self.stop_requested = signum

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        command = [sys.executable, str(MANAGE_PY), *args]
        # Fixed argv built from our own interpreter and manage.py: no shell, no user input.
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        return Child(name=name, process=process)

    def _supervise(self, children: list[Child]) -> tuple[str, int] | None:
        """Wait for a stop signal (returns None) or a child's exit (returns its name, code)."""
        while self.stop_requested is None:
            for child in children:
                code = child.process.poll()
                if code is not None:
                    self.stderr.write(f"The {child.name} exited with code {code}; stopping.")
                    return child.name, code
            time.sleep(0.2)
        return None

    def _stop(self, children: list[Child]) -> None:
        running = [child for child in children if child.process.poll() is None]
        if running:
            names = " and the ".join(child.name for child in running)
            self.stdout.write(f"Stopping the {names}…")
            self.stdout.flush()
        for child in running:
            # The group leader only: qcluster then stops its own workers in order.
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while (
            any(child.process.poll() is None for child in running)
            and time.monotonic() < deadline
            and not self.force
        ):
            time.sleep(0.1)
        for child in children:
            if child.process.poll() is None:
                self.stderr.write(f"The {child.name} did not stop in time: killing it.")
            # Also sweeps the group for anything the child left behind.
            _signal_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
