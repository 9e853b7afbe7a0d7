"""A retry never pays twice: `idempotencyKey` on generationSubmit, exploreRecreate and
elementMultiViewComplete, and a job accepted while the broker is down."""

from __future__ import annotations

import datetime
import socket
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf
from strawberry import relay

from accounts import services as account_services
from accounts.models import CreditLedgerEntry, FreeUseCounter, LedgerKind
from accounts.selectors import credit_balance
from generation import services, tasks
from generation.catalog import ModelCode
from generation.explore import services as explore_services
from generation.explore.models import ExploreRecreation
from generation.models import GenerationJob, IdempotencyKey, JobStatus
from generation.multiview import multiview_job_create
from tests.conftest import GraphQLClient, media_files
from tests.factories import UserFactory
from tests.support.assists import element_of, member
from tests.support.concurrency import run_in_parallel
from tests.support.graphql import UploadClient
from tests.support.jobs import PROMPT, library_owner
from tests.support.media import image_upload


@pytest.fixture
def owner(user):
    return library_owner(user)


SUBMIT = """
mutation Submit($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status creditsCharged } }
    ... on OperationInfo { messages { field code message } }
  }
}"""


def gid(type_name: str, pk: Any) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def api_for(user: Any) -> UploadClient:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return UploadClient(client)


def state(user: Any) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    return (
        GenerationJob.objects.filter(owner=user).count(),
        IdempotencyKey.objects.filter(owner=user).count(),
        list(CreditLedgerEntry.objects.filter(user=user).values_list("pk", flat=True)),
        credit_balance(user),
        media_files(),
    )


def codes(payload: dict[str, Any]) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def debits(user: Any) -> int:
    return CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.DEBIT).count()


@pytest.mark.django_db
def test_the_same_key_returns_the_same_job_charged_once(owner: Any) -> None:
    api = api_for(owner)

    def send(prompt: str = PROMPT, key: str = "retry-1", image: Any = None) -> dict[str, Any]:
        variables: dict[str, Any] = {"input": {"model": "VIDEO_3_0_OMNI", "prompt": prompt}}
        variables["input"]["idempotencyKey"] = key
        if image is None:
            return api(SUBMIT, variables)["generationSubmit"]
        variables["input"]["images"] = [None]
        return api.upload(SUBMIT, variables, {"input.images.0": image})["generationSubmit"]

    first = send()
    assert first["__typename"] == "GenerationJobResult", first
    balance = credit_balance(owner)
    again = send()
    assert again == first
    assert GenerationJob.objects.filter(owner=owner).count() == 1
    assert debits(owner) == 1
    assert credit_balance(owner) == balance

    # the same key with another input: refused, nothing moved
    before = state(owner)
    assert codes(send(prompt=PROMPT + " Slowly.")) == ["IDEMPOTENCY_KEY_REUSED"]
    assert state(owner) == before
    # malformed keys: refused before anything is made
    for bad in ("", "   ", "x" * 101, "line\nbreak"):
        assert codes(send(key=bad)) == ["IDEMPOTENCY_KEY_INVALID"], bad
    assert state(owner) == before

    # files count by their bytes: the same image again is the same request, another is not
    prompt = PROMPT + " [@Image1] is on the wall."
    with_image = send(prompt, key="with-image", image=image_upload(color=(9, 9, 9)))
    assert with_image["__typename"] == "GenerationJobResult", with_image
    files = media_files()
    assert send(prompt, key="with-image", image=image_upload(color=(9, 9, 9))) == with_image
    assert media_files() == files  # the retry stored no second copy
    before = state(owner)
    assert codes(send(prompt, key="with-image", image=image_upload(color=(1, 2, 3)))) == [
        "IDEMPOTENCY_KEY_REUSED"
    ]
    assert state(owner) == before

    # keys are per user: another user's identical key is their own request
    other = UserFactory()
    account_services.credits_grant(user=other, amount=10, reason="test")
    payload = api_for(other)(
        SUBMIT,
        {"input": {"model": "IMAGE_3_0_OMNI", "prompt": "A cat.", "idempotencyKey": "retry-1"}},
    )["generationSubmit"]
    assert payload["__typename"] == "GenerationJobResult", payload
    assert payload["job"]["id"] != first["job"]["id"]


@pytest.mark.django_db
def test_a_refused_request_keeps_no_key_and_may_be_retried(owner: Any) -> None:
    poor = UserFactory()
    request = services.JobRequest(model=ModelCode.IMAGE_3_0_OMNI, prompt="A lighthouse.")
    before = state(poor)
    with pytest.raises(ValidationError) as caught:
        services.generation_submit(owner=poor, request=request, idempotency_key="k")
    assert [e.code for errors in caught.value.error_dict.values() for e in errors] == [
        "INSUFFICIENT_CREDITS"
    ]
    assert state(poor) == before  # no key: the same key may be tried again
    account_services.credits_grant(user=poor, amount=50, reason="top-up")
    job = services.generation_submit(owner=poor, request=request, idempotency_key="k")
    assert services.generation_submit(owner=poor, request=request, idempotency_key="k") == job
    assert debits(poor) == 1


@pytest.mark.django_db
def test_a_key_is_honoured_for_a_day_then_forgotten(owner: Any, settings: Any) -> None:
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1  # below the promise: a day is kept anyway
    request = services.JobRequest(model=ModelCode.IMAGE_3_0_OMNI, prompt="A lighthouse.")
    job = services.generation_submit(owner=owner, request=request, idempotency_key="k")
    key = IdempotencyKey.objects.get(owner=owner)
    key.created_at = timezone.now() - datetime.timedelta(hours=23, minutes=59)
    key.save()
    assert services.generation_submit(owner=owner, request=request, idempotency_key="k") == job
    key.created_at = timezone.now() - datetime.timedelta(hours=24, minutes=1)
    key.save()
    newer = services.generation_submit(owner=owner, request=request, idempotency_key="k")
    assert newer != job
    assert IdempotencyKey.objects.get(owner=owner).job == newer  # the old row was replaced
    assert debits(owner) == 2


