"""Every error code a client can meet is a member of a domain enum, and the schema's
`ErrorCode` enum is made of exactly those members."""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

from elements.media.errors import AudioWarningCode
from elementsite.graphql_error_codes import DOMAIN_ENUMS, ErrorCode, as_error_code

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "elements", "generation", "elementsite")
CODE_LIKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
# Keywords and dict keys whose value is a code.
CODE_NAMES = {"code", "error_code", "failure_code"}
KNOWN_CODES = {m.value for m in ErrorCode} | {m.value for m in AudioWarningCode}


def _enum_bodies(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside an Enum / TextChoices class body: where codes belong."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            (isinstance(b, ast.Name) and b.id.endswith(("Enum", "Choices")))
            or (isinstance(b, ast.Attribute) and b.attr.endswith(("Enum", "Choices")))
            for b in node.bases
        ):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def literal_codes(source: str) -> list[tuple[int, str]]:
    """(line, code) of each error code written as a string literal outside an enum: a known
    code anywhere, or any UPPER_SNAKE string passed as `code=` / under a "code" key."""
    tree = ast.parse(source)
    skip = _enum_bodies(tree)
    docstrings = {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    found: list[tuple[int, str]] = []

    def is_code(node: ast.AST | None) -> bool:
        return (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and bool(CODE_LIKE.match(node.value))
        )

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and node.value in KNOWN_CODES:
                found.append((node.lineno, node.value))
        elif isinstance(node, ast.keyword) and node.arg in CODE_NAMES and is_code(node.value):
            assert isinstance(node.value, ast.Constant)
            found.append((node.value.lineno, node.value.value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value in CODE_NAMES
                    and is_code(value)
                    and value.value not in KNOWN_CODES  # type: ignore[union-attr]
                ):
                    found.append((value.lineno, value.value))  # type: ignore[union-attr]
    return sorted(set(found))


def test_no_error_code_is_a_literal_outside_an_enum():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, code in literal_codes(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {code!r}")
    assert offenders == [], "use the domain enum's member instead:\n" + "\n".join(offenders)


def test_the_check_finds_literals_in_every_shape_it_looks_for():
    source = '''
class WidgetErrorCode(StrEnum):
    NAME_TAKEN = "NAME_TAKEN"

raise ValidationError("x", code="NAME_TAKEN")
raise _error("name", "x", "NAME_TAKEN")
raise ProviderError(code="SOMETHING_NEW")
body = {"code": "ANOTHER_ONE"}
"""A docstring naming NAME_TAKEN is fine."""
'''
    assert literal_codes(source) == [
        (5, "NAME_TAKEN"),
        (6, "NAME_TAKEN"),
        (7, "SOMETHING_NEW"),
        (8, "ANOTHER_ONE"),
    ]


def test_error_code_enum_is_every_domain_code_and_nothing_else():
    domain = {member.value for enum_cls in DOMAIN_ENUMS for member in enum_cls}
    assert {member.value for member in ErrorCode} == domain
    assert all(name == member.value for name, member in ErrorCode.__members__.items())


def test_a_code_in_no_enum_is_sent_as_invalid_input():
    class Stray(StrEnum):
        X = "max_length"

    assert as_error_code("NAME_TAKEN") == ErrorCode("NAME_TAKEN")
    assert as_error_code(Stray.X) == ErrorCode("INVALID_INPUT")
    assert as_error_code(None) is None
    assert as_error_code("") is None


def test_every_error_code_enum_of_the_apps_is_merged_into_error_code():
    declared = set()
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            declared |= {
                node.name
                for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef)
                and node.name.endswith("ErrorCode")
                and any(isinstance(b, ast.Name) and b.id.endswith("Enum") for b in node.bases)
            }
    assert declared == {enum_cls.__name__ for enum_cls in DOMAIN_ENUMS}, (
        "add the new enum to elementsite.graphql_error_codes.DOMAIN_ENUMS"
    )
