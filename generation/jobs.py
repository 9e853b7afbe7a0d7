"""The one way a job is made: `job_create`.

Every caller (`generation_submit`, `explore_recreate`, `generation.multiview`) validates its
own input and describes the job it wants as a `JobDraft`; `job_create` does the rest, the
same way for all of them, so no caller can skip a step:

1. with an idempotency key, a request seen before gets its job back (`generation.idempotency`);
2. the draft is made (the caller's validation and price: a refusal creates nothing);
3. the provider's submit-time checks before anything is written: a provider whose settings
   are missing or whose keys are refused is PROVIDER_NOT_CONFIGURED
   (`generation.providers.registry.provider_for_submit`);
4. in one transaction: the key, the caller's checks under its locks, the row, the pins (and
   the files they store), the provider's limits on the rows as the worker will read them
   (`Provider.check_submit`), the caller's links, the payment (a free use of the day or a
   debit), the `generation.queued` webhook event (outbox), and the enqueue on commit.

A refusal at any step leaves nothing: no job, no key, no credit or free use moved, and
every file the pins stored is removed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.services import credits_debit, free_use_consume
from elementsite.storage import remove_quietly
from generation.idempotency import KeyClaim, idempotent_job
from generation.models import GenerationJob, JobKind
from generation.providers.registry import provider_for_submit
from generation.webhooks.services import job_event_emit

# Writes the job's pins (and inputs) in the creating transaction; a stored file's name is
# appended to the list so that it is removed again if the job is not made.
Pin = Callable[[GenerationJob, list[str]], None]


@dataclass(frozen=True)
class JobDraft:
    """A job its caller has validated and priced, ready to be written.

    `hold` runs first in the transaction (after the idempotency key): the caller's checks
    under its own locks; what it returns replaces those fields of the row (e.g. a plan that
    depends on what it locked). `link` runs after the pins and
    the provider's checks, before the payment (e.g. a recreation's link to its work).
    `free_use` names the feature whose free use of the day pays before credits do;
    `unpaid` words the refusal when neither pays (else the ledger's INSUFFICIENT_CREDITS).
    """

    model: str
    mode: str
    prompt: str
    plan: dict[str, Any]
    price: int
    provider: str
    charge_reason: str
    pin: Pin
    kind: str = JobKind.GENERATION
    duration: int | None = None
    aspect_ratio: str = ""
    free_use: str | None = None
    hold: Callable[[], dict[str, Any]] | None = None
    link: Callable[[GenerationJob], None] | None = None
    unpaid: Callable[[int], ValidationError] | None = None


def job_create(
    *,
    owner: AbstractBaseUser,
    operation: str,
    digest: Callable[[], str],
    draft: Callable[[], JobDraft],
    idempotency_key: str | None = None,
) -> GenerationJob:
    """Make a job from `draft()` (see the module's steps), or refuse with nothing changed.

    `operation` and `digest` identify the request for its idempotency key: the same key
    with the same request returns the same job, charged once; `digest` is only called when
    a key is given. `draft` runs after the replay check, so a replayed request is not
    validated (or priced) again."""
    return idempotent_job(
        owner=owner,
        key=idempotency_key,
        operation=operation,
        digest=digest,
        create=lambda claim: _create(owner, draft(), claim),
    )


def _create(owner: AbstractBaseUser, draft: JobDraft, claim: KeyClaim | None) -> GenerationJob:
    # Imported here: the task module imports the services, which import this one.
    from generation import tasks

    provider = provider_for_submit(draft.provider)
    saved: list[str] = []
    try:
        with transaction.atomic():
            key = claim.claim() if claim is not None else None
            held = draft.hold() if draft.hold is not None else {}
            row: dict[str, Any] = {
                "kind": draft.kind,
                "model": draft.model,
                "mode": draft.mode,
                "prompt": draft.prompt,
                "duration": draft.duration,
                "aspect_ratio": draft.aspect_ratio,
                "plan": draft.plan,
                **held,
            }
            job = GenerationJob.objects.create(
                owner_id=owner.pk, credits_charged=draft.price, provider=draft.provider, **row
            )
            draft.pin(job, saved)
            # The provider's own limits, on the rows as the worker will read them.
            provider.check_submit(job)
            if draft.link is not None:
                draft.link(job)
            _pay(owner, job, draft)
            if key is not None:
                key.bind(job)
            job_event_emit(job)
            transaction.on_commit(lambda: tasks.enqueue_job(job.pk))
    except BaseException:
        for name in saved:
            remove_quietly(name)
        raise
    return job


def _pay(owner: AbstractBaseUser, job: GenerationJob, draft: JobDraft) -> None:
    """A free use of the day if the draft takes one and one is left, else the price in
    credits, keyed to the job so it is taken once (and refunded once, `job_finish`)."""
    if draft.free_use is not None:
        day = free_use_consume(user=owner, feature=draft.free_use)
        if day is not None:
            job.credits_charged = 0
            job.free_use_day = day
            job.save(update_fields=["credits_charged", "free_use_day"])
            return
    if draft.price <= 0:
        return
    reference = f"generation.job:{job.pk}"
    try:
        job.debit = credits_debit(
            user=owner,
            amount=draft.price,
            reason=draft.charge_reason,
            reference=reference,
            idempotency_key=reference,
            # The job was inserted a moment ago in this transaction: nothing holds its key.
            new_key=True,
        )
    except ValidationError:
        if draft.unpaid is None:
            raise
        raise draft.unpaid(draft.price) from None
    job.save(update_fields=["debit"])
