"""The jobs and history screens: a job submitted through GraphQL and rendered by the server's
cluster is watched to the end on /jobs/<id>, played, one of its frames becomes a new element's
main image, it is shared to Explore; a queued job is canceled; a failed one shows its reason
and refund; /jobs and /history list them."""

from __future__ import annotations

import io
import re
from typing import Any
from unittest import mock
from urllib.parse import unquote

import pytest
from django.db import transaction
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import expect
from strawberry import relay

from accounts import services as account_services
from elements.models import Element, ImageOrigin, ImageRole
from generation import services
from generation.catalog import ModelCode
from generation.explore.models import ExploreWork
from generation.models import GenerationJob, GenerationOutput, JobStatus
from tests.factories import UserFactory
from tests.web.flows import TASK_TIMEOUT_MS, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Shot 1 (3s): A red apple on a wooden table. Shot 2 (2s): The camera pulls back slowly."

SUBMIT = """
mutation ($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id } }
    ... on OperationInfo { messages { field code message } }
  }
}"""


def graphql(page: Any, user: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL request from the page as an API client makes it (query text with a token: a
    browser session may only send the studio's trusted documents): the server's own cluster
    runs what it enqueues."""
    _, secret = account_services.api_token_create(user=user, name="e2e client")
    return page.evaluate(
        """async ([query, variables, secret]) => {
          const r = await fetch("/graphql", {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${secret}` },
            body: JSON.stringify({ query, variables }),
          });
          return await r.json();
        }""",
        [query, variables, secret],
    )


def queued_job(user: Any, prompt: str) -> GenerationJob:
    """A job that stays queued: submitted here with the hand-over to the workers left out."""
    with mock.patch("generation.tasks.enqueue_job"):
        return services.generation_submit(
            owner=user, request=services.JobRequest(model=ModelCode.VIDEO_3_0, prompt=prompt)
        )


def job_url(studio_url: str, job: GenerationJob | str) -> str:
    gid = job if isinstance(job, str) else str(relay.GlobalID("GenerationJob", str(job.pk)))
    return f"{studio_url}/jobs/{gid}"


def _difference(a: bytes, b: bytes) -> float:
    small = (96, 54)
    one = Image.open(io.BytesIO(a)).convert("RGB").resize(small)
    two = Image.open(io.BytesIO(b)).convert("RGB").resize(small)
    return sum(ImageStat.Stat(ImageChops.difference(one, two)).mean) / 3


def test_watch_play_reuse_a_frame_and_share(page: Any, studio_url: str, shoot: Any) -> None:
    user = UserFactory()
    account_services.credits_grant(user=user, amount=500, reason="top-up")
    log_in(page, studio_url, user)

    page.goto(f"{studio_url}/history")
    page.get_by_role("heading", name="Nothing made yet").wait_for()
    expect(page.get_by_role("link", name="Create your first video")).to_have_attribute(
        "href", "/create"
    )
    page.goto(f"{studio_url}/jobs")
    page.get_by_role("heading", name="No jobs yet").wait_for()
    shoot("jobs-empty")

    made = graphql(page, user, SUBMIT, {"input": {"model": "VIDEO_3_0", "prompt": PROMPT}})
    job_id = made["data"]["generationSubmit"]["job"]["id"]
    page.goto(job_url(studio_url, job_id))
    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_be_visible()
    page.get_by_role("list", name="Shots").wait_for()
    shoot("jobs-running")
    # Live: no reload, the page follows the job to its end.
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=TASK_TIMEOUT_MS)
    job = GenerationJob.objects.get(owner=user)
    assert job.status == JobStatus.SUCCEEDED
    output = GenerationOutput.objects.get(job=job)

    # The player: poster, controls, and it plays.
    video = page.locator("video")
    expect(video).to_have_attribute("controls", "")
    expect(video).to_have_attribute("poster", re.compile(r"."))
    page.evaluate("document.querySelector('video').muted = true")
    page.evaluate("document.querySelector('video').play()")
    page.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=15_000)
    page.evaluate("(v => { v.pause(); v.currentTime = 2; })(document.querySelector('video'))")
    page.wait_for_function("Math.abs(document.querySelector('video').currentTime - 2) < 0.01")
    download = page.get_by_role("link", name="Download")
    expect(download).to_have_attribute("download", re.compile(r"^a-red-apple.*\.mp4$"))
    shoot("jobs-done")

    # /jobs shows it done with its thumbnail; /history has it, linking to the job.
    page.goto(f"{studio_url}/jobs")
    card = page.get_by_test_id("job-card")
    expect(card).to_have_count(1)
    expect(card.get_by_text("Done")).to_be_visible()
    expect(card.get_by_text("Video 3.0")).to_be_visible()
    shoot("jobs-list")
    page.goto(f"{studio_url}/history")
    tile = page.get_by_test_id("history-tile")
    expect(tile).to_have_count(1)
    shoot("jobs-history")
    tile.click()
    page.wait_for_url(re.compile(r"/jobs/"))

    # Use the frame at 2 s as a new element's main image.
    page.locator("video").wait_for()
    page.evaluate(
        "(v => new Promise(ok => { v.addEventListener('seeked', ok, { once: true });"
        " v.currentTime = 2; }))(document.querySelector('video'))"
    )
    page.get_by_role("button", name="Use frame as element image").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Time (seconds)")).to_have_value("2")
    expect(dialog.get_by_role("radio", name="New element")).to_be_checked()
    dialog.get_by_role("textbox", name="Name", exact=True).fill("Red Apple")
    dialog.get_by_role("combobox", name="Type").select_option(label="Prop")
    shoot("jobs-use-frame")
    dialog.get_by_role("button", name="Use frame").click()
    page.wait_for_url(re.compile(r"/elements/"))
    element = Element.objects.get(owner=user, name="Red Apple")
    assert element.type == "prop"
    main = element.images.get(role=ImageRole.MAIN)
    assert main.origin == ImageOrigin.HISTORY
    frame_2 = services.output_still(owner=user, output_id=output.pk, at=2.0).getvalue()
    with main.image.open("rb") as f:
        assert _difference(f.read(), frame_2) < 12

    # Share it to Explore: a missing title is refused at the field, then it is shared.
    page.goto(job_url(studio_url, job_id))
    page.get_by_role("button", name="Share to Explore").click()
    dialog = page.get_by_role("dialog", name="Share to Explore")
    dialog.get_by_label("Title").fill("")
    dialog.get_by_role("button", name="Share").click()
    expect(dialog.get_by_text(re.compile("title", re.I)).last).to_be_visible()
    assert not ExploreWork.objects.exists()
    dialog.get_by_label("Title").fill("Apple on a table")
    dialog.get_by_label("Caption").fill("My first render.")
    dialog.get_by_role("button", name="Share").click()
    link = page.get_by_role("link", name="View in Explore")
    expect(link).to_be_visible()
    work = ExploreWork.objects.get(job=job)
    assert (work.title, work.caption, work.output_id) == (
        "Apple on a table",
        "My first render.",
        output.pk,
    )
    assert unquote(link.get_attribute("href")) == (
        f"/explore/{relay.GlobalID('ExploreWork', str(work.pk))}"
    )


def test_cancel_a_queued_job_and_a_failed_jobs_reason_and_refund(
    page: Any, studio_url: str, shoot: Any
) -> None:
    user = UserFactory()
    account_services.credits_grant(user=user, amount=500, reason="top-up")
    waiting = queued_job(user, "A paper boat drifts down a rainy street.")
    failing = queued_job(user, "A lighthouse in a storm at night.")
    with transaction.atomic():
        locked = GenerationJob.objects.select_for_update().get(pk=failing.pk)
        services.job_finish(
            locked,
            JobStatus.FAILED,
            code="RENDER_FAILED",
            message="The renderer stopped: the scene was too complex.",
        )
    log_in(page, studio_url, user)

    page.goto(f"{studio_url}/jobs")
    expect(page.get_by_test_id("job-card")).to_have_count(2)
    expect(page.get_by_text("Queued")).to_be_visible()

    page.goto(job_url(studio_url, failing))
    alert = page.get_by_role("alert").filter(has_text="This job failed")
    expect(alert).to_contain_text("The renderer stopped: the scene was too complex.")
    expect(alert).to_contain_text(f"Refunded {failing.credits_charged} credits")
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    shoot("jobs-failed")

    page.goto(job_url(studio_url, waiting))
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    page.get_by_role("button", name="Cancel job").click()
    confirm = page.get_by_role("dialog", name="Cancel this job?")
    shoot("jobs-cancel-confirm")
    confirm.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status").filter(has_text="Canceled.")).to_be_visible()
    expect(page.get_by_text(f"Refunded {waiting.credits_charged} credits")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.CANCELED
    assert waiting.debit is not None and hasattr(waiting.debit, "refunded_by")
    shoot("jobs-canceled")

    page.get_by_role("link", name="All jobs").click()
    expect(page.get_by_test_id("job-card").filter(has_text="Canceled")).to_have_count(1)
    expect(page.get_by_test_id("job-card").filter(has_text="Failed")).to_have_count(1)
    shoot("jobs-list-ended")
