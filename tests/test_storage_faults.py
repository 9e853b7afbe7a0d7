"""Storage that fails: a full disk, an S3 endpoint that is down, a bucket that is missing.

Each refusal has its code (STORAGE_FULL, STORAGE_UNAVAILABLE), says nothing of the storage's
address, keys or the OS's words, and leaves no row, no credit movement and no file (not even
a cut-off or 0-byte one). A job whose storage is down for a moment is tried again, and one
whose storage stays down fails once, refunded, with nothing stored.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.test import Client
from moto.server import ThreadedMotoServer

from accounts import services as account_services
from accounts.models import CreditLedgerEntry
from accounts.selectors import credit_balance
from elements.models import Element, ReferenceImage, Voice
from generation import tasks
from generation.models import GenerationJob, GenerationOutput, JobStatus
from tests.conftest import media_files
from tests.factories import UserFactory
from tests.support.explore import element_create_payload
from tests.support.graphql import UploadClient
from tests.support.media import image_upload
from tests.support.storage_faults import SECRET_ENDPOINT, FlakyStorage

pytestmark = pytest.mark.django_db

SUBMIT = """
mutation Submit($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status } }
    ... on OperationInfo { messages { field code message } }
  }
}"""


def use_storage(settings: Any, backend: str, **options: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend, "OPTIONS": options}}


def local_storage(settings: Any, backend: str, **options: Any) -> None:
    use_storage(settings, backend, location=str(settings.MEDIA_ROOT), **options)


@pytest.fixture
def api() -> UploadClient:
    user = UserFactory()
    account_services.credits_grant(user=user, amount=500, reason="test credits")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    api = UploadClient(client)
    api.user = user  # type: ignore[attr-defined]
    return api


def rows(user: Any) -> tuple[Any, ...]:
    return (
        Element.objects.filter(owner=user).count(),
        Voice.objects.filter(owner=user).count(),
        ReferenceImage.objects.count(),
        GenerationJob.objects.filter(owner=user).count(),
        CreditLedgerEntry.objects.filter(user=user).count(),
        credit_balance(user),
    )


def refused_with(payload: dict[str, Any], code: str, *secrets: str) -> None:
    assert payload["__typename"] == "OperationInfo", payload
    assert [m["code"] for m in payload["messages"]] == [code], payload
    text = str(payload)
    for secret in ("Errno", "No space left", "endpoint", "bucket", "http", *secrets):
        assert secret.lower() not in text.lower(), (secret, payload)


# --- A full disk -------------------------------------------------------------------------------


@pytest.mark.parametrize("ok_writes", [0, 2, 4])
def test_full_disk_refuses_an_element_and_leaves_no_file(
    api: UploadClient, settings: Any, ok_writes: int
) -> None:
    # given: a disk that fills up after `ok_writes` whole files (an element writes 5)
    local_storage(settings, "tests.support.storage_faults.FullDiskStorage", ok_writes=ok_writes)
    before, files = rows(api.user), media_files()  # type: ignore[attr-defined]

    payload = element_create_payload(api)

    refused_with(payload, "STORAGE_FULL")
    assert rows(api.user) == before  # type: ignore[attr-defined]
    assert media_files() == files  # no cut-off file, no 0-byte file, no earlier whole file


def test_full_disk_refuses_a_job_with_nothing_created_or_charged(
    api: UploadClient, settings: Any
) -> None:
    assert element_create_payload(api)["__typename"] == "ElementWithWarningsResult"
    local_storage(settings, "tests.support.storage_faults.FullDiskStorage")
    before, files = rows(api.user), media_files()  # type: ignore[attr-defined]

    payload = api.upload(
        SUBMIT,
        {
            "input": {
                "model": "VIDEO_3_0_OMNI",
                "prompt": "Shot 1 (4s): [@Little Scholar] sits on [@Image1].",
                "images": [None],
            }
        },
        {"input.images.0": image_upload(width=1000, height=700)},
    )["generationSubmit"]

    refused_with(payload, "STORAGE_FULL")
    assert rows(api.user) == before  # type: ignore[attr-defined]
    assert media_files() == files


# --- S3 down, and a missing bucket (moto's S3 server) -------------------------------------------


@pytest.fixture
def moto_s3() -> Iterator[tuple[ThreadedMotoServer, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="moto-key-id",
        aws_secret_access_key="moto-secret",
    ).create_bucket(Bucket="media")
    try:
        yield server, endpoint
    finally:
        server.stop()


def s3(settings: Any, endpoint: str, bucket: str = "media") -> None:
    from elementsite.settings import s3_storage_options

    options = s3_storage_options(
        {
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": endpoint,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "moto-key-id",
            "AWS_SECRET_ACCESS_KEY": "moto-secret",
        }
    )
    assert options is not None
    # Connection refused is retried by botocore; one retry keeps the test short.
    from botocore.config import Config

    options["client_config"] = Config(
        retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5
    )
    use_storage(settings, "storages.backends.s3.S3Storage", **options)


def bucket_keys(endpoint: str, bucket: str = "media") -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="moto-key-id",
        aws_secret_access_key="moto-secret",
    )
    listed = client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def test_s3_down_refuses_an_element_without_naming_the_endpoint(
    api: UploadClient, settings: Any, moto_s3: tuple[ThreadedMotoServer, str]
) -> None:
    server, endpoint = moto_s3
    s3(settings, endpoint)
    assert element_create_payload(api, "Before")["__typename"] == "ElementWithWarningsResult"
    stored = bucket_keys(endpoint)
    assert stored  # the storage really is S3
    before = rows(api.user)  # type: ignore[attr-defined]

    server.stop()
    try:
        payload = element_create_payload(api)
    finally:
        server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=int(endpoint.rsplit(":", 1)[1]), verbose=False
        )
        server.start()
        moto_s3[0].stop = server.stop  # type: ignore[method-assign]  # the fixture stops this one

    refused_with(payload, "STORAGE_UNAVAILABLE", endpoint.split("//")[1], "elements/")
    assert rows(api.user) == before  # type: ignore[attr-defined]
    assert bucket_keys(endpoint) == stored


def test_missing_bucket_is_storage_unavailable(
    api: UploadClient, settings: Any, moto_s3: tuple[ThreadedMotoServer, str]
) -> None:
    _, endpoint = moto_s3
    s3(settings, endpoint, bucket="no-such-bucket")
    before = rows(api.user)  # type: ignore[attr-defined]

    payload = element_create_payload(api)

    refused_with(payload, "STORAGE_UNAVAILABLE", "NoSuchBucket", "PutObject")
    assert rows(api.user) == before  # type: ignore[attr-defined]


# --- A render whose storage is down ------------------------------------------------------------


@pytest.fixture
def flaky(settings: Any) -> Iterator[type[FlakyStorage]]:
    local_storage(settings, "tests.support.storage_faults.FlakyStorage")
    FlakyStorage.down.clear()
    FlakyStorage.refused = 0
    yield FlakyStorage
    FlakyStorage.down.clear()


def submitted_job(api: UploadClient, commits: Any) -> GenerationJob:
    assert element_create_payload(api)["__typename"] == "ElementWithWarningsResult"
    with commits(execute=False):
        payload = api(
            SUBMIT,
            {"input": {"model": "IMAGE_3_0_OMNI", "prompt": "[@Little Scholar] on a bench."}},
        )["generationSubmit"]
    assert payload["job"]["status"] == "QUEUED", payload
    return GenerationJob.objects.get(owner=api.user)  # type: ignore[attr-defined]


def test_a_render_rides_out_a_storage_outage(
    api: UploadClient,
    settings: Any,
    flaky: type[FlakyStorage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GENERATION_STORAGE_RETRY_DELAYS = [0.3, 0.3, 0.3, 0.3]
    job = submitted_job(api, django_capture_on_commit_callbacks)
    flaky.down.set()
    # back after about half a second: within the retries' 1.2 s
    threading.Timer(0.5, flaky.down.clear).start()

    assert tasks.run_job(str(job.pk)) == "succeeded"

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == (JobStatus.SUCCEEDED, 1, "")
    assert flaky.refused >= 1  # it was really down while the job ran
    output = GenerationOutput.objects.get(job=job)
    assert {output.file.name, output.poster.name, output.thumbnail.name} <= media_files()


def test_a_render_whose_storage_stays_down_fails_once_refunded(
    api: UploadClient,
    settings: Any,
    flaky: type[FlakyStorage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GENERATION_STORAGE_RETRY_DELAYS = [0.1, 0.1]
    job = submitted_job(api, django_capture_on_commit_callbacks)
    files = media_files()
    flaky.down.set()

    assert tasks.run_job(str(job.pk)) == JobStatus.FAILED

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "STORAGE_UNAVAILABLE")
    assert "storage.internal" not in job.error_message
    assert flaky.refused == 3  # the first try and two more
    assert credit_balance(api.user) == 500  # type: ignore[attr-defined]
    assert not GenerationOutput.objects.filter(job=job).exists()
    assert media_files() == files
    assert SECRET_ENDPOINT not in job.error_message


def test_a_render_on_a_full_disk_fails_at_once_refunded_leaving_no_file(
    api: UploadClient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = submitted_job(api, django_capture_on_commit_callbacks)
    files = media_files()
    # the output's file is written whole, its poster runs out of room half-way
    local_storage(settings, "tests.support.storage_faults.FullDiskStorage", ok_writes=1)
    settings.GENERATION_STORAGE_RETRY_DELAYS = [30]  # a full disk is not waited for

    started = time.monotonic()
    assert tasks.run_job(str(job.pk)) == JobStatus.FAILED
    assert time.monotonic() - started < 20

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "STORAGE_FULL")
    assert "Errno" not in job.error_message
    assert credit_balance(api.user) == 500  # type: ignore[attr-defined]
    assert not GenerationOutput.objects.filter(job=job).exists()
    assert media_files() == files  # neither the whole file nor the cut-off one


def test_deleting_an_element_while_storage_is_down_succeeds_and_the_janitor_cleans_up(
    api: UploadClient, settings: Any, flaky: type[FlakyStorage]
) -> None:
    from generation.janitor import run_janitor

    created = element_create_payload(api)
    assert created["__typename"] == "ElementWithWarningsResult", created
    element = Element.objects.get(owner=api.user)  # type: ignore[attr-defined]
    images = {n for i in element.images.all() for n in (i.image.name, i.thumbnail.name)}
    flaky.down.set()

    payload = api(
        """mutation ($id: ID!) { elementDelete(input: {id: $id}) { __typename
        ... on OperationInfo { messages { code } } } }""",
        {"id": created["element"]["id"]},
    )["elementDelete"]

    assert payload["__typename"] == "DeleteResult", payload
    assert not Element.objects.filter(pk=element.pk).exists()
    assert images <= media_files()  # left for later
    flaky.down.clear()
    report = run_janitor(min_age=datetime.timedelta(0))
    assert images <= set(report.files)
    assert not images & media_files()
