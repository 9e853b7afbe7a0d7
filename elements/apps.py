from django.apps import AppConfig


class ElementsConfig(AppConfig):
    name = "elements"
    verbose_name = "Element library"

    def ready(self) -> None:
        # The identity engine's start-up check (its models are inside installed wheels).
        from elements.identity import checks  # noqa: F401
