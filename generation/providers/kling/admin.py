"""Staff screens for the Kling sync: element versions and voices as created on Kling (each
with its sync state and Kling's ids), and the alerts staff must act on. Written only by the
sync; "Sync now" runs a pending or interrupted element sync in a worker."""

from __future__ import annotations

import functools

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts.admin import ReadOnlyMixin
from elementsite.admin_display import truncated
from generation.providers.kling.models import (
    ProviderAlert,
    ProviderElement,
    ProviderVoice,
    SyncState,
)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@admin.register(ProviderElement)
class ProviderElementAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Each element version as created on a provider: its sync state and the provider's ids.
    Written only by the sync; "Sync now" runs a pending or interrupted one in a worker."""

    # The key, progress and task id are on the row's page (the list fits 1400 px without them).
    list_display = (
        "element",
        "version",
        "provider",
        "state",
        "provider_element_id",
        "short_message",
        "updated_at",
    )
    list_filter = ("provider", "state")
    search_fields = ("element__name", "=provider_element_id", "=task_id", "=element_key")

    @admin.display(description="message", ordering="message")
    def short_message(self, obj: ProviderElement) -> SafeString | str:
        return truncated(obj.message)

    list_select_related = ("element",)
    readonly_fields = (
        "provider",
        "element",
        "element_key",
        "version",
        "reference_type",
        "voice",
        "external_id",
        "task_id",
        "provider_element_id",
        "state",
        "progress",
        "message",
        "claimed_at",
        "created_at",
        "updated_at",
    )
    exclude = ("source_pin",)
    actions = ("sync_now",)

    @admin.action(description="Sync now (pending or failed by a busy service)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[ProviderElement]) -> None:
        from django_q.tasks import async_task

        if not request.user.has_perm("generation.change_generationjob"):
            raise PermissionDenied
        ids = list(
            queryset.filter(state__in=[SyncState.PENDING, SyncState.SYNCING]).values_list(
                "pk", flat=True
            )
        )
        for pk in ids:
            transaction.on_commit(
                functools.partial(async_task, "generation.tasks.sync_provider_element", pk)
            )
        self.message_user(request, f"Queued {plural(len(ids), 'sync')}.", messages.SUCCESS)


@admin.register(ProviderVoice)
class ProviderVoiceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "voice_name",
        "provider",
        "state",
        "progress",
        "provider_voice_id",
        "task_id",
        "message",
        "updated_at",
    )
    list_filter = ("provider", "state")
    search_fields = ("voice_name", "=provider_voice_id", "=task_id")
    readonly_fields = (
        "provider",
        "voice_file",
        "voice_name",
        "external_id",
        "task_id",
        "provider_voice_id",
        "state",
        "progress",
        "message",
        "claimed_at",
        "created_at",
        "updated_at",
    )


@admin.register(ProviderAlert)
class ProviderAlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What a provider refused for reasons staff must fix: credentials, arrears, access."""

    # The request id is on the alert's page and found by search; the list fits 1400 px.
    list_display = ("created_at", "provider", "code", "short_message", "job", "resolved")
    list_filter = ("resolved", "provider", "code")
    search_fields = ("=request_id", "message")
    readonly_fields = ("created_at", "provider", "code", "message", "request_id", "job", "resolved")
    actions = ("mark_resolved",)

    @admin.display(description="message", ordering="message")
    def short_message(self, obj: ProviderAlert) -> SafeString | str:
        return truncated(obj.message, 48)

    @admin.action(description="Mark resolved")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[ProviderAlert]) -> None:
        if not request.user.has_perm("generation.change_generationjob"):
            raise PermissionDenied
        count = queryset.filter(resolved=False).update(resolved=True)
        self.message_user(request, f"Resolved {plural(count, 'alert')}.", messages.SUCCESS)
