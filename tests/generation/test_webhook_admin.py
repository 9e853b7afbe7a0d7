"""Staff screens of webhooks: endpoints with masked secrets, deliveries with every attempt,
and the re-send action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from generation.webhooks import services as webhook_services
from generation.webhooks.models import DeliveryStatus, WebhookDelivery
from generation.webhooks.tasks import deliver_webhook
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.webhooks import Receiver, start_receiver, verify_webhook

pytestmark = pytest.mark.django_db

DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")
ENDPOINTS = reverse("admin:webhooks_webhookendpoint_changelist")


@pytest.fixture
def flaky(settings: Any) -> Iterator[Receiver]:
    """A receiver that fails once, then recovers."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    yield from start_receiver(["500", "200"])


def failed_delivery(owner: Any, receiver: Receiver) -> tuple[WebhookDelivery, str]:
    _, secret = webhook_services.webhook_endpoint_create(owner=owner, url=receiver.url())
    event = webhook_services.webhook_emit(
        owner_id=owner.pk, event_type="generation.succeeded", data={"job": {"id": "j"}}
    )
    delivery = WebhookDelivery.objects.get(event=event)
    assert deliver_webhook(delivery.pk) == DeliveryStatus.FAILED
    return delivery, secret


def test_endpoints_show_only_a_masked_secret(admin_client: Client, user: Any, flaky: Receiver):
    endpoint, secret = webhook_services.webhook_endpoint_create(owner=user, url=flaky.url())
    listing = admin_client.get(ENDPOINTS).content.decode()
    page = admin_client.get(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    ).content.decode()
    for html in (listing, page):
        assert flaky.url() in html
        assert f"whsec_…{secret[-4:]}" in html
        assert secret not in html
    assert admin_client.get(reverse("admin:webhooks_webhookendpoint_add")).status_code == 403


def test_a_delivery_page_lists_its_attempts(admin_client: Client, user: Any, flaky: Receiver):
    delivery, _ = failed_delivery(user, flaky)
    page = admin_client.get(
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    ).content.decode()
    assert "receiver broke" in page  # the attempt's answer
    assert "500" in page
    assert "generation.succeeded" in page
    assert str(delivery.event_id) in page


def test_resend_sends_the_same_event_again(
    admin_client: Client, user: Any, flaky: Receiver, django_capture_on_commit_callbacks: Any
):
    delivery, secret = failed_delivery(user, flaky)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DELIVERIES,
            {"action": "resend", ACTION_CHECKBOX_NAME: [str(delivery.pk)]},
            follow=True,
        )

    assert [str(m) for m in response.context["messages"]] == [
        "Re-sending 1 delivery; their attempts appear below each one."
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 2)
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, 200]
    first, second = flaky.requests
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"] == str(delivery.event_id)
    assert first.body == second.body
    assert verify_webhook(secret, second.headers, second.body)


def test_resend_needs_the_change_permission(user: Any, flaky: Receiver):
    delivery, _ = failed_delivery(user, flaky)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client = Client()
    assert client.login(username=viewer.username, password=TEST_PASSWORD)
    assert client.get(DELIVERIES).status_code == 200

    response = client.post(
        DELIVERIES, {"action": "resend", ACTION_CHECKBOX_NAME: [str(delivery.pk)]}
    )

    assert response.status_code in (200, 302)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.FAILED, 1)
    assert len(flaky.requests) == 1
    with pytest.raises(PermissionDenied):
        webhook_services.webhook_resend(staff=user, delivery_id=delivery.pk)


def test_deliveries_are_found_by_event_id(admin_client: Client, user: Any, flaky: Receiver):
    delivery, _ = failed_delivery(user, flaky)
    response = admin_client.get(DELIVERIES, {"q": str(delivery.event_id)})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [delivery]


def test_a_delivery_being_attempted_is_not_resent(user: Any, flaky: Receiver):
    from django.core.exceptions import ValidationError

    staff = UserFactory(is_staff=True)
    webhook_services.webhook_endpoint_create(owner=user, url=flaky.url())
    event = webhook_services.webhook_emit(
        owner_id=user.pk, event_type="generation.queued", data={"job": {}}
    )
    delivery = WebhookDelivery.objects.get(event=event)
    assert webhook_services._claim(delivery.pk)  # a worker holds it

    with pytest.raises(ValidationError) as refused:
        webhook_services.webhook_resend(staff=staff, delivery_id=delivery.pk)

    assert [e.code for e in refused.value.error_dict["id"]] == ["WEBHOOK_DELIVERY_NOT_RESENDABLE"]
    assert flaky.requests == []
