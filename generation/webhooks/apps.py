from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks for client apps. Its tables keep their `generation_webhook*` names."""

    name = "generation.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from elements.signals import element_event
        from generation.webhooks.receivers import element_event_received

        element_event.connect(element_event_received, dispatch_uid="webhooks.element_event")
