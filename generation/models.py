"""Generation jobs, what they were made from, and what they produced.

A job pins a snapshot of every element it uses when it is submitted (name, type,
description, version, image files, voice file, a video element's clip): editing or deleting
the element later changes no submitted job. Pinned files are shared with the element, not
copied, and a file still pinned by a job is never deleted (see
`generation.selectors.pinned_file_names`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from elementsite.model_rows import plain_rows
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


@plain_rows
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
    staff_error = models.TextField(
        blank=True,
        help_text=(
            "Staff only, never in the API: the exception class and message of a failure "
            "that is our bug (the user sees `error_message`)."
        ),
    )
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
    provider_external_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="Our id for the provider task (Kling `external_task_id`), set before submit.",
    )
    provider_status = models.CharField(
        max_length=16, blank=True, help_text="The provider's raw task status, as last fetched."
    )
    provider_message = models.CharField(
        max_length=500, blank=True, help_text="The provider's raw status message or error."
    )
    provider_hint_at = models.DateTimeField(
        null=True, blank=True, help_text="When a provider callback last hinted at a change."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    stalled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweep found its worker silent (its owner was told); cleared when "
        "a worker takes it again.",
    )
    consistency_pending = models.BooleanField(
        default=False,
        help_text="Succeeded, its consistency pass not reported yet: its generation.succeeded "
        "webhook event is written when the pass stores its report (or fails, or times out).",
    )
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


class IdempotencyKey(models.Model):
    """A client's key for one job-making request: the same key again returns the same job
    and charges nothing more. The unique constraint, not a read before the write, is what
    makes 40 parallel retries create one job: each retry inserts its key in the transaction
    that creates the job, and all but one fail (see `generation.idempotency`)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    operation = models.CharField(
        max_length=40, help_text="The mutation it was given to, e.g. `generationSubmit`."
    )
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the request's input (files by their bytes)."
    )
    job = models.ForeignKey(
        GenerationJob, on_delete=models.CASCADE, null=True, related_name="idempotency_keys"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], name="generation_one_request_per_idempotency_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"

    def bind(self, job: GenerationJob) -> None:
        """Record the job the key's request made (in the transaction that made it)."""
        self.job = job
        self.save(update_fields=["job"])


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
    # Video character elements: the trimmed clip, pinned like the images (shared, not copied).
    clip_file = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text="Shared storage name of a video element's clip; empty for image elements.",
    )
    clip_sound = models.BooleanField(
        default=False,
        help_text="The bound voice is the clip's own (native) voice, so the clip keeps its sound.",
    )

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
        # The creation history's order, whole: with `(owner, -created_at)` alone PostgreSQL
        # read and sorted every output of the owner to return a page.
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="generation_output_history")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.job_id}"


class JanitorRun(models.Model):
    """One pass of the janitor (`generation.janitor`): what it found and removed."""

    LISTED_MAX = 1000

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    dry_run = models.BooleanField(
        default=False, help_text="Only listed what it would remove; removed nothing."
    )
    checked_files = models.PositiveIntegerField(default=0)
    files_removed = models.PositiveIntegerField(
        default=0, help_text="Stored files no row referenced (or would remove, in a dry run)."
    )
    bytes_removed = models.PositiveBigIntegerField(default=0)
    folders_removed = models.PositiveIntegerField(
        default=0, help_text="Temporary render folders of dead workers."
    )
    keys_removed = models.PositiveIntegerField(default=0, help_text="Expired idempotency keys.")
    removed = models.JSONField(
        default=list, blank=True, help_text=f"What it removed (the first {LISTED_MAX} names)."
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "run"
        return f"Janitor {kind} of {self.started_at:%Y-%m-%d %H:%M}"


class ConsistencyStatus(models.TextChoices):
    DONE = "done", "Measured"
    FAILED = "failed", "Could not be measured"


class JobConsistency(models.Model):
    """How faithful a succeeded job's output is to the elements its shots mention
    (`generation.consistency`): an overall score and one `ShotConsistency` per (shot,
    element). Made by a task after the job succeeds; no row yet means not measured yet."""

    job = models.OneToOneField(GenerationJob, on_delete=models.CASCADE, related_name="consistency")
    status = models.CharField(max_length=8, choices=ConsistencyStatus.choices)
    score = models.FloatField(
        null=True, blank=True, help_text="Mean of the (shot, element) scores, 0–1; null if none."
    )
    drifted = models.PositiveSmallIntegerField(
        default=0, help_text="How many (shot, element) pairs fell below their threshold."
    )
    engine = models.CharField(max_length=100)
    frames_sampled = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True, help_text="Why it failed, if it did.")
    checked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Consistency of {self.job_id}"


class ShotConsistency(models.Model):
    """One element mentioned by one shot, and how well the shot's frames show it."""

    report = models.ForeignKey(JobConsistency, on_delete=models.CASCADE, related_name="shots")
    shot_index = models.PositiveSmallIntegerField(help_text="1 for the first shot.")
    job_element = models.ForeignKey(
        JobElement, on_delete=models.CASCADE, related_name="consistency"
    )
    method = models.CharField(max_length=16, help_text="`face` or `appearance`.")
    score = models.FloatField(help_text="0–1: 1 the element itself, 0.5 at the threshold.")
    present = models.BooleanField(help_text="Something of the element's kind was seen at all.")
    drift = models.BooleanField(help_text="The score is below the calibrated threshold.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["report", "shot_index", "job_element__position"]

    def __str__(self) -> str:
        return f"shot {self.shot_index}: {self.job_element}"
