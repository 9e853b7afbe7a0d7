"""The `kling` provider end to end against a fake Kling server on 127.0.0.1: GraphQL
`generationSubmit`, the real task runner (inline, or in threads for the burst), the JWT, the
library sync, the error table, callbacks, and the result in our storage."""

from __future__ import annotations

import io
import json
import logging
import threading

import av
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client

from accounts.models import CreditLedgerEntry
from elements import services as element_services
from elements.models import Element
from generation import tasks
from generation.models import GenerationJob, GenerationOutput, JobStatus
from generation.providers.kling.client import KlingClient, KlingError, KlingSettings, mint_token
from generation.providers.kling.models import (
    ProviderAlert,
    ProviderElement,
    ProviderVoice,
    SyncState,
)
from tests.conftest import media_files
from tests.support.graphql import UploadClient
from tests.support.kling import ELEMENT_ID_BASE
from tests.support.media import audio_upload, image_upload
from tests.support.studio import SUBMIT, job_of, nothing_moved, studio_client, submit
from tests.support.webhooks import readme_verify_function, start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user) -> UploadClient:
    return studio_client(user, description="A small boy in a school uniform.")


JOB = """
query ($id: ID!) {
  generationJob(id: $id) {
    status errorCode errorMessage refunded
    outputs { kind url durationMs hasAudio }
  }
}"""
OMNI = "/v1/videos/omni-video"
WEBHOOK_CREATE = """
mutation ($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) {
    __typename
    ... on WebhookEndpointCreateResult { secret }
    ... on OperationInfo { messages { field code message } }
  }
}"""


def test_three_shot_omni_job_with_synced_elements_rides_out_1303_and_5001(
    api, kling, django_capture_on_commit_callbacks, caplog, settings
):
    # given: a client app listening for webhooks on 127.0.0.1
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    receiving = start_receiver(["200"])
    receiver = next(receiving)
    registered = api.post(WEBHOOK_CREATE, {"input": {"url": receiver.url()}}).json()
    secret = registered["data"]["webhookEndpointCreate"]["secret"]
    # and the account is busy once at submit and in maintenance once while polled
    kling.inject(1303, method="POST", prefix=OMNI)
    kling.inject(5001, method="GET", prefix=OMNI + "/")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(api)

    # then: the job succeeded and its MP4 is in our storage
    assert result["__typename"] == "GenerationJobResult", result
    job = job_of(result)
    seen = api.post(JOB, {"id": result["job"]["id"]}).json()["data"]["generationJob"]
    assert seen["status"] == "SUCCEEDED", seen
    output = GenerationOutput.objects.get(job=job)
    assert (output.kind, output.duration_ms, output.has_audio) == ("video", 5000, True)
    with default_storage.open(output.file.name) as f, av.open(f) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert kling.count("POST", OMNI, status=429) == 1
    assert kling.count("GET", OMNI + "/", status=503) == 1
    assert job.provider_task_id and job.provider_status == "succeed"

    # the client app got a signed `generation.succeeded` whose signature checks out
    verify = readme_verify_function()
    events = [(r, json.loads(r.body)) for r in receiver.requests]
    assert [e["type"] for _, e in events] == [
        "generation.queued",
        "generation.started",
        "generation.succeeded",
    ]
    request, succeeded = events[-1]
    assert verify(secret, request.headers, request.body)
    assert not verify(secret, request.headers, request.body.replace(b"succeeded", b"failed"))
    assert succeeded["data"]["job"]["id"] == result["job"]["id"]
    assert [o["kind"] for o in succeeded["data"]["job"]["outputs"]] == ["video"]

    # the request: 3 customized shots, both elements by their 64-bit ids, the image, sound
    (_family, body), *_ = [b for b in kling.bodies if b[0] == "omni-video"]
    assert body["multi_shot"] is True and body["shot_type"] == "customize"
    assert [(s["index"], s["duration"]) for s in body["multi_prompt"]] == [
        (1, "2"),
        (2, "2"),
        (3, "1"),
    ]
    assert body["duration"] == "5"
    assert "<<<element_1>>>" in body["multi_prompt"][0]["prompt"]
    assert "<<<image_1>>>" in body["multi_prompt"][0]["prompt"]
    assert [e["element_id"] for e in body["element_list"]] == [
        ELEMENT_ID_BASE,
        ELEMENT_ID_BASE + 1,
    ]
    assert len(body["image_list"]) == 1 and "type" not in body["image_list"][0]
    assert (body["sound"], body["aspect_ratio"], body["mode"]) == ("on", "16:9", "std")
    assert body["external_task_id"] == job.provider_external_id

    # the library: two elements and one voice, the voice bound to the character
    assert len(kling.created("element")) == 2
    assert len(kling.created("voice")) == 1
    scholar_body = kling.created("element")[0].body
    assert scholar_body["element_voice_id"] == ProviderVoice.objects.get().provider_voice_id
    assert scholar_body["tag_list"] == [{"tag_id": "o_102"}]
    assert scholar_body["reference_type"] == "image_refer"
    assert len(scholar_body["element_image_list"]["refer_images"]) == 1
    rows = ProviderElement.objects.order_by("pk")
    assert [r.provider_element_id for r in rows] == [
        str(ELEMENT_ID_BASE),
        str(ELEMENT_ID_BASE + 1),
    ]
    assert {r.state for r in rows} == {SyncState.READY}

    # a second job reuses them
    with django_capture_on_commit_callbacks(execute=True):
        again = submit(api)
    assert job_of(again).status == JobStatus.SUCCEEDED
    assert len(kling.created("element")) == 2
    assert len(kling.created("voice")) == 1
    assert len(kling.created("omni-video")) == 2

    # a forged callback changes nothing: wrong task id, bad token, or a lie about the state
    url = body["callback_url"].removeprefix("http://testserver")
    before = GenerationJob.objects.values().get(pk=job.pk)
    for path, payload in (
        (url, {"task_id": "999", "task_status": "failed"}),
        (url[:-3] + "abc", {"task_id": job.provider_task_id, "task_status": "failed"}),
        (url, {"task_id": job.provider_task_id, "task_status": "failed", "task_result": {}}),
    ):
        with caplog.at_level(logging.INFO, logger="generation.kling"):
            response = Client().post(path, payload, content_type="application/json")
        assert response.status_code == 204
    assert "unknown task '999'" in caplog.text
    assert "bad token" in caplog.text
    after = GenerationJob.objects.values().get(pk=job.pk)
    assert {k: v for k, v in after.items() if k != "provider_hint_at"} == {
        k: v for k, v in before.items() if k != "provider_hint_at"
    }
    assert GenerationOutput.objects.filter(job=job).count() == 1
    assert not CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).exists()
    receiving.close()


