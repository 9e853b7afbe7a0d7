"""Likeness protection.

- **Claim**: `likeness_challenge_start` shows the user a fresh random phrase (valid
  `CHALLENGE_TTL`); `likeness_claim` takes a 3–8 s selfie video in which they say it (checked
  for format and size at once, like a video element's upload) and creates the likeness in
  `processing`. The task `elements.tasks.check_likeness` runs `likeness_check`
  (`elements.likeness.check`): FAILED with a code, ACTIVE, or REVIEW when the face matches
  another user's active likeness (staff decide in the admin). The video is deleted when the
  check ends, whatever its verdict: only the face descriptors of the keyframes are kept.
- **Matching**: after an element's image descriptors are computed (`elements.tasks`), its
  described faces are matched against every active likeness but its owner's
  (`element_likeness_check`, the index of `elements.likeness.index`, the identity engine's
  face threshold). A match without a grant holds the element (status HELD: editable, not
  usable) and is queued for the likeness owner. Edits that add images re-run it; a match that
  no longer holds is dropped and the element released.
- **Decisions** (the likeness owner): allow the element's owner (a grant for that user: all
  their matches allowed), allow everyone, decline (the element stays held and staff see it in
  the moderation queue), withdraw a grant (the elements it allowed are held again at once;
  jobs already submitted keep what they pinned).
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.locks import lock_owner
from elements.error_codes import ElementErrorCode
from elements.identity.base import IdentityEngine
from elements.identity.registry import get_identity_engine
from elements.identity.services import descriptors_of
from elements.likeness import check as selfie
from elements.likeness.error_codes import LikenessErrorCode
from elements.likeness.holds import refresh_holds
from elements.likeness.index import bump_version, descriptors_to_bytes, likeness_index
from elements.likeness.phrases import new_phrase
from elements.media.errors import MediaErrorCode
from elements.media.video import open_element_video
from elements.models import (
    Element,
    Likeness,
    LikenessChallenge,
    LikenessGrant,
    LikenessMatch,
    LikenessMatchState,
    LikenessStatus,
    ReferenceImage,
)
from elementsite.errors import field_error
from elementsite.files import atomic_with_files
from elementsite.storage import remove_quietly

logger = logging.getLogger(__name__)

CHALLENGE_TTL = datetime.timedelta(minutes=10)


def _not_found(field: str | None, what: str) -> ValidationError:
    # Another user's row reads exactly like one that does not exist.
    return field_error(field, f"No such {what}.", ElementErrorCode.NOT_FOUND)


# --- The claim ----------------------------------------------------------------------------------


def _check_no_likeness(user: AbstractBaseUser) -> None:
    existing = Likeness.objects.filter(owner_id=user.pk).exclude(status=LikenessStatus.FAILED)
    if existing.exists():
        raise field_error(
            None,
            "You have claimed your likeness already (delete it to claim again).",
            LikenessErrorCode.LIKENESS_EXISTS,
        )


def likeness_challenge_start(*, user: AbstractBaseUser) -> LikenessChallenge:
    """A fresh random phrase to say in the selfie video, valid CHALLENGE_TTL, used once."""
    _check_no_likeness(user)
    phrase, syllables = new_phrase()
    now = timezone.now()
    return LikenessChallenge.objects.create(
        user_id=user.pk,
        phrase=phrase,
        syllables=syllables,
        expires_at=now + CHALLENGE_TTL,
        created_at=now,
    )


def likeness_claim(*, user: AbstractBaseUser, challenge_id: int, video: Any) -> Likeness:
    """Claim one's likeness with the selfie video said for `challenge_id`. Refused before
    anything is written: another user's or an unknown challenge (NOT_FOUND), one used or
    expired (CHALLENGE_EXPIRED), a likeness already claimed, a file that is not a readable
    video (the media codes, as for video elements). A failed claim is replaced."""
    challenge = LikenessChallenge.objects.filter(pk=challenge_id, user_id=user.pk).first()
    if challenge is None:
        raise _not_found("challengeId", "challenge")
    if challenge.used_at is not None or challenge.expires_at <= timezone.now():
        raise field_error(
            "challengeId",
            "This phrase has expired or was used: start again for a new one.",
            LikenessErrorCode.CHALLENGE_EXPIRED,
        )
    _check_no_likeness(user)
    try:
        with open_element_video(video) as probed, atomic_with_files() as files:
            lock_owner(user)
            _check_no_likeness(user)
            used = LikenessChallenge.objects.filter(
                pk=challenge.pk, used_at__isnull=True, expires_at__gt=timezone.now()
            ).update(used_at=timezone.now())
            if not used:
                raise field_error(
                    "challengeId",
                    "This phrase has expired or was used: start again for a new one.",
                    LikenessErrorCode.CHALLENGE_EXPIRED,
                )
            Likeness.objects.filter(owner_id=user.pk, status=LikenessStatus.FAILED).delete()
            with probed.path.open("rb") as handle:
                name = files.save("likeness/videos", File(handle), probed.extension)
            likeness = Likeness.objects.create(
                owner_id=user.pk,
                status=LikenessStatus.PROCESSING,
                phrase=challenge.phrase,
                phrase_syllables=challenge.syllables,
                video=name,
                video_extension=probed.extension,
                report={"upload": {"duration": round(probed.duration, 3)}},
            )
            transaction.on_commit(lambda: _enqueue(likeness.pk))
    except ValidationError as exc:
        if hasattr(exc, "error_dict") or exc.code not in set(MediaErrorCode):
            raise
        raise ValidationError({"video": exc.error_list}) from None
    return likeness


def _enqueue(likeness_id: int) -> None:
    from elements.tasks import enqueue_likeness_check

    enqueue_likeness_check(likeness_id)


def _progress(likeness_id: int, value: int) -> None:
    Likeness.objects.filter(pk=likeness_id, status=LikenessStatus.PROCESSING).update(
        progress=value, updated_at=timezone.now()
    )


def likeness_check(likeness_id: int, *, engine: IdentityEngine | None = None) -> Likeness | None:
    """Check a likeness in `processing` (does nothing otherwise: a duplicate delivery) and
    delete its video, whatever the verdict."""
    engine = engine or get_identity_engine()
    likeness = Likeness.objects.filter(pk=likeness_id, status=LikenessStatus.PROCESSING).first()
    if likeness is None:
        return None
    name = likeness.video.name
    try:
        verdict = _run_check(likeness, engine)
    except Exception:
        logger.exception("likeness %s: the check failed", likeness_id)
        verdict = selfie.Verdict(
            code=LikenessErrorCode.LIKENESS_CHECK_FAILED,
            message="The video could not be checked: record it again.",
        )
    conflict = None
    if verdict.ok:
        assert verdict.descriptors is not None
        hits = likeness_index().search(
            verdict.descriptors, engine.face_threshold, exclude_owner=likeness.owner_id
        )
        conflict = hits[0].likeness_id if hits else None
    with transaction.atomic():
        fields: dict[str, Any] = {
            "video": "",
            "progress": 100,
            "report": {**likeness.report, **verdict.report},
            "updated_at": timezone.now(),
        }
        if not verdict.ok:
            fields.update(
                status=LikenessStatus.FAILED,
                failure_code=verdict.code,
                failure_message=verdict.message[:300],
            )
        else:
            assert verdict.descriptors is not None
            fields.update(
                descriptors=descriptors_to_bytes(verdict.descriptors),
                engine=engine.name,
                status=LikenessStatus.REVIEW if conflict else LikenessStatus.ACTIVE,
                conflict_with_id=conflict,
            )
            if conflict:
                fields.update(
                    failure_code=LikenessErrorCode.LIKENESS_ALREADY_CLAIMED,
                    failure_message="This face matches a likeness another user claimed: "
                    "staff will review your claim.",
                )
        updated = Likeness.objects.filter(pk=likeness_id, status=LikenessStatus.PROCESSING).update(
            **fields
        )
        if updated and fields["status"] == LikenessStatus.ACTIVE:
            bump_version()
    if name:
        transaction.on_commit(lambda: remove_quietly(name))
    return Likeness.objects.filter(pk=likeness_id).first()


def _run_check(likeness: Likeness, engine: IdentityEngine) -> selfie.Verdict:
    if not likeness.video.name:
        return selfie.Verdict(
            code=LikenessErrorCode.LIKENESS_CHECK_FAILED,
            message="The video is gone: record it again.",
        )
    with tempfile.TemporaryDirectory(prefix="likeness-") as workdir:
        path = Path(workdir) / f"selfie.{likeness.video_extension}"
        with default_storage.open(likeness.video.name, "rb") as stored, path.open("wb") as out:
            for chunk in iter(lambda: stored.read(1 << 20), b""):
                out.write(chunk)
        _progress(likeness.pk, 10)
        return selfie.check_selfie(
            path,
            likeness.video_extension,
            syllables=likeness.phrase_syllables,
            engine=engine,
        )


def likeness_delete(*, user: AbstractBaseUser) -> None:
    """Give up one's likeness: its descriptors, matches and grants go; held elements are
    released."""
    likeness = Likeness.objects.filter(owner_id=user.pk).first()
    if likeness is None:
        raise field_error(
            None, "You have not claimed your likeness.", LikenessErrorCode.NO_LIKENESS
        )
    with transaction.atomic():
        element_ids = list(likeness.matches.values_list("element_id", flat=True))
        video = likeness.video.name
        likeness.delete()
        refresh_holds(element_ids)
        bump_version()
    if video:
        transaction.on_commit(lambda: remove_quietly(video))


# --- Staff review -------------------------------------------------------------------------------


def likeness_review_approve(*, staff: AbstractBaseUser, likeness: Likeness) -> None:
    """Staff: a claim in review is the claimant's face after all; it becomes active."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    with transaction.atomic():
        if Likeness.objects.filter(pk=likeness.pk, status=LikenessStatus.REVIEW).update(
            status=LikenessStatus.ACTIVE,
            failure_code="",
            failure_message="",
            updated_at=timezone.now(),
        ):
            bump_version()


