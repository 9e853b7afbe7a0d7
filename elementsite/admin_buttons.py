"""The list's moderation actions also as buttons on an object's own page.

Staff who open an element (or a work, or a voice) to look at it should not have to go back to
the list, tick its box and pick an action. `ObjectActionsMixin` puts a button per action on
the change page; each button POSTs to `<object>/act/<action>/`, which runs the *same* admin
action on a one-object queryset, so the permissions, the reason form and the messages are the
list's. An action that asks for a reason answers with its form, which posts back to the same
address; when it is done, the staff member is back on the object's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:  # ModelAdmin takes no type argument at run time
    _ModelAdmin = admin.ModelAdmin


class ObjectActionsMixin(_ModelAdmin):
    """Put first among a `ModelAdmin`'s bases and set `object_actions`: (action name, button
    label) pairs; `object_actions_for` picks those that fit the object's state."""

    object_actions: Sequence[tuple[str, str]] = ()
    change_form_template = "admin/object_actions_change_form.html"

    def object_actions_for(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        """The buttons for `obj` (all by default); override to follow its state."""
        return list(self.object_actions)

    def _object_action_url_name(self) -> str:
        opts = self.opts
        return f"{opts.app_label}_{opts.model_name}_object_action"

    def _allowed_object_actions(self, request: HttpRequest, obj: Any) -> list[tuple[str, str]]:
        permitted = self.get_actions(request)
        return [(n, label) for n, label in self.object_actions_for(request, obj) if n in permitted]

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/act/<str:action>/",
                self.admin_site.admin_view(require_POST(self.object_action_view)),
                name=self._object_action_url_name(),
            )
        ]
        # Before the defaults, whose `<path:object_id>/` would take these paths.
        return own + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            name = f"admin:{self._object_action_url_name()}"
            context["object_action_buttons"] = [
                (label, reverse(name, args=[quote(obj.pk), action]))
                for action, label in self._allowed_object_actions(request, obj)
            ]
        return super().change_view(request, object_id, form_url, context)

    def object_action_view(
        self, request: HttpRequest, object_id: str, action: str
    ) -> HttpResponseBase:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if action not in dict(self.object_actions_for(request, obj)):
            raise Http404
        permitted = self.get_actions(request)
        if action not in permitted:
            raise PermissionDenied
        entry = permitted[action]
        assert entry is not None
        func = entry[0]
        queryset = self.get_queryset(request).filter(pk=obj.pk)
        response = func(self, request, queryset)
        if isinstance(response, HttpResponseBase):
            return response  # the reason form, posting back here
        opts = self.opts
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        )
