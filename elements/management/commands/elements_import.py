"""`manage.py elements_import --user NAME bundle.zip [--on-conflict skip|rename|replace]`: a
bundle imported into a user's library, all or nothing, with a progress bar (the same
service as `elementImport`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from elements.bundles.importer import OnConflict, element_import
from elements.teams.policy import resolve_library
from elementsite.progress import ProgressBar


def _refusal(exc: ValidationError) -> str:
    """`CODE (field): message` for each error, as a client sees them."""
    parts = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            parts += [f"{e.code} ({field}): {' '.join(e.messages)}" for e in errors]
    else:
        parts += [f"{e.code}: {' '.join(e.messages)}" for e in exc.error_list]
    return "; ".join(parts)


class Command(BaseCommand):
    help = "Import a bundle into a user's library (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", help="The .zip an export made.")
        parser.add_argument("--user", required=True, help="The importing user's username.")
        parser.add_argument(
            "--library",
            default=None,
            help='"me" (the default) for the user\'s own library, else the handle of a team '
            "they may edit.",
        )
        parser.add_argument(
            "--on-conflict",
            choices=[c.value for c in OnConflict],
            default=OnConflict.SKIP.value,
            help="An element whose name the library has: skip it, rename it or replace "
            "the library's (default: skip).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        library = resolve_library(user, options["library"])
        if library is None:
            raise CommandError(f"No library {options['library']!r} of {user}.")
        path = Path(options["bundle"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            with path.open("rb") as bundle:
                report = element_import(
                    owner=user,
                    library=library,
                    bundle=bundle,
                    on_conflict=OnConflict(options["on_conflict"]),
                    progress=ProgressBar(self.stderr, "Importing elements"),
                )
        except ValidationError as exc:
            raise CommandError(f"Refused, nothing imported: {_refusal(exc)}") from exc
        for row in report.rows:
            renamed = f" as “{row.new_name}”" if row.new_name else ""
            self.stdout.write(f"{row.outcome.upper():<9} {row.name}{renamed}")
            for note in row.notes:
                self.stdout.write(f"          {note}")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(report.rows)} element(s)."))
