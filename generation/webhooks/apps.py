from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks for client apps. Its tables keep their `generation_webhook*` names."""

    name = "generation.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