def likeness_review_reject(*, staff: AbstractBaseUser, likeness: Likeness) -> None:
    """Staff: a claim in review is refused; its descriptors are dropped."""
    if not staff.is_staff:  # type: ignore[attr-defined]
        raise PermissionDenied
    Likeness.objects.filter(pk=likeness.pk, status=LikenessStatus.REVIEW).update(
        status=LikenessStatus.FAILED,
        descriptors=b"",
        failure_code=LikenessErrorCode.LIKENESS_ALREADY_CLAIMED,
        failure_message="Staff found this face is claimed by another user.",
        updated_at=timezone.now(),
    )


# --- Matching -----------------------------------------------------------------------------------


def _element_faces(element: Element, engine: IdentityEngine) -> np.ndarray:
    rows: list[Any] = []
    for image in ReferenceImage.objects.filter(element_id=element.pk).select_related("descriptor"):
        found = descriptors_of(image, engine)
        if found is None:
            continue
        rows.extend(face.descriptor for face in found.described_faces)
    return np.asarray(rows, dtype=np.float32).reshape(-1, 128)


def _granted(likeness_id: int, user_id: int) -> bool:
    return LikenessGrant.objects.filter(
        Q(grantee_id=user_id) | Q(grantee__isnull=True), likeness_id=likeness_id
    ).exists()


