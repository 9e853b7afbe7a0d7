"""Portable bundles: `elementExport` (a job, polled with `elementExport(id:)`) and
`elementImport` (all or nothing, a row per element). See `elements.bundles`."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import current_user, require_user
from elements import models
from elements.bundles.export import element_export_start, export_download_url
from elements.bundles.importer import OnConflict, Outcome, element_import
from elements.graphql.libraries import LIBRARY_ARGUMENT, library_argument
from elements.graphql.types import ElementNode
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.ids import node_or_none, node_pks
from elementsite.relay import PkNodeID

choices_enum(models.ExportStatus, name="ElementExportStatus", description="Where an export stands.")
ExportStatus = models.ExportStatus


@strawberry_django.type(models.ElementExport, name="ElementExport")
class ElementExportNode(PkNodeID, relay.Node):
    """A bundle of the viewer's elements: written by a job, then downloadable until it
    expires."""

    status: ExportStatus = column(description="Queued, running, succeeded, failed or expired.")
    progress: int = column(description="0–100.")
    element_count: int = column(description="Elements in the bundle.")
    size: int = column(description="The bundle's size in bytes once written.")
    failure_code: str = column(description="Why it failed (a stable code); empty otherwise.")
    failure_message: str = column(description="Why it failed, for people; empty otherwise.")
    created_at: datetime.datetime = column(description="When it was asked for.")
    finished_at: datetime.datetime | None = column(description="When it ended.")
    expires_at: datetime.datetime | None = column(
        description="When the bundle is deleted; null until written."
    )

    @strawberry_django.field(
        description="A signed link to the bundle (a .zip), valid for a few minutes and only "
        "for you; ask again for a fresh one. Null until written and once expired.",
        only=["status", "file", "expires_at", "owner_id"],
    )
    def download_url(self, root: models.ElementExport, info: Info) -> str | None:
        return export_download_url(root, request=info.context.request)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = current_user(info)
        if viewer is None:
            return queryset.none()
        return queryset.filter(owner_id=viewer.pk)


@strawberry.enum(description="What to do with a bundle's element whose name you already use.")
class ElementImportConflict(Enum):
    SKIP = strawberry.enum_value("skip", description="Keep yours; the bundle's is not imported.")
    RENAME = strawberry.enum_value(
        "rename", description="Import it as “Name (2)” (the first free number)."
    )
    REPLACE = strawberry.enum_value(
        "replace",
        description="Put the bundle's type, description, images and voice into yours.",
    )


_CONFLICTS = {
    ElementImportConflict.SKIP: OnConflict.SKIP,
    ElementImportConflict.RENAME: OnConflict.RENAME,
    ElementImportConflict.REPLACE: OnConflict.REPLACE,
}


@strawberry.enum(description="What became of one element of an imported bundle.")
class ElementImportOutcome(Enum):
    CREATED = strawberry.enum_value("created", description="A new element.")
    SKIPPED = strawberry.enum_value("skipped", description="You had one of that name; kept.")
    RENAMED = strawberry.enum_value("renamed", description="Imported under `newName`.")
    REPLACED = strawberry.enum_value("replaced", description="Your element of that name, replaced.")


@strawberry.input(description="The elements to export: some, or the whole library.")
class ElementExportInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Your elements to export, in this order."
    )
    library: str | None = strawberry.field(
        default=None,
        description="The library: with `ids`, where they are; alone (or with `all`), export "
        "every usable element of it. " + LIBRARY_ARGUMENT + " A team's viewer gets no voice "
        "files (the manifest's includesVoiceFiles says so).",
    )
    all: bool = strawberry.field(
        default=False, description="Every usable element of your library instead."
    )


@strawberry.input(description="A bundle to import into your library.")
class ElementImportInput:
    bundle: Upload = strawberry.field(description="The .zip an element export made.")
    on_conflict: ElementImportConflict = strawberry.field(
        default=ElementImportConflict.SKIP,
        description="What to do with an element whose name your library already has.",
    )
    library: str | None = strawberry.field(
        default=None,
        description="The library to import into (needs the right to edit it): " + LIBRARY_ARGUMENT,
    )


@strawberry.type(description="The export, running or written.")
class ElementExportResult:
    export: ElementExportNode = strawberry.field(
        description="Poll it with `elementExport(id:)` until SUCCEEDED or FAILED."
    )


@strawberry.type(description="One element of the bundle and what became of it.")
class ElementImportRow:
    name: str = strawberry.field(description="Its name in the bundle.")
    outcome: ElementImportOutcome = strawberry.field(description="What happened to it.")
    element: ElementNode | None = strawberry.field(
        description="The element in your library now (yours, kept, when skipped)."
    )
    new_name: str | None = strawberry.field(description="The name it got, when renamed.")
    notes: list[str] = strawberry.field(
        description="Remarks, e.g. a voice the bundle did not carry; empty if none."
    )


@strawberry.type(description="The imported bundle: a row per element, in its order.")
class ElementImportResult:
    rows: list[ElementImportRow] = strawberry.field(description="One row per element.")
    created_count: int = strawberry.field(description="Elements added (created or renamed).")


@strawberry.type
class BundleQuery:
    @strawberry.field(description="One of your exports by its global id; null if none.")
    def element_export(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The export's ID.")],
    ) -> ElementExportNode | None:
        return node_or_none(info, id, ElementExportNode)


@strawberry.type
class BundleMutation:
    @strawberry_django.mutation(
        description="Export elements to a bundle: a .zip with `manifest.json` (README.md, "
        "“Portable bundles”) and the files. Small exports come back SUCCEEDED; larger ones "
        "are written by a job: poll `elementExport(id:)` for `progress` and `downloadUrl`."
    )
    def element_export(
        self,
        info: Info,
        input: Annotated[ElementExportInput, strawberry.argument(description="What to export.")],
    ) -> ElementExportResult:
        export = element_export_start(
            owner=require_user(info),
            element_ids=node_pks(list(input.ids), ElementNode) if input.ids is not None else None,
            all_elements=input.all or (input.library is not None and input.ids is None),
            library=library_argument(info, input.library) if input.library is not None else None,
        )
        return ElementExportResult(export=export)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Import a bundle into your library, all or nothing: every file is "
        "checked as an upload, the element limit for the whole bundle; a refused bundle "
        "leaves nothing behind."
    )
    def element_import(
        self,
        info: Info,
        input: Annotated[
            ElementImportInput, strawberry.argument(description="The bundle and the choice.")
        ],
    ) -> ElementImportResult:
        report = element_import(
            owner=require_user(info),
            bundle=input.bundle,
            on_conflict=_CONFLICTS[input.on_conflict],
            library=library_argument(info, input.library),
        )
        return ElementImportResult(
            rows=[
                ElementImportRow(
                    name=row.name,
                    outcome=ElementImportOutcome(row.outcome.value),
                    element=row.element,  # type: ignore[arg-type]
                    new_name=row.new_name,
                    notes=list(row.notes),
                )
                for row in report.rows
            ],
            created_count=report.count(Outcome.CREATED) + report.count(Outcome.RENAMED),
        )
