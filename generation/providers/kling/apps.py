from django.apps import AppConfig


class KlingConfig(AppConfig):
    """The Kling provider as an app of its own: it owns the sync state (label `kling`)."""

    name = "generation.providers.kling"
    label = "kling"
    verbose_name = "Kling"
