"""Issue 14's bad input, through the browser: each refusal shows at its field with the
service's message, what was entered stays, and nothing is left behind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import MembershipTier, User
from elements import services
from elements.models import Element, ReferenceImage, Voice
from tests.support.media import image_upload
from tests.support.photos import photo_upload
from tests.web.flows import PASSWORD, next_step, sign_up, upload_main, wait_suggestion
from tests.web.media import write_media

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    return write_media(tmp_path / "media")


def nothing_stored(username: str) -> None:
    assert not Element.objects.filter(owner__username=username).exists()
    assert not ReferenceImage.objects.filter(element__owner__username=username).exists()
    assert not Voice.objects.filter(owner__username=username).exists()


def main_image_error(page: Any) -> Any:
    return page.get_by_role("button", name="Main image", exact=True).and_(
        page.locator("[aria-invalid=true]")
    )


def test_bad_images_and_voices_are_refused_at_their_field(
    page: Any, studio_url: str, media: dict, shoot: Any
) -> None:
    sign_up(page, studio_url, "ivy")
    page.goto(f"{studio_url}/elements/new")

    # A text file named .png: the service's message under the drop area; no Next.
    upload_main(page, media["not-an-image.png"])
    expect(main_image_error(page)).to_be_visible()
    page.get_by_role("alert").filter(has_text=re.compile("image", re.I)).wait_for()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    shoot("bad-main-image")

    # A 200×200 image: too small, at the same place.
    upload_main(page, media["tiny.png"])
    page.get_by_role("alert").filter(has_text="300").wait_for()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()

    # A good one clears the error and moves on.
    upload_main(page, media["astronaut.jpg"])
    wait_suggestion(page)
    expect(page.get_by_role("alert")).to_have_count(0)
    next_step(page)
    next_step(page)

    page.get_by_text("Upload a sample").click()
    consent = page.get_by_label(re.compile("I have the right to use this voice"))
    for sample, words in (("voice-2s.wav", "2 s long"), ("voice-40s.wav", "40 s long")):
        page.get_by_label("Voice sample file").set_input_files(str(media[sample]))
        consent.check()
        page.get_by_role("button", name="Upload and use this voice").click()
        message = page.get_by_role("alert").filter(has_text=re.compile(words, re.I))
        message.wait_for()
        expect(page.get_by_role("button", name="Voice sample", exact=True)).to_have_attribute(
            "aria-invalid", "true"
        )
        shoot(f"bad-voice-{sample[:-4]}", widths=("phone",))
    nothing_stored("ivy")


def test_names_taken_or_with_a_bracket_limit_and_a_lost_session(
    page: Any, browser_context: Any, studio_url: str, media: dict, shoot: Any
) -> None:
    sign_up(page, studio_url, "noor")
    noor = User.objects.get(username="noor")
    services.element_create(
        owner=noor,
        name="Maya",
        element_type="character",
        main_image=photo_upload("astronaut"),
        extra_images=[image_upload()],
    )
    page.goto(f"{studio_url}/elements/new")
    upload_main(page, media["rocket.jpg"])
    wait_suggestion(page)
    next_step(page)
    page.get_by_role("radio", name=re.compile("^Prop")).check()
    next_step(page)
    page.get_by_label("Extra images file").set_input_files(str(media["astronaut-close.jpg"]))
    next_step(page)

    name = page.get_by_role("textbox", name="Name", exact=True)
    # Taken in another case: flagged while typing, and refused by the service at save.
    name.fill("MAYA")
    page.get_by_text("You already have an element named").wait_for()
    expect(name).to_have_attribute("aria-invalid", "true")
    shoot("bad-name-taken", widths=("desktop",))
    page.get_by_role("button", name="Create element").click()
    expect(name).to_have_value("MAYA")
    assert Element.objects.filter(owner=noor).count() == 1

    # A `]` can't be in a mention: the service says so at the name.
    name.fill("Rocket ]")
    page.get_by_role("button", name="Create element").click()
    page.get_by_text(re.compile(r"can't contain '\['")).wait_for()
    assert Element.objects.filter(owner=noor).count() == 1

    # Losing the session mid-wizard: sign in again in the dialog, the wizard carries on.
    name.fill("Rocket")
    browser_context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Create element").click()
    dialog = page.get_by_role("dialog", name="Your session has ended")
    dialog.wait_for()
    shoot("session-lost", widths=("desktop",))
    dialog.get_by_label("Username").fill("noor")
    dialog.get_by_label("Password", exact=True).fill(PASSWORD)
    dialog.get_by_role("button", name="Log in").click()
    expect(dialog).to_be_hidden()
    expect(name).to_have_value("Rocket")
    assert Element.objects.filter(owner=noor).count() == 1

    # At the tier limit (reached since the wizard opened): the service's reason, nothing made.
    _limit_to(noor, 1)
    page.get_by_role("button", name="Create element").click()
    page.get_by_role("alert").filter(has_text="limit of your tier").wait_for()
    shoot("bad-tier-limit", widths=("desktop",))
    assert Element.objects.filter(owner=noor).count() == 1

    # With the limit lifted the same entries go through: nothing had to be entered again.
    _limit_to(noor, 30)
    page.get_by_role("button", name="Create element").click()
    page.get_by_text("Element created.").wait_for()
    assert Element.objects.filter(owner=noor, name="Rocket").exists()


def _limit_to(user: Any, limit: int) -> None:
    from accounts.selectors import user_entitlements

    tier = user_entitlements(user).tier
    MembershipTier.objects.filter(pk=tier.pk).update(element_limit=limit)
