"""README's shell examples, run as a newcomer runs them after `make run`: every ```sh block in
order, in one bash session (later blocks use `TOKEN`, `g` and the ids earlier ones set),
against a real `manage.py serve` on a free port with a fresh database.

The set-up is `make run`'s: the `.env` that `python -m elementsite.localenv` writes (here with
the throwaway database added), `migrate`, `seed_demo --if-empty` (which also writes
`data/examples/`), then `serve`. The blocks run in a scratch copy of the checkout's layout:
`manage.py`, `.venv/bin/python` and `data/` relative to the working directory, as README
writes them. The environment holds neither `SECRET_KEY` nor `DEBUG`: only the `.env` makes
`manage.py createapitoken` work. The one change made to a block is the port.

The webhook example registers `https://app.example.com/…`; the service resolves the host
first, so on a machine without DNS that block must answer `WEBHOOK_URL_UNRESOLVABLE` and
nothing else.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from elementsite import localenv

BASE_DIR = Path(__file__).resolve().parent.parent
README = BASE_DIR / "README.md"
README_PORT = "127.0.0.1:8000"
START_TIMEOUT = 60.0
BLOCKS_TIMEOUT = 420.0

# Blocks that are not examples to paste after `make run` (they start or test the service).
NOT_EXAMPLES = ("make run", "make test")


def shell_blocks(text: str) -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    return [b for b in blocks if not b.lstrip().startswith(NOT_EXAMPLES)]


def json_values(text: str) -> list[Any]:
    """The JSON documents printed one after another (curl adds no newline between them)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


def problems(value: Any) -> list[str]:
    """GraphQL errors, refusals (`OperationInfo`) and a preview that is not ok, anywhere."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("errors"):
            found.append(f"errors: {value['errors']}")
        if value.get("__typename") == "OperationInfo":
            found.append(f"refused: {value.get('messages')}")
        if "issues" in value and "ok" in value and not value["ok"]:
            found.append(f"preview not ok: {value['issues']}")
        for child in value.values():
            found += problems(child)
    elif isinstance(value, list):
        for child in value:
            found += problems(child)
    return found


def resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answering(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/graphql", timeout=3) as response:
            return bool(response.status)
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_readme_blocks_are_found():
    blocks = shell_blocks(README.read_text())
    assert len(blocks) >= 10
    assert any("createapitoken demo" in b for b in blocks)
    assert not any(b.lstrip().startswith("make ") for b in blocks)


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    # A checkout as README sees it: manage.py, .venv/bin/python and data/ in the cwd.
    (tmp_path / "manage.py").symlink_to(BASE_DIR / "manage.py")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    python = venv_bin / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    data = tmp_path / "data"
    env_file = tmp_path / ".env"
    assert localenv.write_local(
        env_file, DATA_DIR=str(data), DATABASE_URL=f"sqlite:///{data / 'elementsite.sqlite3'}"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "DATA_DIR",
            "REDIS_URL",
            "Q_SYNC",
            "MEDIA_ROOT",
            "AWS_STORAGE_BUCKET_NAME",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(
        {localenv.ENV_FILE_VARIABLE: str(env_file), "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    )
    return tmp_path, env


def test_readme_examples_succeed_against_a_live_server(workspace):
    # given: make run's steps
    root, env = workspace

    def manage(*args: str) -> str:
        done = subprocess.run(
            [str(root / ".venv/bin/python"), "manage.py", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    manage("seed_demo", "--if-empty")
    assert sorted(p.name for p in (root / "data/examples").iterdir()) == [
        "back.jpg",
        "front.jpg",
        "side.jpg",
        "sofa.jpg",
        "street.mp4",
        "voice.wav",
    ]
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [str(root / ".venv/bin/python"), "manage.py", "serve", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answering(port):
            assert serve.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "serve did not answer in time"
            time.sleep(0.3)

        # when: every block, in order, in one shell
        blocks = shell_blocks(README.read_text())
        script = ["set -u"]
        for n, block in enumerate(blocks):
            script.append(f"printf '\\n@@begin {n}\\n'")
            script.append(block.replace(README_PORT, f"127.0.0.1:{port}"))
            script.append(f"printf '\\n@@end {n} %s\\n' $?")
        done = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCKS_TIMEOUT,
            check=False,
        )

        # then: each block ran to its end, exited 0, and printed no error or refusal
        outputs = dict(
            (int(n), (body, int(status)))
            for n, body, status in re.findall(
                r"@@begin (\d+)\n(.*?)\n@@end \1 (\d+)\n", done.stdout, flags=re.DOTALL
            )
        )
        assert sorted(outputs) == list(range(len(blocks))), (done.stdout, done.stderr)
        dns = resolves("app.example.com")
        for n, block in enumerate(blocks):
            body, status = outputs[n]
            where = f"README block {n}:\n{block}\n--- printed:\n{body}\n--- stderr:\n{done.stderr}"
            assert status == 0, where
            found = [p for value in json_values(body) for p in problems(value)]
            if "webhookEndpointCreate" in block and not dns:
                assert len(found) == 1 and "WEBHOOK_URL_UNRESOLVABLE" in found[0], where
                continue
            assert not found, where
        printed = "".join(body for body, _ in outputs.values())
        assert '"username":"demo"' in printed.replace(" ", "")
        assert '"status":"SUCCEEDED"' in printed.replace(" ", "")
        assert '"origin":"HISTORY"' in printed.replace(" ", "")
        # A queued job is canceled (and refunded) at once; one a worker already took stops at
        # its next progress report, as README says.
        compact = printed.replace(" ", "")
        assert (
            '"status":"CANCELED","refunded":true' in compact
            or '"generationCancel":{"__typename":"GenerationJobResult","job":{"status":"RUNNING"'
            in compact
        )
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait(timeout=10)


def test_no_table_is_split_by_a_blank_line():
    # A row after a blank line starts a table without a header: Markdown shows it as text.
    lines = README.read_text().splitlines()
    orphans = [
        n + 1
        for n, line in enumerate(lines)
        if line.startswith("|") and n > 0 and not lines[n - 1].strip() and "---" not in lines[n + 1]
    ]
    assert orphans == []


def test_the_kling_variables_have_a_section_of_their_own():
    text = README.read_text()
    accounts = text.split("### Accounts", 1)[1].split("\n### ", 1)[0]
    kling = text.split("### The Kling provider", 1)[1].split("\n### ", 1)[0]

    assert "KLING_" not in accounts
    assert "`KLING_ACCESS_KEY`" in kling
