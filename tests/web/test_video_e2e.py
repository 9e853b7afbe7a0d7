"""A video character through the browser: upload, a 3–8 s window on the player, consent and a
name; then its keyframes and native voice (kept, then removed). A 9 s window and a video with
no face are refused, each where it belongs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from elements.models import Element, ElementStatus
from tests.web.flows import TASK_TIMEOUT_MS, make_video_character, sign_up
from tests.web.media import write_videos

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_videos(tmp_path_factory.mktemp("clips"))


def test_video_character_with_its_native_voice(
    page: Any, studio_url: str, clips: dict, shoot: Any
) -> None:
    sign_up(page, studio_url, "lena")
    page.get_by_role("link", name="From a video").first.click()
    page.get_by_role("heading", name="Character from a video").wait_for()
    shoot("video-empty")
    make_video_character(page, studio_url, clips["astronaut.webm"], "Astro", start=1, end=6)
    # The server's cluster processes the clip; the page polls until it is done.
    page.get_by_text("Element created.").wait_for()
    page.get_by_text("native voice from the video").wait_for(timeout=TASK_TIMEOUT_MS)
    shoot("video-element")
    element = Element.objects.get(owner__username="lena", name="Astro")
    assert element.status == ElementStatus.ACTIVE
    assert (element.trim_start, element.trim_end) == (1.0, 6.0)
    assert element.voice is not None
    expect(page.get_by_role("img", name="Astro, main image")).to_be_visible()

    # Remove the native voice: the character stays, silent, one version later.
    before = element.version
    expect(page.get_by_label(f"Version {before}")).to_be_visible()
    page.get_by_role("button", name="Unbind").click()
    page.get_by_text("No voice: this character won't speak.").wait_for()
    element.refresh_from_db()
    assert element.voice is None
    assert element.version == before + 1
    expect(page.get_by_label(f"Version {before + 1}")).to_be_visible()


def test_a_nine_second_window_and_a_video_with_no_face(
    page: Any, studio_url: str, clips: dict, shoot: Any
) -> None:
    sign_up(page, studio_url, "omar")
    make_video_character(page, studio_url, clips["astronaut.webm"], "Too long", start=0, end=9)
    page.get_by_text("9 s selected: the window must last 3–8 s.").wait_for()
    end = page.get_by_label("End (s)")
    expect(end).to_have_attribute("aria-invalid", "true")
    shoot("video-bad-window", widths=("desktop",))
    assert not Element.objects.filter(owner__username="omar").exists()

    make_video_character(page, studio_url, clips["coffee.webm"], "Coffee", start=0, end=5)
    page.get_by_role("alert").filter(has_text="could not be made").wait_for(timeout=TASK_TIMEOUT_MS)
    page.get_by_text(re.compile("NO_FACE")).wait_for()
    shoot("video-failed", widths=("desktop",))
    failed = Element.objects.get(owner__username="omar", name="Coffee")
    assert failed.status == ElementStatus.FAILED

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete element").click()
    page.wait_for_url(re.compile(r"/library$"))
    page.get_by_role("heading", name="Your library is empty").wait_for()
    assert not Element.objects.filter(owner__username="omar").exists()
