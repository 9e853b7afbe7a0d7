"""One way to make a job (`generation.jobs.job_create`): each caller — submit, Explore
recreate, multi-view completion — writes the `generation.queued` webhook event with the job,
and runs its provider's submit-time checks first: a provider that is not configured refuses
at once, with no job, no debit (or free use), no key and no file left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from strawberry.relay import to_base64

from accounts import services as account_services
from accounts.models import CreditLedgerEntry, FreeUseCounter, User
from elements import services as element_services
from elements.models import Element
from generation.explore.models import ExploreRecreation, ExploreWork
from generation.explore.services import explore_recreate, generation_share
from generation.models import GenerationJob, IdempotencyKey, JobKind, JobStatus
from generation.multiview import multiview_job_create
from generation.providers.assist import AssistMultiviewProvider
from generation.services import JobRequest, generation_submit
from generation.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.conftest import media_files
from tests.factories import UserFactory
from tests.support.media import image_upload

pytestmark = pytest.mark.django_db

IMAGE_PROMPT = "[@Rocket] stands on a launch pad at dawn."


def codes(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [e.code for errors in exc.error_dict.values() for e in errors]
    return [e.code for e in exc.error_list]


def listener(credits: int = 500) -> User:
    """A user with credits, a prop element and an endpoint that wants job events."""
    user: Any = UserFactory()
    account_services.credits_grant(user=user, amount=credits, reason="test credits")
    element_services.element_create(
        owner=user,
        name="Rocket",
        element_type="prop",
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 1, 1))],
    )
    # Rows only: the service would resolve the host.
    WebhookEndpoint.objects.create(
        owner=user,
        url="https://hooks.example.com/element-library",
        events=["generation.queued"],
        secret="whsec_test",
    )
    return user


def queued_events(user: User) -> list[str]:
    """The ids of the jobs whose `generation.queued` event the user's outbox holds."""
    return [
        json.loads(event.body)["data"]["job"]["id"]
        for event in WebhookEvent.objects.filter(owner_id=user.pk, type="generation.queued")
    ]


def queued_for(job: GenerationJob) -> str:
    return to_base64("GenerationJob", job.pk)


@contextmanager
def nothing_made(user: User) -> Iterator[None]:
    """The block is refused and leaves no job, key, ledger entry, free use, recreation,
    event or file behind."""
    counts = lambda: (  # noqa: E731
        GenerationJob.objects.count(),
        IdempotencyKey.objects.count(),
        CreditLedgerEntry.objects.count(),
        list(FreeUseCounter.objects.values_list("used", flat=True)),
        ExploreRecreation.objects.count(),
        list(ExploreWork.objects.values_list("recreate_count", flat=True)),
        WebhookEvent.objects.filter(owner_id=user.pk).count(),
    )
    before, files = counts(), media_files()
    with pytest.raises(ValidationError) as refused:
        yield
    assert codes(refused.value) == ["PROVIDER_NOT_CONFIGURED"]
    assert counts() == before
    assert media_files() == files


@pytest.fixture
def kling_without_keys(settings: Any) -> None:
    """Kling serves every model, and its keys are missing."""
    settings.GENERATION_PROVIDERS = {"*": "kling"}
    settings.KLING_ACCESS_KEY = ""
    settings.KLING_SECRET_KEY = ""


def submit(user: User, **kwargs: Any) -> GenerationJob:
    return generation_submit(
        owner=user, request=JobRequest(model="IMAGE_3_0_OMNI", prompt=IMAGE_PROMPT), **kwargs
    )


# --- Submit -----------------------------------------------------------------------------------


def test_submit_writes_the_queued_event():
    user = listener()
    job = submit(user)
    assert job.status == JobStatus.QUEUED
    assert queued_events(user) == [queued_for(job)]


def test_submit_to_kling_without_keys_is_refused_with_nothing_made(kling_without_keys):
    user = listener()
    with nothing_made(user):
        submit(user, idempotency_key="submit-1")


# --- Recreate ---------------------------------------------------------------------------------


@pytest.fixture
def work(django_capture_on_commit_callbacks: Any) -> ExploreWork:
    author = listener()
    with django_capture_on_commit_callbacks(execute=True):  # the local render runs
        job = submit(author)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    return generation_share(
        owner=author, job_id=job.pk, output_id=job.outputs.get().pk, title="Launch"
    )


def test_recreate_writes_the_queued_event(work):
    user = listener()
    job = explore_recreate(user=user, work_id=work.pk)
    assert job.status == JobStatus.QUEUED
    assert queued_events(user) == [queued_for(job)]


def test_recreate_on_kling_without_keys_is_refused_with_nothing_made(work, kling_without_keys):
    """Before the one job service a recreate skipped this check: it charged, then failed in
    the worker. (`work` was made on the local provider, before Kling was mapped.)"""
    user = listener()
    with nothing_made(user):
        explore_recreate(user=user, work_id=work.pk, idempotency_key="recreate-1")


# --- Multi-view completion --------------------------------------------------------------------


def rocket(user: User) -> Element:
    return Element.objects.get(owner=user, name="Rocket")


def test_multiview_writes_the_queued_event():
    """Before the one job service a multi-view job sent no `generation.queued`."""
    user = listener()
    job = multiview_job_create(owner=user, element_id=rocket(user).pk)
    assert (job.kind, job.status) == (JobKind.MULTIVIEW, JobStatus.QUEUED)
    assert queued_events(user) == [queued_for(job)]


def test_multiview_with_an_assist_provider_not_installed_is_refused_with_nothing_made(settings):
    settings.ASSIST_PROVIDER = "no.such.Provider"
    user = listener()
    with nothing_made(user):
        multiview_job_create(owner=user, element_id=rocket(user).pk, idempotency_key="mv-1")


def test_multiview_runs_its_providers_submit_checks(monkeypatch):
    """The assist provider's own limits run on the rows as the worker will read them, in
    the transaction that makes the job: a refusal there takes nothing."""
    seen: list[tuple[str, list[str]]] = []

    def refuse(self: Any, job: GenerationJob) -> None:
        seen.append((job.kind, list(job.elements.values_list("name", flat=True))))
        raise ValidationError("Not today.", code="PROVIDER_NOT_CONFIGURED")

    monkeypatch.setattr(AssistMultiviewProvider, "check_submit", refuse)
    user = listener()
    with nothing_made(user):
        multiview_job_create(owner=user, element_id=rocket(user).pk)
    # It saw the job with its pinned element, which went with it.
    assert seen == [(JobKind.MULTIVIEW, ["Rocket"])]
