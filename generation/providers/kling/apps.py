from django.apps import AppConfig


class KlingConfig(AppConfig):
    """The Kling provider as an app of its own: it owns the sync state (label `kling`)."""

    name = "generation.providers.kling"
    label = "kling"
    verbose_name = "Kling"

    def ready(self) -> None:
        from elements.signals import voice_withdrawn
        from generation.providers.kling.tasks import voice_withdrawn_received

        voice_withdrawn.connect(voice_withdrawn_received, dispatch_uid="kling-voice-withdrawn")
