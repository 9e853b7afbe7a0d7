"""Run the whole service in one foreground command: the web server and django-q2 clusters.

The web server is granian (a Rust HTTP server) running the WSGI application in several
worker processes, each with several threads. Django's `runserver` reset 11–18 of 40
simultaneous connections (issue 12) and left 73–189 requests unanswered after 10 s with 200
clients on a 2-core machine, where granian answered all of them (bench/README.md, "Load").
`--reload` runs `runserver` instead, for its code reloading, and `--server runserver`
without reloading (the load benchmark's baseline).

Two clusters run beside it: the task cluster (renders, element processing, schedules) and
the webhook cluster, whose workers only send webhooks, so a receiver that never answers
holds a webhook worker, never a render worker (`generation.webhooks.tasks`).

Each child runs in a session of its own, so this process decides how they stop: Ctrl-C or
SIGTERM asks each to stop (the clusters let running tasks finish, granian its requests),
waits, then kills what is left of each child's process group. If any child dies, the others
are stopped too and the command fails, so a supervisor sees one unit that is either whole or
down. On Linux the children also get SIGTERM if this process is killed outright, so nothing is
orphaned.
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
WSGI_TARGET = "elementsite.wsgi:application"
GRANIAN, RUNSERVER = "granian", "runserver"
SERVERS = (GRANIAN, RUNSERVER)
# `Q_QUEUE=webhooks` makes a `qcluster` the webhook cluster (elementsite.settings).
WEBHOOK_QUEUE_ROLE = "webhooks"
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
        "Run the web server (granian, WSGI; runserver with --reload), the task cluster and the "
        "webhook cluster in the foreground; Ctrl-C stops them all."
    )
    # The checks run in handle(), once the chosen server is known: runserver runs its own.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default=GRANIAN,
            help="The web server: granian (default) or Django's runserver (one process, "
            "development only).",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Reload on code changes: runs Django's runserver with its autoreloader.",
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=None,
            help="Web server processes (default: WEB_WORKERS, else 2). granian only.",
        )
        parser.add_argument(
            "--web-threads",
            type=int,
            default=None,
            help="Threads per web server process (default: WEB_THREADS, else 8). granian only.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Task workers in the cluster (default: Q_WORKERS, else 2).",
        )
        parser.add_argument(
            "--webhook-workers",
            type=int,
            default=None,
            help="Workers of the webhook cluster (default: WEBHOOK_WORKERS, else 2).",
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
        server: str = RUNSERVER if options["reload"] else options["server"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1-65535, got {port}.")
        counts = {}
        for option, setting in (
            ("workers", None),
            ("web_workers", "WEB_WORKERS"),
            ("web_threads", "WEB_THREADS"),
            ("webhook_workers", "WEBHOOK_WORKERS"),
        ):
            value = options[option]
            if value is not None and value < 1:
                flag = "--" + option.replace("_", "-")
                raise CommandError(f"{flag} must be at least 1, got {value}.")
            counts[option] = (
                value if value is not None or setting is None else int(getattr(settings, setting))
            )
        self.stop_timeout: float = max(0.0, options["stop_timeout"])
        if server == GRANIAN:
            self._check_static_files()
            # runserver checks the project itself; granian only imports the application.
            self.check()
            self.check_migrations()

        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._banner(netloc, server, counts, reload=options["reload"])

        cluster_env = dict(os.environ)
        cluster_env.pop("Q_QUEUE", None)  # the task cluster, whatever this shell has set
        if counts["workers"] is not None:
            cluster_env["Q_WORKERS"] = str(counts["workers"])
        webhook_env = dict(os.environ, Q_QUEUE=WEBHOOK_QUEUE_ROLE)
        webhook_env["WEBHOOK_WORKERS"] = str(counts["webhook_workers"])

        self.stop_requested: int | None = None
        self.force = False
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        children: list[Child] = []
        try:
            starts: list[tuple[str, list[str], dict[str, str] | None]] = [
                ("web server", self._web_command(server, host, port, counts, options), None),
                ("task cluster", self._manage(["qcluster"]), cluster_env),
                ("webhook cluster", self._manage(["qcluster"]), webhook_env),
            ]
            for name, command, env in starts:
                if self.stop_requested is not None:
                    break
                children.append(self._spawn(name, command, env=env))
            died = self._supervise(children)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if died is not None:
            name, code = died
            raise CommandError(f"The {name} exited (code {code}), so everything was stopped.")
        self.stdout.write("Stopped.")

    @staticmethod
    def _manage(args: list[str]) -> list[str]:
        return [sys.executable, str(MANAGE_PY), *args]

    def _web_command(
        self, server: str, host: str, port: int, counts: dict[str, Any], options: dict[str, Any]
    ) -> list[str]:
        if server == RUNSERVER:
            netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            return self._manage(
                ["runserver", netloc, *([] if options["reload"] else ["--noreload"])]
            )
        workers, threads = counts["web_workers"], counts["web_threads"]
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            # The threads that run Django in each worker, so one slow request (a large
            # upload, a slow query) does not stall the others; each keeps a database
            # connection, so workers × threads is what PostgreSQL must allow.
            "--blocking-threads",
            str(threads),
            # No --backpressure: granian's default (backlog / workers, 512 requests a worker
            # here) lets every client's request wait for a thread. Limited to 4 requests a
            # thread, some connections were starved instead: 168 of 4,219 requests waited
            # more than 10 s at 200 clients, against none with the default.
            "--no-ws",
            "--respawn-failed-workers",
            "--workers-kill-timeout",
            str(min(1800, max(1, int(self.stop_timeout)))),  # granian's accepted range
            "--working-dir",
            str(settings.BASE_DIR),
            "--log-level",
            "warning",
            WSGI_TARGET,
        ]

    def _check_static_files(self) -> None:
        """With DEBUG off, static files are served from STATIC_ROOT by WhiteNoise, through
        a manifest that only `collectstatic` writes: without it every admin page fails."""
        from django.contrib.staticfiles.storage import staticfiles_storage

        manifest = getattr(staticfiles_storage, "manifest_name", None)
        if settings.DEBUG or manifest is None:
            return
        if not staticfiles_storage.exists(manifest):
            raise CommandError(
                f"No static files in {settings.STATIC_ROOT}: run "
                "`manage.py collectstatic --noinput` first (DEBUG is off)."
            )

    def _banner(self, netloc: str, server: str, counts: dict[str, Any], *, reload: bool) -> None:
        base = f"http://{netloc}"
        lines = ["", "Element Library", f"  Studio      {base}/"]
        if settings.GRAPHIQL:
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
        if server == GRANIAN:
            web = f"granian, {counts['web_workers']} processes x {counts['web_threads']} threads"
        else:
            web = "runserver, reloading on code changes" if reload else "runserver"
        workers = counts["workers"] or settings.Q_CLUSTER["workers"]
        lines += [
            f"Starting the web server ({web}), the task cluster ({workers} workers) and the "
            f"webhook cluster ({counts['webhook_workers']} workers); Ctrl-C stops them all.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested is not None:
            self.force = True  # a second Ctrl-C: stop waiting for a graceful exit
        self.stop_requested = signum

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Child:
        # Fixed argv built from our own interpreter, manage.py or granian's module and
        # validated numbers: no shell, no user input.
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
