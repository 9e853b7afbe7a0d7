"""The library a bundle comes from or goes into.

A user's personal library or a team's (`elements.teams.policy.Library`), seen through the
user acting: the export's requester or the importer. The export and import code only ever
asks the library for its rows, its lock and its limit; who may do what is the policy's.
A team's viewer may export its elements but not its voice files (`may_export_voice_files`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from elements.models import Element, Voice
from elements.teams.policy import Action, Library, allowed, permitted
from elements.teams.policy import personal_library as policy_personal_library


@dataclass(frozen=True)
class BundleLibrary:
    """A library as the bundle code sees it, for the user `owner` (the one acting)."""

    owner: AbstractBaseUser
    library: Library | None = None  # None: the owner's own

    @property
    def target(self) -> Library:
        return self.library or policy_personal_library(self.owner)

    @property
    def owner_id(self) -> int:
        """The owner of rows written here (the importing member) and of an export."""
        return int(self.owner.pk)

    @property
    def team_id(self) -> int | None:
        return self.target.team_id

    def elements(self) -> QuerySet[Element]:
        return permitted(self.owner, Element, Action.VIEW).filter(self.target.rows())

    def voices(self) -> QuerySet[Voice]:
        return Voice.objects.filter(self.target.rows())

    @property
    def may_export_voice_files(self) -> bool:
        # A team's viewers may not; the owner of a personal library always may.
        return allowed(self.owner, self.target, Action.DOWNLOAD_VOICE)

    def element_limit(self) -> int:
        from elements.services import library_element_limit

        return library_element_limit(self.target, self.owner)

    def lock(self) -> None:
        """Serialise this library's writes that count its rows (inside a transaction)."""
        from elements.services import lock_library

        lock_library(self.target)


def personal_library(owner: AbstractBaseUser) -> BundleLibrary:
    return BundleLibrary(owner)


def bundle_library(owner: AbstractBaseUser, library: Library | None) -> BundleLibrary:
    return BundleLibrary(owner, library)
