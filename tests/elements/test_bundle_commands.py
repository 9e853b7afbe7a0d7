"""`manage.py elements_export` and `elements_import`: the same bundles as the API, with a
progress bar on stderr and the report on stdout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from elements.models import Element
from tests.factories import UserFactory
from tests.support.bundles import make_character, manifest_of
from tests.support.elements import leaves_nothing_behind

pytestmark = pytest.mark.django_db


def test_export_then_import_into_another_user(tmp_path: Path) -> None:
    alice, bob = UserFactory(), UserFactory()
    make_character(alice, "Hero")
    make_character(alice, "Sidekick", color=(20, 120, 60))
    path = tmp_path / "library.zip"
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "elements_export", user=alice.username, all=True, output=str(path), stdout=out, stderr=err
    )
    assert "Exported 2 element(s) and 2 voice(s)" in out.getvalue()
    assert "Exporting elements [" in err.getvalue() and "2/2" in err.getvalue()
    assert [e["name"] for e in manifest_of(path.read_bytes())["elements"]] == ["Hero", "Sidekick"]

    out, err = io.StringIO(), io.StringIO()
    call_command("elements_import", str(path), user=bob.username, stdout=out, stderr=err)
    assert "CREATED   Hero" in out.getvalue() and "CREATED   Sidekick" in out.getvalue()
    assert "Importing elements [" in err.getvalue()
    assert sorted(Element.objects.filter(owner=bob).values_list("name", flat=True)) == [
        "Hero",
        "Sidekick",
    ]

    call_command(
        "elements_import",
        str(path),
        user=bob.username,
        on_conflict="rename",
        stdout=out,
        stderr=err,
    )
    assert "RENAMED   Hero as “Hero (2)”" in out.getvalue()


def test_export_refuses_another_users_element(tmp_path: Path) -> None:
    alice, bob = UserFactory(), UserFactory()
    hero = make_character(alice, "Hero")
    with pytest.raises(CommandError, match="Not elements of"):
        call_command(
            "elements_export",
            "--id",
            str(hero.pk),
            user=bob.username,
            output=str(tmp_path / "x.zip"),
        )
    assert not (tmp_path / "x.zip").exists()


def test_a_refused_import_names_the_code_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x05\x06 not really")
    bob = UserFactory()
    with leaves_nothing_behind(), pytest.raises(CommandError, match="BUNDLE_NOT_A_ZIP"):
        call_command("elements_import", str(bad), user=bob.username, stderr=io.StringIO())
