"""The direction between packages (pyproject.toml `[tool.importlinter]`): `elements` never
imports `generation`, not even inside a function, and `accounts` stays below both. The suite
fails on an import against it, as `lint-imports` in .ci/run does."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

# `strawberry.lazy("generation...")` imports generation when the schema is built, out of
# import-linter's sight (it reads `import` statements only).
LAZY_UPWARD = re.compile(r"""strawberry\.lazy\(\s*["'](generation|elementsite\.schema)\b""")


def test_no_import_runs_against_the_direction(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The packages are found on sys.path from the repository root, as `lint-imports` there.
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_the_contract_forbids_elements_to_import_generation() -> None:
    # A contract that is deleted or narrowed passes trivially: pin what it must forbid.
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    below = next(c for c in contracts if c["id"] == "elements-below-generation")
    assert below["type"] == "forbidden"
    assert below["source_modules"] == ["elements"]
    assert "generation" in below["forbidden_modules"]


def test_elements_names_no_generation_type_lazily() -> None:
    found = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "elements").rglob("*.py")
        if LAZY_UPWARD.search(path.read_text())
    }
    assert not found, found
