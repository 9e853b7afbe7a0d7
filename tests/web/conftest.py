"""End-to-end tests of the web studio in real headless Chromium (Debian's `chromium`).

The server is the project's WSGI app in a thread on a free port (pytest-django's live
server), on the test database, with tasks run inline (tests/settings.py): a browser flow and the
database checks of "nothing left behind" see the same rows. To drive a `manage.py serve`
process instead, change `studio_url` only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.conftest import service_missing

# Playwright's sync API runs an event loop in this thread; the test's own ORM checks are
# synchronous and safe (the server runs in its own thread without a loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture(scope="session")
def studio_built() -> Path:
    dist = Path(settings.WEB_DIST)
    if not (dist / "index.html").is_file() or not (dist / "graphiql.html").is_file():
        service_missing(
            f"the web studio is not built in {dist}: run `npm ci && npm run build` in web/"
        )
    return dist


@pytest.fixture
def studio_url(live_server: Any, studio_built: Path) -> str:
    return str(live_server.url)


class OutsideRequests:
    """Blocks every request that leaves the service and remembers what was tried."""

    def __init__(self, allowed_host: str) -> None:
        self.allowed_host = allowed_host
        self.attempted: list[str] = []

    def __call__(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob"} or parts.hostname == self.allowed_host:
            route.continue_()
        else:
            self.attempted.append(url)
            route.abort()


@pytest.fixture
def browser_context(tmp_path: Path, studio_url: str) -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("python playwright is not installed: pip install -e '.[dev]'")
    profile = tmp_path / "chromium-profile"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
            locale="en-US",
        )
        context.set_default_timeout(20_000)
        outside = OutsideRequests(urlsplit(studio_url).hostname or "127.0.0.1")
        context.route("**/*", outside)
        context.outside_requests = outside  # type: ignore[attr-defined]
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
    assert outside.attempted == [], f"pages tried to load from outside: {outside.attempted}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser_context: Any, request: pytest.FixtureRequest) -> Any:
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    if request.node.stash.get(FAILED, False):
        # What the browser showed when the test failed, next to the other screenshots.
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def shoot(page: Any) -> Callable[[str], None]:
    """Screenshots of the current screen at 1400 and 390 px into tests/web/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str, widths: tuple[str, ...] = ("desktop", "phone")) -> None:
        original = page.viewport_size
        for label in widths:
            width, height = WIDTHS[label]
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(250)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        if original:
            page.set_viewport_size(original)

    return take
