"""Limits hold under 40 parallel writers, on whichever database the suite runs on
(SQLite by default, PostgreSQL in CI): each thread has its own connection."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.error_codes import CreditErrorCode
from accounts.models import CreditLedgerEntry, FreeUseCounter, LedgerKind
from accounts.selectors import credit_balance
from tests.factories import MembershipFactory, UserFactory, tier
from tests.support.concurrency import error_code, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_debits_never_overdraw():
    user = UserFactory()
    services.credits_grant(user=user, amount=25, reason="seed")

    results = run_in_parallel(
        lambda i: services.credits_debit(user=user, amount=1, reason=f"job {i}")
    )

    debits = [r for r in results if isinstance(r, CreditLedgerEntry)]
    refused = [r for r in results if error_code(r) == CreditErrorCode.INSUFFICIENT_CREDITS]
    assert len(debits) == 25, results
    assert len(refused) == 15, results
    assert credit_balance(user) == 0
    # Every entry saw its own balance: the running totals are a permutation of 0..24.
    assert sorted(d.balance_after for d in debits) == list(range(25))
    assert CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.DEBIT).count() == 25


def test_parallel_free_uses_never_exceed_the_allowance():
    user = UserFactory()
    MembershipFactory(user=user, tier=tier("standard"))

    results = run_in_parallel(lambda i: services.free_use_consume(user=user))

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sum(1 for r in results if r is not None) == 3
    assert FreeUseCounter.objects.get(user=user).used == 3


def test_parallel_idempotent_grants_grant_once():
    user = UserFactory()

    results = run_in_parallel(
        lambda i: services.credits_grant(
            user=user, amount=9, reason="daily", idempotency_key="daily-grant:2026-11-24"
        )
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert credit_balance(user) == 9


def test_parallel_refunds_of_one_debit_refund_once():
    user = UserFactory()
    services.credits_grant(user=user, amount=10, reason="seed")
    debit = services.credits_debit(user=user, amount=10, reason="job")

    results = run_in_parallel(lambda i: services.credits_refund(debit=debit, reason="failed"))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert credit_balance(user) == 10
