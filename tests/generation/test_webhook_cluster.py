"""Webhooks through real django-q2 clusters (`manage.py qcluster`, the configured broker):
the job and its deliveries are enqueued when their transactions commit; the task cluster
renders, the webhook cluster (`Q_QUEUE=webhooks`) sends, and a receiver on 127.0.0.1 gets
each event once, signed. A receiver that never answers holds a webhook worker, never the
render worker."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf

from accounts import services as account_services
from generation import services
from generation.catalog import ModelCode
from generation.models import GenerationJob, JobStatus
from generation.webhooks import services as webhook_services
from generation.webhooks.models import DeliveryStatus, WebhookDelivery
from generation.webhooks.tasks import webhook_queue
from tests.factories import UserFactory
from tests.support import clusters
from tests.support.webhooks import Receiver, start_receiver, verify_webhook

TIMEOUT = 60.0


@pytest.fixture
def broker(cluster_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    with clusters.open_broker(cluster_name) as broker:
        # Enqueue to the real broker, as in production (tests otherwise run tasks inline).
        monkeypatch.setattr(Conf, "SYNC", False)
        yield broker


@pytest.fixture
def local_receivers(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False


@pytest.fixture
def receiver(local_receivers: None) -> Iterator[Receiver]:
    yield from start_receiver(["200"])


@contextlib.contextmanager
def both_clusters(cluster_name: str, tmp_path: Path, **env: str) -> Iterator[Path]:
    """The task cluster and the webhook cluster, each with one worker; yields the folder of
    their logs."""
    env = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1", "WEBHOOK_REQUIRE_HTTPS": "0", **env}
    started = []
    try:
        for name, cluster_env in (
            ("tasks", clusters.cluster_env(cluster_name, **env)),
            ("webhooks", clusters.webhook_cluster_env(cluster_name, **env)),
        ):
            with (tmp_path / f"{name}.log").open("wb") as log:
                started.append(clusters.start(cluster_env, log))
        yield tmp_path
    finally:
        for process in started:
            clusters.stop(process)


def logs(folder: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n" + path.read_text(errors="replace") for path in folder.glob("*.log")
    )


@pytest.mark.django_db(transaction=True)
def test_deliveries_go_to_the_webhook_queue_not_the_task_queue(
    cluster_name: str, broker: Broker, receiver: Receiver
) -> None:
    owner = UserFactory()
    webhook_services.webhook_endpoint_create(owner=owner, url=receiver.url())

    event = webhook_services.webhook_emit(
        owner_id=owner.pk, event_type="generation.failed", data={"job": {"id": "j"}}
    )

    assert event is not None
    assert webhook_queue() == f"{cluster_name}-webhooks"
    assert get_broker(list_key=webhook_queue()).queue_size() == 1
    assert broker.queue_size() == 0  # the task queue: nothing a render worker would take


@pytest.mark.django_db(transaction=True)
def test_a_job_run_by_the_clusters_sends_its_events(
    cluster_name: str, broker: Broker, receiver: Receiver, tmp_path: Path
) -> None:
    owner = UserFactory()
    account_services.credits_grant(user=owner, amount=100, reason="test credits")
    _, secret = webhook_services.webhook_endpoint_create(owner=owner, url=receiver.url())
    job = services.generation_submit(
        owner=owner,
        request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="A fox in the snow"),
    )  # committed: the job and the `generation.queued` delivery are on the broker

    with both_clusters(cluster_name, tmp_path) as folder:
        deadline = time.monotonic() + TIMEOUT
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # anything more would arrive now

    output = logs(folder)
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


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_never_answers_does_not_hold_the_render_worker(
    cluster_name: str, broker: Broker, local_receivers: None, tmp_path: Path
) -> None:
    # given: one render worker, and a receiver that holds every delivery for the whole
    # attempt (30 s): had a delivery taken the render worker, the second job would wait
    # at least that long
    hang_seconds = 30
    owner = UserFactory()
    account_services.credits_grant(user=owner, amount=100, reason="test credits")
    for receiver in start_receiver(["hang"]):
        webhook_services.webhook_endpoint_create(owner=owner, url=receiver.url())
        jobs = [
            services.generation_submit(
                owner=owner,
                request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt=f"A fox, take {n}"),
            )
            for n in range(2)
        ]  # each `generation.queued` delivery is on the webhook queue before the clusters start

        # when
        with both_clusters(
            cluster_name, tmp_path, WEBHOOK_TIMEOUT_SECONDS=str(hang_seconds)
        ) as folder:
            started = time.monotonic()
            deadline = started + hang_seconds - 5
            done = GenerationJob.objects.filter(
                pk__in=[j.pk for j in jobs], status=JobStatus.SUCCEEDED
            )
            while done.count() < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            finished_in = time.monotonic() - started
            hanging = len(receiver.requests)

        # then: both rendered while the receiver was still holding a delivery
        assert done.count() == 2, logs(folder)
        assert finished_in < hang_seconds - 5
        assert hanging >= 1, logs(folder)  # a delivery was attempted and held meanwhile
        assert not WebhookDelivery.objects.filter(
            event__owner=owner, status=DeliveryStatus.SUCCEEDED
        ).exists()
