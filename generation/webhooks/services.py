"""Webhooks for client apps: endpoints, the outbox of events, delivery with retries.

**Outbox.** `webhook_emit` is called inside the transaction that changes the state it
reports (a job queued, started, finished; an element processed). It writes the event (its
JSON body, final) and one pending `WebhookDelivery` per endpoint of the owner that wants
that type, and enqueues each delivery when the transaction commits. A rolled-back change
leaves no event; a committed one always has its deliveries, even if the worker that should
send them dies: `webhook_sweep` (scheduled every minute) picks up every pending delivery
that is due and not leased. The unique (event, endpoint) pair makes it one delivery per
endpoint, and the lease (`locked_until`, a conditional update) keeps two workers from
sending it at once.

**Retries.** A delivery is attempted until the receiver answers 2xx. After a failed attempt
(an error status, a timeout, no connection) the next waits `WEBHOOK_RETRY_BASE_SECONDS`
doubled each time, at most `WEBHOOK_RETRY_MAX_INTERVAL_SECONDS`; no attempt starts after
`WEBHOOK_RETRY_WINDOW_SECONDS` from the event, nor beyond `WEBHOOK_MAX_ATTEMPTS`; then the
delivery is failed. An address refused at delivery (the URL now resolves somewhere
forbidden, or the setting that allowed it was turned off) fails the delivery at once: it is
recorded like any attempt, and no request is made. Every attempt is recorded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from strawberry.relay import to_base64

from accounts.locks import lock_owner
from elementsite.backoff import Backoff
from elementsite.errors import field_error as _error
from elementsite.ids import row_or_not_found
from generation.models import (
    ConsistencyStatus,
    GenerationJob,
    GenerationOutput,
    JobConsistency,
    JobStatus,
)
from generation.selectors import job_is_stalled
from generation.webhooks import sender
from generation.webhooks.error_codes import WebhookErrorCode
from generation.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

DESCRIPTION_MAX = 200
SWEEP_BATCH = 500
_LEASE_MARGIN = timedelta(seconds=60)

JOB_EVENT_BY_STATUS = {
    JobStatus.QUEUED: WebhookEventType.GENERATION_QUEUED,
    JobStatus.RUNNING: WebhookEventType.GENERATION_STARTED,
    JobStatus.SUCCEEDED: WebhookEventType.GENERATION_SUCCEEDED,
    JobStatus.FAILED: WebhookEventType.GENERATION_FAILED,
    JobStatus.CANCELED: WebhookEventType.GENERATION_CANCELED,
}


def _timeout() -> float:
    return float(settings.WEBHOOK_TIMEOUT_SECONDS)


def _check_url(url: str) -> sender.Target:
    """Refuse a URL we would not send to, exactly as delivery would (address check included)."""
    target = sender.parse_url(url, require_https=settings.WEBHOOK_REQUIRE_HTTPS)
    sender.checked_addresses(target, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)
    return target


# --- Endpoints ---------------------------------------------------------------------------


def webhook_endpoint_create(
    *,
    owner: AbstractBaseUser,
    url: str,
    description: str = "",
    events: Iterable[str] = (),
) -> tuple[WebhookEndpoint, str]:
    """Register a URL for the owner's events and return it with its secret, shown this once.

    The URL must be http(s) (https only when `WEBHOOK_REQUIRE_HTTPS`) and resolve only to
    public addresses (unless `WEBHOOK_ALLOW_PRIVATE_ADDRESSES`); `events` is a subset of
    `WebhookEventType` (empty: every type); a user keeps at most
    `WEBHOOK_ENDPOINTS_PER_USER` endpoints."""
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise _error(
            "description",
            f"Keep the description to {DESCRIPTION_MAX} characters.",
            WebhookErrorCode.DESCRIPTION_TOO_LONG,
        )
    wanted = sorted({str(WebhookEventType(e)) for e in events})
    url = (url or "").strip()
    try:
        _check_url(url)
    except sender.WebhookURLError as exc:
        raise _error("url", exc.message, exc.code) from None
    secret = sender.new_secret()
    with transaction.atomic():
        # Locks the owner on PostgreSQL so two creates can't both pass the count; SQLite's
        # IMMEDIATE transactions serialise writers anyway.
        lock_owner(owner)
        limit = settings.WEBHOOK_ENDPOINTS_PER_USER
        if WebhookEndpoint.objects.filter(owner_id=owner.pk).count() >= limit:
            raise _error(
                None,
                f"You already have {limit} webhook endpoints; delete one first.",
                WebhookErrorCode.LIMIT_REACHED,
            )
        endpoint = WebhookEndpoint(
            owner_id=owner.pk, url=url, description=description, events=wanted, secret=secret
        )
        endpoint.full_clean()
        endpoint.save()
    return endpoint, secret


def webhook_endpoint_delete(*, owner: AbstractBaseUser, endpoint_id: Any) -> int:
    """Delete one of the owner's endpoints with its deliveries (pending ones are not sent);
    returns its id. Another user's endpoint is reported as not found."""
    with transaction.atomic():
        endpoint = row_or_not_found(
            WebhookEndpoint.objects.filter(owner_id=owner.pk),
            endpoint_id,
            field="id",
            message="No such webhook endpoint.",
            code=WebhookErrorCode.NOT_FOUND,
        )
        pk = endpoint.pk
        endpoint.delete()
    return pk


