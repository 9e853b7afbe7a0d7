"""Webhooks never slow generation: 4 short jobs with a webhook endpoint that never answers,
against the same 4 jobs with no endpoint, through the clusters `manage.py serve` starts.

    python bench/webhooks.py [--rounds 3]

Runs the task cluster (2 workers, as `Q_WORKERS` defaults) and the webhook cluster
(`Q_QUEUE=webhooks`, 2 workers) as subprocesses on a throwaway SQLite database with the ORM
broker, as `make run` does. The receiver is the tests' (`tests/support/webhooks`)
on 127.0.0.1: it takes every request and never answers, so each attempt lasts the whole
`WEBHOOK_TIMEOUT_SECONDS` (10 s). A round submits 4 3-second `VIDEO_3_0` jobs (the local
renderer) for an owner, with or without the endpoint (which wants every event: 3 deliveries
a job), and times submit → all 4 succeeded. The two cases alternate, so drift hits both
alike; medians. Target: the hanging case within 1.2x of the other (issue 12: 23.8 s against
6.1 s when deliveries shared the render workers).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBS = 4
JOB_TIMEOUT = 180.0


def setup(workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "Q_SYNC", "MEDIA_ROOT", "Q_QUEUE"}
        and not key.startswith("AWS_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        DATA_DIR=str(workdir),
        DEBUG="1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="elementsite.settings",
        Q_CLUSTER_NAME=f"elementsite-bench-{uuid.uuid4().hex[:8]}",
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1",
        WEBHOOK_REQUIRE_HTTPS="0",
        PYTHONUNBUFFERED="1",
    )
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return env


def start_cluster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # Our interpreter and manage.py, fixed arguments.
        return subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_cluster(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)  # a worker held by the receiver would keep it for 10 s
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def round_trip(receiver_url: str | None, label: str) -> float:
    """Seconds from submitting JOBS short jobs to all of them succeeded."""
    from accounts import services as account_services
    from accounts.models import User
    from generation import services
    from generation.catalog import ModelCode
    from generation.models import GenerationJob, JobStatus
    from generation.webhooks import services as webhook_services

    owner = User.objects.create_user(username=f"bench-{label}-{uuid.uuid4().hex[:8]}")
    account_services.credits_grant(user=owner, amount=1000, reason="Benchmark funds")
    if receiver_url is not None:
        webhook_services.webhook_endpoint_create(owner=owner, url=receiver_url)
    started = time.monotonic()
    ids = [
        services.generation_submit(
            owner=owner,
            request=services.JobRequest(
                model=ModelCode.VIDEO_3_0, prompt=f"A fox runs in the snow, take {n}", duration=3
            ),
        ).pk
        for n in range(JOBS)
    ]
    jobs = GenerationJob.objects.filter(pk__in=ids)
    while jobs.filter(status=JobStatus.SUCCEEDED).count() < JOBS:
        failed = jobs.filter(status__in=[JobStatus.FAILED, JobStatus.CANCELED])
        if failed.exists():
            raise SystemExit(f"a job failed: {list(failed.values('error_code', 'error_message'))}")
        if time.monotonic() - started > JOB_TIMEOUT:
            raise SystemExit(f"{label}: jobs not done after {JOB_TIMEOUT:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="elementsite-bench-webhooks-") as tmp:
        workdir = Path(tmp)
        env = setup(workdir)
        from tests.support.webhooks import start_receiver

        receivers = start_receiver(["hang"])
        receiver = next(receivers)
        clusters = [
            start_cluster({**env, "Q_WORKERS": "2"}, workdir / "tasks.log"),
            start_cluster(
                {**env, "Q_QUEUE": "webhooks", "WEBHOOK_WORKERS": "2"}, workdir / "webhooks.log"
            ),
        ]
        try:
            round_trip(None, "warm-up")  # the clusters are up and have rendered once
            times: dict[str, list[float]] = {"none": [], "hang": []}
            for n in range(options.rounds):
                order = ["none", "hang"] if n % 2 == 0 else ["hang", "none"]
                for case in order:
                    url = receiver.url() if case == "hang" else None
                    seconds = round_trip(url, case)
                    times[case].append(seconds)
                    print(f"round {n + 1}: {case:<4} {seconds:6.2f} s", flush=True)
            held = len(receiver.requests)
        finally:
            for process in clusters:
                stop_cluster(process)
            with contextlib.suppress(StopIteration):
                next(receivers)  # releases the hanging requests and stops the receiver

    none, hang = statistics.median(times["none"]), statistics.median(times["hang"])
    print(
        f"\n{JOBS} 3 s VIDEO_3_0 jobs, submit to all succeeded, medians of {options.rounds} rounds"
    )
    print(f"  no endpoint                      {none:6.2f} s  (baseline)")
    print(f"  an endpoint that never answers   {hang:6.2f} s  ({held} deliveries held)")
    print(f"  ratio {hang / none:.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
