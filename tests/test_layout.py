"""The tests are a library of their own: shared helpers live in tests/support/, factories in
tests/factories.py and fixtures in a conftest.py, so no module imports a test module (a
test module imported by another runs its module-level code twice and drags its fixtures
into the importer's namespace, where they shadow and are shadowed by accident)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path, root: Path = TESTS.parent) -> list[tuple[int, str]]:
    """Every module `path` imports, absolute from `root`, with its line (relative imports
    resolved)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            # `from tests.elements import test_x` imports the module test_x itself.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(p.startswith("test_") for p in parts)


def python_files() -> list[Path]:
    return [p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts]


def test_no_module_imports_a_test_module():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
        for path in python_files()
        for line, name in imported_modules(path)
        if is_test_module(name)
    ]

    assert offenders == [], "move what is shared to tests/support/ or a conftest.py"


def test_the_check_sees_every_form_of_import(tmp_path):
    probe = tmp_path / "tests" / "generation" / "test_probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from tests.generation.test_jobs import owner\n"
        "from . import test_kling\n"
        "import tests.elements.test_assists\n"
        "from tests.support.media import image_upload\n"
        "def later():\n"
        "    from tests.elements.test_admin import make_element\n"
    )

    names = [name for _, name in imported_modules(probe, tmp_path) if is_test_module(name)]

    assert names == [
        "tests.generation.test_jobs",
        "tests.generation.test_jobs.owner",
        "tests.generation.test_kling",
        "tests.elements.test_assists",
        "tests.elements.test_admin",
        "tests.elements.test_admin.make_element",
    ]


def test_test_files_are_named_for_behaviour_not_for_the_tracker():
    # "test_issue_12.py" or "test_explore_done.py" says when a test was written, not what it
    # checks; the reader looking for a rule can't find it by name.
    tracker = re.compile(
        r"^test_(issue|round|milestone|sprint)_?\d|_(done|(issue|round)_?\d+)\.py$"
    )

    named_for_the_tracker = [
        str(p.relative_to(TESTS.parent)) for p in python_files() if tracker.search(p.name)
    ]

    assert named_for_the_tracker == []
