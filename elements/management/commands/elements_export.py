"""`manage.py elements_export --user NAME [--library HANDLE] (--all | --id N ...) --output
bundle.zip`: elements of a library the user may export (their own by default, or a team's
they are a member of) written to a bundle file, with a progress bar (the same writer as
`elementExport`; a team's viewer gets no voice files, as there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from elements.bundles.export import exportable_elements, write_bundle
from elements.bundles.library import bundle_library
from elements.models import ElementStatus
from elements.teams.policy import Action, Library, library_actions, resolve_library
from elementsite.progress import ProgressBar


class Command(BaseCommand):
    help = "Export a user's elements (some, or every usable one) to a bundle file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The exporting user's username.")
        parser.add_argument(
            "--library",
            default=None,
            help="\"me\" (the default) for the user's own library, else a team's handle.",
        )
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every usable element.")
        which.add_argument(
            "--id", type=int, action="append", dest="ids", help="An element's id (repeat)."
        )
        parser.add_argument("--output", required=True, help="The .zip to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        library = bundle_library(user, _library(user, options["library"], Action.EXPORT))
        ids = options["ids"]
        elements = exportable_elements(library, ids)
        if ids is not None:
            missing = sorted(set(ids) - {e.pk for e in elements})
            if missing:
                raise CommandError(f"Not elements of this library: {missing}.")
            unusable = [e.name for e in elements if e.status != ElementStatus.ACTIVE]
            if unusable:
                raise CommandError(f"Blocked, failed or unfinished: {', '.join(unusable)}.")
        if not elements:
            raise CommandError("Nothing to export.")
        output = Path(options["output"])
        partial = output.with_name(output.name + ".part")
        try:
            with partial.open("wb") as out:
                manifest = write_bundle(
                    elements,
                    out,
                    include_voice_files=library.may_export_voice_files,
                    progress=ProgressBar(self.stderr, "Exporting elements"),
                )
            partial.replace(output)
        except (OSError, ValidationError) as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"The bundle could not be written: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {len(manifest.elements)} element(s) and {len(manifest.voices)} "
                f"voice(s) to {output} ({output.stat().st_size} bytes)."
            )
        )


def _library(user: Any, qualifier: str | None, action: Action) -> Library:
    """The library `--library` names, if the user may `action` there; else a CommandError."""
    library = resolve_library(user, qualifier)
    if library is None:
        raise CommandError(f"No library {qualifier!r} of {user}.")
    if action not in library_actions(user, library):
        raise CommandError(f"{user}'s role in {library.qualifier!r} does not allow this.")
    return library
