"""The library with 150 elements in Chromium: one GraphQL request per page of cards, and how
long the first page takes to be interactive after navigation (measured and printed, written
to tests/web/screenshots/library-perf.json; not a timed assertion)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from playwright.sync_api import expect

from elements.models import Element, ReferenceImage
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.media import image_bytes
from tests.web.conftest import SCREENSHOTS
from tests.web.operations import operation_of

pytestmark = pytest.mark.django_db(transaction=True)

ELEMENTS = 150


def seed(user: Any) -> None:
    """Rows only, all pointing at one real image and thumbnail, like bench/listing.py."""
    image = default_storage.save("elements/perf.jpg", ContentFile(image_bytes(640, 800)))
    thumb = default_storage.save("elements/thumbs/perf.jpg", ContentFile(image_bytes(320, 400)))
    now = timezone.now()
    elements = Element.objects.bulk_create(
        Element(
            owner=user,
            name=f"Perf element {n:03d}",
            type="character" if n % 2 else "prop",
            description=f"Element number {n}.",
            updated_at=now - datetime.timedelta(seconds=n),
        )
        for n in range(ELEMENTS)
    )
    ReferenceImage.objects.bulk_create(
        ReferenceImage(
            element=element,
            role="main" if position == 0 else "extra",
            position=position,
            image=image,
            thumbnail=thumb,
            width=640,
            height=800,
            sha256=f"{element.pk:064d}",
        )
        for element in elements
        for position in range(2)
    )


def test_library_of_150_one_request_per_page(page: Any, studio_url: str) -> None:
    user = UserFactory()
    seed(user)
    operations: list[str] = []

    def record(request: Any) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            # By id, never by text (trusted documents): the name comes from the build's list.
            operations.append(operation_of(request.post_data or ""))

    page.on("request", record)
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))
    expect(page.get_by_test_id("element-card")).to_have_count(24)

    # Navigate away and back inside the app, and time the library coming back.
    page.get_by_role("link", name="Voices").first.click()
    page.get_by_role("heading", name="Voices", exact=True).wait_for()
    operations.clear()
    started = page.evaluate("performance.now()")
    page.get_by_role("link", name="Library").first.click()
    page.get_by_role("button", name="Load more").wait_for()
    expect(page.get_by_test_id("element-card")).to_have_count(24)
    page.get_by_test_id("element-card").last.hover(trial=True)  # laid out and actionable
    interactive_ms = page.evaluate("performance.now()") - started
    first_page_requests = operations.count("LibraryPage")

    operations.clear()
    page.get_by_role("button", name="Load more").click()
    expect(page.get_by_test_id("element-card")).to_have_count(48)
    assert operations.count("LibraryPage") == 1
    assert first_page_requests <= 1  # 0 when the cached page is shown and revalidated
    page.get_by_text(f"{ELEMENTS} elements", exact=True).wait_for()

    # A cold load of `/` (it shows the library): all 24 cards from one request, and the
    # JavaScript it took, as sent (gzipped): every request goes through the outside-network
    # guard (a Playwright route), which also keeps the HTTP cache out of the way.
    operations.clear()
    scripts: list[Any] = []
    cold = page.context.new_page()
    cold.on("request", record)
    cold.on("response", lambda r: scripts.append(r) if r.url.endswith(".js") else None)
    cold.goto(f"{studio_url}/")
    expect(cold.get_by_test_id("element-card")).to_have_count(24)
    cold_ms = cold.evaluate("performance.now()")
    js_bytes = sum(r.request.sizes()["responseBodySize"] for r in scripts)
    encodings = {r.headers.get("content-encoding") for r in scripts}
    cold.close()
    assert operations.count("LibraryPage") == 1
    assert "ElementDetail" not in operations
    assert encodings == {"gzip"}
    assert js_bytes <= 250 * 1024, f"{js_bytes / 1024:.1f} kB of JavaScript on the first load"

    result = {
        "elements": ELEMENTS,
        "in_app_navigation_to_interactive_ms": round(interactive_ms),
        "cold_load_to_24_cards_ms": round(cold_ms),
        "first_load_js_gzipped_kb": round(js_bytes / 1024, 1),
        "first_load_js_files": len(scripts),
        "library_requests_per_page": 1,
    }
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "library-perf.json").write_text(json.dumps(result, indent=2))
    print(result)
