"""What the Kling sync keeps: each element version and voice sample as created on Kling, and
the alerts staff must act on. Moved from `generation` with their tables (`db_table`)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SyncState(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCING = "syncing", "Syncing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


class ProviderVoice(models.Model):
    """A voice sample as a custom voice on a provider, keyed by the stored sample (a voice's
    audio never changes: a new sample is a new file)."""

    provider = models.CharField(max_length=32)
    voice_file = models.CharField(max_length=200, help_text="Shared storage name of the sample.")
    voice_name = models.CharField(max_length=60, blank=True)
    external_id = models.CharField(max_length=64, help_text="Our id for the provider task.")
    task_id = models.CharField(max_length=64, blank=True)
    provider_voice_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=SyncState.choices, default=SyncState.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table it had in `generation` (moved without moving data).
        db_table = "generation_providervoice"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "voice_file"], name="generation_one_provider_voice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voice_name or self.voice_file} on {self.provider}"


class ProviderElement(models.Model):
    """One version of an element as created on a provider. The provider has no update: a new
    version is a new provider element, and the old one is deleted once no pending job pins
    it. `provider_element_id` is a 64-bit integer kept as text (never a float)."""

    provider = models.CharField(max_length=32)
    element = models.ForeignKey(
        "elements.Element",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provider_versions",
    )
    element_key = models.CharField(
        max_length=40, help_text="`element:<id>`, kept when the element is deleted."
    )
    source_pin = models.ForeignKey(
        "generation.JobElement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A job's snapshot of this version: what the sync sends.",
    )
    version = models.PositiveIntegerField()
    reference_type = models.CharField(max_length=16, blank=True)
    voice = models.ForeignKey(
        ProviderVoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="elements"
    )
    external_id = models.CharField(max_length=64, help_text="Our id for the provider task.")
    task_id = models.CharField(max_length=64, blank=True)
    provider_element_id = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=16, choices=SyncState.choices, default=SyncState.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table it had in `generation` (moved without moving data).
        db_table = "generation_providerelement"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "element_key", "version"],
                name="generation_one_provider_element_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"element {self.element_key} v{self.version} on {self.provider}"


class ProviderAlert(models.Model):
    """Something staff must act on at a provider (credentials, arrears, access)."""

    provider = models.CharField(max_length=32)
    code = models.CharField(max_length=16, help_text="The provider's error code.")
    message = models.CharField(max_length=500)
    request_id = models.CharField(max_length=64, blank=True)
    job = models.ForeignKey(
        "generation.GenerationJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        # The table it had in `generation` (moved without moving data).
        db_table = "generation_provideralert"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.code}: {self.message[:60]}"
