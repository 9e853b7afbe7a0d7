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
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.job_id}"


# --- Explore: shared works, their frozen recipes, reports and moderation --------------------


class WorkStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    HIDDEN = "hidden", "Hidden by moderation"


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
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"


# --- Webhooks for client apps -----------------------------------------------------------------


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
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

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
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
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
