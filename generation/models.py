"""Generation jobs, what they were made from, and what they produced.

A job pins a snapshot of every element it uses when it is submitted (name, type,
description, version, image files, voice file): editing or deleting the element later changes
no submitted job. Pinned files are shared with the element, not copied, and a file still
pinned by a job is never deleted (see `generation.selectors.pinned_file_names`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from generation.catalog import MODELS

MODEL_CHOICES = [(code.value, spec.label) for code, spec in MODELS.items()]


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


class JobKind(models.TextChoices):
    GENERATION = "generation", "Generation"
    MULTIVIEW = "multiview", "AI multi-view completion"


class PriceRule(models.Model):
    """What a job of a model and mode costs; staff edit it in admin."""

    model = models.CharField(max_length=32, choices=MODEL_CHOICES)
    mode = models.CharField(max_length=8, help_text="`std` or `pro` for video; `-` for images.")
    base_credits = models.PositiveIntegerField(help_text="Credits per job.")
    per_second_credits = models.PositiveIntegerField(
        default=0, help_text="Credits per second of video, on top of the base."
    )

    class Meta:
        ordering = ["model", "mode"]
        constraints = [
            models.UniqueConstraint(fields=["model", "mode"], name="generation_one_price_per_mode")
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.mode}"

    def price(self, duration: int | None) -> int:
        return self.base_credits + self.per_second_credits * (duration or 0)


class GenerationJob(models.Model):
    """One video or image generation: its request, its state, and its cost."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    kind = models.CharField(
        max_length=16, choices=JobKind.choices, default=JobKind.GENERATION, db_index=True
    )
    # Empty for an AI-assist job, which uses no generation model.
    model = models.CharField(max_length=32, choices=MODEL_CHOICES, blank=True)
    mode = models.CharField(max_length=8)
    prompt = models.TextField()
    duration = models.PositiveSmallIntegerField(null=True, blank=True)
    aspect_ratio = models.CharField(max_length=8, blank=True)
    plan = models.JSONField(default=dict, help_text="The compiled prompt, as submitted.")
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    credits_charged = models.PositiveIntegerField(default=0)
    debit = models.OneToOneField(
        "accounts.CreditLedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="generation_job",
    )
    free_use_day = models.DateField(
        null=True,
        blank=True,
        help_text="The day of the daily free use this job took (given back if it fails).",
    )
    provider = models.CharField(max_length=32)
    provider_task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="generation_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} job {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class JobElement(models.Model):
    """An element as it was when the job was submitted (`<<<element_N>>>`, N = position)."""

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="elements")
    position = models.PositiveSmallIntegerField()
    element = models.ForeignKey(
        "elements.Element", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=40)
    type = models.CharField(max_length=16)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    voice_name = models.CharField(max_length=60, blank=True)
    voice_file = models.CharField(max_length=200, blank=True, help_text="Shared storage name.")

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="generation_element_order"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class JobElementImage(models.Model):
    """A pinned reference image: the same stored file the element had."""

    job_element = models.ForeignKey(JobElement, on_delete=models.CASCADE, related_name="images")
    role = models.CharField(max_length=8)
    position = models.PositiveSmallIntegerField()
    file = models.CharField(max_length=200, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["job_element", "position"]

    def __str__(self) -> str:
        return f"{self.job_element} image {self.position}"


class InputKind(models.TextChoices):
    IMAGE = "image", "Attached image"
    START_FRAME = "start_frame", "Start frame"
    END_FRAME = "end_frame", "End frame"
    VIDEO = "video", "Input video"


class JobInput(models.Model):
    """A file the job was given: an attached image (`[@ImageN]`, N = position) or a frame."""

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="inputs")
    kind = models.CharField(max_length=16, choices=InputKind.choices)
    position = models.PositiveSmallIntegerField()
    file = models.CharField(max_length=200, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["job", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "kind", "position"], name="generation_input_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.position} of {self.job_id}"


class OutputKind(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"


class GenerationOutput(models.Model):
    """A finished image or video: the user's creation history."""

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="outputs")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_outputs"
    )
    kind = models.CharField(max_length=8, choices=OutputKind.choices)
    file = models.FileField(upload_to="outputs/", max_length=200)
    poster = models.ImageField(upload_to="outputs/posters/", max_length=200)
    thumbnail = models.ImageField(upload_to="outputs/thumbs/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.job_id}"
