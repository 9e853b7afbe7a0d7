from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import services
from accounts.error_codes import CreditErrorCode
from accounts.models import CreditLedgerEntry, CreditWallet, LedgerKind
from accounts.selectors import credit_balance
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def codes(exc: ValidationError) -> list[str]:
    return (
        [e.code for e in exc.error_list]
        if not hasattr(exc, "error_dict")
        else [e.code for errors in exc.error_dict.values() for e in errors]
    )


def test_grant_then_debit_writes_ledger_with_running_balance(user):
    # when
    services.credits_grant(user=user, amount=100, reason="Welcome", reference="promo:1")
    debit = services.credits_debit(user=user, amount=30, reason="Video", reference="job:1")

    # then
    assert credit_balance(user) == 70
    assert debit.kind == LedgerKind.DEBIT
    assert debit.amount == -30
    assert debit.balance_after == 70
    entries = list(CreditLedgerEntry.objects.filter(user=user).order_by("id"))
    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [
        ("grant", 100, 100),
        ("debit", -30, 70),
    ]


def test_balance_equals_sum_of_ledger(user):
    services.credits_grant(user=user, amount=50, reason="a")
    services.credits_debit(user=user, amount=20, reason="b")
    services.credits_adjust(user=user, amount=-5, reason="c", actor=StaffFactory())
    total = sum(CreditLedgerEntry.objects.filter(user=user).values_list("amount", flat=True))
    assert credit_balance(user) == total == 25


def test_debit_beyond_balance_is_refused_and_moves_nothing(user):
    services.credits_grant(user=user, amount=10, reason="a")

    with pytest.raises(ValidationError) as excinfo:
        services.credits_debit(user=user, amount=11, reason="too much")

    assert codes(excinfo.value) == [CreditErrorCode.INSUFFICIENT_CREDITS]
    assert credit_balance(user) == 10
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1


def test_a_database_without_update_returning_moves_the_same_credits(user, monkeypatch):
    """The wallet's UPDATE returns the balance on PostgreSQL and SQLite; elsewhere it is read
    after the UPDATE, with the same balances, ledger and refusals."""
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "mysql")
    services.credits_grant(user=user, amount=10, reason="a")
    debit = services.credits_debit(user=user, amount=4, reason="b")
    with pytest.raises(ValidationError) as excinfo:
        services.credits_debit(user=user, amount=7, reason="too much")

    assert debit.balance_after == 6
    assert codes(excinfo.value) == [CreditErrorCode.INSUFFICIENT_CREDITS]
    assert credit_balance(user) == 6
    assert list(
        CreditLedgerEntry.objects.filter(user=user).order_by("id").values_list("balance_after")
    ) == [(10,), (6,)]


@pytest.mark.parametrize("amount", [0, -1, -100, 1.5, "10", True, None, 1_000_000_001])
@pytest.mark.parametrize("operation", ["grant", "debit"])
def test_zero_negative_or_non_integer_amounts_are_refused(user, operation, amount):
    services.credits_grant(user=user, amount=10, reason="seed")
    call = services.credits_grant if operation == "grant" else services.credits_debit

    with pytest.raises(ValidationError) as excinfo:
        call(user=user, amount=amount, reason="x")

    assert codes(excinfo.value) == [CreditErrorCode.INVALID_AMOUNT]
    assert credit_balance(user) == 10
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1


def test_adjustment_of_zero_is_refused(user):
    with pytest.raises(ValidationError) as excinfo:
        services.credits_adjust(user=user, amount=0, reason="x", actor=StaffFactory())
    assert codes(excinfo.value) == [CreditErrorCode.INVALID_AMOUNT]
    assert not CreditLedgerEntry.objects.filter(user=user).exists()


def test_empty_reason_is_refused(user):
    with pytest.raises(ValidationError) as excinfo:
        services.credits_grant(user=user, amount=5, reason="   ")
    assert codes(excinfo.value) == [CreditErrorCode.INVALID_REASON]
    assert credit_balance(user) == 0


def test_negative_adjustment_cannot_go_below_zero(user):
    staff = StaffFactory()
    services.credits_grant(user=user, amount=5, reason="a")
    with pytest.raises(ValidationError) as excinfo:
        services.credits_adjust(user=user, amount=-6, reason="fix", actor=staff)
    assert codes(excinfo.value) == [CreditErrorCode.INSUFFICIENT_CREDITS]
    entry = services.credits_adjust(user=user, amount=-5, reason="fix", actor=staff)
    assert entry.actor == staff
    assert credit_balance(user) == 0


def test_refund_gives_back_exactly_once(user):
    services.credits_grant(user=user, amount=40, reason="a")
    debit = services.credits_debit(user=user, amount=15, reason="job", reference="job:9")

    first = services.credits_refund(debit=debit, reason="job failed")
    second = services.credits_refund(debit=debit, reason="job failed again")

    assert first.pk == second.pk
    assert first.kind == LedgerKind.REFUND
    assert first.amount == 15
    assert first.reference == "job:9"
    assert credit_balance(user) == 40
    assert CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.REFUND).count() == 1


def test_only_a_debit_can_be_refunded(user):
    grant = services.credits_grant(user=user, amount=40, reason="a")
    with pytest.raises(ValidationError) as excinfo:
        services.credits_refund(debit=grant, reason="nope")
    assert codes(excinfo.value) == [CreditErrorCode.NOT_A_DEBIT]
    assert credit_balance(user) == 40


def test_idempotency_key_makes_a_repeat_a_no_op(user):
    first = services.credits_grant(user=user, amount=7, reason="daily", idempotency_key="k1")
    again = services.credits_grant(user=user, amount=7, reason="daily", idempotency_key="k1")
    other_user = UserFactory()
    theirs = services.credits_grant(user=other_user, amount=7, reason="daily", idempotency_key="k1")

    assert first.pk == again.pk
    assert theirs.pk != first.pk
    assert credit_balance(user) == 7
    assert credit_balance(other_user) == 7


def test_debit_rolls_back_with_the_transaction_that_pays_for_something(user):
    services.credits_grant(user=user, amount=10, reason="a")

    with pytest.raises(RuntimeError), transaction.atomic():
        services.credits_debit(user=user, amount=4, reason="job")
        raise RuntimeError("creating the job failed")

    assert credit_balance(user) == 10
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1


def test_database_refuses_a_negative_balance_written_behind_the_services(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditWallet.objects.filter(user=user).update(balance=-1)


def test_database_refuses_a_debit_with_a_positive_amount(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLedgerEntry.objects.create(
            user=user, kind=LedgerKind.DEBIT, amount=5, balance_after=5, reason="bad"
        )


def test_wallet_is_created_on_first_movement_for_users_made_elsewhere(db):
    from accounts.models import User

    user = User.objects.create_user(username="made-by-createsuperuser", password="x" * 12)
    assert credit_balance(user) == 0
    services.credits_grant(user=user, amount=3, reason="a")
    assert credit_balance(user) == 3


def test_balance_stays_within_graphql_int(user):
    services.credits_grant(user=user, amount=1_000_000_000, reason="a")
    services.credits_grant(user=user, amount=1_000_000_000, reason="b")

    with pytest.raises(ValidationError) as excinfo:
        services.credits_grant(user=user, amount=1, reason="c")

    assert codes(excinfo.value) == [CreditErrorCode.BALANCE_LIMIT]
    assert credit_balance(user) == 2_000_000_000
    assert CreditLedgerEntry.objects.filter(user=user).count() == 2
