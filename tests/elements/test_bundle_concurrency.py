"""Parallel imports against the element limit: the library's lock lets exactly as many
through as the limit has room for, and the rest leave nothing behind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import MembershipTier
from elements.bundles.importer import ImportReport, OnConflict, element_import
from elements.models import Element, ReferenceImage
from tests.factories import ElementFactory, UserFactory
from tests.support.bundles import export_bytes
from tests.support.concurrency import run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_imports_stop_exactly_at_the_limit() -> None:
    MembershipTier.objects.filter(code="non_member").update(element_limit=5)
    alice, bob = UserFactory(), UserFactory()
    prop = ElementFactory(owner=alice, name="Prop", type="prop")
    bundle = export_bytes(alice, [prop.pk])
    for i in range(3):
        Element.objects.create(owner=bob, name=f"existing {i}")

    def import_one(i: int) -> object:
        return element_import(
            owner=bob,
            bundle=SimpleUploadedFile("b.zip", bundle),
            on_conflict=OnConflict.RENAME,
        )

    results = run_in_parallel(import_one)

    imported = [r for r in results if isinstance(r, ImportReport)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(imported) + len(refused) == len(results), results
    assert len(imported) == 2
    assert {e.code for r in refused for e in r.error_list} == {"ELEMENT_LIMIT_REACHED"}
    assert sorted(Element.objects.filter(owner=bob).values_list("name", flat=True)) == [
        "Prop",
        "Prop (2)",
        "existing 0",
        "existing 1",
        "existing 2",
    ]
    assert ReferenceImage.objects.filter(element__owner=bob).count() == 4
