"""Records written only by services: staff look at them in the admin, nothing more."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyMixin:
    """No add, change or delete in the admin for a model admin or an inline: the record
    changes only through its app's services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyPartInline(ReadOnlyMixin, admin.TabularInline):
    """Rows that are part of the object on the page (an element's images, a job's inputs):
    whoever may see that object sees them, without a permission of their own, and nobody
    edits them here."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        parent = self.parent_model._meta
        return request.user.has_perm(
            f"{parent.app_label}.view_{parent.model_name}"
        ) or request.user.has_perm(f"{parent.app_label}.change_{parent.model_name}")
