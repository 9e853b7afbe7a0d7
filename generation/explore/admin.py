"""The Explore moderation queue for staff.

Works with open reports come first (most reports first), then works waiting for approval,
then the rest, newest first. Staff see the output itself (played from a staff-only view that
takes the work's id, never a storage name), the report reasons, and the audit trail, and act
with approve / hide (with a reason the author sees) / restore, each through
`generation.explore.services`, which writes the audit row and closes the open reports.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from elementsite.admin_actions import plural, reason_action, staff_user
from elementsite.admin_buttons import ObjectActionsMixin
from elementsite.admin_display import truncated
from elementsite.admin_readonly import ReadOnlyAdmin, ReadOnlyMixin
from elementsite.staff_media import stream_stored_file
from generation.explore import services as explore_services
from generation.explore.models import ExploreModerationEvent, ExploreReport, ExploreWork, WorkStatus
from generation.models import OutputKind

PREVIEW_PX = 320
THUMB_PX = 96
FILE_FIELDS = {"output": "file", "poster": "poster", "thumb": "thumbnail"}


def _file_url(work: ExploreWork, kind: str) -> str:
    return reverse("admin:explore_explorework_file", args=[kind, work.pk])


class ExploreReportInline(ReadOnlyMixin, admin.TabularInline):
    model = ExploreReport
    extra = 0
    fields = ("created_at", "reporter", "reason", "resolved_at")
    readonly_fields = fields
    ordering = ("resolved_at", "-created_at")


class ExploreModerationInline(ReadOnlyMixin, admin.TabularInline):
    model = ExploreModerationEvent
    extra = 0
    fields = ("created_at", "action", "reason", "reports_resolved", "staff")
    readonly_fields = fields
    verbose_name_plural = "Moderation log"


@admin.register(ExploreWork)
class ExploreWorkAdmin(ObjectActionsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "short_title",
        "author",
        "model",
        "status_shared",
        "open_reports",
        "recreate_count",
        "created_at",
    )
    # A 60-character title and a column of its own for "shared" made the queue wider than a
    # 1400 px window with the filters beside it.
    list_display_links = ("thumbnail", "short_title")
    list_filter = ("status", "model", "output_kind")
    search_fields = ("title", "caption", "author__username", "prompt")
    list_select_related = ("author", "output")
    fieldsets = (
        ("Work", {"fields": ("title", "caption", "author", "model", "prompt", "preview")}),
        (
            "Moderation",
            {
                "fields": ("status", "hidden_reason", "open_reports", "created_at", "unshared_at"),
                "description": "Approve, hide or restore with the buttons above (or the "
                "actions of the queue).",
            },
        ),
        ("Recreations", {"fields": ("recreate_count",)}),
    )
    readonly_fields = (
        "title",
        "caption",
        "author",
        "model",
        "prompt",
        "preview",
        "status",
        "hidden_reason",
        "open_reports",
        "created_at",
        "unshared_at",
        "recreate_count",
    )
    inlines = (ExploreReportInline, ExploreModerationInline)
    actions = ("approve_works", "hide_works", "restore_works")
    object_actions = (
        ("approve_works", "Approve"),
        ("hide_works", "Hide…"),
        ("restore_works", "Restore"),
    )

    def object_actions_for(self, request: HttpRequest, obj: ExploreWork) -> list[tuple[str, str]]:
        by_status = {
            WorkStatus.PENDING: ("approve_works", "hide_works"),
            WorkStatus.APPROVED: ("hide_works",),
            WorkStatus.HIDDEN: ("restore_works",),
        }
        wanted = by_status.get(WorkStatus(obj.status), ())
        return [(name, label) for name, label in self.object_actions if name in wanted]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExploreWork]:
        # Not super(): it orders by `get_ordering` before the annotations exist.
        return (
            ExploreWork.objects.all()
            .annotate(
                _open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True)),
                _pending=Case(
                    When(status=WorkStatus.PENDING, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        # Reported works rise to the top (most reports first), then those waiting for
        # approval, then the newest. (Annotations, so not in `ordering`, which the checks
        # hold to model fields.)
        return ("-_open_reports", "-_pending", "-created_at", "-id")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("explore.change_explorework")

    @admin.display(description="Open reports", ordering="_open_reports")
    def open_reports(self, obj: ExploreWork) -> int:
        return getattr(obj, "_open_reports", 0)

    @admin.display(description="Shared", boolean=True)
    def shared(self, obj: ExploreWork) -> bool:
        return obj.unshared_at is None

    @admin.display(description="title", ordering="title")
    def short_title(self, obj: ExploreWork) -> SafeString | str:
        return truncated(obj.title, 36)

    @admin.display(description="status", ordering="status")
    def status_shared(self, obj: ExploreWork) -> str:
        label = obj.get_status_display()
        return label if obj.unshared_at is None else f"{label} (unshared)"

    @admin.display(description="")
    def thumbnail(self, obj: ExploreWork) -> SafeString:
        return format_html(
            '<img src="{}" alt="" style="max-width: {}px; max-height: {}px;" loading="lazy">',
            _file_url(obj, "thumb"),
            THUMB_PX,
            THUMB_PX,
        )

    @admin.display(description="Output")
    def preview(self, obj: ExploreWork) -> SafeString:
        if obj.output_kind == OutputKind.VIDEO:
            return format_html(
                '<video controls preload="metadata" src="{}" poster="{}" '
                'style="max-width: {}px;">Your browser cannot play this video.</video>',
                _file_url(obj, "output"),
                _file_url(obj, "poster"),
                PREVIEW_PX,
            )
        return format_html(
            '<img src="{}" alt="" style="max-width: {}px;">', _file_url(obj, "output"), PREVIEW_PX
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "file/<str:kind>/<int:pk>/",
                self.admin_site.admin_view(require_safe(self.file_view)),
                name="explore_explorework_file",
            ),
        ]
        return own + super().get_urls()

    def file_view(self, request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
        """The shared output, its poster or thumbnail, to staff who may see works."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if kind not in FILE_FIELDS:
            raise Http404
        work = ExploreWork.objects.select_related("output").filter(pk=pk).first()
        if work is None:
            raise Http404
        return stream_stored_file(request, getattr(work.output, FILE_FIELDS[kind]).name)

    # --- actions

    def _apply(
        self,
        request: HttpRequest,
        works: list[ExploreWork],
        service: Any,
        verb: str,
        **kwargs: Any,
    ) -> None:
        done = 0
        for work in works:
            try:
                service(staff=staff_user(request), work=work, **kwargs)
            except ValidationError as exc:
                self.message_user(
                    request, f"{work.title}: not {verb}. {' '.join(exc.messages)}", messages.ERROR
                )
                continue
            done += 1
            self.log_change(request, work, f"{verb.capitalize()}: {kwargs.get('reason', '')}")
        if done:
            self.message_user(
                request,
                f"{verb.capitalize()} {plural(done, 'work')}.",
                messages.SUCCESS,
            )

    @admin.action(
        description="Approve selected works (closes their reports)", permissions=["moderate"]
    )
    def approve_works(self, request: HttpRequest, queryset: QuerySet[ExploreWork]) -> None:
        self._apply(request, list(queryset), explore_services.explore_work_approve, "approved")

    @admin.action(description="Hide selected works…", permissions=["moderate"])
    def hide_works(
        self, request: HttpRequest, queryset: QuerySet[ExploreWork]
    ) -> TemplateResponse | None:
        works = list(queryset.select_related("author").order_by("pk"))
        return reason_action(
            self,
            request,
            apply=lambda reason: self._apply(
                request, works, explore_services.explore_work_hide, "hidden", reason=reason
            ),
            objects=[(w.pk, f"{w.title} (by {w.author.username})") for w in works],
            action="hide_works",
            title="Hide works",
            intro="A hidden work leaves the feed and can't be recreated; its author sees the "
            "reason.",
        )

    @admin.action(description="Restore selected hidden works", permissions=["moderate"])
    def restore_works(self, request: HttpRequest, queryset: QuerySet[ExploreWork]) -> None:
        self._apply(request, list(queryset), explore_services.explore_work_restore, "restored")


@admin.register(ExploreModerationEvent)
class ExploreModerationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "subject", "reason", "reports_resolved", "staff")
    list_filter = ("action",)
    search_fields = ("subject", "reason")
