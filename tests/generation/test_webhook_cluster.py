"""Webhooks through a real django-q2 cluster (`manage.py qcluster`, the configured broker):
the job and its deliveries are enqueued when their transactions commit, run by the
cluster's worker, and a receiver on 127.0.0.1 gets each event once, signed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_q.brokers import Broker
from django_q.conf import Conf

from accounts import services as account_services
from generation import services, webhook_services
from generation.catalog import ModelCode
from generation.models import DeliveryStatus, WebhookDelivery
from tests import clusters
from tests.factories import UserFactory
from tests.generation.test_webhooks import verify_webhook
from tests.generation.webhook_receiver import Receiver, start_receiver

TIMEOUT = 60.0


@pytest.fixture
def broker(cluster_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    with clusters.open_broker(cluster_name) as broker:
        # Enqueue to the real broker, as in production (tests otherwise run tasks inline).
        monkeypatch.setattr(Conf, "SYNC", False)
        yield broker


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    yield from start_receiver(["200"])


@pytest.mark.django_db(transaction=True)
def test_a_job_run_by_a_cluster_sends_its_events(
    cluster_name: str, broker: Broker, receiver: Receiver, tmp_path: Path
) -> None:
    owner = UserFactory()
    account_services.credits_grant(user=owner, amount=100, reason="test credits")
    _, secret = webhook_services.webhook_endpoint_create(owner=owner, url=receiver.url())
    job = services.generation_submit(
        owner=owner,
        request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="A fox in the snow"),
    )  # committed: the job and the `generation.queued` delivery are on the broker

    env = clusters.cluster_env(
        cluster_name, WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1", WEBHOOK_REQUIRE_HTTPS="0"
    )
    log_path = tmp_path / "qcluster.log"
    with log_path.open("wb") as log:
        process = clusters.start(env, log)
        try:
            deadline = time.monotonic() + TIMEOUT
            while len(receiver.requests) < 3 and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text(errors="replace")
                time.sleep(0.2)
            time.sleep(0.5)  # anything more would arrive now
        finally:
            clusters.stop(process)

    output = log_path.read_text(errors="replace")
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert sorted(types) == sorted(
        ["generation.queued", "generation.started", "generation.succeeded"]
    ), output
    for request in receiver.requests:
        assert verify_webhook(secret, request.headers, request.body)
    succeeded = next(
        json.loads(r.body) for r in receiver.requests if b"generation.succeeded" in r.body
    )
    assert succeeded["data"]["job"]["status"] == "succeeded"
    assert len(succeeded["data"]["job"]["outputs"]) == 1
    deliveries = WebhookDelivery.objects.filter(event__owner=owner)
    assert deliveries.count() == 3
    assert set(deliveries.values_list("status", "attempt_count")) == {(DeliveryStatus.SUCCEEDED, 1)}
    job.refresh_from_db()
    assert job.status == "succeeded"