# --- Events (the outbox) -----------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_emit(
    *,
    owner_id: int,
    event_type: str,
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
) -> WebhookEvent | None:
    """Record an event of the owner's for every endpoint that wants it, in the caller's
    transaction; each delivery is enqueued when that transaction commits. `data` (or the
    function making it, called only when some endpoint listens) is the event's `data`:
    only the owner's own data. Returns the event, or None when no endpoint wants it (then
    nothing is written)."""
    event_type = str(WebhookEventType(event_type))
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(owner_id=owner_id) if e.wants(event_type)
    ]
    if not endpoints:
        return None
    payload = dict(data() if callable(data) else data)
    now = timezone.now()
    event = WebhookEvent(owner_id=owner_id, type=event_type, created_at=now)
    event.body = json.dumps(
        {"id": str(event.id), "type": event_type, "created_at": _iso(now), "data": payload},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    give_up_at = now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    with transaction.atomic():
        event.save(force_insert=True)
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                event=event,
                endpoint=endpoint,
                owner_id=owner_id,
                event_type=event_type,
                next_attempt_at=now,
                give_up_at=give_up_at,
                created_at=now,
            )
            for endpoint in endpoints
        )
        ids = [d.pk for d in deliveries]
        if None in ids:  # a backend that returns no ids from a bulk insert
            ids = list(event.deliveries.values_list("pk", flat=True))
        transaction.on_commit(lambda: _enqueue(ids))
    return event


def _enqueue(delivery_ids: Iterable[int]) -> None:
    from generation.webhooks.tasks import enqueue_delivery

    for delivery_id in delivery_ids:
        enqueue_delivery(delivery_id)


def _media_url(name: str, owner_id: int) -> str:
    from elements.media_urls import media_url

    url = media_url(name, owner_id=owner_id)
    return settings.PUBLIC_BASE_URL + url if url.startswith("/") else url


def _consistency_data(job: GenerationJob) -> dict[str, Any] | None:
    """A succeeded job's measured consistency (as `generationJob { consistency }` shows it);
    None when it was not measured (switched off, the pass failed or timed out)."""
    report = (
        JobConsistency.objects.filter(job_id=job.pk, status=ConsistencyStatus.DONE)
        .prefetch_related("shots__job_element")
        .first()
    )
    if report is None:
        return None
    return {
        "score": report.score,
        "drifted": report.drifted,
        "checked_at": _iso(report.checked_at),
        "shots": [
            {
                "shot_index": row.shot_index,
                "element_position": row.job_element.position,
                "element_name": row.job_element.name,
                "method": row.method,
                "score": row.score,
                "present": row.present,
                "drift": row.drift,
            }
            for row in report.shots.all()
        ],
    }


