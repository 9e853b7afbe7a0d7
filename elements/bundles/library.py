"""The library a bundle comes from or goes into.

Only a user's personal library exists today. Team libraries will be another kind of
`BundleLibrary` (their own owner row, roles: a viewer may export elements but not voice
files, `may_export_voice_files`); the export and import code only ever asks the library
for its rows, its lock and its limit, never for a user.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from accounts.locks import lock_owner
from accounts.selectors import user_entitlements
from elements.models import Element, Voice


@dataclass(frozen=True)
class BundleLibrary:
    """A user's personal library, as the bundle code sees a library."""

    owner: AbstractBaseUser

    @property
    def owner_id(self) -> int:
        return int(self.owner.pk)

    def elements(self) -> QuerySet[Element]:
        return Element.objects.filter(owner_id=self.owner.pk)

    def voices(self) -> QuerySet[Voice]:
        return Voice.objects.filter(owner_id=self.owner.pk)

    @property
    def may_export_voice_files(self) -> bool:
        # A team's viewers will not; the owner of a personal library always may.
        return True

    def element_limit(self) -> int:
        return user_entitlements(self.owner).element_limit

    def lock(self) -> None:
        """Serialise this library's writes that count its rows (inside a transaction)."""
        lock_owner(self.owner)


def personal_library(owner: AbstractBaseUser) -> BundleLibrary:
    return BundleLibrary(owner)
