"""Issue 15's "done when", in Chromium, with two people at the studio.

Ana writes a three-shot prompt on /create with two elements picked through `@`, an attached
image and a line of dialogue; the preview shows the price and the shots; she generates,
watches the job to its end on /jobs/<id>, plays the video, turns its frame at 2 s into a new
element's main image and shares the output. Ben finds it in Explore and recreates it with a
new prompt text. Ana sees the recreation count grow on the work's page and the usage on her
element's page. Screenshots of each screen at 1400 and 390 px go to tests/web/screenshots/
(journey-*.png).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from accounts.selectors import credit_balance
from accounts.services import credits_grant
from elements.models import Element, ImageOrigin, ImageRole
from generation.explore.models import ExploreWork
from generation.models import GenerationJob, JobStatus
from tests.factories import UserFactory
from tests.support.jobs import library_owner
from tests.web.flows import (
    TASK_TIMEOUT_MS,
    log_in,
    mention,
    open_create,
    preview,
    prompt_box,
    switch_user,
)
from tests.web.media import write_media

pytestmark = pytest.mark.django_db(transaction=True)

WORK_TITLE = "Lunch in Tokyo"
# A recreation changes the words around the mentions, not the mentions themselves.
NEW_PROMPT = (
    "Shot 1 (2s): [@Little Scholar] runs along [@Tokyo Street] at dusk. Shot 2 (2s): "
    '[@Little Scholar] says, "Dinner is late again." Shot 3 (1s): The camera tilts up to '
    "[@Image1]"
)


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    return write_media(tmp_path / "media")


def test_two_users_from_a_prompt_to_a_recreation(
    page: Any, studio_url: str, media: dict, shoot: Any
) -> None:
    ana = library_owner(UserFactory(username="ana"), credits=500)
    ben = UserFactory(username="ben")
    credits_grant(user=ben, amount=300, reason="top-up")

    # --- Ana: a three-shot prompt with two elements through @, an image, a line ------------
    log_in(page, studio_url, ana)
    open_create(page)
    page.get_by_label("Model").select_option("VIDEO_3_0_OMNI")
    prompt_box(page).click()
    page.keyboard.type("Shot 1 (2s): ")
    mention(page, "Litt", "Little Scholar")
    page.keyboard.type("walks down ")
    mention(page, "tok", "Tokyo Street", keyboard=False)
    page.keyboard.type(
        'at noon. Shot 2 (2s): [@Little Scholar] says, "I see food and I eat it." '
        "Shot 3 (1s): The camera pans left to "
    )
    page.get_by_label("Attach images").set_input_files(str(media["rocket.jpg"]))
    expect(page.get_by_role("img", name="Image1")).to_be_visible()
    region = preview(page)
    price_text = region.get_by_text(re.compile(r"^Price: \d+ credits$"))
    expect(price_text).to_be_visible()
    shots = region.get_by_role("list", name="Shots").get_by_role("listitem")
    expect(shots).to_have_count(3)
    expect(shots.nth(2)).to_contain_text("Shot 3 · 1 s · pan left")
    lines = region.get_by_role("list", name="Lines").get_by_role("listitem")
    expect(lines.first).to_contain_text("has a voice")
    expect(region.get_by_text("Ready to generate.")).to_be_visible()
    price = int(re.search(r"\d+", price_text.inner_text()).group())  # type: ignore[union-attr]
    shoot("journey-1-create")

    balance = credit_balance(ana)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url(re.compile(r"/jobs/[^/]+$"))
    job = GenerationJob.objects.get(owner=ana)
    assert credit_balance(ana) == balance - price
    job_path = unquote(page.url.split(studio_url, 1)[1])

    # --- Ana watches it to the end and plays it -------------------------------------------
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    shoot("journey-2-job-running")
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=TASK_TIMEOUT_MS)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    page.evaluate("document.querySelector('video').muted = true")
    page.evaluate("document.querySelector('video').play()")
    page.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=15_000)
    shoot("journey-3-job-done")

    # --- Its frame at 2 s becomes a new element's main image ------------------------------
    page.evaluate(
        "(v => new Promise(ok => { v.pause(); v.addEventListener('seeked', ok, { once: true });"
        " v.currentTime = 2; }))(document.querySelector('video'))"
    )
    page.get_by_role("button", name="Use frame as element image").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Time (seconds)")).to_have_value("2")
    dialog.get_by_role("radio", name="New element").check()
    dialog.get_by_role("textbox", name="Name", exact=True).fill("Noon Street")
    dialog.get_by_role("combobox", name="Type").select_option(label="Scene")
    shoot("journey-4-use-frame")
    dialog.get_by_role("button", name="Use frame").click()
    page.wait_for_url(re.compile(r"/elements/"))
    frame_element = Element.objects.get(owner=ana, name="Noon Street")
    main = frame_element.images.get(role=ImageRole.MAIN)
    assert main.origin == ImageOrigin.HISTORY
    shoot("journey-5-new-element")

    # --- Ana shares the output ------------------------------------------------------------
    page.goto(f"{studio_url}{job_path}")
    page.get_by_role("button", name="Share to Explore").click()
    dialog = page.get_by_role("dialog", name="Share to Explore")
    dialog.get_by_label("Title").fill(WORK_TITLE)
    dialog.get_by_label("Caption").fill("He means it.")
    dialog.get_by_role("button", name="Share").click()
    explore_link = page.get_by_role("link", name="View in Explore")
    expect(explore_link).to_be_visible()
    work_href = explore_link.get_attribute("href")
    work = ExploreWork.objects.get(job=job)
    assert work.recreate_count == 0

    # --- Ben finds it in Explore and recreates it with a new prompt -----------------------
    switch_user(page, studio_url, ben)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Explore").click()
    card = page.get_by_role("link", name=re.compile(f"^{WORK_TITLE}, by "))
    expect(card).to_be_visible()
    shoot("journey-6-explore")
    card.click()
    page.get_by_role("heading", name=WORK_TITLE).wait_for()
    expect(page.get_by_text("Recreations: 0")).to_be_visible()
    shoot("journey-7-work")
    ben_balance = credit_balance(ben)
    page.get_by_role("button", name="Recreate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Prompt", exact=True).fill(NEW_PROMPT)
    shoot("journey-8-recreate")
    dialog.get_by_role("button", name="Recreate").click()
    page.wait_for_url(re.compile(r"/jobs/[^/]+$"))
    recreation = GenerationJob.objects.get(owner=ben)
    assert recreation.prompt == NEW_PROMPT
    assert credit_balance(ben) < ben_balance
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    # Wait for Ben's job to end on the server before the database goes away.
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=TASK_TIMEOUT_MS)

    # --- Ana sees the recreation count grow, and the usage on her element's page ----------
    switch_user(page, studio_url, ana)
    work.refresh_from_db()
    assert work.recreate_count == 1
    page.goto(f"{studio_url}{work_href}")
    page.get_by_role("heading", name=WORK_TITLE).wait_for()
    expect(page.get_by_text("Recreations: 1")).to_be_visible()
    shoot("journey-9-recreated")
    page.goto(f"{studio_url}/library")
    page.get_by_test_id("element-card").filter(has_text="Little Scholar").first.click()
    page.wait_for_url(re.compile(r"/elements/"))
    usage = page.get_by_role("heading", name="Where it was used").locator("xpath=..")
    expect(usage).to_contain_text("1 job")
    expect(usage).to_contain_text("1 shared work ·")
    expect(usage).to_contain_text("recreated 1 time")
    shoot("journey-10-element-usage")