def test_an_edited_element_is_created_again_and_the_old_one_deleted(
    api, kling, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = job_of(submit(api))
    first.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED
    scholar = Element.objects.get(name="Little Scholar")
    element_services.element_update(
        owner=api.user,  # type: ignore[attr-defined]
        element_id=scholar.pk,
        description="Now in a red coat.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        second = job_of(submit(api))
    second.refresh_from_db()

    assert second.status == JobStatus.SUCCEEDED
    rows = ProviderElement.objects.filter(element=scholar).order_by("version")
    assert [(r.version, r.state) for r in rows] == [
        (1, SyncState.DELETED),
        (2, SyncState.READY),
    ]
    assert kling.created("element")[-1].body["element_description"] == "Now in a red coat."
    assert kling.elements[int(rows[0].provider_element_id)]["status"] == "deleted"
    assert len(kling.created("voice")) == 1  # the voice did not change


def test_missing_credentials_are_a_configuration_error_at_submit(api, kling, settings):
    settings.KLING_SECRET_KEY = ""
    before = media_files()

    result = submit(api)

    assert result["__typename"] == "OperationInfo"
    assert [m["code"] for m in result["messages"]] == ["PROVIDER_NOT_CONFIGURED"]
    assert "KLING_SECRET_KEY" in result["messages"][0]["message"]
    nothing_moved(before)
    assert kling.requests == []


def test_wrong_credentials_are_refused_at_submit_and_staff_alerted(api, kling, settings, caplog):
    settings.KLING_SECRET_KEY = "not-the-secret"
    before = media_files()

    with caplog.at_level(logging.ERROR, logger="generation.kling"):
        result = submit(api)

    assert [m["code"] for m in result["messages"]] == ["PROVIDER_NOT_CONFIGURED"]
    nothing_moved(before)
    assert kling.count("GET", OMNI, status=401) == 1
    assert ProviderAlert.objects.get().code == "1002"
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    assert not kling.created("element")


def test_a_prompt_within_our_limits_but_over_klings_is_refused_before_any_call(api, kling):
    scholar = Element.objects.get(name="Little Scholar")
    element_services.element_update(
        owner=api.user,  # type: ignore[attr-defined]
        element_id=scholar.pk,
        description="x" * 150,  # ours takes 500; Kling 100
    )
    before = media_files()

    result = submit(api)

    assert result["__typename"] == "OperationInfo"
    assert {m["code"] for m in result["messages"]} == {"PROVIDER_LIMIT"}
    assert "100 characters" in result["messages"][0]["message"]
    nothing_moved(before)
    assert kling.count("POST", "/v1") == 0


def test_content_policy_is_shown_and_refunded(api, kling, django_capture_on_commit_callbacks):
    kling.inject(1301, method="POST", prefix=OMNI, message="prompt contains sensitive content")

    with django_capture_on_commit_callbacks(execute=True):
        result = submit(api)

    job = job_of(result)
    seen = api.post(JOB, {"id": result["job"]["id"]}).json()["data"]["generationJob"]
    assert (seen["status"], seen["errorCode"], seen["refunded"]) == (
        "FAILED",
        "CONTENT_POLICY",
        True,
    )
    assert "sensitive content" in seen["errorMessage"]
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1
    assert not GenerationOutput.objects.exists()


def test_a_failed_task_fails_the_job_with_its_message(
    api, kling, django_capture_on_commit_callbacks
):
    kling.fail_next("Failure to pass the risk control system", family="omni-video")

    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "RENDER_FAILED")
    assert "risk control" in job.error_message
    assert job.provider_status == "failed" and "risk control" in job.provider_message
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1


def test_an_account_error_fails_the_job_and_alerts_staff(
    api, kling, django_capture_on_commit_callbacks, caplog
):
    kling.inject(1102, method="POST", prefix=OMNI, message="resource pack exhausted")

    with (
        caplog.at_level(logging.ERROR, logger="generation.kling"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "PROVIDER_ACCOUNT_ERROR")
    alert = ProviderAlert.objects.get()
    assert (alert.code, alert.job_id) == ("1102", job.pk)
    assert "resource pack exhausted" in caplog.text
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1


def test_an_expired_token_is_minted_again_once(api, kling, django_capture_on_commit_callbacks):
    kling.inject(1004, method="POST", prefix=OMNI)

    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert kling.count("POST", OMNI, status=401) == 1


def test_a_busy_service_past_the_retry_budget_fails_and_refunds(
    api, kling, settings, django_capture_on_commit_callbacks
):
    settings.KLING_RETRY_MAX_WAIT_SECONDS = 0.1
    kling.inject(5001, times=1000, method="POST", prefix=OMNI)

    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "PROVIDER_UNAVAILABLE")
    assert 2 <= kling.count("POST", OMNI, status=503) < 20
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1


def test_image_job_through_omni_image(api, kling, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(
            submit(api, prompt="[@Little Scholar] reads in [@Tokyo Street].", model="IMAGE_O1")
        )

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    (_family, body), *_ = [b for b in kling.bodies if b[0] == "omni-image"]
    assert body["model_name"] == "kling-image-o1"
    assert len(body["element_list"]) == 2
    output = GenerationOutput.objects.get(job=job)
    assert (output.kind, output.width, output.height) == ("image", 1024, 1024)


def test_video_3_0_frames_go_to_image_to_video_with_elements(
    api, kling, django_capture_on_commit_callbacks
):
    frame = image_upload(width=1280, height=720, color=(50, 50, 50))
    with django_capture_on_commit_callbacks(execute=True):
        result = api.upload(
            SUBMIT,
            {
                "input": {
                    "model": "VIDEO_3_0",
                    "prompt": "[@Little Scholar] waves.",
                    "startFrame": None,
                }
            },
            {"input.startFrame": frame},
        )["generationSubmit"]

    assert result["__typename"] == "GenerationJobResult", result
    job = job_of(result)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    (_family, body), *_ = [b for b in kling.bodies if b[0] == "image2video"]
    assert body["model_name"] == "kling-v3" and body["image"]
    assert "aspect_ratio" not in body
    assert len(body["element_list"]) == 1


def test_the_jwt_is_cached_and_minted_again_before_it_expires(kling, settings):
    settings.KLING_TOKEN_TTL_SECONDS = 1800
    client = KlingClient(KlingSettings.load())
    assert client.token() == client.token()
    assert client.call("GET", OMNI + "?pageNum=1&pageSize=1") == []

    # A token inside its re-mint margin (the last sixth of its life, ≤ 5 min) is replaced.
    settings.KLING_TOKEN_TTL_SECONDS = 1
    short = KlingClient(KlingSettings.load())
    first = short.token(fresh=True)
    import time

    time.sleep(1.1)
    assert short.token() != first

    # The fake refuses a token of the wrong key, one not yet valid, and an expired one.
    now = time.time()
    for token, code in (
        (mint_token(kling.access_key, "wrong", now=now, ttl=60), 1002),
        (mint_token(kling.access_key, kling.secret_key, now=now + 60, ttl=60), 1003),
        (mint_token(kling.access_key, kling.secret_key, now=now - 120, ttl=60), 1004),
    ):
        from generation.providers.kling.client import KlingError

        with pytest.raises(KlingError) as caught:
            client.call_once("GET", OMNI, None, token)
        assert (caught.value.status, caught.value.code) == (401, code)
    with pytest.raises(KlingError) as caught:
        client.call_once("GET", OMNI, None, "")
    assert caught.value.code in (1001, 1002)


@pytest.mark.django_db(transaction=True)
def test_a_burst_above_the_account_concurrency_drains_with_nothing_lost(
    api, kling, monkeypatch, live_server, settings
):
    from django_q.conf import Conf

    # given: an account that runs 2 videos at once, and 5 jobs queued in the broker
    kling.video_concurrency = 2
    kling.step_per_query = 0.25
    settings.KLING_CALLBACK_BASE_URL = live_server.url
    monkeypatch.setattr(Conf, "SYNC", False)
    ids = []
    for _ in range(5):
        result = submit(api)
        assert result["__typename"] == "GenerationJobResult", result
        ids.append(job_of(result).pk)

    # when: five workers take them at once
    outcomes: list[str] = []

    def work(job_id) -> None:
        try:
            outcomes.append(tasks.run_job(str(job_id)))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then: all succeeded, never more than 2 ran on the account, 1303 was met and ridden out
    assert outcomes == ["succeeded"] * 5
    assert set(GenerationJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert GenerationOutput.objects.count() == 5
    assert kling.peak_active["video"] <= 2
    assert kling.count("POST", OMNI, status=429) >= 1
    assert len(kling.created("omni-video")) == 5
    assert len(kling.created("element")) == 2 and len(kling.created("voice")) == 1

    # and a callback POSTed by the fake reaches our view and only hints
    task_id = GenerationJob.objects.get(pk=ids[0]).provider_task_id
    assert kling.post_callback(task_id, task_status="failed") == 204
    job = GenerationJob.objects.get(pk=ids[0])
    assert job.status == JobStatus.SUCCEEDED and job.provider_hint_at is not None


def test_outputs_are_downloaded_not_linked(api, kling, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))
    output = GenerationOutput.objects.get(job=job)
    kling.stop()  # the provider's copy is gone: ours still plays
    with default_storage.open(output.file.name) as f:
        data = f.read()
    with av.open(io.BytesIO(data), mode="r") as container:
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - 5.0) < 0.2


def test_a_job_whose_worker_died_after_the_submit_adopts_its_task(
    api, kling, django_capture_on_commit_callbacks
):
    from generation.providers.base import JobWaiter
    from generation.providers.kling.provider import KlingProvider

    # given: a first attempt that synced, sent the job, and died before saving the task id
    with django_capture_on_commit_callbacks(execute=False):
        job = job_of(submit(api))
    provider = KlingProvider()
    provider.prepare(job, JobWaiter(job, lambda percent: None))
    job.provider_external_id = provider.new_external_id(job)
    job.save(update_fields=["provider_external_id"])
    provider.submit(job)
    assert len(kling.created("omni-video")) == 1

    # when: the job is taken again
    assert tasks.run_job(str(job.pk)) == "succeeded"

    # then: it polled the task it had, and did not pay for a second one
    job.refresh_from_db()
    assert job.provider_task_id == kling.created("omni-video")[0].task_id
    assert len(kling.created("omni-video")) == 1
    assert GenerationOutput.objects.filter(job=job).count() == 1


def test_admin_shows_sync_state_provider_ids_and_alerts(
    api, kling, admin_client, django_capture_on_commit_callbacks
):
    kling.fail_next("Failure to pass the risk control system", family="omni-video")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))
    job.refresh_from_db()
    ProviderAlert.objects.create(provider="kling", code="1101", message="account in arrears")

    page = admin_client.get(f"/admin/generation/generationjob/{job.pk}/change/").content.decode()
    assert job.provider_task_id in page
    assert "Failure to pass the risk control system" in page

    rows = admin_client.get("/admin/kling/providerelement/").content.decode()
    for row in ProviderElement.objects.all():
        assert row.provider_element_id in rows
    assert "Ready" in rows
    voices = admin_client.get("/admin/kling/providervoice/").content.decode()
    assert ProviderVoice.objects.get().provider_voice_id in voices
    alerts = admin_client.get("/admin/kling/provideralert/").content.decode()
    assert "account in arrears" in alerts


