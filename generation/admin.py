"""Staff screens for generation: jobs, what they were made from and made, and the price list.

Jobs are read-only here: they change only through the two actions. "Cancel" ends a queued
job at once with its credits refunded and asks a running one to stop at its next progress
report, through `services.generation_staff_cancel` (the owner's cancel, for staff). "Retry"
puts a failed or canceled job back in the queue through `services.generation_retry`, which
charges its price again since it was refunded; staff see the prices and the owners'
balances before confirming.

Stored files never get a public address and their storage names never reach the page: the
previews (pinned element images and voices, inputs, outputs and posters) are read through a
staff-only view that takes a row id and reads the name from that row.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponseBase,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from accounts.models import CreditLedgerEntry
from elementsite.admin_actions import confirm_page, plural, staff_user
from elementsite.admin_readonly import ReadOnlyMixin, ReadOnlyPartInline
from elementsite.staff_media import content_type_of, stream_stored_file
from generation import services
from generation.catalog import MODELS, ModelCode
from generation.models import (
    FINISHED,
    ConsistencyStatus,
    GenerationJob,
    GenerationOutput,
    JanitorRun,
    JobConsistency,
    JobElement,
    JobElementImage,
    JobInput,
    JobStatus,
    OutputKind,
    PriceRule,
)

ELEMENT_THUMBNAIL_PX = 64
INPUT_PREVIEW_PX = 160
OUTPUT_PREVIEW_PX = 360
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELED)


def short_id(job: GenerationJob) -> str:
    return str(job.pk)[:8]


# --- Staff previews ---------------------------------------------------------------------

# What the preview view can read: a kind of file, the row that names it, and its field.
PREVIEW_SOURCES: dict[str, tuple[type[Any], str]] = {
    "element-image": (JobElementImage, "file"),
    "voice": (JobElement, "voice_file"),
    "clip": (JobElement, "clip_file"),
    "input": (JobInput, "file"),
    "output": (GenerationOutput, "file"),
    "poster": (GenerationOutput, "poster"),
    "thumb": (GenerationOutput, "thumbnail"),
}


def preview_url(kind: str, pk: int) -> str:
    return reverse("admin:generation_generationjob_file", args=[kind, pk])


def _is_video(name: str) -> bool:
    return content_type_of(name).startswith("video/")


def _image(url: str, size: int, *, crop: bool = False) -> SafeString:
    if crop:
        return format_html(
            '<img src="{}" alt="" width="{}" height="{}" style="object-fit: cover;" '
            'loading="lazy">',
            url,
            size,
            size,
        )
    return format_html(
        '<img src="{}" alt="" style="max-width: {}px; max-height: {}px;" loading="lazy">',
        url,
        size,
        size,
    )


def _linked(url: str, inner: SafeString) -> SafeString:
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, inner)


def _video(url: str, size: int, *, poster: str = "") -> SafeString:
    return format_html(
        '<video controls preload="metadata" src="{}"{} style="max-width: {}px; max-height: {}px;">'
        "Your browser cannot play this video.</video>",
        url,
        format_html(' poster="{}"', poster) if poster else "",
        size,
        size,
    )


# --- Job inlines --------------------------------------------------------------------------


class _JobPartInline(ReadOnlyPartInline):
    """A part of the job as it was submitted or produced: whoever may see jobs sees it."""


class JobElementInline(_JobPartInline):
    model = JobElement
    fields = (
        "position",
        "name",
        "type",
        "version",
        "description",
        "images_preview",
        "voice_name",
        "voice_player",
        "clip_player",
        "element_link",
    )
    readonly_fields = fields
    verbose_name = "pinned element"
    verbose_name_plural = "pinned elements (as they were when the job was submitted)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobElement]:
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description="images")
    def images_preview(self, obj: JobElement) -> SafeString | str:
        urls = [
            preview_url("element-image", image.pk)
            for image in sorted(obj.images.all(), key=lambda i: i.position)
        ]
        if not urls:
            return "—"
        return format_html_join(
            " ",
            "{}",
            ((_linked(url, _image(url, ELEMENT_THUMBNAIL_PX, crop=True)),) for url in urls),
        )

    @admin.display(description="voice sample")
    def voice_player(self, obj: JobElement) -> SafeString | str:
        if not obj.voice_file:
            return "—"
        return format_html(
            '<audio controls preload="none" src="{}">Your browser cannot play audio.</audio>',
            preview_url("voice", obj.pk),
        )

    @admin.display(description="video clip")
    def clip_player(self, obj: JobElement) -> SafeString | str:
        if not obj.clip_file:
            return "—"
        sound = "" if obj.clip_sound else " (sent to providers without its sound)"
        return format_html(
            '<video controls muted preload="none" width="240" src="{}">'
            "Your browser cannot play video.</video>{}",
            preview_url("clip", obj.pk),
            sound,
        )

    @admin.display(description="element now")
    def element_link(self, obj: JobElement) -> SafeString | str:
        if obj.element_id is None:
            return "deleted"
        return format_html(
            '<a href="{}">Open</a>', reverse("admin:elements_element_change", args=[obj.element_id])
        )


class JobInputInline(_JobPartInline):
    model = JobInput
    fields = ("kind", "position", "preview", "width", "height")
    readonly_fields = fields
    verbose_name_plural = "inputs"

    @admin.display(description="file")
    def preview(self, obj: JobInput) -> SafeString:
        url = preview_url("input", obj.pk)
        if _is_video(obj.file):
            return _video(url, INPUT_PREVIEW_PX)
        return _linked(url, _image(url, INPUT_PREVIEW_PX))


class GenerationOutputInline(_JobPartInline):
    model = GenerationOutput
    fields = ("kind", "preview", "poster_preview", "size", "duration", "has_audio", "created_at")
    readonly_fields = fields
    verbose_name_plural = "outputs"

    @admin.display(description="output")
    def preview(self, obj: GenerationOutput) -> SafeString:
        url = preview_url("output", obj.pk)
        if obj.kind == OutputKind.VIDEO:
            return _video(url, OUTPUT_PREVIEW_PX, poster=preview_url("poster", obj.pk))
        return _linked(url, _image(url, OUTPUT_PREVIEW_PX))

    @admin.display(description="poster")
    def poster_preview(self, obj: GenerationOutput) -> SafeString:
        url = preview_url("poster", obj.pk)
        return _linked(url, _image(preview_url("thumb", obj.pk), INPUT_PREVIEW_PX))

    @admin.display(description="size")
    def size(self, obj: GenerationOutput) -> str:
        return f"{obj.width} × {obj.height}"

    @admin.display(description="duration")
    def duration(self, obj: GenerationOutput) -> str:
        return "—" if obj.duration_ms is None else f"{obj.duration_ms / 1000:.2f} s"


# --- Jobs ---------------------------------------------------------------------------------


@admin.register(GenerationJob)
class GenerationJobAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # Mode, progress, attempts and the finish time are on the job's page: with them the list
    # was 1350 px wide, past a 1400 px window with the filters beside it.
    list_display = (
        "short_id",
        "owner",
        "kind",
        "model",
        "status",
        "credits_charged",
        "refunded",
        "created_at",
    )
    list_display_links = ("short_id",)
    list_filter = ("kind", "status", "model", "provider")
    # `^id`: the short id of the list is the start of the full one.
    search_fields = ("owner__username", "prompt", "^id", "=provider_task_id")
    list_select_related = ("owner",)
    ordering = ("-created_at",)
    # The table grows without bound; an unfiltered COUNT(*) on every search is not worth it.
    show_full_result_count = False
    fieldsets = (
        (
            "Request",
            {
                "fields": (
                    "id",
                    "owner",
                    "kind",
                    "model",
                    "mode",
                    "duration",
                    "aspect_ratio",
                    "prompt",
                )
            },
        ),
        (
            "State",
            {
                "fields": (
                    "status",
                    "progress",
                    "error_code",
                    "error_message",
                    "staff_error",
                    "cancel_requested",
                    "attempts",
                    "provider",
                    "provider_task_id",
                    "provider_external_id",
                    "provider_status",
                    "provider_message",
                    "provider_hint_at",
                    "heartbeat_at",
                    "created_at",
                    "started_at",
                    "finished_at",
                ),
                "description": "Cancel or retry with the actions of the job list.",
            },
        ),
        ("Credits", {"fields": ("credits_charged", "free_use_day", "refunded", "ledger")}),
        (
            "Consistency",
            {
                "fields": ("consistency_report",),
                "description": "How each shot shows the elements it mentions, measured after "
                "the job succeeded (generation.consistency).",
            },
        ),
        ("Compiled prompt", {"fields": ("compiled_plan",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "id",
        "owner",
        "kind",
        "free_use_day",
        "model",
        "mode",
        "duration",
        "aspect_ratio",
        "prompt",
        "status",
        "progress",
        "error_code",
        "error_message",
        "staff_error",
        "cancel_requested",
        "attempts",
        "provider",
        "provider_task_id",
        "provider_external_id",
        "provider_status",
        "provider_message",
        "provider_hint_at",
        "heartbeat_at",
        "created_at",
        "started_at",
        "finished_at",
        "credits_charged",
        "refunded",
        "ledger",
        "consistency_report",
        "compiled_plan",
    )
    inlines = (JobElementInline, JobInputInline, GenerationOutputInline)
    actions = ("cancel_jobs", "retry_jobs")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GenerationJob]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _refunded=Exists(
                    CreditLedgerEntry.objects.filter(refund_of_id=OuterRef("debit_id"))
                )
            )
        )

    def has_jobs_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("generation.change_generationjob")

    # --- columns and fields

    @admin.display(description="job", ordering="id")
    def short_id(self, obj: GenerationJob) -> str:
        return short_id(obj)

    @admin.display(boolean=True, description="refunded", ordering="_refunded")
    def refunded(self, obj: GenerationJob) -> bool | None:
        if obj.debit_id is None:
            return None  # nothing was charged
        found = getattr(obj, "_refunded", None)
        if found is None:
            found = CreditLedgerEntry.objects.filter(refund_of_id=obj.debit_id).exists()
        return bool(found)

    @admin.display(description="credit ledger")
    def ledger(self, obj: GenerationJob) -> SafeString:
        # Every charge and refund of the job carries its reference, retries included.
        url = reverse("admin:accounts_creditledgerentry_changelist")
        return format_html(
            '<a href="{}?q={}">Charges and refunds of this job</a>', url, f"generation.job:{obj.pk}"
        )

    @admin.display(description="report")
    def consistency_report(self, obj: GenerationJob) -> str:
        report = JobConsistency.objects.filter(job=obj).first()
        if report is None:
            if obj.consistency_pending:
                return "Being measured (its generation.succeeded webhook waits for the report)."
            return "Not measured."
        if report.status != ConsistencyStatus.DONE:
            return f"Could not be measured: {report.message}"
        lines = [f"score {report.score}, {report.drifted} drifted ({report.engine})"]
        for row in report.shots.select_related("job_element"):
            flag = " DRIFT" if row.drift else ""
            lines.append(
                f"shot {row.shot_index} {row.job_element.name}: {row.method} {row.score:.2f}"
                f"{'' if row.present else ' (not seen)'}{flag}"
            )
        return "\n".join(lines)

    @admin.display(description="plan")
    def compiled_plan(self, obj: GenerationJob) -> SafeString:
        return format_html(
            '<pre style="white-space: pre-wrap;">{}</pre>',
            json.dumps(obj.plan, indent=2, ensure_ascii=False),
        )

    # --- staff previews

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "file/<str:kind>/<int:pk>/",
                self.admin_site.admin_view(require_safe(self.file_view)),
                name="generation_generationjob_file",
            ),
        ]
        # Before the defaults, whose `<path:object_id>/` would take these paths.
        return own + super().get_urls()

    def file_view(self, request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
        """A file of a job (a pinned element image or voice, an input, an output or its
        poster or thumbnail), to staff who may see jobs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if kind not in PREVIEW_SOURCES:
            raise Http404
        model, field_name = PREVIEW_SOURCES[kind]
        row = model.objects.filter(pk=pk).only(field_name).first()
        if row is None:
            raise Http404
        value = getattr(row, field_name)
        return stream_stored_file(request, value if isinstance(value, str) else value.name)

    # --- actions

    @admin.action(description="Cancel selected jobs", permissions=["jobs"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        canceled: list[str] = []
        stopping: list[str] = []
        finished: list[str] = []
        for job_id in queryset.order_by("created_at").values_list("pk", flat=True):
            job, was = services.generation_staff_cancel(staff=staff_user(request), job_id=job_id)
            if was in FINISHED:
                finished.append(f"{short_id(job)} ({job.status})")
            elif was == JobStatus.QUEUED:
                canceled.append(short_id(job))
                self.log_change(request, job, "Canceled by staff; credits refunded")
            else:
                stopping.append(short_id(job))
                self.log_change(request, job, "Asked the running job to stop")
        if canceled:
            self.message_user(
                request,
                f"Canceled {plural(len(canceled), 'queued job')}; "
                f"{'its' if len(canceled) == 1 else 'their'} credits were refunded.",
                messages.SUCCESS,
            )
        if stopping:
            self.message_user(
                request,
                f"Asked {plural(len(stopping), 'running job')} to stop: "
                "canceled and refunded at the next progress report.",
                messages.SUCCESS,
            )
        if finished:
            self.message_user(
                request,
                f"Skipped {plural(len(finished), 'finished job')}: {', '.join(finished)}.",
                messages.WARNING,
            )

    @admin.action(description="Retry selected jobs", permissions=["jobs"])
    def retry_jobs(
        self, request: HttpRequest, queryset: QuerySet[GenerationJob]
    ) -> TemplateResponse | None:
        jobs = list(queryset.select_related("owner__wallet").order_by("created_at"))
        retryable = [job for job in jobs if job.status in RETRYABLE]
        skipped = [job for job in jobs if job.status not in RETRYABLE]
        if skipped:
            self.message_user(
                request,
                f"Not retried, only failed or canceled jobs are: "
                f"{', '.join(f'{short_id(j)} ({j.status})' for j in skipped)}.",
                messages.WARNING,
            )
        if not retryable:
            return None
        if "apply" in request.POST:
            self._retry(request, retryable)
            return None
        return confirm_page(
            self,
            request,
            template="admin/generation/generationjob/retry.html",
            action="retry_jobs",
            title="Retry jobs",
            selected=[job.pk for job in retryable],
            css_name="retry-jobs",
            jobs=[
                (
                    job,
                    short_id(job),
                    getattr(getattr(job.owner, "wallet", None), "balance", 0),
                )
                for job in retryable
            ],
        )

    def _retry(self, request: HttpRequest, jobs: list[GenerationJob]) -> None:
        retried = 0
        for job in jobs:
            try:
                # Each its own transaction: one owner who can't pay leaves the others' retries.
                services.generation_retry(staff=staff_user(request), job=job)
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{short_id(job)}: not retried. {' '.join(exc.messages)}",
                    messages.ERROR,
                )
                continue
            retried += 1
            self.log_change(
                request, job, f"Retried by staff; charged {job.credits_charged} credits again"
            )
        if retried:
            self.message_user(
                request,
                f"Retried {plural(retried, 'job')}: charged again and queued.",
                messages.SUCCESS,
            )


@admin.register(JanitorRun)
class JanitorRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The janitor's runs (scheduled, or `manage.py janitor`): what each one removed."""

    list_display = (
        "started_at",
        "dry_run",
        "checked_files",
        "files_removed",
        "bytes_removed",
        "folders_removed",
        "keys_removed",
        "duration",
    )
    list_filter = ("dry_run",)
    date_hierarchy = "started_at"
    readonly_fields = (
        "started_at",
        "finished_at",
        "dry_run",
        "checked_files",
        "files_removed",
        "bytes_removed",
        "folders_removed",
        "keys_removed",
        "removed_list",
    )
    exclude = ("removed",)

    @admin.display(description="took")
    def duration(self, obj: JanitorRun) -> str:
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    @admin.display(description="removed (files, then folders)")
    def removed_list(self, obj: JanitorRun) -> SafeString:
        if not obj.removed:
            return format_html("{}", "nothing")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li><code>{}</code></li>", ((n,) for n in obj.removed)),
        )


