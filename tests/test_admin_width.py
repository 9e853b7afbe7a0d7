"""Every admin list page fits a 1400 px wide window without sideways scrolling, measured in
real Chromium (Debian's, driven by Playwright) with rows whose values are as long as real
ones get: 30-character usernames, long webhook URLs, a provider's error message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from elements import services as element_services
from elements.models import (
    Element,
    Likeness,
    LikenessGrant,
    LikenessMatch,
    LikenessMatchState,
    LikenessStatus,
    Voice,
)
from elements.teams import services as team_services
from generation import services as generation_services
from generation.catalog import ModelCode
from generation.explore import services as explore_services
from generation.providers.kling.models import ProviderAlert, ProviderElement, ProviderVoice
from generation.webhooks.models import WebhookDelivery, WebhookEndpoint
from generation.webhooks.services import webhook_emit
from tests.factories import TEST_PASSWORD
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1400
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LONG_NAME = "maximilian-alexander.hartmann"  # 30 characters, the longest username allowed
CONSENT = "I recorded this myself and may use it."


def seed() -> None:
    owner = User.objects.create_user(LONG_NAME, "max@example.com", TEST_PASSWORD)
    account_services.credits_grant(
        user=owner, amount=500, reason="Welcome credits for the spring campaign of 2026"
    )
    voice = element_services.voice_upload(
        owner=owner,
        upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6, volume=0.8),
            name="A rather long voice name of sixty characters for the test!!",
            consent_statement=CONSENT,
        ),
    ).voice
    element = element_services.element_create(
        owner=owner,
        name="The Extraordinarily Long Character Name",  # 39 of 40 characters
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 1, 1))],
        voice_id=voice.pk,
    ).element
    # A team with the longest name and handle; the element and voice move to its library, so
    # the lists' library column shows the longest handle.
    team = team_services.team_create(
        user=owner,
        name="A team name as long as sixty characters allow, for the test",
        handle="a" * 30,
    )
    Element.objects.filter(pk=element.pk).update(team=team)
    Voice.objects.filter(pk=voice.pk).update(team=team)
    job = generation_services.generation_submit(
        owner=owner,
        request=generation_services.JobRequest(
            model=ModelCode.IMAGE_O1, prompt="A red sofa in a pale room, seen from the side."
        ),
    )
    endpoint = WebhookEndpoint.objects.create(
        owner=owner,
        url="https://hooks.example-client-application.com/api/v2/webhooks/element-library/"
        "generation-events?tenant=7f3a9c2e",
        events=["generation.succeeded", "generation.failed", "element.ready"],
        secret="whsec_" + "a" * 40,
    )
    webhook_emit(owner_id=owner.pk, event_type="generation.succeeded", data={"job": {}})
    assert WebhookDelivery.objects.filter(endpoint=endpoint).exists()
    provider_voice = ProviderVoice.objects.create(
        provider="kling",
        voice_file=voice.audio.name,
        voice_name=voice.name,
        external_id="ev-" + "0" * 36,
        task_id="8" * 19,
        provider_voice_id="9" * 19,
        message="Kling accepted the custom voice and is still processing it (queued)",
    )
    ProviderElement.objects.create(
        provider="kling",
        element=element,
        element_key=f"element:{element.pk}",
        version=element.version,
        voice=provider_voice,
        external_id="ee-" + "0" * 36,
        task_id="7" * 19,
        provider_element_id="6" * 19,
        message="The element was created on Kling and is ready to be referenced by jobs",
    )
    staff = User.objects.create_superuser("staff", "staff@example.com", TEST_PASSWORD)
    job.refresh_from_db()
    work = explore_services.generation_share(
        owner=owner,
        job_id=job.pk,
        output_id=job.outputs.get().pk,
        title="A sixty-character title for a shared work in the Explore feed",
    )
    explore_services.explore_work_hide(
        staff=staff, work=work, reason="Reported three times as spam; looks like an advert"
    )
    element_services.element_block(
        staff=staff, element=element, reason="The reference images show a real, famous person"
    )
    account_services.api_token_create(user=owner, name="Production server in Frankfurt (eu-1)")
    account_services.daily_reset()
    call_command("ensure_schedules", stdout=io.StringIO())
    call_command("janitor", "--dry-run", "--no-progress", stdout=io.StringIO())
    claimant = User.objects.create_user(LONG_NAME[:-1] + "y", "may@example.com", TEST_PASSWORD)
    likeness = Likeness.objects.create(
        owner=claimant,
        status=LikenessStatus.REVIEW,
        phrase="apple river green morning table",
        failure_code="LIKENESS_ALREADY_CLAIMED",
        failure_message="This face matches a likeness another user claimed: staff will review.",
    )
    LikenessMatch.objects.create(
        likeness=likeness, element=element, state=LikenessMatchState.DECLINED, distance=0.41
    )
    LikenessGrant.objects.create(likeness=likeness, grantee=owner)
    ProviderAlert.objects.create(
        provider="kling",
        code="1102",
        message="Account balance not enough: the resource pack of this account is exhausted "
        "or expired; top up in the Kling developer console before submitting more tasks.",
        request_id="CjhIE2dQA8wAAAAAAAm4Lg",
        job=job,
    )


@pytest.fixture
def seeded(transactional_db: None) -> None:
    # Before the browser: Playwright's sync API runs an event loop in this thread, and the
    # ORM refuses to run beside one.
    seed()


@pytest.fixture
def browser(seeded: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# The admin puts the results table in a box that scrolls sideways on its own (`.results` has
# `overflow-x: auto`), so the page never does: compare the table's width with its box's.
# Before the changes the box was 751 px wide (the app list beside every page, the filters
# beside the table) and the webhook deliveries' table 1785 px.
MEASURE = """() => {
  const table = document.querySelector("#result_list");
  const box = document.querySelector("#changelist .results");
  return {
    page: document.documentElement.scrollWidth,
    box: box ? box.clientWidth : 0,
    table: table ? table.scrollWidth : 0,
    rows: document.querySelectorAll("#result_list tbody tr").length,
  };
}"""


def changelists() -> list[str]:
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    )


def test_every_list_page_fits_1400_px(live_server, browser):
    # given
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    # when
    widths = {}
    for url in changelists():
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status == 200, url
        widths[url] = page.evaluate(MEASURE)

    # then
    empty = {url for url, w in widths.items() if not w["rows"]}
    # Every list of ours was measured with a row in it. Other apps' lists may have none to show
    # here: groups, django-q2's failures and ORM queue (which holds rows on the ORM broker
    # only while a task waits), django-axes' failed logins and the access log we turn off.
    others = ("/admin/auth/group/", "/admin/django_q/", "/admin/axes/")
    assert {url for url in empty if not url.startswith(others)} == set(), empty
    too_wide = {url: w for url, w in widths.items() if w["page"] > WIDTH or w["table"] > w["box"]}
    assert not too_wide, too_wide
