"""40 parallel multi-view requests at the boundary: exactly the day's free uses, then as
many paid ones as the balance covers, then refusals; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from accounts.models import CreditLedgerEntry, FreeUseCounter, LedgerKind
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from generation.models import GenerationJob
from generation.multiview import multiview_job_create
from tests.factories import ElementFactory, MembershipFactory, tier
from tests.support.assists import element_of
from tests.support.concurrency import THREADS, run_in_parallel
from tests.support.errors import error_codes

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_completions_take_three_free_then_credits_then_stop(monkeypatch):
    # The jobs themselves are not run here (the charge is what is under test): the worker
    # hand-off, outside the service, only records what would have been enqueued.
    enqueued: list[str] = []
    monkeypatch.setattr("generation.tasks.enqueue_job", lambda job_id: enqueued.append(job_id))
    owner = MembershipFactory(tier=tier("standard")).user
    credits_grant(user=owner, amount=100, reason="top-up")
    elements = []
    for i in range(THREADS):
        elements.append(ElementFactory(owner=owner, name=f"Element {i}"))

    results = run_in_parallel(
        lambda i: multiview_job_create(owner=owner, element_id=elements[i].pk)
    )

    jobs = [r for r in results if isinstance(r, GenerationJob)]
    refused = [error_codes(r) for r in results if not isinstance(r, GenerationJob)]
    assert refused == [["INSUFFICIENT_CREDITS"]] * 17, results
    assert sorted(job.credits_charged for job in jobs) == [0] * 3 + [5] * 20
    assert sum(job.free_use_day is not None for job in jobs) == 3
    assert FreeUseCounter.objects.get(user=owner).used == 3
    assert credit_balance(owner) == 0
    assert CreditLedgerEntry.objects.filter(user=owner, kind=LedgerKind.DEBIT).count() == 20
    assert GenerationJob.objects.filter(owner=owner).count() == 23
    assert sorted(enqueued) == sorted(job.pk for job in jobs)


def test_a_completion_runs_through_a_real_cluster(monkeypatch, tmp_path):
    """The job is picked up by `manage.py qcluster` on the configured broker, not inline."""
    import time

    from django_q.tasks import async_task, fetch

    from elements.models import ImageOrigin
    from generation.models import JobStatus
    from tests.support import clusters

    monkeypatch.setattr("generation.tasks.enqueue_job", lambda job_id: None)
    cluster_name = clusters.use_cluster_name(monkeypatch)
    owner = MembershipFactory(tier=tier("standard")).user
    element = element_of(owner)
    job = multiview_job_create(owner=owner, element_id=element.pk)
    log_path = tmp_path / "qcluster.log"

    with clusters.open_broker(cluster_name) as broker, log_path.open("wb") as log:
        process = clusters.start(clusters.cluster_env(cluster_name), log)
        try:
            task_id = async_task(
                "generation.tasks.run_job", str(job.pk), sync=False, broker=broker, save=True
            )
            deadline = time.monotonic() + 90
            task = None
            while time.monotonic() < deadline and process.poll() is None:
                task = fetch(task_id)
                if task is not None:
                    break
                time.sleep(0.25)
        finally:
            clusters.stop(process)

    output = log_path.read_text(errors="replace")
    assert task is not None and task.success, output
    job.refresh_from_db()
    assert (job.status, job.progress, job.free_use_day is not None) == (
        JobStatus.SUCCEEDED,
        100,
        True,
    )
    assert element.images.filter(origin=ImageOrigin.MULTIVIEW).count() == 2