@pytest.mark.django_db
def test_recreate_with_a_key_counts_and_charges_once(
    owner: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        made = services.generation_submit(
            owner=owner,
            request=services.JobRequest(model=ModelCode.VIDEO_3_0_OMNI, prompt=PROMPT),
        )
    made.refresh_from_db()
    work = explore_services.generation_share(
        owner=owner, job_id=made.pk, output_id=made.outputs.get().pk, title="Walk"
    )
    b = UserFactory()
    account_services.credits_grant(user=b, amount=500, reason="test")
    api = GraphQLClient(api_for(b).client)
    query = """mutation ($id: ID!, $key: String, $overrides: ExploreRecreateOverrides) {
      exploreRecreate(workId: $id, idempotencyKey: $key, overrides: $overrides) {
        __typename ... on ExploreRecreateResult { job { id } }
        ... on OperationInfo { messages { code message } } } }"""
    variables = {"id": gid("ExploreWork", work.pk), "key": "r-1"}
    first = api(query, variables)["exploreRecreate"]
    assert first["__typename"] == "ExploreRecreateResult", first
    assert api(query, variables)["exploreRecreate"] == first
    work.refresh_from_db()
    assert work.recreate_count == 1
    assert ExploreRecreation.objects.filter(job__owner=b).count() == 1
    assert debits(b) == 1
    before = state(b)
    changed = api(query, {**variables, "overrides": {"aspectRatio": "9:16"}})["exploreRecreate"]
    assert codes(changed) == ["IDEMPOTENCY_KEY_REUSED"]
    assert state(b) == before
    # a key of one mutation is not a key of another
    with pytest.raises(ValidationError) as caught:
        services.generation_submit(
            owner=b,
            request=services.JobRequest(model=ModelCode.IMAGE_3_0_OMNI, prompt="A cat."),
            idempotency_key="r-1",
        )
    assert [e.code for e in caught.value.error_dict["idempotencyKey"]] == ["IDEMPOTENCY_KEY_REUSED"]


@pytest.mark.django_db
def test_multiview_with_a_key_takes_one_free_use() -> None:
    user = member()
    element = element_of(user)
    job = multiview_job_create(owner=user, element_id=element.pk, idempotency_key="m")
    again = multiview_job_create(owner=user, element_id=element.pk, idempotency_key="m")
    assert again == job
    assert FreeUseCounter.objects.get(user=user).used == 1
    assert GenerationJob.objects.filter(owner=user).count() == 1
    other = element_of(user, name="Second")
    with pytest.raises(ValidationError) as caught:
        multiview_job_create(owner=user, element_id=other.pk, idempotency_key="m")
    assert [e.code for e in caught.value.error_dict["idempotencyKey"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert FreeUseCounter.objects.get(user=user).used == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_key_forty_times_in_parallel_makes_one_job_and_one_debit() -> None:
    user = UserFactory()
    account_services.credits_grant(user=user, amount=1000, reason="test")
    request = services.JobRequest(model=ModelCode.IMAGE_3_0_OMNI, prompt="A lighthouse at dusk.")

    results = run_in_parallel(
        lambda i: services.generation_submit(owner=user, request=request, idempotency_key="once")
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert {r.pk for r in results} == {GenerationJob.objects.get(owner=user).pk}
    assert debits(user) == 1
    job = GenerationJob.objects.get(owner=user)
    assert credit_balance(user) == 1000 - job.credits_charged
    assert IdempotencyKey.objects.get(owner=user).job == job


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db
def test_broker_down_at_submit_accepts_the_job_and_the_sweep_runs_it(
    owner: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    # given: a Redis broker nobody listens on (what a stopped Redis looks like)
    port = _closed_port()
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{port}/0")
    api = api_for(owner)
    balance = credit_balance(owner)

    # when: a job is submitted (its enqueue runs when the transaction commits, and fails)
    with django_capture_on_commit_callbacks(execute=True):
        payload = api(
            SUBMIT,
            {"input": {"model": "VIDEO_3_0_OMNI", "prompt": PROMPT, "idempotencyKey": "b"}},
        )["generationSubmit"]

    # then: accepted, queued, charged once, and nothing of the broker in the answer
    assert payload["__typename"] == "GenerationJobResult", payload
    assert payload["job"]["status"] == "QUEUED"
    assert str(port) not in str(payload) and "redis" not in str(payload).lower()
    job = GenerationJob.objects.get(owner=owner)
    assert credit_balance(owner) == balance - job.credits_charged
    # a client that retries anyway gets the same job
    assert (
        api(
            SUBMIT, {"input": {"model": "VIDEO_3_0_OMNI", "prompt": PROMPT, "idempotencyKey": "b"}}
        )["generationSubmit"]
        == payload
    )
    assert debits(owner) == 1
    # the sweep, while the broker is still down, leaves it queued and raises nothing
    settings.GENERATION_HEARTBEAT_STALE_SECONDS = 0
    assert tasks.sweep_stale_jobs() == {"stale": 0, "waiting": 1}
    assert GenerationJob.objects.get(pk=job.pk).status == JobStatus.QUEUED

    # when the broker is back (here: inline), the sweep hands the unclaimed job over
    monkeypatch.setattr(Conf, "SYNC", True)
    assert tasks.sweep_stale_jobs() == {"stale": 0, "waiting": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.error_code, job.error_message)
    assert (job.attempts, debits(owner)) == (1, 1)
