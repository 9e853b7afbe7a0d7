"""Done when: a bundle exported from one library imports into another and the elements
render identically in a local job: the same reference pixels and the same voice."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from elements.bundles.importer import Outcome, element_import
from generation import tasks
from generation.models import GenerationJob, JobStatus
from tests.factories import UserFactory
from tests.support.bundles import export_bytes
from tests.support.jobs import library_owner, submit

pytestmark = pytest.mark.django_db


def _sha(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def pinned(job: GenerationJob) -> dict[str, Any]:
    """What the job pinned of each element it names: the SHA-256 of each reference file (by
    role and position) and of the voice."""
    return {
        element.name: {
            "type": element.type,
            "description": element.description,
            "images": [
                (image.role, image.position, _sha(image.file), image.width, image.height)
                for image in element.images.order_by("position")
            ],
            "voice": _sha(element.voice_file) if element.voice_file else None,
        }
        for element in job.elements.all()
    }


def test_user_b_renders_user_as_elements_identically() -> None:
    # given: A's library (a voiced character and a scene), exported
    alice = library_owner(UserFactory())
    bundle = export_bytes(alice)
    bob = UserFactory()
    account_services.credits_grant(user=bob, amount=500, reason="test credits")
    # when: B imports it, and both submit the same prompt on the local provider
    report = element_import(owner=bob, bundle=SimpleUploadedFile("b.zip", bundle))
    assert {row.outcome for row in report.rows} == {Outcome.CREATED}
    jobs = [submit(alice), submit(bob)]
    for job in jobs:
        assert tasks.run_job(str(job.pk)) == JobStatus.SUCCEEDED
    # then: the same pinned reference files and voice, and both rendered
    theirs, ours = (pinned(job) for job in jobs)
    assert ours == theirs
    assert set(ours) == {"Little Scholar", "Tokyo Street"}
    assert ours["Little Scholar"]["voice"] is not None
    assert all(len(element["images"]) == 2 for element in ours.values())
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED and job.outputs.exists()
