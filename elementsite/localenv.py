"""The local `.env` of a checkout: what `make run` sets up so that `manage.py` works in any
shell afterwards (README's `TOKEN=$(.venv/bin/python manage.py createapitoken demo)`).

`make run` calls `python -m elementsite.localenv`, which writes `.env` beside `manage.py` once,
with a generated `SECRET_KEY` and `DEBUG=1`; it is git-ignored and never rewritten, so sessions
survive restarts. The settings call `load()` first: each `NAME=value` line sets a variable the
environment does not set already, so a real environment variable always wins and a server
without the file (production) reads only its environment.

`ELEMENTSITE_ENV_FILE` names another file; set to an empty string, no file is read (the test
suite does this, so a developer's `.env` never changes what the tests see).

Deliberately no Django import: this runs before the settings exist.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE_VARIABLE = "ELEMENTSITE_ENV_FILE"


def env_file_path(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """The file to read, or None when reading is turned off."""
    environ = os.environ if environ is None else environ
    configured = environ.get(ENV_FILE_VARIABLE)
    if configured is None:
        return BASE_DIR / ".env"
    return Path(configured) if configured.strip() else None


def parse(text: str) -> dict[str, str]:
    """`NAME=value` lines; blank lines and `#` comments skipped, one pair of matching quotes
    around a value removed. No interpolation: the file holds literal values only."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def load(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Set the file's variables that `environ` lacks; returns the file read, if any."""
    environ = os.environ if environ is None else environ
    path = env_file_path(environ)
    if path is None or not path.is_file():
        return None
    for name, value in parse(path.read_text(encoding="utf-8")).items():
        environ.setdefault(name, value)
    return path


def write_local(path: Path | None = None, **extra: str) -> bool:
    """Write a local-development `.env` at `path` unless one exists; returns whether it
    wrote. `extra` adds lines (the README test points the database at a throwaway file)."""
    path = path or BASE_DIR / ".env"
    if path.exists():
        return False
    lines = [
        "# Written once by `make run` for local development; git-ignored. Never deploy it:",
        "# production sets real environment variables, which win over this file anyway.",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
        "DEBUG=1",
        *(f"{name}={value}" for name, value in extra.items()),
    ]
    # Created readable by its owner only: it holds the key that signs sessions.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return True


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else None
    target = path or BASE_DIR / ".env"
    if write_local(path):
        print(f"Wrote {target} (a generated SECRET_KEY, DEBUG=1) for local runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
