"""The account screen in Chromium (issue 15, deliverable 4): limits, credits and the ledger, API
tokens (secret shown once, revoke with confirmation) and webhooks (a refused URL at its field,
secret once, the deliveries log with attempts, delete with confirmation)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ApiToken, User
from accounts.selectors import credit_balance, credit_ledger
from generation.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from tests.web.flows import sign_up

pytestmark = pytest.mark.django_db(transaction=True)

# A public address given as a literal: accepted without a DNS lookup (the tests run offline).
PUBLIC_HOOK = "https://93.184.215.14/hooks/studio"


def open_account(page: Any, username: str) -> None:
    page.get_by_role("button", name=f"Account menu for {username}").click()
    page.get_by_role("menuitem", name="Account").click()
    page.wait_for_url(re.compile(r"/account$"))
    page.get_by_role("heading", name="Account", level=1).wait_for()


def test_limits_ledger_and_api_tokens(page: Any, studio_url: str, shoot: Any) -> None:
    sign_up(page, studio_url, "grace")
    open_account(page, "grace")
    user = User.objects.get(username="grace")
    membership = page.get_by_role("region", name="Membership")
    expect(membership.get_by_label(re.compile(r"^Elements: 0 of \d+$"))).to_be_visible()
    expect(membership.get_by_text(re.compile(r"^(\d+ of \d+ left|None)$"))).to_be_visible()
    credits = page.get_by_role("region", name="Credits")
    expect(credits.get_by_label(f"Credit balance: {credit_balance(user)}")).to_be_visible()
    # The sign-up grant (if the service gives one) is the ledger's newest row, else its empty state.
    newest = credit_ledger(user).first()
    if newest is None:
        expect(credits.get_by_text("No credit movements yet")).to_be_visible()
    else:
        first_row = credits.get_by_role("list", name="Credit history").get_by_role("listitem").first
        expect(first_row).to_contain_text(newest.reason)
        expect(first_row).to_contain_text(f"balance {newest.balance_after}")
    tokens = page.get_by_role("region", name="API tokens")
    expect(tokens.get_by_text("No API tokens yet")).to_be_visible()
    shoot("account-empty")

    # Create: the secret once, with a copy button.
    tokens.get_by_label("Token name").fill("render-bot")
    tokens.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_label("The token “render-bot”", exact=True)
    secret_box.wait_for()
    secret = secret_box.inner_text().strip()
    assert len(secret) > 20
    expect(page.get_by_role("button", name="Copy the token “render-bot”")).to_be_visible()
    row = tokens.get_by_role("listitem", name="Token render-bot")
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    stored = ApiToken.objects.get(user=user, name="render-bot")
    assert secret.startswith(stored.prefix)
    shoot("account-token-secret")

    # The same name again: refused at the field, no second row, no secret.
    tokens.get_by_label("Token name").fill("render-bot")
    tokens.get_by_role("button", name="Create token").click()
    expect(tokens.get_by_label("Token name")).to_have_attribute("aria-invalid", "true")
    assert ApiToken.objects.filter(user=user).count() == 1

    # Once dismissed (or after a reload) the secret is gone for good: only its prefix remains.
    page.get_by_role("button", name="I've stored it").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    page.reload()
    tokens.get_by_role("listitem", name="Token render-bot").wait_for()
    assert secret not in page.content()

    # Revoke asks first; "Keep it" changes nothing.
    tokens.get_by_role("button", name="Revoke token render-bot").click()
    dialog = page.get_by_role("dialog", name="Revoke “render-bot”?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    stored.refresh_from_db()
    assert stored.revoked_at is None
    tokens.get_by_role("button", name="Revoke token render-bot").click()
    dialog.get_by_role("button", name="Revoke token").click()
    expect(
        tokens.get_by_role("listitem", name="Token render-bot").get_by_text("Revoked", exact=True)
    ).to_be_visible()
    expect(tokens.get_by_role("button", name="Revoke token render-bot")).to_have_count(0)
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    shoot("account-token-revoked")


def test_webhooks_refused_url_secret_deliveries_and_delete(
    page: Any, studio_url: str, shoot: Any
) -> None:
    sign_up(page, studio_url, "hopper")
    page.goto(f"{studio_url}/account")
    hooks = page.get_by_role("region", name="Webhooks")
    expect(hooks.get_by_text("No webhook endpoints yet")).to_be_visible()
    expect(hooks.get_by_text("No deliveries yet")).to_be_visible()
    user = User.objects.get(username="hopper")

    # A private address is refused at the URL field (plain http may be refused first: both are
    # the URL's typed errors), the input stays, nothing is stored and no secret appears.
    url_field = hooks.get_by_label(re.compile("^Endpoint URL"))
    url_field.fill("http://127.0.0.1:9/hook")
    hooks.get_by_role("button", name="Add endpoint").click()
    expect(url_field).to_have_attribute("aria-invalid", "true")
    assert url_field.input_value() == "http://127.0.0.1:9/hook"
    expect(page.get_by_role("region", name="New signing secret")).to_have_count(0)
    assert not WebhookEndpoint.objects.filter(owner=user).exists()
    shoot("account-webhook-refused", widths=("phone",))

    url_field.fill(PUBLIC_HOOK)
    hooks.get_by_label("Description").fill("render farm")
    hooks.get_by_label("Generation succeeded").check()
    hooks.get_by_label("Generation failed").check()
    hooks.get_by_role("button", name="Add endpoint").click()
    secret_box = page.get_by_label("The signing secret", exact=True)
    secret_box.wait_for()
    assert secret_box.inner_text().strip().startswith("whsec_")
    expect(page.get_by_role("button", name="Copy the signing secret")).to_be_visible()
    endpoint = WebhookEndpoint.objects.get(owner=user)
    assert sorted(endpoint.events) == sorted(
        [WebhookEventType.GENERATION_SUCCEEDED, WebhookEventType.GENERATION_FAILED]
    )
    row = hooks.get_by_role("listitem", name=f"Endpoint {PUBLIC_HOOK}")
    expect(row.get_by_text("Generation succeeded")).to_be_visible()
    expect(url_field).to_have_value("")

    # A delivery that failed twice, as the delivery worker records it.
    now = timezone.now()
    event = WebhookEvent.objects.create(
        owner=user, type=WebhookEventType.GENERATION_SUCCEEDED, body='{"id": "evt"}'
    )
    delivery = WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        owner=user,
        event_type=WebhookEventType.GENERATION_SUCCEEDED,
        status=DeliveryStatus.PENDING,
        attempt_count=2,
        next_attempt_at=now + timedelta(minutes=2),
        give_up_at=now + timedelta(days=1),
        last_status_code=502,
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=now - timedelta(minutes=1),
        duration_ms=3000,
        error="timed out",
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=2,
        started_at=now,
        duration_ms=41,
        status_code=502,
        response_excerpt="bad gateway",
    )
    hooks.get_by_role("button", name="Refresh deliveries").click()
    control = hooks.get_by_role("button", name=f"Generation succeeded to {PUBLIC_HOOK}: Pending")
    control.click()
    attempts = hooks.get_by_role("table", name="Attempts of Generation succeeded")
    expect(attempts.get_by_text("timed out")).to_be_visible()
    expect(attempts.get_by_text("HTTP 502")).to_be_visible()
    expect(attempts.get_by_text("bad gateway")).to_be_visible()
    shoot("account-webhooks")

    # Delete asks first, then removes the endpoint and its deliveries.
    row.get_by_role("button", name=f"Delete endpoint {PUBLIC_HOOK}").click()
    page.get_by_role("dialog", name="Delete this webhook endpoint?").get_by_role(
        "button", name="Delete endpoint"
    ).click()
    expect(hooks.get_by_text("No webhook endpoints yet")).to_be_visible()
    expect(hooks.get_by_text("No deliveries yet")).to_be_visible()
    assert not WebhookEndpoint.objects.filter(owner=user).exists()
    assert not WebhookDelivery.objects.filter(owner=user).exists()
