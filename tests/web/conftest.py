"""End-to-end tests of the web studio in real headless Chromium (Debian's `chromium`).

The server is a real `manage.py serve --host 127.0.0.1 --port <free>` (granian and both
django-q2 clusters, tests/live_serve.py), started once a session on this run's test database,
media folder and Redis: what a browser flow does is committed by the server and its task
workers, so the tests use `django_db(transaction=True)` and poll the page for what a task
produces, and their "nothing left behind" checks read the same rows and files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import global_settings, settings
from django.db import connections

from generation.webhooks.tasks import WEBHOOK_QUEUE_SUFFIX
from tests.conftest import service_missing
from tests.live_serve import MARKER, Served, free_port, wait_for
from tests.support import clusters
from tests.web.flows import TASK_TIMEOUT_MS

# Playwright's sync API runs an event loop in this thread; the test's own ORM checks are
# synchronous and safe.
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
# Starting granian and two clusters while the test process holds a browser: 2 shared cores.
START_TIMEOUT = 90.0
SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture(autouse=True, scope="session")
def _flush_outlasts_a_finishing_task() -> Iterator[None]:
    """A task the server's workers took just before a test ended (an image's descriptors,
    then its likeness check) may still be writing when the test's database is flushed
    (`studio_url` waits for the queues, not for a task already taken). On PostgreSQL its
    transaction, which locks a table and then another, and the flush's TRUNCATE of every
    table can deadlock; PostgreSQL cancels one of the two. The flush is tried again a moment
    later, when the task is done (seen once in a CI run of about 1,800 tests)."""
    from django.core.management.base import CommandError
    from django.core.management.commands import flush
    from django.db.utils import OperationalError

    original = flush.Command.handle

    def handle(self: Any, *args: Any, **options: Any) -> Any:
        for attempt in range(5):
            try:
                return original(self, *args, **options)
            except CommandError as exc:
                cause = exc.__cause__
                deadlock = isinstance(cause, OperationalError) and "deadlock" in str(cause)
                if not deadlock or attempt == 4:
                    raise
                time.sleep(0.5)
        return None

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def studio_built() -> Path:
    dist = Path(settings.WEB_DIST)
    if not (dist / "index.html").is_file() or not (dist / "graphiql.html").is_file():
        service_missing(
            f"the web studio is not built in {dist}: run `npm ci && npm run build` in web/"
        )
    return dist


@dataclass
class StudioServer:
    served: Served
    process: subprocess.Popen[bytes]
    url: str
    cluster_name: str


def other_sessions() -> int:
    """Sessions on the test database other than this process's own (PostgreSQL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@pytest.fixture(scope="session")
def studio_server(
    studio_built: Path,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StudioServer]:
    """One `manage.py serve` for the session: starting granian and two clusters takes seconds.

    Sharing it is safe because it keeps no state of its own between tests: every row is in the
    test database (flushed after each test, sequences reset, seeds written again), every file
    in the shared MEDIA_ROOT, and a test waits for the outcome of every task it starts."""
    with django_db_blocker.unblock():
        clusters.require_broker_server()
        # A cluster name of its own: no other cluster on the same Redis takes its tasks.
        name = f"elementsite-e2e-{uuid.uuid4().hex[:10]}"
        env = clusters.cluster_env(
            name,
            LOG_LEVEL="INFO",  # Served.wait_until_ready reads the clusters' "running." lines
            # As in production (DEBUG turns it off): the studio's session may send only its
            # own operations by id, so every browser test shows the studio works that way.
            GRAPHQL_TRUSTED_DOCUMENTS_ONLY="1",
            **{MARKER: uuid.uuid4().hex},
        )
    served = Served(env, tmp_path_factory.mktemp("studio-serve") / "serve.log")
    port = free_port()
    process = served.start(port, "--web-workers", "1", "--web-threads", "8")
    try:
        served.wait_until_ready(process, port, timeout=START_TIMEOUT)
        yield StudioServer(served, process, f"http://127.0.0.1:{port}", name)
        assert process.poll() is None, f"serve died during the tests:\n{served.output()}"
        assert served.stop(process) == 0, served.output()
        with django_db_blocker.unblock():
            # A PostgreSQL backend outlives its client by a moment: the test database can only
            # be dropped once the server's sessions are gone.
            wait_for(lambda: not other_sessions(), 15, "the server's database sessions to end")
    finally:
        served.cleanup(process)
        with django_db_blocker.unblock(), clusters.open_broker(name):
            pass  # purges both queues: nothing left on a shared Redis


@pytest.fixture(autouse=True)
def _server_password_hashers(settings: Any) -> None:
    """Users a test makes directly must be able to log in to the server, which runs the real
    settings (Django's default hashers), not the test settings' fast MD5."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture
def studio_url(studio_server: StudioServer, transactional_db: None) -> Iterator[str]:
    if studio_server.process.poll() is not None:
        pytest.fail(
            f"serve exited ({studio_server.process.returncode}):\n{studio_server.served.output()}"
        )
    yield studio_server.url
    # Torn down before transactional_db flushes the database: a task still queued would run
    # against the next test's rows.
    from django_q.brokers import get_broker

    queues = [
        get_broker(list_key=studio_server.cluster_name + suffix)
        for suffix in ("", WEBHOOK_QUEUE_SUFFIX)
    ]
    wait_for(
        lambda: all(queue.queue_size() == 0 for queue in queues),
        TASK_TIMEOUT_MS / 1000,
        "the server's queues to empty",
    )


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
        context = launch_context(playwright, profile, studio_url)
        outside = context.outside_requests
        # For a second person's own browser in the same test (second_page).
        context.playwright = playwright  # type: ignore[attr-defined]
        try:
            yield context
        finally:
            # While Playwright runs, the test's ORM queries open a connection of their own (a
            # context of Playwright's), which nothing else closes: on PostgreSQL it would keep
            # the test database from being dropped at the end of the run.
            connections.close_all()
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
    assert outside.attempted == [], f"pages tried to load from outside: {outside.attempted}"


def launch_context(playwright: Any, profile: Path, studio_url: str) -> Any:
    """A fresh Chromium profile that may load only from the service (see OutsideRequests)."""
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
    return context


@pytest.fixture
def second_page(browser_context: Any, tmp_path: Path, studio_url: str) -> Iterator[Any]:
    """A page in a second browser (its own profile and cookies): another person at another
    computer, side by side with `page`."""
    profile = tmp_path / "chromium-profile-2"
    context = launch_context(browser_context.playwright, profile, studio_url)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        connections.close_all()
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert errors == [], f"uncaught errors in the second page: {errors}"
    assert context.outside_requests.attempted == [], context.outside_requests.attempted


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
