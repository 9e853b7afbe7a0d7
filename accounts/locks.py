"""The owner lock: one user's writes that check a per-user limit run one after another."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from accounts.models import User


def lock_owner(owner: AbstractBaseUser) -> None:
    """Lock the owner's row until the current transaction ends (call inside one), so two
    writes that count the owner's rows against a limit can't both pass the count.

    PostgreSQL: serialises this owner's writes. SQLite: a no-op, but transactions there are
    IMMEDIATE, which serialises all writers anyway."""
    User.objects.select_for_update().filter(pk=owner.pk).first()