def job_event_data(job: GenerationJob) -> dict[str, Any]:
    """What a job event says about the job: its state and, once it succeeded, its outputs
    with short-lived URLs (fetch the job through GraphQL for fresh ones)."""
    outputs = []
    if job.status == JobStatus.SUCCEEDED:
        for output in GenerationOutput.objects.filter(job_id=job.pk).order_by("created_at", "id"):
            outputs.append(
                {
                    "id": to_base64("GenerationOutput", output.pk),
                    "kind": output.kind,
                    "width": output.width,
                    "height": output.height,
                    "duration_ms": output.duration_ms,
                    "has_audio": output.has_audio,
                    "url": _media_url(output.file.name, job.owner_id),
                    "poster_url": _media_url(output.poster.name, job.owner_id),
                    "thumbnail_url": _media_url(output.thumbnail.name, job.owner_id),
                }
            )
    return {
        "job": {
            "id": to_base64("GenerationJob", job.pk),
            "status": job.status,
            "model": job.model,
            "mode": job.mode,
            "duration": job.duration,
            "aspect_ratio": job.aspect_ratio,
            "progress": job.progress,
            # Running with a silent worker: taken again by the next sweep.
            "stalled": job_is_stalled(job),
            "credits_charged": job.credits_charged,
            # job_finish refunds a failed or canceled job's debit in the same transaction.
            "refunded": job.debit_id is not None
            and job.status in (JobStatus.FAILED, JobStatus.CANCELED),
            "error_code": job.error_code or None,
            "error_message": job.error_message or None,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "outputs": outputs,
            # Succeeded and measured: how each shot shows the elements it mentions.
            "consistency": _consistency_data(job) if job.status == JobStatus.SUCCEEDED else None,
        }
    }


def job_event_emit(job: GenerationJob) -> WebhookEvent | None:
    """The event of the job's current status (`generation.queued`, `.started`, `.succeeded`,
    `.failed`, `.canceled`); call in the transaction that set it."""
    return webhook_emit(
        owner_id=job.owner_id,
        event_type=JOB_EVENT_BY_STATUS[JobStatus(job.status)],
        data=lambda: job_event_data(job),
    )


def job_stalled_emit(job: GenerationJob) -> WebhookEvent | None:
    """`generation.stalled`: the job's worker went silent and the sweep has it taken again
    (call once per stall, in the transaction that records it)."""
    return webhook_emit(
        owner_id=job.owner_id,
        event_type=WebhookEventType.GENERATION_STALLED,
        data=lambda: job_event_data(job),
    )


def element_event_emit(
    *, element: Any, ok: bool, error_code: str = "", error_message: str = ""
) -> WebhookEvent | None:
    """`element.ready` (ok) or `element.failed` for an element whose background processing
    ended (a video element's keyframes and voice); call in the transaction that records the
    result. `element` is an `elements.models.Element`."""
    return webhook_emit(
        owner_id=element.owner_id,
        event_type=WebhookEventType.ELEMENT_READY if ok else WebhookEventType.ELEMENT_FAILED,
        data=lambda: {
            "element": {
                "id": to_base64("Element", element.pk),
                "name": element.name,
                "type": element.type,
                "source": element.source,
                "status": element.status,
                "version": element.version,
            },
            "error": None if ok else {"code": error_code, "message": error_message},
        },
    )


# --- Delivery ------------------------------------------------------------------------------


def _backoff(attempts_made: int) -> timedelta:
    """The pause after the `attempts_made`-th failed attempt of this round: the house
    back-off, `WEBHOOK_RETRY_BASE_SECONDS` doubled each time, at most
    `WEBHOOK_RETRY_MAX_INTERVAL_SECONDS`."""
    policy = Backoff(
        first=float(settings.WEBHOOK_RETRY_BASE_SECONDS),
        cap=float(settings.WEBHOOK_RETRY_MAX_INTERVAL_SECONDS),
        factor=2,
    )
    return timedelta(seconds=policy.delay(attempts_made))


def _claim(delivery_id: int) -> bool:
    """Take the lease of a due, pending delivery (exact on both databases: one conditional
    update; a second worker finds it leased)."""
    now = timezone.now()
    lease = now + timedelta(seconds=_timeout()) + _LEASE_MARGIN
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease)
    )


