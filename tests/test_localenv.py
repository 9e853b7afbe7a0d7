"""The local `.env` that `make run` writes, and the Makefile's HOST/PORT."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from elementsite import localenv

BASE_DIR = Path(__file__).resolve().parent.parent


def test_written_once_with_a_generated_key_and_debug_on(tmp_path):
    # given
    path = tmp_path / ".env"

    # when
    first = localenv.write_local(path)
    text = path.read_text()
    second = localenv.write_local(path)

    # then: written once, never rewritten (sessions survive restarts), owner-only
    assert (first, second) == (True, False)
    assert path.read_text() == text
    values = localenv.parse(text)
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = tmp_path / "other.env"
    localenv.write_local(other)
    assert localenv.parse(other.read_text())["SECRET_KEY"] != values["SECRET_KEY"]


def test_the_environment_wins_over_the_file(tmp_path):
    # given
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n\nSECRET_KEY=from-file\nexport DEBUG=1\nQUOTED='a b'\nnot a line\n"
    )
    environ = {localenv.ENV_FILE_VARIABLE: str(path), "SECRET_KEY": "from-env"}

    # when
    read = localenv.load(environ)

    # then
    assert read == path
    assert environ["SECRET_KEY"] == "from-env"
    assert environ["DEBUG"] == "1"
    assert environ["QUOTED"] == "a b"
    assert "not a line" not in " ".join(environ)


@pytest.mark.parametrize("configured", ["", "missing"])
def test_no_file_or_reading_turned_off_reads_nothing(tmp_path, configured):
    environ = {localenv.ENV_FILE_VARIABLE: str(tmp_path / configured) if configured else ""}
    before = dict(environ)

    assert localenv.load(environ) is None
    assert environ == before


def test_the_default_file_is_beside_manage_py():
    assert localenv.env_file_path({}) == BASE_DIR / ".env"


def test_the_checkout_ignores_its_env_file():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=BASE_DIR, check=False
    ).returncode
    assert ignored == 0


def _make_dry_run(*args: str) -> list[str]:
    # `make -n` prints the recipe without running it. Under `make test` this
    # runs as a sub-make, which would add "Entering/Leaving directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.splitlines()


def test_make_run_passes_host_and_port_to_serve():
    printed = _make_dry_run("run", "PORT=8001", "HOST=0.0.0.0")
    assert any(line.endswith("-m elementsite.localenv") for line in printed)
    assert printed[-1].endswith("manage.py serve --host 0.0.0.0 --port 8001")
    default = _make_dry_run("run")
    assert default[-1].endswith("manage.py serve --host 127.0.0.1 --port 8000")
