"""Bundles through GraphQL: `elementExport` and its download link, `elementImport` as a
multipart upload, and ownership (another user's element or export is not found)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from strawberry import relay

from elements.bundles.errors import BundleErrorCode
from elements.error_codes import ElementErrorCode
from elements.models import Element, ElementExport, ExportStatus
from tests.factories import ElementFactory, UserFactory
from tests.support.bundles import export_bytes, make_character
from tests.support.elements import leaves_nothing_behind
from tests.support.graphql import logged_in_client

pytestmark = pytest.mark.django_db

EXPORT = """
mutation ($input: ElementExportInput!) {
  elementExport(input: $input) {
    __typename
    ... on ElementExportResult {
      export { id status progress elementCount downloadUrl expiresAt failureCode size }
    }
    ... on OperationInfo { messages { kind field code message } }
  }
}"""

POLL = """query ($id: ID!) { elementExport(id: $id) { id status progress downloadUrl } }"""

IMPORT = """
mutation ($input: ElementImportInput!) {
  elementImport(input: $input) {
    __typename
    ... on ElementImportResult {
      createdCount
      rows { name outcome newName notes element { id name images { sha256 } } }
    }
    ... on OperationInfo { messages { kind field code message } }
  }
}"""


def gid(element: Element) -> str:
    return str(relay.GlobalID("Element", str(element.pk)))


def download(client: Client, url: str) -> Any:
    return client.get(url)


def test_export_then_download_a_zip_with_its_manifest() -> None:
    alice = UserFactory()
    hero = make_character(alice, "Hero")
    api = logged_in_client(alice)
    data = api(EXPORT, {"input": {"ids": [gid(hero)]}})["elementExport"]
    export = data["export"]
    assert (export["status"], export["progress"], export["elementCount"]) == ("SUCCEEDED", 100, 1)
    assert export["expiresAt"] and export["downloadUrl"] and export["size"] > 0
    polled = api(POLL, {"id": export["id"]})["elementExport"]
    assert polled["status"] == "SUCCEEDED"
    response = api.client.get(export["downloadUrl"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert "manifest.json" in archive.namelist()
        assert len(archive.namelist()) == 1 + 2 + 1  # manifest, two images, the voice


def test_large_exports_go_to_a_job_with_progress(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ELEMENT_EXPORT_INLINE_MAX = 1
    alice = UserFactory()
    for n in range(2):
        ElementFactory(owner=alice, name=f"Prop {n}", type="prop")
    api = logged_in_client(alice)
    # Q_CLUSTER sync: the job runs when the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        data = api(EXPORT, {"input": {"all": True}})["elementExport"]
        assert (data["export"]["status"], data["export"]["downloadUrl"]) == ("QUEUED", None)
    assert len(enqueued) == 1
    export = ElementExport.objects.get(owner=alice)
    assert data["export"]["elementCount"] == 2
    assert export.status == ExportStatus.SUCCEEDED and export.progress == 100
    polled = api(POLL, {"id": data["export"]["id"]})["elementExport"]
    assert polled["status"] == "SUCCEEDED" and polled["downloadUrl"]


def test_exporting_another_users_element_is_not_found() -> None:
    alice, mallory = UserFactory(), UserFactory()
    hers = ElementFactory(owner=alice, name="Hers")
    api = logged_in_client(mallory)
    data = api(EXPORT, {"input": {"ids": [gid(hers)]}})["elementExport"]
    assert data["__typename"] == "OperationInfo"
    assert [m["code"] for m in data["messages"]] == [ElementErrorCode.NOT_FOUND]
    assert not ElementExport.objects.exists()


def test_nothing_chosen_is_refused() -> None:
    api = logged_in_client(UserFactory())
    data = api(EXPORT, {"input": {}})["elementExport"]
    assert [m["code"] for m in data["messages"]] == [BundleErrorCode.EXPORT_NOTHING_SELECTED]
    assert not ElementExport.objects.exists()


def test_a_blocked_element_is_not_exported() -> None:
    alice = UserFactory()
    blocked = ElementFactory(owner=alice, status="blocked", blocked_reason="no")
    data = logged_in_client(alice)(EXPORT, {"input": {"ids": [gid(blocked)]}})["elementExport"]
    assert [m["code"] for m in data["messages"]] == [BundleErrorCode.ELEMENT_NOT_EXPORTABLE]


def test_another_users_export_can_be_neither_polled_nor_downloaded() -> None:
    alice, mallory = UserFactory(), UserFactory()
    ElementFactory(owner=alice)
    export = logged_in_client(alice)(EXPORT, {"input": {"all": True}})["elementExport"]["export"]
    thief = logged_in_client(mallory)
    assert thief(POLL, {"id": export["id"]})["elementExport"] is None
    assert thief.client.get(export["downloadUrl"]).status_code == 404
    assert Client().get(export["downloadUrl"]).status_code == 404


def test_an_expired_export_has_no_link_and_its_file_is_purged(settings: Any) -> None:
    from django.core.files.storage import default_storage

    from elements.bundles.export import element_purge_expired_exports

    settings.ELEMENT_EXPORT_TTL_SECONDS = 0
    alice = UserFactory()
    ElementFactory(owner=alice)
    api = logged_in_client(alice)
    export = api(EXPORT, {"input": {"all": True}})["elementExport"]["export"]
    assert export["downloadUrl"] is None
    row = ElementExport.objects.get()
    name = row.file.name
    assert element_purge_expired_exports() == 1
    row.refresh_from_db()
    assert row.status == ExportStatus.EXPIRED and not row.file
    assert not default_storage.exists(name)


def _import(api: Any, data: bytes, on_conflict: str = "SKIP") -> dict[str, Any]:
    return api.upload(
        IMPORT,
        {"input": {"bundle": None, "onConflict": on_conflict}},
        {"input.bundle": SimpleUploadedFile("bundle.zip", data)},
    )["elementImport"]


def test_import_reports_each_element() -> None:
    alice, bob = UserFactory(), UserFactory()
    make_character(alice, "Hero")
    ElementFactory(owner=alice, name="Street", type="scene")
    bundle = export_bytes(alice)
    ElementFactory(owner=bob, name="Street", type="scene")
    data = _import(logged_in_client(bob), bundle, "RENAME")
    assert data["__typename"] == "ElementImportResult", data
    assert data["createdCount"] == 2
    assert [(r["name"], r["outcome"], r["newName"]) for r in data["rows"]] == [
        ("Hero", "CREATED", None),
        ("Street", "RENAMED", "Street (2)"),
    ]
    assert data["rows"][1]["element"]["name"] == "Street (2)"


def test_a_refused_import_answers_with_its_code_and_leaves_nothing() -> None:
    bob = UserFactory()
    api = logged_in_client(bob)
    with leaves_nothing_behind():
        data = _import(api, b"not a zip at all")
    assert data["__typename"] == "OperationInfo"
    assert [(m["field"], m["code"]) for m in data["messages"]] == [
        ("bundle", BundleErrorCode.BUNDLE_NOT_A_ZIP)
    ]


def test_the_sweep_takes_a_lost_export_again_and_purges_expired_ones(settings: Any) -> None:
    import datetime

    from django.utils import timezone

    from elements.tasks import sweep_element_exports

    settings.ELEMENT_EXPORT_INLINE_MAX = 0
    alice = UserFactory()
    ElementFactory(owner=alice)
    # The enqueue after the commit never ran (a broker that lost it): the row stays queued.
    export = logged_in_client(alice)(EXPORT, {"input": {"all": True}})["elementExport"]["export"]
    row = ElementExport.objects.get()
    assert export["status"] == "QUEUED" and row.status == ExportStatus.QUEUED
    ElementExport.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert sweep_element_exports() == {"purged": 0, "requeued": 1}
    row.refresh_from_db()
    assert row.status == ExportStatus.SUCCEEDED and row.file
    ElementExport.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert sweep_element_exports() == {"purged": 1, "requeued": 0}
    row.refresh_from_db()
    assert row.status == ExportStatus.EXPIRED