def _record(
    delivery_id: int,
    *,
    started_at: datetime,
    result: sender.PostResult,
    retry: bool,
) -> WebhookDelivery | None:
    """Record one attempt and decide what comes next: done, another try, or failed."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:  # its endpoint was deleted meanwhile
            return None
        delivery.attempt_count += 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            started_at=started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.excerpt,
            ip_address=result.address,
        )
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        delivery.locked_until = None
        now = timezone.now()
        if delivery.status != DeliveryStatus.PENDING:
            pass  # re-sent or finished by someone else meanwhile: keep their outcome
        elif result.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.next_attempt_at = None
            delivery.finished_at = now
        else:
            this_round = delivery.attempt_count - delivery.attempts_before_resend
            next_at = now + _backoff(this_round)
            if (
                not retry
                or this_round >= settings.WEBHOOK_MAX_ATTEMPTS
                or next_at > delivery.give_up_at
            ):
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                delivery.finished_at = now
            else:
                delivery.next_attempt_at = next_at
        delivery.save()
        return delivery


def _refusal(error: sender.WebhookURLError, started: float) -> sender.PostResult:
    return sender.PostResult(
        status_code=None,
        error=f"{error.code}: {error.message}",
        excerpt="",
        address="",
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def webhook_deliver(*, delivery_id: int) -> str:
    """Make one attempt at a due delivery, if no other worker has it; safe to call twice.

    The URL is checked again (a fresh DNS answer, every address) and the request goes to
    the address that was checked."""
    if not _claim(delivery_id):
        return "skipped"
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event").filter(pk=delivery_id).first()
    )
    if delivery is None:
        return "skipped"
    started_at = timezone.now()
    started = time.monotonic()
    if started_at > delivery.give_up_at:
        # Its worker and every sweep missed the whole window (the cluster was down).
        result = sender.PostResult(None, "The retry window ended before an attempt.", "", "", 0)
        _record(delivery_id, started_at=started_at, result=result, retry=False)
        return DeliveryStatus.FAILED
    endpoint, event = delivery.endpoint, delivery.event
    try:
        target = sender.parse_url(endpoint.url, require_https=settings.WEBHOOK_REQUIRE_HTTPS)
        addresses = sender.checked_addresses(
            target, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
        )
    except sender.WebhookURLError as exc:
        # A name that doesn't resolve now may again later; a refused address or scheme won't
        # become acceptable by waiting.
        retry = exc.code == WebhookErrorCode.URL_UNRESOLVABLE
        logger.warning("webhook delivery %s refused: %s", delivery_id, exc.message)
        recorded = _record(
            delivery_id, started_at=started_at, result=_refusal(exc, started), retry=retry
        )
        return recorded.status if recorded else "skipped"
    body = event.body.encode()
    headers = sender.signed_headers(
        secret=endpoint.secret, event_id=str(event.pk), event_type=event.type, body=body
    )
    result = sender.post(
        target,
        addresses,
        headers=headers,
        body=body,
        timeout=_timeout(),
        connect_timeout=float(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS),
    )
    recorded = _record(delivery_id, started_at=started_at, result=result, retry=True)
    return recorded.status if recorded else "skipped"


def webhook_sweep(*, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Scheduled: enqueue every pending delivery that is due and not leased — a delivery
    whose on-commit task was lost with its worker, a retry whose time has come, a lease
    whose worker died."""
    from generation.webhooks.tasks import enqueue_delivery

    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        enqueue_delivery(delivery_id)
    return {"due": len(due)}


def webhook_resend(*, staff: AbstractBaseUser, delivery_id: int) -> WebhookDelivery:
    """Staff send a delivery again: the same event (same id and body, signed anew) to the
    same endpoint, with a fresh retry window; the attempts so far stay on record."""
    if not (staff.is_active and getattr(staff, "is_staff", False)):
        raise PermissionDenied
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise _error("id", "No such delivery.", WebhookErrorCode.NOT_FOUND)
        now = timezone.now()
        if delivery.status == DeliveryStatus.PENDING and (
            delivery.locked_until is not None and delivery.locked_until > now
        ):
            raise _error(
                "id",
                "This delivery is being attempted right now.",
                WebhookErrorCode.DELIVERY_NOT_RESENDABLE,
            )
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts_before_resend = delivery.attempt_count
        delivery.next_attempt_at = now
        delivery.give_up_at = now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
        delivery.finished_at = None
        delivery.locked_until = None
        delivery.save()
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery
