"""Modules meet through their public names only.

A name with a leading underscore is its module's own business: no other module of the
project imports it (`from elements.services import _pk`) or reaches for it through the
module (`generation_services._raise_preview`). What modules share (the transactional file
batch, the owner lock, the parsing of ids) has a public home instead: `elementsite.files`,
`accounts.locks`, `elementsite.ids`.

The check reads the source (it imports nothing), so a helper imported inside a function, as
the ones that dodged import cycles were, is caught as well. Dunder names (`__version__`)
are public by convention; migrations are Django's.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("elements", "generation", "accounts", "elementsite")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _absolute(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = here.split(".")
    # `from . import x` in a package's __init__ is relative to the package itself.
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _dotted(node: ast.expr, modules: dict[str, str]) -> str | None:
    """`elements.services` for `element_services` or `elements.services` in the source."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, modules)
        return None if base is None else f"{base}.{node.attr}"
    return None


def crossings(source: str, here: str, *, is_package: bool = False) -> list[str]:
    """`line: what` for each private name of another module that module `here` (its
    `source`) uses."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # local name → the project module it is bound to
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    top = alias.name.split(".")[0]
                    modules[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, here, is_package)
            if module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if _private(alias.name) and module != here:
                    found.append(f"{node.lineno}: from {module} import {alias.name}")
                elif _is_module(f"{module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _dotted(node.value, modules)
            if owner is not None and owner != here and _is_module(owner):
                found.append(f"{node.lineno}: {owner}.{node.attr}")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def source_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_no_module_uses_another_modules_private_names() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in source_files()
        for line in crossings(
            path.read_text(encoding="utf-8"),
            _module_name(path),
            is_package=path.name == "__init__.py",
        )
    ]

    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_check_sees_each_way_of_reaching_a_private_name() -> None:
    # given: a module of elements that reaches into elements.services in every way
    source = (
        "from elements.services import _pk, touch\n"
        "from elements import services as element_services\n"
        "import elements.services\n"
        "from .services import _FileBatch\n"
        "from elementsite.errors import field_error as _error\n"
        "\n"
        "def f():\n"
        "    from elements.services import (\n"
        "        add_image,\n"
        "        _locked_element,\n"
        "    )\n"
        "    element_services._touch()\n"
        "    elements.services._lock_owner(None)\n"
        "    _error(None, '', '')._private_of_an_object\n"
    )

    # when
    found = crossings(source, "elements.sample")

    # then: a public name under a private alias is the module's own business
    assert found == [
        "1: from elements.services import _pk",
        "4: from elements.services import _FileBatch",
        "8: from elements.services import _locked_element",
        "12: elements.services._touch",
        "13: elements.services._lock_owner",
    ]
