"""Reads of the element library, always scoped to an owner."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from elements.models import Element


def element_count(*, owner: AbstractBaseUser) -> int:
    """How many elements `owner` keeps, the number compared with the tier's element limit."""
    return Element.objects.filter(owner_id=owner.pk).count()
