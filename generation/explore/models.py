"""Explore: works shared to the feed, their frozen recipes, recreations, reports and moderation.

These tables were created by the `generation` app and keep its names (`db_table`): the models
moved here in state only (`explore.0001` and `generation.0014`), so no row moved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from elementsite.model_rows import plain_rows
from generation.models import MODEL_CHOICES, GenerationJob, GenerationOutput, OutputKind


class WorkStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    HIDDEN = "hidden", "Hidden by moderation"


@plain_rows
class ExploreWork(models.Model):
    """One output shared to the Explore feed, with the recipe it was made from.

    The recipe (`recipe`, see `generation.explore_services.freeze_recipe`) is a copy of the
    job's model, settings, prompt, pinned element snapshots and inputs taken at share time;
    its files are pinned by `ExploreWorkFile` rows, so deleting the element (or the voice)
    later deletes none of them and a recreation renders what the author rendered.
    """

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="explore_works"
    )
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="explore_works")
    output = models.ForeignKey(
        GenerationOutput, on_delete=models.CASCADE, related_name="explore_works"
    )
    title = models.CharField(max_length=80)
    caption = models.CharField(max_length=500, blank=True)
    # Copied from the job so the feed filters and shows them without joins.
    model = models.CharField(max_length=32, choices=MODEL_CHOICES)
    output_kind = models.CharField(max_length=8, choices=OutputKind.choices)
    prompt = models.TextField(help_text="The prompt as written: mentions are names.")
    recipe = models.JSONField(help_text="What a recreation is made from, frozen at share time.")
    status = models.CharField(max_length=16, choices=WorkStatus.choices, db_index=True)
    hidden_reason = models.CharField(
        max_length=300, blank=True, help_text="Why staff hid it; shown to the author."
    )
    recreate_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    unshared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "generation_explorework"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="generation_explore_feed"),
            models.Index(
                fields=["status", "-recreate_count", "-created_at"],
                name="generation_explore_popular",
            ),
        ]
        constraints = [
            # Sharing twice: one live work per output (after unsharing it may be shared again).
            models.UniqueConstraint(
                fields=["output"],
                condition=Q(unshared_at__isnull=True),
                name="generation_explore_one_share_per_output",
            ),
            models.CheckConstraint(
                condition=~Q(status="hidden") | ~Q(hidden_reason=""),
                name="generation_explore_hidden_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(title=""), name="generation_explore_title_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible(self) -> bool:
        return self.status == WorkStatus.APPROVED and self.unshared_at is None


class ExploreWorkFile(models.Model):
    """A stored file a shared work's recipe uses: kept while the work exists."""

    work = models.ForeignKey(ExploreWork, on_delete=models.CASCADE, related_name="files")
    file = models.CharField(max_length=200, db_index=True)

    class Meta:
        db_table = "generation_exploreworkfile"
        constraints = [
            models.UniqueConstraint(fields=["work", "file"], name="generation_explore_file_once")
        ]

    def __str__(self) -> str:
        return self.file


class ExploreRecreation(models.Model):
    """A job made from a shared work's recipe by one click."""

    work = models.ForeignKey(
        ExploreWork, on_delete=models.SET_NULL, null=True, related_name="recreations"
    )
    job = models.OneToOneField(
        GenerationJob, on_delete=models.CASCADE, related_name="explore_recreation"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "generation_explorerecreation"

    def __str__(self) -> str:
        return f"{self.job_id} from work {self.work_id}"


class ExploreReport(models.Model):
    """A user's report of a shared work; open until staff act on the work."""

    work = models.ForeignKey(ExploreWork, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "generation_explorereport"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work", "reporter"], name="generation_explore_one_report_per_user"
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="generation_explore_report_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Report of {self.work_id}: {self.reason[:40]}"


class ExploreModerationAction(models.TextChoices):
    APPROVED = "approved", "Approved"
    HIDDEN = "hidden", "Hidden"
    RESTORED = "restored", "Restored"


class ExploreModerationEvent(models.Model):
    """The audit trail of staff decisions on shared works; rows stay when the work goes."""

    work = models.ForeignKey(
        ExploreWork, on_delete=models.SET_NULL, null=True, blank=True, related_name="moderation"
    )
    subject = models.CharField(max_length=120, help_text="The work's title, kept.")
    action = models.CharField(max_length=16, choices=ExploreModerationAction.choices)
    reason = models.CharField(max_length=300, blank=True)
    reports_resolved = models.PositiveIntegerField(default=0)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "generation_exploremoderationevent"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"
