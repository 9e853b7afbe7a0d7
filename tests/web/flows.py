"""Steps the browser tests share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

PASSWORD = "a-long-enough-passphrase"
# What a task produces (a processed video, AI multi-view images) comes from the server's
# cluster while the page polls: bounded, generously, as 2 cores run the browser, the server
# and its workers at once.
TASK_TIMEOUT_MS = 120_000


def sign_up(page: Any, studio_url: str, username: str) -> None:
    page.goto(f"{studio_url}/signup")
    page.get_by_role("heading", name="Create your studio account").wait_for()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/library"))
    page.get_by_role("heading", name="Element Library").wait_for()


def next_step(page: Any) -> None:
    page.get_by_role("button", name="Next").click()


def upload_main(page: Any, path: Path) -> None:
    page.get_by_label("Main image file").set_input_files(str(path))


def wait_suggestion(page: Any) -> None:
    page.get_by_text(re.compile(r"^Looks like an? ")).wait_for()


def make_video_character(
    page: Any, studio_url: str, video: Path, name: str, *, start: float = 1.0, end: float = 6.0
) -> None:
    """Up to pressing "Create character" on /elements/new/video."""
    page.goto(f"{studio_url}/elements/new/video")
    page.get_by_role("heading", name="Character from a video").wait_for()
    page.get_by_label("Video file").set_input_files(str(video))
    page.get_by_label("Start (s)").wait_for()
    page.get_by_label("End (s)").fill(str(end))
    page.get_by_label("Start (s)").fill(str(start))
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_label(re.compile("I may use this person's likeness")).check()
    page.get_by_role("button", name="Create character").click()


def log_in(page: Any, studio_url: str, user: Any) -> None:
    """Log in through /login as a user the test made (tests.factories' TEST_PASSWORD)."""
    from tests.factories import TEST_PASSWORD

    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))


def switch_user(page: Any, studio_url: str, user: Any) -> None:
    """Another person at the same browser: the session cookie gone, then their log-in."""
    page.context.clear_cookies()
    log_in(page, studio_url, user)


def open_create(page: Any) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Create").click()
    page.wait_for_url(re.compile(r"/create$"))
    expect(page.get_by_role("heading", name="Create", exact=True)).to_be_visible()
    # The catalog is in: the picker shows the chosen model's rules.
    expect(page.get_by_role("group", name=re.compile(r"rules$"))).to_be_visible()


def prompt_box(page: Any) -> Any:
    return page.get_by_role("textbox", name="Prompt")


def preview(page: Any) -> Any:
    return page.get_by_role("region", name="Preview")


def mention(page: Any, typed: str, name: str, *, keyboard: bool = True) -> None:
    """Type `@typed` and pick `name` from the Elements listbox (Enter, or a click)."""
    page.keyboard.type(f"@{typed}")
    listbox = page.get_by_role("listbox", name="Elements")
    option = listbox.get_by_role("option", name=name, exact=True)
    expect(option).to_be_visible()
    if keyboard:
        while option.get_attribute("aria-selected") != "true":
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
    else:
        option.click()
    expect(listbox).to_be_hidden()
