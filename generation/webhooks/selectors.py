"""Reads of webhook endpoints and deliveries, always scoped to an owner."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from generation.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, owner: AbstractBaseUser) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner_id=owner.pk).order_by("-created_at", "-id")


def webhook_delivery_list(
    *,
    owner: AbstractBaseUser,
    endpoint_id: int | None = None,
    event_type: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """The owner's deliveries, newest first; another user's endpoint id matches nothing."""
    qs = WebhookDelivery.objects.filter(owner_id=owner.pk)
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return qs.order_by("-created_at", "-id")
