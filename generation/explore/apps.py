from django.apps import AppConfig


class ExploreConfig(AppConfig):
    """Explore is an app of its own (it owns models) inside the `generation` package."""

    name = "generation.explore"
    label = "explore"
    verbose_name = "Explore"
