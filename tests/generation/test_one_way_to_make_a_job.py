"""Every job row is written by `generation.jobs.job_create`, the one service that validates,
prices, debits, pins, writes the `generation.queued` event and enqueues on commit (submit,
recreate and multi-view call it; `test_job_create_callers.py` shows each caller's event and
provider check). The check reads the source, so a second way in fails here first."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "elements", "generation", "elementsite")
THE_SERVICE = ROOT / "generation" / "jobs.py"
CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _job_writes(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # GenerationJob(...) then .save(), or GenerationJob.objects.create(...) and the like.
        built = isinstance(func, ast.Name) and func.id == "GenerationJob"
        created = (
            isinstance(func, ast.Attribute)
            and func.attr in CREATING
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "objects"
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id == "GenerationJob"
        )
        if built or created:
            lines.append(node.lineno)
    return lines


def _sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_only_the_job_service_writes_job_rows() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        if path != THE_SERVICE
        for line in _job_writes(ast.parse(path.read_text()))
    }
    assert not found, f"job rows written outside generation/jobs.py: {sorted(found)}"


def test_the_check_sees_both_ways_of_writing_a_row() -> None:
    assert _job_writes(ast.parse(THE_SERVICE.read_text())), "the service itself is seen"
    written = ast.parse(
        "def f():\n    GenerationJob(owner=o).save()\n    GenerationJob.objects.bulk_create([])\n"
    )
    assert sorted(_job_writes(written)) == [2, 3]