# --- Prices -------------------------------------------------------------------------------


class PriceRuleForm(forms.ModelForm):
    class Meta:
        model = PriceRule
        fields = ("model", "mode", "base_credits", "per_second_credits")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # The list's editable rows carry only the prices; model and mode are the row's own.
        model = data.get("model", self.instance.model)
        mode = data.get("mode", self.instance.mode)
        if not model or mode is None:
            return data
        spec = MODELS[ModelCode(model)]
        offered = spec.modes or (services.IMAGE_MODE,)
        if "mode" in self.fields and mode not in offered:
            self.add_error("mode", f"{spec.label} offers the modes {', '.join(offered)}.")
        if spec.is_image and data.get("per_second_credits"):
            self.add_error(
                "per_second_credits", "An image has no duration: leave the per-second price at 0."
            )
        return data


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    form = PriceRuleForm
    list_display = ("model", "mode", "base_credits", "per_second_credits", "example")
    list_editable = ("base_credits", "per_second_credits")
    list_display_links = ("model",)
    list_filter = ("model",)
    ordering = ("model", "mode")

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        # The list's editable prices go through the same checks as the change form.
        return super().get_changelist_form(request, form=PriceRuleForm, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A rule is found by its model and mode; changing them would reprice another mode.
        return ("model", "mode") if obj is not None else ()

    @admin.display(description="for example")
    def example(self, obj: PriceRule) -> str:
        spec = MODELS[ModelCode(obj.model)]
        if spec.is_image:
            return f"{obj.price(None)} per image job"
        seconds = spec.default_duration or 5
        return f"{obj.price(seconds)} for {seconds} s"
