"""Webhooks' records: the endpoints client apps register, the outbox of events, and each
delivery with every attempt.

The tables keep the names they had when these models lived in `generation`
(`generation_webhook*`): the models moved to this app without moving any data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookEventType(models.TextChoices):
    """What a client app can subscribe to (the `type` of a delivered event)."""

    GENERATION_QUEUED = "generation.queued", "Job queued"
    GENERATION_STARTED = "generation.started", "Job started"
    GENERATION_SUCCEEDED = "generation.succeeded", "Job succeeded"
    GENERATION_FAILED = "generation.failed", "Job failed"
    GENERATION_CANCELED = "generation.canceled", "Job canceled"
    GENERATION_STALLED = "generation.stalled", "Job stalled (its worker went silent)"
    ELEMENT_READY = "element.ready", "Element processed"
    ELEMENT_FAILED = "element.failed", "Element processing failed"


class WebhookEndpoint(models.Model):
    """A URL of a client app that receives the owner's events, signed with its secret.

    The secret must be kept readable to sign with it (a hash would not do): it is shown in
    full once, when the endpoint is created, and masked everywhere after that."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2000, help_text="Where events are POSTed.")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(
        default=list, blank=True, help_text="Event types sent here; empty means every type."
    )
    secret = models.CharField(max_length=80, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "generation_webhookendpoint"
        ordering = ["-created_at", "-id"]
        # Index names as generation made them: the tables did not move.
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="generation__owner_i_7f5b97_idx")
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def masked_secret(self) -> str:
        return mask_secret(self.secret)

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


def mask_secret(secret: str) -> str:
    """Enough of a secret to recognise it, not to use it: `whsec_…a1b2`."""
    head, _, _ = secret.partition("_")
    return f"{head}_…{secret[-4:]}" if len(secret) > 12 else "…"


class WebhookEvent(models.Model):
    """One thing that happened to the owner's data, as the JSON body every endpoint gets.

    Written in the transaction of the state change it reports (the outbox), with one
    `WebhookDelivery` per endpoint that wanted it; the body is stored as sent, so every
    attempt and every re-send carries the same bytes and the same id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    body = models.TextField(help_text="The JSON body, exactly as POSTed.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "generation_webhookevent"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: at most one per pair, retried until it
    succeeds or its time runs out. `locked_until` is the lease of the worker sending it."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    attempts_before_resend = models.PositiveIntegerField(
        default=0, help_text="Attempts made before staff last re-sent it (back-off restarts)."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(help_text="No attempt starts after this.")
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "generation_webhookdelivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="generation__owner_i_7be9af_idx"),
            models.Index(
                fields=["status", "next_attempt_at"], name="generation__status_687d73_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="generation_webhook_one_delivery_per_endpoint"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="generation_webhook_pending_has_next_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One POST (or one refusal to make it), as it went."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    ip_address = models.CharField(max_length=45, blank=True, help_text="The address connected to.")

    class Meta:
        db_table = "generation_webhookattempt"
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="generation_webhook_attempt_number"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
