"""Settings come from the environment: each case loads elementsite.settings in a fresh
interpreter with only the variables under test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
from elementsite import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "debug": s.DEBUG,
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "options": {k: v for k, v in db.get("OPTIONS", {}).items() if k != "init_command"},
    "broker": "redis" if "redis" in s.Q_CLUSTER else s.Q_CLUSTER.get("orm"),
    "storage": s.STORAGES["default"]["BACKEND"],
    "file_overwrite": s.STORAGES["default"]["OPTIONS"].get("file_overwrite"),
    "time_zone": s.TIME_ZONE,
    "q_time_zone": s.Q_CLUSTER["time_zone"],
}))
"""


def load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "Q_"))}
    for name in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TIME_ZONE"):
        base.pop(name, None)
    base.update({"DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_for(tmp_path: Path, **env: str) -> dict:
    result = load(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = load(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_embedded_defaults(tmp_path):
    s = settings_for(tmp_path, DEBUG="1")
    assert s["debug"] is True
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "elementsite.sqlite3")
    assert s["options"] == {"transaction_mode": "IMMEDIATE", "timeout": 30}
    assert s["broker"] == "default"
    assert s["storage"] == "django.core.files.storage.FileSystemStorage"
    assert s["time_zone"] == s["q_time_zone"] == "UTC"


def test_production_configuration(tmp_path):
    s = settings_for(
        tmp_path,
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://app@db.internal:5432/elements",
        REDIS_URL="redis://cache.internal:6379/0",
        AWS_STORAGE_BUCKET_NAME="media",
        TIME_ZONE="Asia/Shanghai",
    )
    assert s["debug"] is False
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "elements"
    assert s["broker"] == "redis"
    assert s["storage"] == "storages.backends.s3.S3Storage"
    assert s["file_overwrite"] is False
    assert s["time_zone"] == s["q_time_zone"] == "Asia/Shanghai"


def test_code_only_commands_need_no_secret_key(tmp_path):
    unset = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["DATA_DIR"] = str(tmp_path)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    migrations = manage("makemigrations", "--check", "--dry-run")
    serving = manage("check")

    assert migrations.returncode == 0, migrations.stderr
    assert "No changes detected" in migrations.stdout
    assert serving.returncode != 0
    assert "SECRET_KEY must be set" in serving.stderr


QUEUE_PROBE = """
import json, django
django.setup()
from django_q.conf import Conf
from generation.webhooks.tasks import webhook_queue
print(json.dumps({
    "prefix": Conf.PREFIX, "cluster": Conf.CLUSTER_NAME, "workers": Conf.WORKERS,
    "timeout": Conf.TIMEOUT, "retry": Conf.RETRY, "webhook_queue": webhook_queue(),
}))
"""


def queue_settings(tmp_path: Path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "Q_", "WEBHOOK_"))}
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        base.pop(name, None)
    base.update(
        {"DATA_DIR": str(tmp_path), "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "elementsite.settings"}
    )
    result = subprocess.run(
        [sys.executable, "-c", QUEUE_PROBE],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_webhook_cluster_works_its_own_queue_with_its_own_limits(tmp_path):
    tasks = queue_settings(tmp_path, Q_CLUSTER_NAME="site", Q_WORKERS="3")
    webhooks = queue_settings(
        tmp_path, Q_CLUSTER_NAME="site", Q_QUEUE="webhooks", WEBHOOK_WORKERS="5"
    )

    # the task cluster works the site's queue and sends deliveries to the other one
    assert (tasks["prefix"], tasks["cluster"], tasks["workers"]) == ("site", "site", 3)
    assert tasks["webhook_queue"] == "site-webhooks"
    # the webhook cluster: the same signing prefix, the deliveries' queue, its own workers,
    # a task timeout fitted to one attempt (10 s) and below its retry
    assert (webhooks["prefix"], webhooks["cluster"]) == ("site", "site-webhooks")
    assert webhooks["workers"] == 5
    assert webhooks["timeout"] == 40 < webhooks["retry"]


def test_an_unknown_queue_is_refused(tmp_path):
    result = load(tmp_path, DEBUG="1", Q_QUEUE="renders")
    assert result.returncode != 0
    assert "Q_QUEUE='renders'" in result.stderr
    assert "'tasks' or 'webhooks'" in result.stderr


# --- Parsed once, by pydantic-settings (elementsite/env.py) --------------------------------------

VALUES_PROBE = """
import json
from elementsite import settings as s
print(json.dumps({
    "kling_poll": s.KLING_POLL_SECONDS,
    "q_workers": s.Q_CLUSTER["workers"],
    "graphiql": s.GRAPHIQL,
    "secure_cookies": s.SESSION_COOKIE_SECURE,
    "allowed_hosts": s.ALLOWED_HOSTS,
    "retry_delays": s.GENERATION_STORAGE_RETRY_DELAYS,
    "providers": s.GENERATION_PROVIDERS,
    "moderation": s.EXPLORE_MODERATION,
    "callback": s.KLING_CALLBACK_BASE_URL,
}))
"""


def probe_values(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "Q_", "KLING_"))}
    for name in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "GRAPHIQL", "ALLOWED_HOSTS"):
        base.pop(name, None)
    base.update({"DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", VALUES_PROBE],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_values_are_parsed_with_their_types_and_debug_dependent_defaults(tmp_path):
    result = probe_values(
        tmp_path,
        DEBUG="true",
        KLING_POLL_SECONDS="2.5",
        Q_WORKERS="4",
        GENERATION_STORAGE_RETRY_DELAYS="1, 3",
        GENERATION_PROVIDERS="VIDEO_3_0_OMNI=kling,*=local",
        EXPLORE_MODERATION=" PRE ",
        PUBLIC_BASE_URL="https://api.example.com/",
        # Empty counts as unset: the default.
        GRAPHIQL="",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "kling_poll": 2.5,
        "q_workers": 4,
        "graphiql": True,
        "secure_cookies": False,
        "allowed_hosts": ["127.0.0.1", "localhost"],
        "retry_delays": [1, 3],
        "providers": {"VIDEO_3_0_OMNI": "kling", "*": "local"},
        "moderation": "pre",
        "callback": "https://api.example.com",
    }


def test_production_defaults_follow_debug_off(tmp_path):
    result = probe_values(tmp_path, SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.example, b.example")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["graphiql"] is False
    assert values["secure_cookies"] is True
    assert values["allowed_hosts"] == ["a.example", "b.example"]
    assert values["kling_poll"] == 2.0


def _refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    for name in names:
        assert name in last
    return last


def test_a_bad_float_stops_the_start_naming_the_variable(tmp_path):
    last = _refused(
        probe_values(tmp_path, DEBUG="1", KLING_POLL_SECONDS="abc"), "KLING_POLL_SECONDS"
    )
    assert "'abc'" in last
    assert "ValueError" not in last


def test_a_bad_int_and_a_bad_bool_are_both_named(tmp_path):
    _refused(
        probe_values(tmp_path, DEBUG="maybe", Q_WORKERS="many"), "DEBUG='maybe'", "Q_WORKERS='many'"
    )


def test_a_value_outside_its_choices_or_range_is_named(tmp_path):
    _refused(
        probe_values(tmp_path, DEBUG="1", EXPLORE_MODERATION="sometimes"), "EXPLORE_MODERATION"
    )
    _refused(
        probe_values(tmp_path, DEBUG="1", VOICE_MIN_SPEECH_RATIO="1.5"), "VOICE_MIN_SPEECH_RATIO"
    )
    _refused(probe_values(tmp_path, DEBUG="1", Q_QUEUE="renders"), "Q_QUEUE")


def test_the_env_file_is_parsed_and_checked_like_the_environment(tmp_path):
    env_file = tmp_path / "local.env"
    env_file.write_text("DEBUG=1\nQ_WORKERS=7\n", encoding="utf-8")
    result = probe_values(tmp_path, ELEMENTSITE_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["q_workers"] == 7

    env_file.write_text("DEBUG=1\nKLING_POLL_SECONDS=soon\n", encoding="utf-8")
    _refused(probe_values(tmp_path, ELEMENTSITE_ENV_FILE=str(env_file)), "KLING_POLL_SECONDS")


KLING_FLOATS = (
    "KLING_RETRY_BASE_SECONDS",
    "KLING_RETRY_MAX_SECONDS",
    "KLING_RETRY_MAX_WAIT_SECONDS",
    "KLING_POLL_SECONDS",
    "KLING_POLL_MAX_SECONDS",
    "KLING_TASK_TIMEOUT_SECONDS",
    "KLING_HTTP_TIMEOUT_SECONDS",
    "KLING_WORKER_HOLD_SECONDS",
)


def test_a_bad_kling_number_stops_the_start_with_its_name(tmp_path):
    for name in KLING_FLOATS:
        result = load(tmp_path, DEBUG="1", **{name: "2s"})
        assert result.returncode != 0, name
        assert f"{name}='2s'" in result.stderr, result.stderr[-300:]
    result = load(tmp_path, DEBUG="1", KLING_PRESET_VOICES="[1]")
    assert result.returncode != 0
    assert "KLING_PRESET_VOICES" in result.stderr