def element_likeness_check(element_id: int, *, engine: IdentityEngine | None = None) -> int:
    """Match an element's described faces against the active likenesses of other users,
    record the matches and hold or release the element; returns how many matched."""
    engine = engine or get_identity_engine()
    element = Element.objects.filter(pk=element_id).first()
    if element is None:
        return 0
    faces = _element_faces(element, engine)
    hits = likeness_index().search(faces, engine.face_threshold, exclude_owner=element.owner_id)
    now = timezone.now()
    with transaction.atomic():
        LikenessMatch.objects.filter(element_id=element_id).exclude(
            likeness_id__in=[h.likeness_id for h in hits]
        ).delete()
        for hit in hits:
            granted = _granted(hit.likeness_id, element.owner_id)
            match, created = LikenessMatch.objects.get_or_create(
                likeness_id=hit.likeness_id,
                element_id=element_id,
                defaults={
                    "distance": hit.distance,
                    "state": LikenessMatchState.ALLOWED if granted else LikenessMatchState.HELD,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if not created:
                state = match.state
                if granted:
                    state = LikenessMatchState.ALLOWED
                elif state == LikenessMatchState.ALLOWED:
                    state = LikenessMatchState.HELD
                LikenessMatch.objects.filter(pk=match.pk).update(
                    distance=hit.distance, state=state, updated_at=now
                )
        refresh_holds([element_id])
    return len(hits)


# --- The likeness owner's decisions ------------------------------------------------------------


def _own_likeness(user: AbstractBaseUser) -> Likeness:
    likeness = Likeness.objects.filter(owner_id=user.pk, status=LikenessStatus.ACTIVE).first()
    if likeness is None:
        raise field_error(None, "You have no active likeness.", LikenessErrorCode.NO_LIKENESS)
    return likeness


def _own_match(user: AbstractBaseUser, match_id: int) -> LikenessMatch:
    match = (
        LikenessMatch.objects.filter(pk=match_id, likeness__owner_id=user.pk)
        .select_related("element", "likeness")
        .first()
    )
    if match is None:
        raise _not_found("matchId", "match")
    return match


def _allow(likeness: Likeness, grantee_id: int | None) -> LikenessGrant:
    with transaction.atomic():
        grant, _ = LikenessGrant.objects.get_or_create(likeness=likeness, grantee_id=grantee_id)
        matches = LikenessMatch.objects.filter(likeness=likeness)
        if grantee_id is not None:
            matches = matches.filter(element__owner_id=grantee_id)
        element_ids = list(matches.values_list("element_id", flat=True))
        matches.update(
            state=LikenessMatchState.ALLOWED, decided_at=timezone.now(), updated_at=timezone.now()
        )
        refresh_holds(element_ids)
    return grant


def likeness_allow_user(*, user: AbstractBaseUser, match_id: int) -> LikenessGrant:
    """Allow the owner of a matched element to use every element of theirs that shows you."""
    match = _own_match(user, match_id)
    return _allow(match.likeness, match.element.owner_id)


def likeness_allow_everyone(*, user: AbstractBaseUser) -> LikenessGrant:
    """Allow every user's elements that show you."""
    return _allow(_own_likeness(user), None)


def likeness_decline(*, user: AbstractBaseUser, match_id: int) -> LikenessMatch:
    """Refuse one held element: it stays held and goes to the staff's moderation queue."""
    match = _own_match(user, match_id)
    now = timezone.now()
    updated = LikenessMatch.objects.filter(pk=match.pk, state=LikenessMatchState.HELD).update(
        state=LikenessMatchState.DECLINED, decided_at=now, updated_at=now
    )
    if not updated:
        raise field_error(
            "matchId",
            "Only a held element can be declined (withdraw the permission first).",
            LikenessErrorCode.MATCH_NOT_HELD,
        )
    match.refresh_from_db()
    return match


def likeness_grant_withdraw(*, user: AbstractBaseUser, grant_id: int) -> list[int]:
    """Withdraw a permission: the elements it allowed and no other grant covers are held
    again at once (jobs already submitted keep what they pinned). Returns their ids."""
    grant = LikenessGrant.objects.filter(pk=grant_id, likeness__owner_id=user.pk).first()
    if grant is None:
        raise _not_found("grantId", "permission")
    with transaction.atomic():
        likeness_id = grant.likeness_id
        grant.delete()
        everyone = LikenessGrant.objects.filter(
            likeness_id=likeness_id, grantee__isnull=True
        ).exists()
        allowed_users = set(
            LikenessGrant.objects.filter(likeness_id=likeness_id).values_list(
                "grantee_id", flat=True
            )
        )
        held: list[int] = []
        if not everyone:
            uncovered = LikenessMatch.objects.filter(
                likeness_id=likeness_id, state=LikenessMatchState.ALLOWED
            ).exclude(element__owner_id__in=[u for u in allowed_users if u is not None])
            held = list(uncovered.values_list("element_id", flat=True))
            uncovered.update(
                state=LikenessMatchState.HELD, decided_at=timezone.now(), updated_at=timezone.now()
            )
        refresh_holds(held)
    return held
