"""Creating an element from one image with "AI multi-view" (the guide's choice at creation):
the element and the completion job in one request, or nothing at all."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.selectors import credit_balance
from accounts.services import credits_grant
from elements.models import Element, ImageOrigin, Voice
from generation.models import GenerationJob, JobStatus
from tests.factories import UserFactory
from tests.support.assists import member, state
from tests.support.graphql import logged_in_client as client_for
from tests.support.media import audio_upload, image_upload
from tests.support.photos import photo_upload

pytestmark = pytest.mark.django_db

CREATE = """
mutation ($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename
    ... on ElementWithWarningsResult {
      element { name images { role origin } }
      multiViewJob { kind status creditsCharged }
    }
    ... on OperationInfo { messages { field code } }
  }
}"""


def create(owner: Any, *, extras: int = 0, multi_view: bool = True, voice: bool = False) -> dict:
    files: dict[str, Any] = {"input.mainImage": photo_upload("rocket")}
    for i in range(extras):
        files[f"input.extraImages.{i}"] = image_upload(color=(10, 40 * i, 30))
    variables: dict[str, Any] = {
        "input": {
            "name": "Rocket",
            "type": "PROP" if not voice else "CHARACTER",
            "mainImage": None,
            "extraImages": [None] * extras,
            "multiView": multi_view,
        }
    }
    if voice:
        files["input.voice.sample.file"] = audio_upload(seconds=8.0)
        variables["input"]["voice"] = {
            "sample": {"file": None, "name": "Mine", "consentStatement": "It is my voice."}
        }
    return client_for(owner).upload(CREATE, variables, files)["elementCreate"]


def test_one_image_and_multi_view_makes_a_full_element(django_capture_on_commit_callbacks):
    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    with django_capture_on_commit_callbacks(execute=True):
        made = create(owner)

    assert made["__typename"] == "ElementWithWarningsResult", made
    assert made["multiViewJob"] == {"kind": "MULTIVIEW", "status": "QUEUED", "creditsCharged": 5}
    element = Element.objects.get(owner=owner)
    origins = list(element.images.order_by("position").values_list("origin", flat=True))
    assert origins == [ImageOrigin.UPLOAD] + [ImageOrigin.MULTIVIEW] * 3
    assert GenerationJob.objects.get(owner=owner).status == JobStatus.SUCCEEDED
    assert credit_balance(owner) == 0


def test_a_free_use_pays_for_it():
    owner = member()
    made = create(owner, extras=1)
    assert made["multiViewJob"]["creditsCharged"] == 0


def test_one_image_without_multi_view_is_too_few():
    owner = member()
    before = state(owner)
    made = create(owner, multi_view=False)
    assert made["messages"] == [{"field": "images", "code": "TOO_FEW_IMAGES"}]
    assert state(owner) == before
    assert not Element.objects.filter(owner=owner).exists()


@pytest.mark.parametrize(
    ("extras", "credits", "code"),
    [(0, 4, "INSUFFICIENT_CREDITS"), (3, 50, "ELEMENT_FULL")],
)
def test_refused_before_anything_is_written(extras: int, credits: int, code: str):
    owner = UserFactory()  # a non-member: no free uses
    credits_grant(user=owner, amount=credits, reason="top-up")
    before = state(owner)
    made = create(owner, extras=extras, voice=True)
    assert made["messages"] == [{"field": "multiView", "code": code}]
    assert state(owner) == before
    assert not Element.objects.filter(owner=owner).exists()
    assert not Voice.objects.filter(owner=owner).exists()


def test_queueing_that_fails_after_the_create_takes_it_all_back(
    monkeypatch, django_capture_on_commit_callbacks
):
    """A parallel request spent the credits between the check and the job: the element and
    the voice uploaded with it go again."""
    from django.core.exceptions import ValidationError

    from generation import multiview

    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    before = state(owner)

    def spent(**_: Any) -> None:
        raise ValidationError(
            {"multiView": ValidationError("No credits.", code="INSUFFICIENT_CREDITS")}
        )

    monkeypatch.setattr(multiview, "multiview_job_create", spent)
    with django_capture_on_commit_callbacks(execute=True):  # the file deletions
        made = create(owner, voice=True)
    assert made["messages"] == [{"field": "multiView", "code": "INSUFFICIENT_CREDITS"}]
    assert state(owner) == before
    assert not Element.objects.filter(owner=owner).exists()
    assert not Voice.objects.filter(owner=owner).exists()
