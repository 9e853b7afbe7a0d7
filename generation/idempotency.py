"""Idempotency keys: a retried request never pays twice.

`generationSubmit`, `exploreRecreate` and `elementMultiViewComplete` take an optional
`idempotencyKey`. The first request with a key inserts an `IdempotencyKey` row in the very
transaction that creates (and charges) its job, so the key exists exactly when the job does:
a refused request leaves no key behind and may be retried with the same key. A later request
with the key finds the row and gets the same job back, charged nothing; with another input
(or for another mutation) it is refused with IDEMPOTENCY_KEY_REUSED.

Parallel requests with one key race on the unique constraint `(owner, key)`: PostgreSQL
makes the second insert wait for the first transaction and then fail, SQLite's IMMEDIATE
transactions queue the writers, so every loser rolls back whole and reads the winner's job.
Keys are honoured for `IDEMPOTENCY_KEY_TTL_HOURS` (at least 24 h); an older row is replaced
by the next request that brings its key, and the janitor deletes the rest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from elementsite.errors import field_error
from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, IdempotencyKey

KEY_MAX = 100
FIELD = "idempotencyKey"
# A request that keeps losing the race to a key whose transaction then rolls back: bounded.
_ROUNDS = 5


def key_ttl() -> timedelta:
    """How long a key is honoured: the setting, never under the 24 h clients are promised."""
    return timedelta(hours=max(24, int(settings.IDEMPOTENCY_KEY_TTL_HOURS)))


def fingerprint(*parts: Any) -> str:
    """A digest of a request's input; equal inputs give equal digests."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def upload_digest(upload: Any) -> str | None:
    """The SHA-256 of an upload's bytes (None for no file), read and rewound: two retries of
    one request send the same bytes, whatever name or type the client gave them."""
    if upload is None:
        return None
    digest = hashlib.sha256()
    if hasattr(upload, "seek"):
        upload.seek(0)
    chunks = (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 16), b"")
    )
    for chunk in chunks:
        digest.update(chunk)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return digest.hexdigest()


class KeyTaken(Exception):
    """Another request committed this key first: roll back and replay its answer."""


@dataclass(frozen=True)
class KeyClaim:
    """The key of one request, to insert in the transaction that creates its job."""

    owner_id: int
    key: str
    operation: str
    fingerprint: str

    def claim(self) -> IdempotencyKey:
        """Insert the key (call first in the creating transaction); KeyTaken if another
        request has it."""
        IdempotencyKey.objects.filter(
            owner_id=self.owner_id, key=self.key, created_at__lt=timezone.now() - key_ttl()
        ).delete()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    owner_id=self.owner_id,
                    key=self.key,
                    operation=self.operation,
                    fingerprint=self.fingerprint,
                )
        except IntegrityError:
            raise KeyTaken from None


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise field_error(
            FIELD,
            f"An idempotency key is 1–{KEY_MAX} printable characters (a UUID will do).",
            GenerationErrorCode.IDEMPOTENCY_KEY_INVALID,
        )
    return key


def _replay(claim: KeyClaim) -> GenerationJob | None:
    row = (
        IdempotencyKey.objects.filter(
            owner_id=claim.owner_id,
            key=claim.key,
            created_at__gte=timezone.now() - key_ttl(),
            job__isnull=False,
        )
        .select_related("job")
        .first()
    )
    if row is None:
        return None
    if (row.operation, row.fingerprint) != (claim.operation, claim.fingerprint):
        raise field_error(
            FIELD,
            "This idempotency key was used for another request: use a new key for a new one.",
            GenerationErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    return row.job


def idempotent_job(
    *,
    owner: AbstractBaseUser,
    key: str | None,
    operation: str,
    digest: Callable[[], str],
    create: Callable[[KeyClaim | None], GenerationJob],
) -> GenerationJob:
    """Run `create` once per key: `create(claim)` must call `claim.claim()` first in its
    transaction and `bind(job)` on the row that returns before it commits (with no key,
    `claim` is None). `digest()` fingerprints the input (only called when a key is given)."""
    if key is None:
        return create(None)
    claim = KeyClaim(owner.pk, _clean_key(key), operation, digest())
    for _ in range(_ROUNDS):
        job = _replay(claim)
        if job is not None:
            return job
        try:
            return create(claim)
        except KeyTaken:
            continue  # the winner committed: its job is there to replay
    raise field_error(
        FIELD,
        "Another request with this idempotency key is still being handled: retry shortly.",
        GenerationErrorCode.IDEMPOTENCY_KEY_REUSED,
    )


def purge_expired_keys() -> int:
    """Delete keys past their time (the janitor calls this)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - key_ttl()).delete()
    return deleted
