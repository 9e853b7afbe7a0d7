"""Issue 14's "done when", in Chromium: sign up → a character with 3 images and an uploaded
voice → a prop from one image with AI multi-view → a video character → search and filter the
library → edit an element and see its version rise → delete one. Screenshots of each screen
at 1400 and 390 px go to tests/web/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from elements.models import Element, ImageOrigin, Voice
from tests.web.flows import (
    TASK_TIMEOUT_MS,
    make_video_character,
    next_step,
    sign_up,
    upload_main,
    wait_suggestion,
)
from tests.web.media import write_media, write_videos

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    return write_media(tmp_path / "media")


def cards(page: Any) -> Any:
    return page.get_by_test_id("element-card")


def test_the_studio_from_sign_up_to_delete(page: Any, studio_url: str, media: dict, shoot: Any):
    sign_up(page, studio_url, "maya")
    # Staff's part: a top-up on top of the signup grant, for the paid AI multi-view.
    maya_user = User.objects.get(username="maya")
    credits_grant(user=maya_user, amount=20, reason="top-up")
    balance = credit_balance(maya_user)

    # --- a character with 3 images and an uploaded voice ---------------------------------
    page.get_by_role("link", name="Create your first element").click()
    page.get_by_role("heading", name="Start with the main image").wait_for()
    shoot("wizard-1-empty")
    upload_main(page, media["astronaut.jpg"])
    wait_suggestion(page)
    shoot("wizard-1-image")
    next_step(page)
    page.get_by_role("heading", name="What is it?").wait_for()
    expect(page.get_by_role("radio", name=re.compile("^Character"))).to_be_checked()
    page.get_by_text("1 frontal face").wait_for()
    shoot("wizard-2-type")
    next_step(page)

    page.get_by_role("heading", name="Give your character a voice").wait_for()
    page.get_by_text("Upload a sample").click()
    page.get_by_label("Voice sample file").set_input_files(str(media["voice.wav"]))
    page.get_by_label("Voice name").fill("Maya's voice")
    page.get_by_label(re.compile("I have the right to use this voice")).check()
    page.get_by_role("button", name="Upload and use this voice").click()
    page.get_by_text("Uploaded to your voices").wait_for()
    shoot("wizard-3-voice")
    next_step(page)

    page.get_by_role("heading", name="Add more angles").wait_for()
    page.get_by_label("Extra images file").set_input_files(
        [str(media["astronaut-close.jpg"]), str(media["astronaut-mirror.jpg"])]
    )
    page.get_by_role("img", name="Extra image 2").wait_for()
    shoot("wizard-4-more")
    next_step(page)

    page.get_by_role("heading", name="Name and describe it").wait_for()
    page.get_by_role("textbox", name="Name", exact=True).fill("Maya")
    page.get_by_role("textbox", name="Description").fill(
        "An astronaut in a white suit, the flag behind."
    )
    shoot("wizard-5-details")
    page.get_by_role("button", name="Create element").click()
    page.get_by_text("Element created.").wait_for()
    page.get_by_text("(3 of 4)").wait_for()
    page.get_by_text("Maya's voice").wait_for()
    shoot("element-page")

    maya = Element.objects.get(owner__username="maya", name="Maya")
    assert maya.images.count() == 3
    assert maya.voice is not None and maya.voice.name == "Maya's voice"
    assert maya.version == 1

    # --- a prop from one image with AI multi-view ------------------------------------------
    page.goto(f"{studio_url}/elements/new")
    upload_main(page, media["rocket.jpg"])
    wait_suggestion(page)
    next_step(page)
    page.get_by_role("radio", name=re.compile("^Prop")).check()
    next_step(page)
    page.get_by_role("heading", name="Add more angles").wait_for()
    page.get_by_text(f"5 credits (you have {balance})").wait_for()
    page.get_by_label(re.compile("AI multi-view completion")).check()
    next_step(page)
    page.get_by_role("textbox", name="Name", exact=True).fill("Rocket")
    page.get_by_role("button", name="Create element").click()
    page.get_by_text("Element created.").wait_for()
    page.get_by_text("(4 of 4)").wait_for(timeout=TASK_TIMEOUT_MS)
    rocket = Element.objects.get(owner__username="maya", name="Rocket")
    origins = sorted(rocket.images.values_list("origin", flat=True))
    assert origins == sorted([ImageOrigin.UPLOAD] + [ImageOrigin.MULTIVIEW] * 3)
    assert rocket.type == "prop"

    # --- a video character ---------------------------------------------------------------
    clips = write_videos(media["astronaut.jpg"].parent / "clips")
    make_video_character(page, studio_url, clips["astronaut.webm"], "Astro", start=2, end=7)
    page.get_by_text("Element created.").wait_for()
    page.get_by_text("native voice from the video").wait_for(timeout=TASK_TIMEOUT_MS)
    assert Element.objects.get(owner__username="maya", name="Astro").status == "active"

    # --- the library: search and filter ------------------------------------------------------
    page.get_by_role("link", name="Back to the library").click()
    expect(cards(page)).to_have_count(3)
    page.get_by_text("3 of").wait_for()
    shoot("library")
    page.get_by_label("Search").fill("rock")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_have_accessible_name(re.compile("^Rocket"))
    page.get_by_label("Search").fill("")
    expect(cards(page)).to_have_count(3)
    page.get_by_role("combobox", name="Type").click()
    page.get_by_role("option", name="Character").click()
    expect(cards(page)).to_have_count(2)
    page.get_by_role("combobox", name="Sort").click()
    page.get_by_role("option", name="Name A–Z").click()
    expect(cards(page).first).to_have_accessible_name(re.compile("^Astro"))
    expect(cards(page).nth(1)).to_have_accessible_name(re.compile("^Maya"))
    shoot("library-filtered")

    # --- edit and see the version rise ------------------------------------------------------
    cards(page).nth(1).click()
    page.get_by_role("heading", name="Maya").wait_for()
    expect(page.get_by_label("Version 1")).to_be_visible()
    page.get_by_role("textbox", name="Description").fill("An astronaut in a white suit, smiling.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_label("Version 2")).to_be_visible()
    maya.refresh_from_db()
    assert (maya.version, maya.description) == (2, "An astronaut in a white suit, smiling.")

    # --- delete one --------------------------------------------------------------------------
    page.goto(f"{studio_url}/elements/{_gid(rocket)}")
    page.get_by_role("button", name="Delete").click()
    shoot("delete-confirm", widths=("desktop",))
    page.get_by_role("button", name="Delete element").click()
    page.wait_for_url(re.compile(r"/library$"))
    expect(cards(page)).to_have_count(2)
    assert not Element.objects.filter(pk=rocket.pk).exists()
    # Maya's uploaded sample and Astro's native voice.
    assert Voice.objects.filter(owner__username="maya").count() == 2


def _gid(element: Element) -> str:
    from strawberry import relay

    return str(relay.GlobalID("Element", str(element.pk)))
