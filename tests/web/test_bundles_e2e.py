"""Bundles through the studio: Ana exports her library, Ben imports the file she downloaded,
twice (the second time renaming what exists), and a tampered copy is refused whole."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from elements import services
from elements.models import Element, ReferenceImage
from tests.factories import UserFactory
from tests.support.media import image_upload
from tests.support.photos import photo_upload
from tests.web.flows import TASK_TIMEOUT_MS, log_in, switch_user

pytestmark = pytest.mark.django_db(transaction=True)


def image_hashes(owner: Any) -> set[tuple[str, int, str]]:
    """(element name, position, SHA-256 of the stored file) of every image `owner` has."""
    found = set()
    for image in ReferenceImage.objects.filter(element__owner=owner).select_related("element"):
        with image.image.open("rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        found.add((image.element.name, image.position, digest))
    return found


def tampered(bundle: Path, target: Path) -> Path:
    """A copy of `bundle` whose first image is other bytes than the manifest's SHA-256 says."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as copy:
        swapped = False
        for info in source.infolist():
            data = source.read(info)
            if not swapped and info.filename != "manifest.json" and not info.is_dir():
                data = image_upload(color=(9, 9, 9)).read()
                swapped = True
            copy.writestr(info, data)
    return target


def import_bundle(page: Any, bundle: Path, conflict: str) -> Any:
    page.get_by_role("button", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import elements")
    dialog.get_by_label("Bundle (.zip) file").set_input_files(str(bundle))
    dialog.get_by_role("radio", name=conflict).check()
    dialog.get_by_role("button", name="Import", exact=True).click()
    return dialog


def test_a_library_travels_from_one_person_to_another(
    page: Any, studio_url: str, tmp_path: Path, shoot: Any
):
    ana, ben = UserFactory(), UserFactory()
    services.element_create(
        owner=ana,
        name="Ada",
        element_type="character",
        main_image=photo_upload("astronaut"),
        extra_images=[image_upload(color=(200, 40, 40))],
    )
    services.element_create(
        owner=ana,
        name="Blue Mug",
        element_type="prop",
        main_image=image_upload(color=(30, 60, 200)),
        extra_images=[image_upload(color=(40, 200, 40))],
    )

    # Ana exports everything and downloads the bundle.
    log_in(page, studio_url, ana)
    page.get_by_role("button", name="Export", exact=True).click()
    dialog = page.get_by_role("dialog", name="Export elements")
    link = dialog.get_by_role("link", name="Download bundle")
    link.wait_for(timeout=TASK_TIMEOUT_MS)
    expect(dialog.get_by_text(re.compile(r"^2 elements · "))).to_be_visible()
    shoot("bundles-export")
    with page.expect_download() as download:
        link.click()
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    assert re.fullmatch(r"elements-\d{4}-\d{2}-\d{2}\.zip", bundle.name)
    with zipfile.ZipFile(bundle) as archive:
        assert "manifest.json" in archive.namelist()

    # Ben imports it: both elements created, the same pixels as Ana's.
    switch_user(page, studio_url, ben)
    dialog = import_bundle(page, bundle, "Skip")
    report = dialog.get_by_role("table", name="Import report")
    expect(dialog.get_by_text("2 elements created")).to_be_visible()
    expect(report.get_by_role("row").filter(has_text="Created")).to_have_count(2)
    shoot("bundles-import-report")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile("Ada"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Blue Mug"))).to_be_visible()
    assert image_hashes(ben) == image_hashes(ana)

    # Again, renaming: two more, under new names.
    dialog = import_bundle(page, bundle, "Rename")
    report = dialog.get_by_role("table", name="Import report")
    expect(report.get_by_role("row").filter(has_text="Renamed")).to_have_count(2)
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    assert Element.objects.filter(owner=ben).count() == 4

    # A tampered copy: refused with the service's word, nothing added.
    dialog = import_bundle(page, tampered(bundle, tmp_path / "tampered.zip"), "Rename")
    expect(dialog.get_by_role("alert")).to_contain_text(re.compile("SHA-256|checksum", re.I))
    expect(dialog.get_by_role("table", name="Import report")).to_have_count(0)
    shoot("bundles-import-refused")
    assert Element.objects.filter(owner=ben).count() == 4
