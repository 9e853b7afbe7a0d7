"""Steps the browser tests share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
