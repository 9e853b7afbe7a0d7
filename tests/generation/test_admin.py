"""The staff admin of generation: a read-only job list and page with previews of what each job
was made from and made, cancel and retry actions that move credits exactly once, staff-only
file previews, a changelist that reads a fixed number of queries, and the editable price
list."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import CreditLedgerEntry, LedgerKind, User
from accounts.selectors import credit_balance
from generation import services, tasks
from generation.admin import preview_url
from generation.catalog import ModelCode
from generation.models import (
    GenerationJob,
    GenerationOutput,
    JobElementImage,
    JobInput,
    JobStatus,
    OutputKind,
    PriceRule,
)
from tests.factories import GenerationJobFactory, StaffUserFactory, UserFactory
from tests.support.jobs import library_owner
from tests.support.media import image_upload

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:generation_generationjob_changelist")
PRICES = reverse("admin:generation_pricerule_changelist")
CONSENT = "I recorded this myself and may use it."
PROMPT = "A red kite over a grey sea"
IMAGE_PRICE = 3  # IMAGE_O1, seeded by generation/migrations/0002_seed_prices.py


@pytest.fixture
def owner() -> User:
    user = cast(User, UserFactory(username="alice"))
    account_services.credits_grant(user=user, amount=500, reason="test credits")
    return user


def submit(owner: User, **kwargs: Any) -> GenerationJob:
    """A real submission (charged, left queued: the on-commit enqueue is not run)."""
    request = services.JobRequest(
        model=kwargs.pop("model", ModelCode.IMAGE_O1), prompt=kwargs.pop("prompt", PROMPT), **kwargs
    )
    return services.generation_submit(owner=owner, request=request)


def end(job: GenerationJob, status: str) -> GenerationJob:
    """End a job the way the worker does: under the row lock, through `job_finish`."""
    with transaction.atomic():
        locked = GenerationJob.objects.select_for_update().get(pk=job.pk)
        services.job_finish(locked, status, code="RENDER_FAILED", message="ffmpeg exploded")
    job.refresh_from_db()
    return job


def set_running(job: GenerationJob) -> None:
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )


def run_action(client: Client, action: str, jobs: list[GenerationJob], **extra: Any) -> Any:
    return client.post(
        JOBS,
        {"action": action, ACTION_CHECKBOX_NAME: [str(j.pk) for j in jobs], **extra},
        follow=True,
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def ledger(job: GenerationJob) -> list[tuple[str, int]]:
    entries = CreditLedgerEntry.objects.filter(reference=f"generation.job:{job.pk}")
    return [(e.kind, e.amount) for e in entries.order_by("id")]


@pytest.fixture
def break_the_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    from generation.providers import local

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise local.render.RenderError("ffmpeg exploded")

    monkeypatch.setattr(local.render, "render_image", broken)


# --- Cancel -----------------------------------------------------------------------------------


def test_cancel_ends_a_queued_job_and_refunds_it_once(admin_client: Client, owner: User) -> None:
    # given
    job = submit(owner)
    assert credit_balance(owner) == 500 - IMAGE_PRICE

    # when: canceled, then canceled again
    first = run_action(admin_client, "cancel_jobs", [job])
    second = run_action(admin_client, "cancel_jobs", [job])

    # then
    job.refresh_from_db()
    assert (job.status, job.error_message) == (JobStatus.CANCELED, "Canceled by staff.")
    assert credit_balance(owner) == 500
    assert ledger(job) == [(LedgerKind.DEBIT, -IMAGE_PRICE), (LedgerKind.REFUND, IMAGE_PRICE)]
    assert "Canceled 1 queued job; its credits were refunded." in messages_of(first)
    assert f"Skipped 1 finished job: {str(job.pk)[:8]} (canceled)." in messages_of(second)
    assert tasks.run_job(str(job.pk)) == "skipped"


def test_cancel_asks_a_running_job_to_stop(admin_client: Client, owner: User) -> None:
    # given
    job = submit(owner)
    set_running(job)

    # when
    response = run_action(admin_client, "cancel_jobs", [job])

    # then: still running and charged until the worker notices
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == (JobStatus.RUNNING, True)
    assert credit_balance(owner) == 500 - IMAGE_PRICE
    assert any(m.startswith("Asked 1 running job to stop") for m in messages_of(response))

    # and the next worker to take it (its own died) ends it canceled, refunded once
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    GenerationJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
    assert tasks.run_job(str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert credit_balance(owner) == 500
    assert ledger(job).count((LedgerKind.REFUND, IMAGE_PRICE)) == 1


def test_cancel_sorts_a_mixed_selection(admin_client: Client, owner: User) -> None:
    queued, running, done = submit(owner), submit(owner), end(submit(owner), JobStatus.SUCCEEDED)
    set_running(running)

    response = run_action(admin_client, "cancel_jobs", [queued, running, done])

    assert messages_of(response) == [
        "Canceled 1 queued job; its credits were refunded.",
        "Asked 1 running job to stop: canceled and refunded at the next progress report.",
        f"Skipped 1 finished job: {str(done.pk)[:8]} (succeeded).",
    ]
    done.refresh_from_db()
    assert done.status == JobStatus.SUCCEEDED
    assert credit_balance(owner) == 500 - 2 * IMAGE_PRICE


# --- Retry ------------------------------------------------------------------------------------


def test_retry_first_shows_the_price_and_changes_nothing(admin_client: Client, owner: User) -> None:
    job = end(submit(owner), JobStatus.FAILED)

    response = admin_client.post(
        JOBS, {"action": "retry_jobs", ACTION_CHECKBOX_NAME: [str(job.pk)], "index": "0"}
    )

    assert response.status_code == 200
    assert "admin/generation/generationjob/retry.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert f'name="{ACTION_CHECKBOX_NAME}" value="{job.pk}"' in content
    assert "<td>alice</td>" in content
    assert "<td>500</td>" in content  # the owner's balance, refunded
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert credit_balance(owner) == 500


def test_retry_charges_again_and_queues_the_job(
    admin_client: Client, owner: User, django_capture_on_commit_callbacks: Any
) -> None:
    # given: a job that failed and was refunded
    job = end(submit(owner), JobStatus.FAILED)
    first_debit = job.debit_id
    assert credit_balance(owner) == 500

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(admin_client, "retry_jobs", [job], apply="yes")

    # then
    assert "Retried 1 job: charged again and queued." in messages_of(response)
    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == (JobStatus.QUEUED, 0, 0)
    assert (job.error_code, job.error_message, job.finished_at) == ("", "", None)
    assert job.debit_id not in (None, first_debit)
    assert job.debit is not None
    assert job.debit.idempotency_key == f"generation.job:{job.pk}:retry:1"
    assert credit_balance(owner) == 500 - IMAGE_PRICE
    assert len(callbacks) == 1  # the enqueue, once the retry committed


def test_a_retried_job_that_fails_again_refunds_the_new_debit_once(
    admin_client: Client,
    owner: User,
    break_the_renderer: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: a job the worker failed (and refunded)
    job = submit(owner)
    assert tasks.run_job(str(job.pk)) == "failed"
    assert credit_balance(owner) == 500

    # when: retried twice; the worker (inline) fails it each time
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_action(admin_client, "retry_jobs", [job], apply="yes")
        job.refresh_from_db()
        assert (job.status, job.error_code, job.attempts) == (
            JobStatus.FAILED,
            "RENDER_FAILED",
            1,
        )

    # then: three charges, each refunded exactly once, and the balance back where it was
    assert ledger(job) == [(LedgerKind.DEBIT, -IMAGE_PRICE), (LedgerKind.REFUND, IMAGE_PRICE)] * 3
    debits = CreditLedgerEntry.objects.filter(reference=f"generation.job:{job.pk}", kind="debit")
    assert all(CreditLedgerEntry.objects.filter(refund_of=d).count() == 1 for d in debits)
    assert job.debit_id == debits.order_by("id").last().pk  # type: ignore[union-attr]
    assert credit_balance(owner) == 500
    assert tasks.run_job(str(job.pk)) == "skipped"


def test_a_retried_job_that_succeeds_keeps_its_new_charge(
    admin_client: Client, owner: User, django_capture_on_commit_callbacks: Any
) -> None:
    job = end(submit(owner), JobStatus.CANCELED)

    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "retry_jobs", [job], apply="yes")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.outputs.count() == 1
    assert credit_balance(owner) == 500 - IMAGE_PRICE


def test_retry_is_refused_when_the_owner_cannot_pay(admin_client: Client, owner: User) -> None:
    # given: a failed job whose owner spent everything since
    job = end(submit(owner), JobStatus.FAILED)
    account_services.credits_debit(user=owner, amount=500, reason="spent elsewhere")
    entries = CreditLedgerEntry.objects.count()

    # when
    response = run_action(admin_client, "retry_jobs", [job], apply="yes")

    # then
    [message] = messages_of(response)
    assert message.startswith(f"{str(job.pk)[:8]}: not retried. Not enough credits")
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "RENDER_FAILED")
    assert CreditLedgerEntry.objects.count() == entries
    assert credit_balance(owner) == 0


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.RUNNING])
def test_only_failed_or_canceled_jobs_are_retried(
    admin_client: Client, owner: User, status: str
) -> None:
    job = submit(owner)
    if status == JobStatus.SUCCEEDED:
        end(job, status)
    elif status == JobStatus.RUNNING:
        set_running(job)
    entries = CreditLedgerEntry.objects.count()

    response = run_action(admin_client, "retry_jobs", [job], apply="yes")

    assert messages_of(response) == [
        f"Not retried, only failed or canceled jobs are: {str(job.pk)[:8]} ({status})."
    ]
    job.refresh_from_db()
    assert job.status == status
    assert CreditLedgerEntry.objects.count() == entries


def test_generation_retry_refuses_non_staff_and_unrefunded_jobs(owner: User) -> None:
    from django.core.exceptions import ValidationError

    job = end(submit(owner), JobStatus.FAILED)
    with pytest.raises(PermissionDenied):
        services.generation_retry(staff=owner, job=job)

    # A failed job whose debit somehow kept its credits is not charged a second time.
    GenerationJob.objects.filter(pk=job.pk).update(
        debit=account_services.credits_debit(user=owner, amount=7, reason="stray")
    )
    with pytest.raises(ValidationError) as excinfo:
        services.generation_retry(staff=UserFactory(is_staff=True), job=job)
    assert excinfo.value.error_dict["id"][0].code == "NOT_REFUNDED"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_staff_who_may_only_view_cannot_cancel_or_retry(client: Client, owner: User) -> None:
    # given
    queued, failed = submit(owner), end(submit(owner), JobStatus.FAILED)
    client.force_login(StaffUserFactory(permissions=["view_generationjob"]))

    # when
    listing = client.get(JOBS)
    run_action(client, "cancel_jobs", [queued])
    run_action(client, "retry_jobs", [failed], apply="yes")

    # then
    assert listing.status_code == 200
    actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert not {"cancel_jobs", "retry_jobs"} & set(actions)
    queued.refresh_from_db()
    failed.refresh_from_db()
    assert (queued.status, failed.status) == (JobStatus.QUEUED, JobStatus.FAILED)
    assert credit_balance(owner) == 500 - IMAGE_PRICE


# --- The job page -------------------------------------------------------------------------------


@pytest.fixture
def rendered_job(owner: User, django_capture_on_commit_callbacks: Any) -> GenerationJob:
    """An image job rendered for real from two pinned elements (one with a voice) and an
    attached image, plus a video output stored beside its image output."""
    library_owner(owner, credits=0)
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(
            owner,
            model=ModelCode.IMAGE_3_0_OMNI,
            prompt="[@Little Scholar] reads in [@Tokyo Street] by [@Image1]",
            images=[image_upload(color=(200, 200, 10))],
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    image = job.outputs.get()
    video = GenerationOutput(
        job=job, owner=owner, kind=OutputKind.VIDEO, width=1280, height=720, duration_ms=5000
    )
    video.file.save("clip.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256))), False)
    video.poster.name = image.poster.name
    video.thumbnail.name = image.thumbnail.name
    video.save()
    return job


def test_job_page_previews_everything_and_hides_storage_names(
    admin_client: Client, rendered_job: GenerationJob
) -> None:
    # given
    job = rendered_job
    url = reverse("admin:generation_generationjob_change", args=[job.pk])
    image = job.outputs.get(kind=OutputKind.IMAGE)
    video = job.outputs.get(kind=OutputKind.VIDEO)
    pinned_images = JobElementImage.objects.filter(job_element__job=job)
    scholar = job.elements.get(name="Little Scholar")
    attached = job.inputs.get()

    # when
    page = admin_client.get(url)

    # then
    assert page.status_code == 200
    content = page.content.decode()
    assert f'<img src="{preview_url("output", image.pk)}"' in content
    assert (
        f'<video controls preload="metadata" src="{preview_url("output", video.pk)}" '
        f'poster="{preview_url("poster", video.pk)}"'
    ) in content
    assert f'<img src="{preview_url("thumb", image.pk)}"' in content
    assert f'<img src="{preview_url("input", attached.pk)}"' in content
    assert len(pinned_images) == 4
    for pinned in pinned_images:
        assert f'<img src="{preview_url("element-image", pinned.pk)}"' in content
    assert f'<audio controls preload="none" src="{preview_url("voice", scholar.pk)}"' in content
    stored = [
        image.file.name,
        image.poster.name,
        video.file.name,
        attached.file,
        scholar.voice_file,
    ]
    stored += [p.file for p in pinned_images]
    assert not [name for name in stored if name in content]
    assert "Little Scholar" in content and "Tokyo Street" in content


def test_job_page_is_read_only(admin_client: Client, owner: User) -> None:
    job = submit(owner)
    url = reverse("admin:generation_generationjob_change", args=[job.pk])

    page = admin_client.get(url)
    post = admin_client.post(url, {"status": "succeeded", "prompt": "changed"})

    assert page.status_code == 200
    assert '<textarea name="prompt"' not in page.content.decode()
    assert post.status_code == 403
    delete = reverse("admin:generation_generationjob_delete", args=[job.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:generation_generationjob_add")).status_code == 403
    job.refresh_from_db()
    assert (job.status, job.prompt) == (JobStatus.QUEUED, PROMPT)


# --- Staff previews ---------------------------------------------------------------------------


def test_previews_stream_stored_files_to_staff(
    admin_client: Client, rendered_job: GenerationJob
) -> None:
    # given
    job = rendered_job
    image = job.outputs.get(kind=OutputKind.IMAGE)
    video = job.outputs.get(kind=OutputKind.VIDEO)
    scholar = job.elements.get(name="Little Scholar")
    pinned = scholar.images.first()
    assert pinned is not None
    expected = {
        preview_url("output", image.pk): (image.file.name, "image/png"),
        preview_url("poster", image.pk): (image.poster.name, "image/"),
        preview_url("thumb", image.pk): (image.thumbnail.name, "image/"),
        preview_url("output", video.pk): (video.file.name, "video/mp4"),
        preview_url("input", job.inputs.get().pk): (job.inputs.get().file, "image/"),
        preview_url("element-image", pinned.pk): (pinned.file, "image/"),
        preview_url("voice", scholar.pk): (scholar.voice_file, "audio/"),
    }

    for url, (name, content_type) in expected.items():
        # when
        response = admin_client.get(url)

        # then
        assert response.status_code == 200, url
        with default_storage.open(name, "rb") as stored:
            assert b"".join(response.streaming_content) == stored.read()
        assert response["Content-Type"].startswith(content_type)
        assert response["Cache-Control"].startswith("private")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == (
            f'inline; filename="{str(name).rsplit("/", 1)[-1]}"'
        )
        assert response["Accept-Ranges"] == "bytes"
    assert admin_client.head(preview_url("output", video.pk)).status_code == 200


def test_video_previews_answer_byte_ranges(
    admin_client: Client, rendered_job: GenerationJob
) -> None:
    video = rendered_job.outputs.get(kind=OutputKind.VIDEO)
    url = preview_url("output", video.pk)
    with default_storage.open(video.file.name, "rb") as stored:
        data = stored.read()
    size = len(data)

    def get(header: str) -> Any:
        return admin_client.get(url, headers={"Range": header})

    middle = get("bytes=4-11")
    assert (middle.status_code, middle["Content-Range"]) == (206, f"bytes 4-11/{size}")
    assert b"".join(middle.streaming_content) == data[4:12]
    assert b"".join(get("bytes=100-").streaming_content) == data[100:]
    assert b"".join(get("bytes=-10").streaming_content) == data[-10:]
    beyond = get(f"bytes={size}-")
    assert (beyond.status_code, beyond["Content-Range"]) == (416, f"bytes */{size}")
    several = get("bytes=0-1,4-5")  # not taken: the whole file
    assert several.status_code == 200
    assert b"".join(several.streaming_content) == data


def test_previews_refuse_anyone_but_staff(
    client: Client, admin_client: Client, rendered_job: GenerationJob
) -> None:
    # given
    job = rendered_job
    urls = [
        preview_url("output", job.outputs.get(kind=OutputKind.VIDEO).pk),
        preview_url("input", job.inputs.get().pk),
    ]

    # when / then: anonymous, and the owner themself, are sent to the admin login
    for user in (None, job.owner):
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))

    # staff without permission to see jobs: refused
    no_perms = Client()
    no_perms.force_login(StaffUserFactory())
    assert all(no_perms.get(url).status_code == 403 for url in urls)

    # only a safe GET or HEAD, and nothing that doesn't exist
    assert admin_client.post(urls[0]).status_code == 405
    file_url = "admin:generation_generationjob_file"
    assert admin_client.get(reverse(file_url, args=["output", 0])).status_code == 404
    assert (
        admin_client.get(reverse(file_url, args=["plan", job.inputs.get().pk])).status_code == 404
    )


def test_a_missing_file_is_not_found(admin_client: Client, owner: User) -> None:
    job = submit(owner, images=[image_upload()])
    attached = job.inputs.get()
    default_storage.delete(attached.file)

    assert admin_client.get(preview_url("input", attached.pk)).status_code == 404


# --- The changelist -----------------------------------------------------------------------------


def quick_jobs(count: int) -> list[GenerationJob]:
    """Jobs as submission leaves them (owner, debit), a third of them failed and refunded,
    made without compiling prompts: the changelist only reads rows."""
    jobs = []
    for i in range(count):
        user = UserFactory()
        account_services.credits_grant(user=user, amount=10, reason="test credits")
        job = cast(
            GenerationJob,
            GenerationJobFactory(
                owner=user,
                model=ModelCode.IMAGE_O1,
                mode="-",
                prompt=f"Prompt {i}",
                duration=None,
                aspect_ratio="",
                credits_charged=IMAGE_PRICE,
            ),
        )
        job.debit = account_services.credits_debit(
            user=user,
            amount=IMAGE_PRICE,
            reason="Image O1 generation",
            reference=f"generation.job:{job.pk}",
            idempotency_key=f"generation.job:{job.pk}",
        )
        job.save(update_fields=["debit"])
        if i % 3 == 0:
            end(job, JobStatus.FAILED)
        jobs.append(job)
    return jobs


def changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(JOBS)
    assert response.status_code == 200
    return len(queries)


def test_changelist_reads_a_fixed_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    # given
    quick_jobs(3)
    few = changelist_queries(admin_client)
    quick_jobs(27)

    # when
    with django_assert_max_num_queries(8):
        response = admin_client.get(JOBS)

    # then
    assert len(response.context["cl"].result_list) == 30
    assert changelist_queries(admin_client) == few
    content = response.content.decode()
    assert content.count('alt="True"') == 10  # the failed third, refunded
    assert content.count('alt="False"') == 20


def ids_listed(client: Client, query: str) -> set[Any]:
    response = client.get(f"{JOBS}?{query}")
    assert response.status_code == 200
    return {job.pk for job in response.context["cl"].result_list}


def test_changelist_filters_and_searches(admin_client: Client, owner: User) -> None:
    # given
    kite = submit(owner)
    failed = end(submit(owner, prompt="A lighthouse at dusk"), JobStatus.FAILED)
    bob = UserFactory(username="bob")
    account_services.credits_grant(user=bob, amount=50, reason="test credits")
    omni = submit(bob, model=ModelCode.IMAGE_3_0_OMNI)

    # then
    assert ids_listed(admin_client, "status__exact=failed") == {failed.pk}
    assert ids_listed(admin_client, "model__exact=IMAGE_3_0_OMNI") == {omni.pk}
    assert ids_listed(admin_client, "provider__exact=local") == {kite.pk, failed.pk, omni.pk}
    assert ids_listed(admin_client, "q=bob") == {omni.pk}
    assert ids_listed(admin_client, "q=lighthouse") == {failed.pk}
    assert ids_listed(admin_client, f"q={str(kite.pk)[:8]}") == {kite.pk}
    assert ids_listed(admin_client, f"q={kite.pk}") == {kite.pk}


# --- Prices -------------------------------------------------------------------------------------


def edit_prices(client: Client, changes: dict[tuple[str, str], tuple[int, int]]) -> Any:
    """Post the changelist's editable rows, with `changes` applied."""
    formset = client.get(PRICES).context["cl"].formset
    data = {
        "form-TOTAL_FORMS": str(formset.total_form_count()),
        "form-INITIAL_FORMS": str(formset.initial_form_count()),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, form in enumerate(formset.forms):
        rule = form.instance
        base, per_second = changes.get(
            (rule.model, rule.mode), (rule.base_credits, rule.per_second_credits)
        )
        data |= {
            f"form-{i}-id": str(rule.pk),
            f"form-{i}-base_credits": str(base),
            f"form-{i}-per_second_credits": str(per_second),
        }
    return client.post(PRICES, data)


def test_staff_edit_prices_in_the_list_and_new_jobs_pay_them(
    admin_client: Client, owner: User
) -> None:
    # when
    response = edit_prices(admin_client, {("VIDEO_3_0_OMNI", "std"): (30, 5)})

    # then
    assert response.status_code == 302
    rule = PriceRule.objects.get(model="VIDEO_3_0_OMNI", mode="std")
    assert (rule.base_credits, rule.per_second_credits) == (30, 5)
    preview = services.generation_preview(
        owner=owner,
        request=services.JobRequest(model=ModelCode.VIDEO_3_0_OMNI, prompt=PROMPT, duration=5),
    )
    assert preview.price == 30 + 5 * 5


def test_an_image_price_per_second_is_refused(admin_client: Client) -> None:
    response = edit_prices(admin_client, {("IMAGE_O1", "-"): (3, 2)})

    assert response.status_code == 200
    assert "An image has no duration" in response.content.decode()
    rule = PriceRule.objects.get(model="IMAGE_O1", mode="-")
    assert (rule.base_credits, rule.per_second_credits) == (3, 0)


@pytest.mark.parametrize(
    ("mode", "error"),
    [("std", "Price rule with this Model and Mode already exists."), ("turbo", "offers the modes")],
)
def test_a_duplicate_or_unknown_mode_is_refused(
    admin_client: Client, mode: str, error: str
) -> None:
    count = PriceRule.objects.count()

    response = admin_client.post(
        reverse("admin:generation_pricerule_add"),
        {"model": "VIDEO_O1", "mode": mode, "base_credits": "1", "per_second_credits": "1"},
    )

    assert response.status_code == 200
    assert error in " ".join(response.context["adminform"].form.non_field_errors()) + " ".join(
        response.context["adminform"].form.errors.get("mode", [])
    )
    assert PriceRule.objects.count() == count


def test_a_rules_model_and_mode_are_not_editable(admin_client: Client) -> None:
    rule = PriceRule.objects.get(model="IMAGE_O1", mode="-")
    url = reverse("admin:generation_pricerule_change", args=[rule.pk])

    response = admin_client.post(
        url, {"model": "VIDEO_O1", "mode": "std", "base_credits": "9", "per_second_credits": "0"}
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.model, rule.mode, rule.base_credits) == ("IMAGE_O1", "-", 9)


def test_an_input_video_gets_a_player(admin_client: Client, owner: User) -> None:
    job = submit(owner)
    name = default_storage.save("jobs/inputs/clip.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"))
    clip = JobInput.objects.create(
        job=job, kind="video", position=1, file=name, width=1280, height=720
    )

    page = admin_client.get(reverse("admin:generation_generationjob_change", args=[job.pk]))
    response = admin_client.get(preview_url("input", clip.pk))

    content = page.content.decode()
    assert f'<video controls preload="metadata" src="{preview_url("input", clip.pk)}"' in content
    assert name not in content
    assert response["Content-Type"] == "video/mp4"
