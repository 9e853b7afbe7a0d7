from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        # Jobs and shared works keep the element files they use (they share them rather than
        # copy them): the element library asks this before it deletes a file.
        from elements.hooks import pinned_files_register
        from generation.access import register_generation_access
        from generation.selectors import pinned_file_names

        pinned_files_register(pinned_file_names)
        # A job and what it made are its submitter's alone (elements.teams.policy).
        register_generation_access()