def test_a_sync_stopped_by_a_busy_service_is_left_pending_and_staff_can_run_it(
    api, kling, settings, admin_client, django_capture_on_commit_callbacks
):
    # given: Kling's element route in maintenance for longer than the retry budget
    settings.KLING_RETRY_MAX_WAIT_SECONDS = 0.05
    kling.inject(5001, times=1000, method="POST", prefix="/v1/general/advanced-custom-elements")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "PROVIDER_UNAVAILABLE")
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1
    row = ProviderElement.objects.get(element__name="Little Scholar")
    assert (row.state, row.task_id) == (SyncState.PENDING, "")
    assert not kling.created("omni-video")

    # when: the service is back and staff run the sync
    kling.injections.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/kling/providerelement/",
            {"action": "sync_now", "_selected_action": [row.pk]},
        )
    assert response.status_code == 302

    # then: the version is on Kling, with its voice, created once
    row.refresh_from_db()
    assert row.state == SyncState.READY and row.provider_element_id
    assert len(kling.created("element")) == 1 and len(kling.created("voice")) == 1


def test_a_voice_kling_cannot_fetch_is_a_configuration_error_at_submit(api, kling, settings):
    # Local storage and no public address: Kling could not fetch the voice sample.
    settings.KLING_CALLBACK_BASE_URL = ""
    before = media_files()

    result = submit(api)

    assert [m["code"] for m in result["messages"]] == ["PROVIDER_NOT_CONFIGURED"]
    assert "KLING_CALLBACK_BASE_URL" in result["messages"][0]["message"]
    nothing_moved(before)
    assert kling.count("POST", "/v1") == 0


