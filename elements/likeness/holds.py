"""Whether an element is held for a likeness owner: the one rule, read by the matching, the
grants and moderation (an unblocked element may still be held)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.utils import timezone

from elements.models import (
    Element,
    ElementStatus,
    LikenessMatch,
    LikenessMatchState,
    LikenessStatus,
)

BLOCKING_STATES = (LikenessMatchState.HELD, LikenessMatchState.DECLINED)


def refresh_holds(element_ids: Iterable[int]) -> None:
    """Hold each ACTIVE element with a held or declined match on an active likeness, and
    release each HELD one without: two conditional updates, so a status moderation or
    processing set meanwhile (blocked, failed…) is never overwritten."""
    ids = set(element_ids)
    if not ids:
        return
    held = set(
        LikenessMatch.objects.filter(
            element_id__in=ids, state__in=BLOCKING_STATES, likeness__status=LikenessStatus.ACTIVE
        ).values_list("element_id", flat=True)
    )
    now = timezone.now()
    changed = {"version": F("version") + 1, "updated_at": now}
    Element.objects.filter(pk__in=held, status=ElementStatus.ACTIVE).update(
        status=ElementStatus.HELD, **changed
    )
    Element.objects.filter(pk__in=ids - held, status=ElementStatus.HELD).update(
        status=ElementStatus.ACTIVE, **changed
    )
