"""Issue 15's Explore screens in Chromium, with two users: Ada's shared work (made through the
service layer, as tests/support/explore.py does) appears in Bob's feed; Bob recreates it with
his own words (one job of his, one debit) and reports it; a work staff hid while Bob had its
page open is refused with the reason; Ada sees "Recreations: 1", can't report her own work,
and unshares it from /explore/mine. Screenshots at 1400 and 390 px go to tests/web/screenshots/."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import CreditLedgerEntry, LedgerKind, User
from accounts.services import credits_grant
from generation.explore import services as explore_services
from generation.explore.models import ExploreReport, ExploreWork, WorkStatus
from generation.models import GenerationJob, JobStatus
from tests.support.explore import PROMPT, make_job, make_work
from tests.web.flows import PASSWORD, TASK_TIMEOUT_MS, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PROMPT = (
    "Shot 1 (2s): [@Little Scholar] tiptoes past the sofa in [@Image1]. "
    'Shot 2 (2s): [@Little Scholar] whispers, "Second lunch."'
)
HIDE_REASON = "Shows a real person's face without consent."


def log_out(page: Any, username: str) -> None:
    page.get_by_role("button", name=f"Account menu for {username}").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))


def log_in(page: Any, studio_url: str, username: str) -> None:
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))


def debits(user: User) -> int:
    return CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.DEBIT).count()


def wait_finished(job: GenerationJob) -> None:
    """The server's cluster runs the recreation: it ends before the test's rows are flushed."""
    deadline = time.monotonic() + TASK_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}:
            return
        time.sleep(0.5)
    raise AssertionError(f"the recreation is still {job.status}")


def test_two_users_share_recreate_report_hide_and_unshare(
    page: Any, studio_url: str, django_capture_on_commit_callbacks: Any, shoot: Any
) -> None:
    # --- Ada shares two works (the service layer, as a finished job's "Share" does) -------
    sign_up(page, studio_url, "ada")
    ada = User.objects.get(username="ada")
    job = make_job(ada, django_capture_on_commit_callbacks)
    lunch = explore_services.generation_share(
        owner=ada,
        job_id=job.pk,
        output_id=job.outputs.get().pk,
        title="Lunch",
        caption="He means it.",
    )
    sunset = make_work(ada, django_capture_on_commit_callbacks, title="Sunset")
    log_out(page, "ada")

    # --- Bob finds Ada's work in his feed --------------------------------------------------
    sign_up(page, studio_url, "bob")
    bob = User.objects.get(username="bob")
    credits_grant(user=bob, amount=500, reason="test credits")
    bob_debits = debits(bob)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Explore").click()
    page.wait_for_url(re.compile(r"/explore$"))
    page.get_by_role("heading", name="Explore", exact=True).wait_for()
    card = page.get_by_role("link", name=re.compile(r"^Lunch"))
    expect(card).to_contain_text("ada")
    expect(page.get_by_role("link", name=re.compile(r"^Sunset"))).to_be_visible()
    page.get_by_text("Most recreated", exact=True).click()
    page.wait_for_url(re.compile(r"order=MOST_RECREATED"))
    expect(card).to_be_visible()
    shoot("explore-feed")
    # Both works are videos: the image filter empties the feed and says what to do.
    page.get_by_role("combobox", name="Kind").click()
    page.get_by_role("option", name="Image", exact=True).click()
    page.wait_for_url(re.compile(r"kind=IMAGE"))
    page.get_by_role("heading", name="No works match").wait_for()
    page.get_by_role("button", name="Clear filters").click()
    expect(card).to_be_visible()

    card.click()
    page.wait_for_url(re.compile(r"/explore/[^/]+$"))
    page.get_by_role("heading", name="Lunch").wait_for()
    page.get_by_text("Recreations: 0", exact=True).wait_for()
    page.get_by_text("He means it.", exact=True).wait_for()
    expect(page.get_by_label("Prompt of the work")).to_have_text(PROMPT)
    shoot("explore-work")

    # --- Bob recreates it with his own words: one job of his, one debit ------------------
    page.get_by_role("button", name="Recreate").click()
    dialog = page.get_by_role("dialog")
    prompt = dialog.get_by_label("Prompt")
    expect(prompt).to_have_value(PROMPT)
    expect(prompt).to_be_focused()
    prompt.fill(NEW_PROMPT)
    shoot("explore-recreate-dialog")
    dialog.get_by_role("button", name="Recreate").click()
    page.wait_for_url(re.compile(r"/jobs/[^/]+$"))
    job = GenerationJob.objects.get(owner=bob)
    assert job.prompt == NEW_PROMPT
    assert job.explore_recreation.work_id == lunch.pk
    assert debits(bob) == bob_debits + 1
    lunch.refresh_from_db()
    assert lunch.recreate_count == 1
    wait_finished(job)

    # --- Bob reports it, with a reason ---------------------------------------------------
    page.go_back()
    page.get_by_role("heading", name="Lunch").wait_for()
    page.get_by_text("Recreations: 1", exact=True).wait_for()
    page.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name="Spam or misleading").check()
    shoot("explore-report-dialog")
    dialog.get_by_role("button", name="Send report").click()
    page.get_by_text("Thanks: your report was sent.").wait_for()
    report = ExploreReport.objects.get(work=lunch)
    assert (report.reporter_id, report.reason) == (bob.pk, "Spam or misleading")

    # --- staff hide the other work while Bob has its page open --------------------------
    page.goto(f"{studio_url}/explore")
    page.get_by_role("link", name=re.compile(r"^Sunset")).click()
    page.get_by_role("heading", name="Sunset").wait_for()
    staff = User.objects.create_user(username="moderator", password=PASSWORD, is_staff=True)
    explore_services.explore_work_hide(staff=staff, work=sunset, reason=HIDE_REASON)
    page.get_by_role("button", name="Recreate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Recreate").click()
    expect(dialog.get_by_role("alert")).to_contain_text("This work was hidden by moderation.")
    expect(dialog.get_by_role("alert")).to_contain_text("This work can't be recreated any more")
    expect(dialog.get_by_role("button", name="Recreate")).to_be_disabled()
    shoot("explore-recreate-hidden")
    assert GenerationJob.objects.filter(owner=bob).count() == 1
    assert debits(bob) == bob_debits + 1
    page.keyboard.press("Escape")
    log_out(page, "bob")

    # --- Ada sees the recreation, can't report her own work, and unshares it --------------
    log_in(page, studio_url, "ada")
    page.goto(f"{studio_url}/explore")
    expect(page.get_by_role("link", name=re.compile(r"^Sunset"))).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Lunch")).click()
    page.get_by_text("Recreations: 1", exact=True).wait_for()
    page.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name="Something else").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_have_text("You can't report your own work.")
    assert ExploreReport.objects.filter(reporter=ada).count() == 0
    page.keyboard.press("Escape")

    page.goto(f"{studio_url}/explore")
    page.get_by_role("link", name="My shared works").click()
    page.wait_for_url(re.compile(r"/explore/mine$"))
    page.get_by_role("heading", name="My shared works").wait_for()
    hidden = page.get_by_role("article", name="Sunset")
    expect(hidden).to_contain_text("Hidden by moderation")
    expect(hidden).to_contain_text(HIDE_REASON)
    expect(hidden.get_by_role("button", name="Unshare")).to_be_visible()
    shared = page.get_by_role("article", name="Lunch")
    expect(shared).to_contain_text("In the feed")
    expect(shared).to_contain_text("1 recreation")
    shoot("explore-mine")
    shared.get_by_role("button", name="Unshare").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("Unshare “Lunch”?")
    confirm.get_by_role("button", name="Unshare").click()
    expect(shared).to_contain_text("Unshared")
    expect(shared.get_by_role("button", name="Unshare")).to_have_count(0)
    lunch.refresh_from_db()
    assert lunch.unshared_at is not None
    assert ExploreWork.objects.get(pk=sunset.pk).status == WorkStatus.HIDDEN
    shoot("explore-mine-unshared")

    # Gone from the feed for everyone.
    page.goto(f"{studio_url}/explore")
    page.get_by_role("heading", name="Nothing shared yet").wait_for()
    shoot("explore-feed-empty")