def test_an_input_video_is_sent_as_a_feature_reference_kling_fetches(
    api, kling, tmp_path, django_capture_on_commit_callbacks
):
    import subprocess
    import urllib.parse

    import imageio_ffmpeg
    from django.core.files.uploadedfile import SimpleUploadedFile

    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1280x720:rate=24:duration=4",
            "-pix_fmt",
            "yuv420p",
            str(clip),
        ],
        check=True,
    )
    upload = SimpleUploadedFile("clip.mp4", clip.read_bytes(), content_type="video/mp4")

    with django_capture_on_commit_callbacks(execute=True):
        result = api.upload(
            SUBMIT,
            {
                "input": {
                    "model": "VIDEO_3_0_OMNI",
                    "prompt": "[@Little Scholar] dances like in [@Video]",
                    "inputVideo": None,
                }
            },
            {"input.inputVideo": upload},
        )["generationSubmit"]

    assert result["__typename"] == "GenerationJobResult", result
    job = job_of(result)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    (_family, body), *_ = [b for b in kling.bodies if b[0] == "omni-video"]
    (video,) = body["video_list"]
    assert (video["refer_type"], video["keep_original_sound"]) == ("feature", "no")
    assert body["sound"] == "off" and body["aspect_ratio"] == "16:9"
    assert "<<<video_1>>>" in body["prompt"]
    # The URL Kling fetches serves the stored clip, to anyone holding it, and nothing else.
    path = urllib.parse.urlsplit(video["video_url"]).path
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == clip.read_bytes()
    assert Client().get(path[:-4] + "abcd").status_code == 404


def test_a_callback_wakes_the_poll_early(api, kling, django_capture_on_commit_callbacks):
    import time

    from django.utils import timezone

    from generation.providers.base import JobWaiter

    with django_capture_on_commit_callbacks(execute=False):
        job = job_of(submit(api))
    waiter = JobWaiter(job, lambda percent: None)
    GenerationJob.objects.filter(pk=job.pk).update(provider_hint_at=timezone.now())

    started = time.monotonic()
    waiter(5.0, wake_on_hint=True)

    assert time.monotonic() - started < 1.0


def test_a_long_kling_task_gives_its_worker_back_and_goes_on_from_its_task(
    api, kling, settings, caplog, django_capture_on_commit_callbacks
):
    # given: a worker may hold a job 0.05 s, and Kling takes several polls
    settings.KLING_WORKER_HOLD_SECONDS = 0.05
    kling.step_per_query = 0.2

    with (
        caplog.at_level(logging.INFO, logger="generation.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = job_of(submit(api))

    # then: queued again at least once, one Kling task, and no attempt counted for it
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert "gave its worker back" in caplog.text
    assert len(kling.created("omni-video")) == 1
    assert job.attempts == 1
    assert GenerationOutput.objects.filter(job=job).count() == 1


def test_the_fake_refuses_what_kling_documents_as_invalid(kling):
    from generation.providers.kling.client import KlingError

    client = KlingClient(KlingSettings.load())
    good_shots = [{"index": 1, "prompt": "a", "duration": "2"}]
    for path, body, reason in (
        (
            OMNI,
            {
                "model_name": "kling-v3-omni",
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": good_shots,
                "duration": "5",
                "aspect_ratio": "16:9",
            },
            "add up",
        ),
        (OMNI, {"model_name": "kling-v3-omni", "prompt": "x" * 2501}, "2500"),
        (OMNI, {"model_name": "kling-video-o1", "prompt": "a", "duration": "12"}, "duration"),
        (OMNI, {"prompt": "<<<element_1>>>", "aspect_ratio": "1:1"}, "no match"),
        (OMNI, {"prompt": "a"}, "aspect_ratio"),
        (
            "/v1/general/advanced-custom-elements",
            {"element_name": "x" * 21, "element_description": "d"},
            "20 characters",
        ),
        ("/v1/general/custom-voices", {"voice_name": "v"}, "voice_url"),
        ("/v1/images/omni-image", {"prompt": "a", "n": 10}, "n must"),
    ):
        with pytest.raises(KlingError) as caught:
            client.call("POST", path, body)
        assert (caught.value.status, caught.value.code) == (400, 1201), body
        assert reason in caught.value.message
    assert kling.tasks == {}


def test_a_request_kling_refuses_fails_the_job_with_the_reason(
    api, kling, django_capture_on_commit_callbacks
):
    kling.inject(1201, method="POST", prefix=OMNI, message="prompt: invalid character")

    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "PROVIDER_REJECTED")
    assert "invalid character" in job.error_message
    assert CreditLedgerEntry.objects.filter(refund_of_id=job.debit_id).count() == 1


def test_the_provider_is_chosen_per_model(api, kling, settings, django_capture_on_commit_callbacks):
    settings.GENERATION_PROVIDERS = {"VIDEO_3_0_OMNI": "kling", "*": "local"}

    with django_capture_on_commit_callbacks(execute=True):
        image = job_of(submit(api, prompt="[@Little Scholar] reads.", model="IMAGE_O1"))

    image.refresh_from_db()
    assert (image.provider, image.status) == ("local", JobStatus.SUCCEEDED)
    assert kling.requests == []


# --- Protocol gaps closed (kling-api.md §3/§4): each one the fake learned ---------------------


def _scholar_voice(api):
    return Element.objects.get(owner=api.user, name="Little Scholar").voice


def test_the_voice_url_kling_fetches_ends_with_the_samples_extension(
    api, kling, django_capture_on_commit_callbacks
):
    # given: the fake refuses a `voice_url` without .mp3/.wav/.mp4/.mov (§4)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    # then: the voice went through, and its URL names the sample's own extension
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    (voice_task,) = kling.created("voice")
    url = voice_task.body["voice_url"].removeprefix("http://testserver")
    assert url.endswith("/file.wav")
    response = Client().get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"RIFF")  # type: ignore[attr-defined]
    # the extension is part of the signed link: another one is a bare 404
    assert Client().get(url.removesuffix(".wav") + ".mp3").status_code == 404
    with pytest.raises(KlingError) as caught:
        KlingClient(KlingSettings.load()).call(
            "POST", "/v1/general/custom-voices", {"voice_name": "v", "voice_url": "http://x/a"}
        )
    assert caught.value.code == 1201 and ".mp3/.wav" in caught.value.message


def test_an_element_kling_deleted_is_created_again_before_it_is_reused(
    api, kling, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = job_of(submit(api))
    first.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED
    scholar = ProviderElement.objects.get(element__name="Little Scholar")
    # given: Kling removed the element on its side (its own status, not its task's)
    kling.delete_element_remotely(int(scholar.provider_element_id))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        second = job_of(submit(api))

    # then: the version was created again and the job used the new element
    second.refresh_from_db()
    assert second.status == JobStatus.SUCCEEDED, second.error_message
    assert len(kling.created("element")) == 3
    renewed = ProviderElement.objects.get(pk=scholar.pk)
    assert renewed.state == SyncState.READY
    assert renewed.provider_element_id != scholar.provider_element_id
    body = kling.created("omni-video")[-1].body
    assert int(renewed.provider_element_id) in [e["element_id"] for e in body["element_list"]]
    assert len(kling.created("voice")) == 1  # the voice was not made again


def test_an_element_kling_reports_deleted_when_made_is_created_again(
    api, kling, django_capture_on_commit_callbacks
):
    # given: the first element Kling makes comes back with status `deleted`
    kling.next_element_status = ["deleted"]

    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert len(kling.created("element")) == 3  # two elements, one made twice
    assert {r.state for r in ProviderElement.objects.all()} == {SyncState.READY}
    externals = [t.body["external_task_id"] for t in kling.created("element")]
    assert len(set(externals)) == 3  # a new id of ours for the second try


def test_a_voice_its_owner_deletes_is_deleted_on_kling(
    api, kling, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_of(submit(api))
    row = ProviderVoice.objects.get()
    assert row.state == SyncState.READY and row.provider_voice_id in kling.voices

    # when: the owner deletes the voice (the Kling call runs in a task after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        element_services.voice_delete(owner=api.user, voice_id=_scholar_voice(api).pk)

    # then
    assert kling.deleted_voices == [row.provider_voice_id]
    row.refresh_from_db()
    assert row.state == SyncState.DELETED
    assert kling.count("POST", "/v1/general/delete-voices") == 1


def test_a_voice_staff_take_down_is_deleted_on_kling_and_a_failure_never_blocks_it(
    api, kling, django_capture_on_commit_callbacks, admin_user
):
    with django_capture_on_commit_callbacks(execute=True):
        job_of(submit(api))
    row = ProviderVoice.objects.get()
    voice = _scholar_voice(api)

    # given: Kling refuses the delete once
    kling.inject(1201, method="POST", prefix="/v1/general/delete-voices")
    with django_capture_on_commit_callbacks(execute=True):
        element_services.voice_take_down(staff=admin_user, voice=voice, reason="No consent")

    # then: the takedown stands; the row keeps the reason, ready for the next attempt
    voice.refresh_from_db()
    assert voice.status == "taken_down"
    row.refresh_from_db()
    assert row.state == SyncState.READY and "1201" in row.message
    assert kling.deleted_voices == []

    # when: tried again (the task is idempotent)
    from generation.providers.kling.tasks import provider_voice_delete

    assert provider_voice_delete(row.voice_file) == 1
    assert kling.deleted_voices == [row.provider_voice_id]
    assert provider_voice_delete(row.voice_file) == 0


def test_a_preset_that_maps_to_a_kling_preset_is_bound_by_its_id_not_uploaded(
    api, kling, settings, admin_user, django_capture_on_commit_callbacks
):
    # given: a Voice Library preset mapped to one of Kling's presets, bound to the character
    preset = element_services.voice_preset_create(
        staff=admin_user, file=audio_upload(seconds=6, volume=0.8), name="Warm Narrator"
    )
    settings.KLING_PRESET_VOICES = {"Warm Narrator": "kling_preset_warm_narrator"}
    scholar = Element.objects.get(owner=api.user, name="Little Scholar")
    element_services.voice_bind(owner=api.user, element_id=scholar.pk, voice_id=preset.pk)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        job = job_of(submit(api))

    # then: no custom voice was made; the element is bound to Kling's preset id
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert kling.created("voice") == []
    scholar_body = next(
        t.body for t in kling.created("element") if t.body["element_name"] == "Little Scholar"
    )
    assert scholar_body["element_voice_id"] == "kling_preset_warm_narrator"

    # and taking the preset down never asks Kling to delete its own preset
    with django_capture_on_commit_callbacks(execute=True):
        element_services.voice_take_down(staff=admin_user, voice=preset, reason="Retired")
    assert kling.count("POST", "/v1/general/delete-voices") == 0
