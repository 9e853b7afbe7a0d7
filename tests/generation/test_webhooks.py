"""Webhooks end to end: registration through GraphQL, events written with the state change,
signed POSTs to a real receiver on 127.0.0.1, retries, address refusals and owner scoping."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from strawberry.relay import to_base64

from accounts import services as account_services
from generation import services
from generation.catalog import ModelCode
from generation.models import GenerationJob, JobStatus
from generation.webhooks import sender
from generation.webhooks import services as webhook_services
from generation.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from generation.webhooks.tasks import deliver_webhook
from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.webhooks import Receiver, start_receiver, verify_webhook

pytestmark = pytest.mark.django_db

CREATE = """
mutation ($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) {
    __typename
    ... on WebhookEndpointCreateResult { secret endpoint { id url events maskedSecret } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

DELETE = """
mutation ($id: ID!) {
  webhookEndpointDelete(id: $id) {
    __typename
    ... on WebhookEndpointDeleteResult { deletedId }
    ... on OperationInfo { messages { field code } }
  }
}"""

ENDPOINTS = "{ webhookEndpoints { edges { node { id url description events maskedSecret } } } }"

DELIVERIES = """
query ($endpointId: ID, $eventType: WebhookEventType) {
  webhookDeliveries(endpointId: $endpointId, eventType: $eventType) {
    edges { node {
      id eventId eventType status attemptCount lastStatusCode body
      endpoint { id }
      attempts { number statusCode error durationMs startedAt }
    } }
  }
}"""

SUBMIT = """
mutation ($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status } }
    ... on OperationInfo { messages { field code message } }
  }
}"""


@pytest.fixture
def local_receivers(settings: Any) -> None:
    """Reaching a receiver on 127.0.0.1 over plain http, with retries shrunk to seconds."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOK_RETRY_MAX_INTERVAL_SECONDS = 0.2
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 4


@pytest.fixture
def receiver(local_receivers: None) -> Iterator[Receiver]:
    yield from start_receiver(["200"])


def client_for(user: Any) -> GraphQLClient:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return GraphQLClient(client)


def drain(timeout: float = 10.0) -> None:
    """Run the scheduled sweep until no delivery is pending (retries come due in ms here)."""
    deadline = time.monotonic() + timeout
    while WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
        assert time.monotonic() < deadline, "deliveries still pending"
        webhook_services.webhook_sweep()
        time.sleep(0.02)


def codes(exc: ValidationError) -> list[str]:
    return [e.code for errors in exc.error_dict.values() for e in errors]


# --- The whole loop --------------------------------------------------------------------------


def test_a_job_through_graphql_reaches_the_receiver_signed(
    user, receiver, django_capture_on_commit_callbacks
):
    # given: an endpoint registered through GraphQL, and another only for failures
    account_services.credits_grant(user=user, amount=100, reason="test credits")
    api = client_for(user)
    created = api(CREATE, {"input": {"url": receiver.url(), "description": "my app"}})[
        "webhookEndpointCreate"
    ]
    assert created["__typename"] == "WebhookEndpointCreateResult", created
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) == 70
    assert created["endpoint"]["events"] == []
    assert created["endpoint"]["maskedSecret"] == f"whsec_…{secret[-4:]}"
    failures_only = api(
        CREATE, {"input": {"url": receiver.url("/failures"), "events": ["GENERATION_FAILED"]}}
    )["webhookEndpointCreate"]
    listed = api(ENDPOINTS)["webhookEndpoints"]["edges"]
    assert [e["node"]["id"] for e in listed] == [
        failures_only["endpoint"]["id"],
        created["endpoint"]["id"],
    ]
    assert secret not in json.dumps(listed)

    # when: a job is submitted and the worker runs it (inline)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = api(
            SUBMIT, {"input": {"model": "IMAGE_O1", "prompt": "A red fox sitting in fresh snow"}}
        )["generationSubmit"]
    assert submitted["__typename"] == "GenerationJobResult", submitted

    # then: queued, started and succeeded reached the first endpoint, each signed
    events = [json.loads(r.body) for r in receiver.requests]
    assert [e["type"] for e in events] == [
        "generation.queued",
        "generation.started",
        "generation.succeeded",
    ]
    assert {r.path for r in receiver.requests} == {"/hooks"}
    for request in receiver.requests:
        assert verify_webhook(secret, request.headers, request.body)
        body = json.loads(request.body)
        assert request.headers["Webhook-Id"] == body["id"]
        assert request.headers["Webhook-Event"] == body["type"]
        assert request.headers["Content-Type"] == "application/json"
    succeeded = events[-1]
    job = succeeded["data"]["job"]
    assert job["id"] == submitted["job"]["id"]
    assert (job["status"], job["progress"], job["refunded"]) == ("succeeded", 100, False)
    assert job["finished_at"].endswith("Z")
    [output] = job["outputs"]
    assert output["kind"] == "image"
    # The link is the owner's: it serves the PNG to them.
    response = api.client.get(output["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"

    # and the deliveries are listed with their attempts, newest first
    deliveries = api(DELIVERIES, {"endpointId": created["endpoint"]["id"]})["webhookDeliveries"]
    nodes = [e["node"] for e in deliveries["edges"]]
    assert [n["eventType"] for n in nodes] == [
        "GENERATION_SUCCEEDED",
        "GENERATION_STARTED",
        "GENERATION_QUEUED",
    ]
    assert all(n["status"] == "SUCCEEDED" and n["lastStatusCode"] == 200 for n in nodes)
    assert [a["statusCode"] for a in nodes[0]["attempts"]] == [200]
    assert nodes[0]["eventId"] == succeeded["id"]
    assert json.loads(nodes[0]["body"]) == succeeded
    only_succeeded = api(DELIVERIES, {"eventType": "GENERATION_SUCCEEDED"})["webhookDeliveries"]
    assert len(only_succeeded["edges"]) == 1
    # the failures-only endpoint got nothing, and has no delivery
    assert WebhookDelivery.objects.count() == 3


def test_forged_or_old_requests_fail_verification(user, receiver):
    _, secret = webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    job_like = {"job": {"id": "x", "status": "succeeded"}}
    event = webhook_services.webhook_emit(
        owner_id=user.pk, event_type="generation.succeeded", data=job_like
    )
    assert event is not None
    delivery = WebhookDelivery.objects.get(event=event)
    assert deliver_webhook(delivery.pk) == DeliveryStatus.SUCCEEDED
    [request] = receiver.requests
    headers = {k: v for k, v in request.headers.items()}
    assert verify_webhook(secret, headers, request.body)

    # a changed body, another secret, a changed timestamp
    assert not verify_webhook(secret, headers, request.body.replace(b"succeeded", b"failed"))
    assert not verify_webhook("whsec_" + "0" * 64, headers, request.body)
    moved = dict(headers, **{"Webhook-Timestamp": str(int(headers["Webhook-Timestamp"]) + 1)})
    assert not verify_webhook(secret, moved, request.body)
    # an old request signed for real is refused as a replay
    old = int(time.time()) - 3600
    replay = dict(
        headers,
        **{
            "Webhook-Timestamp": str(old),
            "Webhook-Signature": sender.signature(secret, old, request.body),
        },
    )
    assert not verify_webhook(secret, replay, request.body)
    assert verify_webhook(secret, replay, request.body, tolerance=7200)  # the signature is sound
    # nothing at all
    assert not verify_webhook(secret, {}, request.body)
    # the scheme itself: HMAC-SHA256 of "{timestamp}.{body}"
    expected = hmac.new(
        secret.encode(),
        headers["Webhook-Timestamp"].encode() + b"." + request.body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["Webhook-Signature"] == f"v1={expected}"


# --- Retries ---------------------------------------------------------------------------------


def _emit_to(user: Any, url: str) -> WebhookDelivery:
    webhook_services.webhook_endpoint_create(owner=user, url=url)
    event = webhook_services.webhook_emit(
        owner_id=user.pk, event_type="generation.failed", data={"job": {"id": "j"}}
    )
    assert event is not None
    return WebhookDelivery.objects.get(event=event)


def test_a_receiver_answering_500_is_retried_with_backoff_then_failed(user, local_receivers):
    for receiver in start_receiver(["500"]):
        delivery = _emit_to(user, receiver.url())

        deliver_webhook(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 1)
        assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now()
        assert deliver_webhook(delivery.pk) == "skipped"  # not due yet

        drain()

        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempt_count == 4  # WEBHOOK_MAX_ATTEMPTS
        attempts = list(delivery.attempts.order_by("number"))
        assert [a.number for a in attempts] == [1, 2, 3, 4]
        assert {a.status_code for a in attempts} == {500}
        assert all(a.response_excerpt == "receiver broke" for a in attempts)
        assert all(a.ip_address == "127.0.0.1" for a in attempts)
        # back-off: 0.05, 0.1, 0.2 s between the attempts (each a little more than its wait)
        gaps = [(b.started_at - a.started_at).total_seconds() for a, b in pairwise(attempts)]
        assert all(gap >= wait for gap, wait in zip(gaps, [0.05, 0.1, 0.2], strict=True))
        assert len(receiver.requests) == 4
        assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 1


def test_a_hanging_receiver_times_out_and_fails_when_the_window_ends(
    user, local_receivers, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 100
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 1.2
    for receiver in start_receiver(["hang"]):
        delivery = _emit_to(user, receiver.url())
        started = time.monotonic()

        drain()

        elapsed = time.monotonic() - started
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        attempts = list(delivery.attempts.order_by("number"))
        assert 2 <= len(attempts) <= 6
        for attempt in attempts:
            assert attempt.status_code is None
            assert attempt.error == "No answer within 0.3 s."
            assert 300 <= attempt.duration_ms < 1500
            assert attempt.started_at <= delivery.give_up_at
        assert elapsed < 5
        assert len(receiver.requests) == len(attempts)


def test_a_receiver_that_drips_its_answer_is_cut_at_the_attempts_deadline():
    # Each byte arrives well within a read timeout; the whole answer never does. The attempt
    # still ends by its deadline, so the worker is back before its lease runs out.
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):  # the client hangs up when it gives up
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):
                conn.sendall(b"X")

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        target = sender.parse_url(f"http://127.0.0.1:{port}/h", require_https=False)
        started = time.monotonic()
        result = sender.post(target, sender.resolve(target), headers={}, body=b"{}", timeout=0.6)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    assert (result.status_code, result.error) == (None, "No answer within 0.6 s.")
    assert 0.6 <= elapsed < 3


@pytest.fixture
def unreachable_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose connections hang: a listener that never accepts, its
    backlog filled by one held connection, so the kernel drops further SYNs (an address
    that drops packets, without leaving the machine)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        probe = socket.socket()
        probe.settimeout(0.3)
        with pytest.raises(TimeoutError):  # the trick works on this kernel
            probe.connect(("127.0.0.1", port))
        probe.close()
        yield port
    finally:
        filler.close()
        listener.close()


def test_a_connection_that_hangs_is_given_up_after_the_connect_timeout(
    user, local_receivers, settings, unreachable_port
):
    # given: a 30 s attempt, of which at most 0.5 s to connect
    settings.WEBHOOK_TIMEOUT_SECONDS = 30
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 0.5
    delivery = _emit_to(user, f"http://127.0.0.1:{unreachable_port}/hooks")
    started = time.monotonic()

    # when
    deliver_webhook(delivery.pk)

    # then: the worker is back in about half a second, and the delivery will be retried
    assert time.monotonic() - started < 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 1)
    attempt = delivery.attempts.get()
    assert attempt.error == "Could not connect within 0.5 s."
    assert attempt.status_code is None
    assert 500 <= attempt.duration_ms < 3000


def test_a_receiver_that_recovers_gets_the_event_once(user, local_receivers):
    for receiver in start_receiver(["500", "hang", "204"]):
        delivery = _emit_to(user, receiver.url())
        drain()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 3)
        assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, None, 204]


# --- Addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://10.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hooks",
        "http://localhost:9/hooks",
        "https://127.0.0.1/hooks",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://2130706433/",  # 127.0.0.1 as one number, as resolvers read it
        "http://127.1/",
    ],
)
def test_registration_refuses_non_public_addresses(user, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_REQUIRE_HTTPS = False
    api = client_for(user)

    result = api(CREATE, {"input": {"url": url}})["webhookEndpointCreate"]

    assert result["__typename"] == "OperationInfo"
    assert [(m["field"], m["code"]) for m in result["messages"]] == [
        ("url", "WEBHOOK_ADDRESS_REFUSED")
    ]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hooks", "WEBHOOK_URL_INVALID"),
        ("https://user:pass@example.com/hooks", "WEBHOOK_URL_INVALID"),
        ("https:///hooks", "WEBHOOK_URL_INVALID"),
        ("https://example.com:0/", "WEBHOOK_URL_INVALID"),
        ("https://example.com:99999/", "WEBHOOK_URL_INVALID"),
        ("https://exa mple.com/", "WEBHOOK_URL_INVALID"),
        ("https://example.com/\r\nX-Evil: 1", "WEBHOOK_URL_INVALID"),
        ("https://bücher.example/", "WEBHOOK_URL_INVALID"),
        ("", "WEBHOOK_URL_INVALID"),
        ("http://8.8.8.8/hooks", "WEBHOOK_HTTPS_REQUIRED"),
        ("https://no-such-host.invalid/hooks", "WEBHOOK_URL_UNRESOLVABLE"),
    ],
)
def test_registration_refuses_bad_urls(user, settings, url, code):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(ValidationError) as refused:
        webhook_services.webhook_endpoint_create(owner=user, url=url)
    assert codes(refused.value) == [code]
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted_without_any_request(user, settings):
    # A literal public address needs no DNS and no connection to be checked.
    settings.WEBHOOK_REQUIRE_HTTPS = True
    endpoint, _ = webhook_services.webhook_endpoint_create(
        owner=user, url="https://8.8.8.8/hooks", events=["generation.succeeded"]
    )
    assert endpoint.events == ["generation.succeeded"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", None),
        ("100.64.0.1", "non-public"),
        ("192.0.2.10", None),  # documentation
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::ffff:10.0.0.1", None),
        ("::ffff:169.254.169.254", None),
        ("2002:7f00:1::", None),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", None),  # NAT64 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", None),  # Teredo
    ],
)
def test_address_refusal_reasons(address, reason):
    import ipaddress

    refusal = sender.address_refusal(ipaddress.ip_address(address))
    assert refusal is not None
    if reason is not None:  # where Python's range lists overlap, only the refusal matters
        assert refusal == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888"])
def test_public_addresses_pass(address):
    import ipaddress

    assert sender.address_refusal(ipaddress.ip_address(address)) is None


def test_delivery_refuses_an_address_the_setting_no_longer_allows(user, receiver, settings):
    # given: an endpoint registered while private addresses were allowed
    delivery = _emit_to(user, receiver.url())
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    # when
    assert deliver_webhook(delivery.pk) == DeliveryStatus.FAILED

    # then: no request, the refusal recorded as the attempt, not retried
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.FAILED, 1)
    [attempt] = delivery.attempts.all()
    assert attempt.status_code is None
    assert attempt.error.startswith("WEBHOOK_ADDRESS_REFUSED: ")
    assert "loopback" in attempt.error
    drain()
    assert receiver.requests == []


class FakeDNS:
    """A resolver for one made-up name; every other name resolves as usual."""

    def __init__(self, name: str, answers: list[str]) -> None:
        self.name, self.answers, self.lookups = name, answers, 0
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        self.lookups += 1
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in self.answers
        ]


def test_delivery_resolves_again_and_refuses_a_rebound_name(user, receiver, settings, monkeypatch):
    # given: a name that resolved to a public address at registration
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    dns = FakeDNS("hooks.example.test", ["93.184.216.34"])
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    webhook_services.webhook_endpoint_create(
        owner=user, url=f"http://hooks.example.test:{receiver.port}/hooks"
    )
    # when: it now resolves to loopback (alone, or hidden behind a public answer)
    for answers in (["127.0.0.1"], ["93.184.216.34", "127.0.0.1"]):
        dns.answers = answers
        event = webhook_services.webhook_emit(
            owner_id=user.pk, event_type="generation.started", data={"job": {}}
        )
        delivery = WebhookDelivery.objects.get(event=event)
        assert deliver_webhook(delivery.pk) == DeliveryStatus.FAILED
        [attempt] = delivery.attempts.all()
        assert "hooks.example.test (127.0.0.1)" in attempt.error
    # then: nothing was sent
    assert receiver.requests == []
    assert dns.lookups == 3


def test_delivery_connects_to_the_address_it_checked(user, receiver, monkeypatch):
    # The name resolves once per attempt; the request goes to that address with the URL's
    # name in the Host header.
    dns = FakeDNS("hooks.example.test", ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    delivery = _emit_to(user, f"http://hooks.example.test:{receiver.port}/in?app=1")
    lookups_before = dns.lookups
    assert deliver_webhook(delivery.pk) == DeliveryStatus.SUCCEEDED
    assert dns.lookups == lookups_before + 1
    [request] = receiver.requests
    assert request.path == "/in?app=1"
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_redirects_are_not_followed(user, local_receivers):
    for receiver in start_receiver(["302"]):
        delivery = _emit_to(user, receiver.url())
        drain()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert {a.status_code for a in delivery.attempts.all()} == {302}
        assert {r.path for r in receiver.requests} == {"/hooks"}


# --- The outbox --------------------------------------------------------------------------------


def test_a_worker_dying_after_the_state_change_still_delivers_once_per_endpoint(
    user, receiver, django_capture_on_commit_callbacks
):
    # given: two endpoints; the job is submitted, its transaction commits, and the worker
    # that should deliver (and run the job) dies: the on-commit callbacks never run
    account_services.credits_grant(user=user, amount=100, reason="test credits")
    _, first = webhook_services.webhook_endpoint_create(owner=user, url=receiver.url("/a"))
    _, second = webhook_services.webhook_endpoint_create(owner=user, url=receiver.url("/b"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.generation_submit(
            owner=user,
            request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="A fox in the snow"),
        )
    assert len(callbacks) == 2  # the delivery and the job, both lost
    assert receiver.requests == []
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2

    # when: the scheduled sweep runs, twice, and a late duplicate task turns up
    assert webhook_services.webhook_sweep() == {"due": 2}
    assert webhook_services.webhook_sweep() == {"due": 0}
    for delivery in WebhookDelivery.objects.all():
        assert deliver_webhook(delivery.pk) == "skipped"

    # then: each endpoint got the event exactly once, signed with its own secret
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b"]
    for request in receiver.requests:
        secret = first if request.path == "/a" else second
        assert verify_webhook(secret, request.headers, request.body)
        body = json.loads(request.body)
        assert body["type"] == "generation.queued"
        assert body["data"]["job"]["id"] == to_base64("GenerationJob", job.pk)
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 1


def test_a_rolled_back_state_change_leaves_no_event(user, receiver):
    webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    # no credits: the debit fails after the job row (and its event) were written
    with pytest.raises(ValidationError):
        services.generation_submit(
            owner=user,
            request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="A fox in the snow"),
        )
    assert not GenerationJob.objects.exists()
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_leased_delivery_is_not_sent_twice(user, receiver):
    delivery = _emit_to(user, receiver.url())
    assert webhook_services._claim(delivery.pk)  # another worker is sending it
    assert deliver_webhook(delivery.pk) == "skipped"
    assert webhook_services.webhook_sweep() == {"due": 0}
    # its worker died: once the lease runs out, the sweep takes it
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert webhook_services.webhook_sweep() == {"due": 1}
    assert len(receiver.requests) == 1


def test_a_delivery_past_its_window_fails_without_a_request(user, receiver):
    delivery = _emit_to(user, receiver.url())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        give_up_at=timezone.now() - timedelta(seconds=1)
    )
    assert deliver_webhook(delivery.pk) == DeliveryStatus.FAILED
    assert receiver.requests == []
    assert delivery.attempts.get().error == "The retry window ended before an attempt."


def test_cancel_and_failure_events_say_refunded(user, receiver, django_capture_on_commit_callbacks):
    account_services.credits_grant(user=user, amount=100, reason="test credits")
    _, secret = webhook_services.webhook_endpoint_create(
        owner=user, url=receiver.url(), events=["generation.canceled"]
    )
    with django_capture_on_commit_callbacks(execute=False):
        job = services.generation_submit(
            owner=user,
            request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="A fox in the snow"),
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.generation_cancel(owner=user, job_id=job.pk)
    [request] = receiver.requests
    assert verify_webhook(secret, request.headers, request.body)
    body = json.loads(request.body)
    assert body["type"] == "generation.canceled"
    data = body["data"]["job"]
    assert (data["status"], data["refunded"], data["error_message"]) == (
        JobStatus.CANCELED,
        True,
        "Canceled by you.",
    )
    assert data["outputs"] == []


def test_element_events(user, receiver, django_capture_on_commit_callbacks):
    from elements import services as element_services
    from tests.support.media import image_upload

    _, secret = webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    element = element_services.element_create(
        owner=user,
        name="Fox",
        element_type="animal",
        main_image=image_upload(),
        extra_images=[image_upload(color=(3, 3, 3))],
    ).element
    with django_capture_on_commit_callbacks(execute=True):
        webhook_services.element_event_emit(element=element, ok=True)
        webhook_services.element_event_emit(
            element=element, ok=False, error_code="VIDEO_NO_FACE", error_message="No face found."
        )
    ready, failed = (json.loads(r.body) for r in receiver.requests)
    assert ready["type"] == "element.ready"
    assert ready["data"]["element"]["id"] == to_base64("Element", element.pk)
    assert ready["data"]["element"]["name"] == "Fox"
    assert ready["data"]["error"] is None
    assert failed["type"] == "element.failed"
    assert failed["data"]["error"] == {"code": "VIDEO_NO_FACE", "message": "No face found."}
    assert all(verify_webhook(secret, r.headers, r.body) for r in receiver.requests)


def test_the_element_signal_writes_the_event_in_the_senders_transaction(user, receiver):
    # elements never imports webhooks: it sends `element_event`, which webhooks receive.
    from django.db import transaction

    from elements import services as element_services
    from elements.models import Element
    from elements.signals import element_event
    from tests.support.media import image_upload

    webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    element = element_services.element_create(
        owner=user,
        name="Fox",
        element_type="animal",
        main_image=image_upload(),
        extra_images=[image_upload(color=(3, 3, 3))],
    ).element

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        element_event.send(sender=Element, element=element, ok=True)
        assert WebhookEvent.objects.filter(type="element.ready").count() == 1
        raise RolledBack
    assert not WebhookEvent.objects.exists()

    element_event.send(
        sender=Element, element=element, ok=False, error_code="NO_FACE", error_message="None."
    )
    event = WebhookEvent.objects.get()
    assert event.type == "element.failed"
    assert json.loads(event.body)["data"]["error"] == {"code": "NO_FACE", "message": "None."}


def test_no_endpoint_no_event(user):
    def never() -> Mapping[str, Any]:
        raise AssertionError("the data of an event nobody wants was built")

    assert (
        webhook_services.webhook_emit(owner_id=user.pk, event_type="generation.queued", data=never)
        is None
    )
    assert not WebhookEvent.objects.exists()


# --- Owners --------------------------------------------------------------------------------


def test_other_users_cannot_see_or_delete_endpoints_or_deliveries(user, receiver):
    endpoint, _ = webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    event = webhook_services.webhook_emit(
        owner_id=user.pk, event_type="generation.queued", data={"job": {}}
    )
    delivery = WebhookDelivery.objects.get(event=event)
    endpoint_id = to_base64("WebhookEndpoint", endpoint.pk)
    delivery_id = to_base64("WebhookDelivery", delivery.pk)
    stranger = client_for(UserFactory())

    assert stranger(ENDPOINTS)["webhookEndpoints"]["edges"] == []
    assert stranger(DELIVERIES)["webhookDeliveries"]["edges"] == []
    assert stranger(DELIVERIES, {"endpointId": endpoint_id})["webhookDeliveries"]["edges"] == []
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert stranger(node, {"id": endpoint_id})["node"] is None
    assert stranger(node, {"id": delivery_id})["node"] is None
    refused = stranger(DELETE, {"id": endpoint_id})["webhookEndpointDelete"]
    assert refused["messages"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    # the owner sees and deletes it, deliveries included
    owner = client_for(user)
    assert owner(node, {"id": delivery_id})["node"] == {"id": delivery_id}
    deleted = owner(DELETE, {"id": endpoint_id})["webhookEndpointDelete"]
    assert deleted == {"__typename": "WebhookEndpointDeleteResult", "deletedId": endpoint_id}
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    again = owner(DELETE, {"id": endpoint_id})["webhookEndpointDelete"]
    assert again["messages"] == [{"field": "id", "code": "NOT_FOUND"}]


def test_anonymous_callers_get_nothing(user, receiver):
    webhook_services.webhook_endpoint_create(owner=user, url=receiver.url())
    anonymous = GraphQLClient()
    response = anonymous.post(ENDPOINTS).json()
    assert response["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    created = anonymous(CREATE, {"input": {"url": receiver.url()}})["webhookEndpointCreate"]
    assert created["messages"][0]["code"] == "NOT_AUTHENTICATED"
    assert WebhookEndpoint.objects.count() == 1


def test_endpoint_limit_and_description(user, receiver, settings):
    settings.WEBHOOK_ENDPOINTS_PER_USER = 2
    api = client_for(user)
    for n in range(2):
        ok = api(CREATE, {"input": {"url": receiver.url(f"/{n}")}})["webhookEndpointCreate"]
        assert ok["__typename"] == "WebhookEndpointCreateResult"
    over = api(CREATE, {"input": {"url": receiver.url("/3")}})["webhookEndpointCreate"]
    assert [(m["field"], m["code"]) for m in over["messages"]] == [(None, "WEBHOOK_LIMIT_REACHED")]
    settings.WEBHOOK_ENDPOINTS_PER_USER = 5
    long = api(CREATE, {"input": {"url": receiver.url("/4"), "description": "x" * 201}})[
        "webhookEndpointCreate"
    ]
    assert [m["code"] for m in long["messages"]] == ["WEBHOOK_DESCRIPTION_TOO_LONG"]
    assert WebhookEndpoint.objects.count() == 2


def test_listings_take_a_fixed_number_of_queries(
    user, receiver, django_assert_num_queries, django_capture_on_commit_callbacks
):
    api = client_for(user)
    api("{ me { username } }")  # the session and CSRF cookie are in place
    for n in range(4):
        webhook_services.webhook_endpoint_create(owner=user, url=receiver.url(f"/{n}"))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            webhook_services.webhook_emit(
                owner_id=user.pk, event_type="generation.queued", data={"job": {}}
            )
    assert WebhookAttempt.objects.count() == 12

    # session, user, rows
    with django_assert_num_queries(3):
        edges = api(ENDPOINTS)["webhookEndpoints"]["edges"]
    assert len(edges) == 4
    # session, user, rows with their event, their endpoints (through the owner-scoped
    # type), attempts: the same for 12 rows as for 24
    for rows in (12, 24):
        with django_assert_num_queries(5):
            edges = api(DELIVERIES)["webhookDeliveries"]["edges"]
        assert len(edges) == rows
        assert all(len(e["node"]["attempts"]) == 1 for e in edges)
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(3):
                webhook_services.webhook_emit(
                    owner_id=user.pk, event_type="generation.queued", data={"job": {}}
                )
