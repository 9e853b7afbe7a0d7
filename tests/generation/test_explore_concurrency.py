"""40 parallel recreations of one work by a user who can pay for 25: exactly 25 jobs, 25
debits, and the work counts exactly 25 (a conditional UPDATE, no read-modify-write)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from accounts.models import CreditLedgerEntry, LedgerKind
from accounts.selectors import credit_balance
from generation.explore import services as explore_services
from generation.explore.models import ExploreRecreation, ExploreWork
from generation.models import GenerationJob, JobStatus
from tests.factories import UserFactory
from tests.support.concurrency import THREADS, error_code, run_in_parallel
from tests.support.explore import make_work

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_PRICE = 4  # IMAGE_3_0_OMNI, seeded
AFFORDABLE = 25


def test_parallel_recreates_count_exactly_and_never_overdraw():
    author: Any = UserFactory(username="ada")
    account_services.credits_grant(user=author, amount=100, reason="seed")
    # Outside a test transaction the job runs as its submit commits.
    work = make_work(
        author,
        lambda execute: nullcontext(),
        model="IMAGE_3_0_OMNI",
        prompt="[@Little Scholar] reads a book by the window.",
    )
    fan: Any = UserFactory(username="fan")
    account_services.credits_grant(user=fan, amount=IMAGE_PRICE * AFFORDABLE, reason="seed")

    results = run_in_parallel(
        lambda i: explore_services.explore_recreate(user=fan, work_id=work.pk)
    )

    made = [r for r in results if isinstance(r, GenerationJob)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) + len(refused) == THREADS, [r for r in results if r not in made + refused]
    assert len(made) == AFFORDABLE
    assert {error_code(r) for r in refused} == {"INSUFFICIENT_CREDITS"}
    work.refresh_from_db()
    assert work.recreate_count == AFFORDABLE
    assert ExploreRecreation.objects.filter(work=work).count() == AFFORDABLE
    assert GenerationJob.objects.filter(owner=fan).count() == AFFORDABLE
    assert set(GenerationJob.objects.filter(owner=fan).values_list("status", flat=True)) == {
        JobStatus.SUCCEEDED
    }
    assert CreditLedgerEntry.objects.filter(user=fan, kind=LedgerKind.DEBIT).count() == AFFORDABLE
    assert credit_balance(fan) == 0
    assert ExploreWork.objects.count() == 1
