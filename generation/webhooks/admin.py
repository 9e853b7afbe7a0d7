"""Staff screens for webhooks: endpoints (secrets masked) and deliveries with every attempt.

Endpoints are added only by their owners (through the URL checks of the service); staff
may look and delete one. Deliveries are records: the one action re-sends the selected ones
through `services.webhook_resend` (same event id and body, signed anew, a fresh retry
window), which staff use once a receiver is fixed.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from elementsite.admin_actions import staff_user
from elementsite.admin_display import url_host
from elementsite.admin_readonly import ReadOnlyMixin
from generation.webhooks import services
from generation.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "masked_secret", "event_types", "created_at")
    list_select_related = ("owner",)
    search_fields = ("url", "owner__username", "description")
    fields = ("owner", "url", "description", "event_types", "masked_secret", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="secret")
    def masked_secret(self, obj: WebhookEndpoint) -> str:
        return obj.masked_secret

    @admin.display(description="events")
    def event_types(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events) or "all"


class WebhookAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = (
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error",
        "ip_address",
        "response_excerpt",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # The endpoint as its host and the attempts with the last status in one column: the full
    # URL made the list 1800 px wide. Both are whole on the delivery's page.
    list_display = (
        "event_type",
        "owner",
        "endpoint_host",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("owner", "endpoint")

    @admin.display(description="endpoint", ordering="endpoint__url")
    def endpoint_host(self, obj: WebhookDelivery) -> SafeString | str:
        return url_host(obj.endpoint.url)

    @admin.display(description="attempts", ordering="attempt_count")
    def attempts(self, obj: WebhookDelivery) -> str:
        """How many, with the last HTTP status in brackets."""
        if obj.last_status_code is None:
            return str(obj.attempt_count)
        return f"{obj.attempt_count} ({obj.last_status_code})"

    search_fields = ("owner__username", "endpoint__url", "event__id")
    ordering = ("-created_at",)
    fields = (
        "event_id",
        "event_type",
        "owner",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "give_up_at",
        "last_status_code",
        "last_error",
        "created_at",
        "finished_at",
        "body",
    )
    readonly_fields = fields
    inlines = (WebhookAttemptInline,)
    actions = ("resend",)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.display(description="body")
    def body(self, obj: WebhookDelivery) -> SafeString:
        try:
            shown = json.dumps(json.loads(obj.event.body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = obj.event.body
        return format_html('<pre style="white-space: pre-wrap;">{}</pre>', shown)

    @admin.action(description="Re-send selected deliveries", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        staff = staff_user(request)
        sent, busy = 0, []
        for delivery in queryset.order_by("created_at"):
            try:
                services.webhook_resend(staff=staff, delivery_id=delivery.pk)
            except ValidationError:
                busy.append(str(delivery.pk))
                continue
            sent += 1
            self.log_change(request, delivery, "Re-sent by staff")
        if sent:
            self.message_user(
                request,
                f"Re-sending {sent} deliver{'y' if sent == 1 else 'ies'}; "
                "their attempts appear below each one.",
                messages.SUCCESS,
            )
        if busy:
            self.message_user(
                request,
                f"Skipped deliveries being attempted right now: {', '.join(busy)}.",
                messages.WARNING,
            )
