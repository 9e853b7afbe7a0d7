"""Reads of the Explore feed, and the usage record of an owner's elements and voices."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from generation.explore.models import ExploreRecreation, ExploreWork, WorkStatus
from generation.models import GenerationJob, JobElement

NEWEST = "newest"
MOST_RECREATED = "most_recreated"


def visible_works() -> QuerySet[ExploreWork]:
    """Works anyone may see: approved and still shared."""
    return ExploreWork.objects.filter(status=WorkStatus.APPROVED, unshared_at__isnull=True)


def explore_feed(
    *, order: str = NEWEST, model: str | None = None, output_kind: str | None = None
) -> QuerySet[ExploreWork]:
    qs = visible_works()
    if model:
        qs = qs.filter(model=model)
    if output_kind:
        qs = qs.filter(output_kind=output_kind)
    if order == MOST_RECREATED:
        return qs.order_by("-recreate_count", "-created_at", "-id")
    return qs.order_by("-created_at", "-id")


def my_works(*, owner: AbstractBaseUser) -> QuerySet[ExploreWork]:
    """The author's shared works in any state, so they see a hide and its reason."""
    return ExploreWork.objects.filter(author_id=owner.pk).order_by("-created_at", "-id")


# --- Usage --------------------------------------------------------------------------------


def _jobs_q(*, element_id: int | None = None, voice_file: str | None = None) -> Q:
    if element_id is not None:
        return Q(elements__element_id=element_id)
    return Q(elements__voice_file=voice_file)


def usage_jobs(
    *, owner: AbstractBaseUser, element_id: int | None = None, voice_file: str | None = None
) -> QuerySet[GenerationJob]:
    """The owner's jobs that used this element (or this voice's file) from their library.

    One definition for an element and its voice: a recreation of a shared work (by the
    owner too) is made from the work's frozen recipe, not from the library, so it is not a
    job here; it counts in `usage_recreations`. (A recreation's pinned snapshot keeps the
    voice's file but no element id, so matching by file alone counted it for the voice only.)
    """
    if element_id is None and not voice_file:
        return GenerationJob.objects.none()
    ids = (
        GenerationJob.objects.filter(
            _jobs_q(element_id=element_id, voice_file=voice_file), owner_id=owner.pk
        )
        .filter(explore_recreation__isnull=True)
        .values("pk")
    )
    return GenerationJob.objects.filter(pk__in=ids).order_by("-created_at")


def usage_works(
    *, owner: AbstractBaseUser, element_id: int | None = None, voice_file: str | None = None
) -> QuerySet[ExploreWork]:
    """The owner's shared works made by those jobs, in any state."""
    jobs = usage_jobs(owner=owner, element_id=element_id, voice_file=voice_file)
    return ExploreWork.objects.filter(author_id=owner.pk, job__in=jobs.values("pk")).order_by(
        "-created_at", "-id"
    )


def usage_recreations(
    *, owner: AbstractBaseUser, element_id: int | None = None, voice_file: str | None = None
) -> QuerySet[ExploreRecreation]:
    """Recreations of those works, by anyone (their makers are not named)."""
    works = usage_works(owner=owner, element_id=element_id, voice_file=voice_file)
    return ExploreRecreation.objects.filter(work__in=works.values("pk")).order_by(
        "-created_at", "-id"
    )


def element_use_counts(element_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """For each element: jobs that used it from its owner's library, works shared from
    them, and recreations of those, by anyone, in one grouped query: the counts the likeness
    console shows the person the element shows (never the jobs, which are its owner's)."""
    rows = (
        JobElement.objects.filter(element_id__in=list(element_ids))
        .filter(job__explore_recreation__isnull=True)
        .values("element_id")
        .annotate(
            jobs=Count("job_id", distinct=True),
            works=Count("job__explore_works", distinct=True),
            recreations=Count("job__explore_works__recreations", distinct=True),
        )
    )
    return {r["element_id"]: (r["jobs"], r["works"], r["recreations"]) for r in rows}
