"""A self-registered user gets the tier's signup grant once, as one ledger entry."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from accounts import services
from accounts.models import CreditLedgerEntry, LedgerKind, MembershipTier, User
from accounts.selectors import credit_balance
from tests.factories import UserFactory
from tests.support.concurrency import run_in_parallel

REGISTER = """
mutation ($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    __typename
    ... on AccountRegisterResult { user { username creditBalance } }
    ... on OperationInfo { messages { field code } }
  }
}"""


def non_member() -> MembershipTier:
    return MembershipTier.objects.get(code="non_member")


def test_the_non_member_tier_grants_enough_for_a_few_local_jobs(db):
    # 60 credits: three 5 s Video O1 jobs (20 each) at the seeded prices.
    assert non_member().signup_grant == 60
    assert set(
        MembershipTier.objects.exclude(code="non_member").values_list("signup_grant", flat=True)
    ) == {0}


def test_registering_writes_the_grant_once_as_a_ledger_entry(gql, db):
    # when
    data = gql(REGISTER, {"input": {"username": "newcomer", "password": "first-hour-2026"}})

    # then
    assert data["accountRegister"]["user"] == {"username": "newcomer", "creditBalance": 60}
    user = User.objects.get(username="newcomer")
    entry = CreditLedgerEntry.objects.get(user=user)
    assert (entry.kind, entry.amount, entry.balance_after) == (LedgerKind.GRANT, 60, 60)
    assert entry.idempotency_key == services.SIGNUP_GRANT_KEY
    assert entry.reason == "Welcome credits (Non-member)"
    assert gql("{ me { creditBalance } }") == {"me": {"creditBalance": 60}}


def test_the_grant_is_staff_editable_and_zero_grants_nothing(gql, db):
    # given: staff set the grant to 0
    MembershipTier.objects.filter(code="non_member").update(signup_grant=0)

    # when
    data = gql(REGISTER, {"input": {"username": "nogrant", "password": "first-hour-2026"}})

    # then
    assert data["accountRegister"]["user"]["creditBalance"] == 0
    assert not CreditLedgerEntry.objects.exists()


def test_applying_it_again_moves_nothing(db):
    user = services.user_register(username="twice", password="first-hour-2026")

    again = services.signup_grant_apply(user=user)

    assert again == CreditLedgerEntry.objects.get(user=user)
    assert credit_balance(user) == 60


def test_a_refused_registration_leaves_no_user_and_no_credit(gql, db):
    data = gql(REGISTER, {"input": {"username": "weak", "password": "12345"}})

    assert data["accountRegister"]["__typename"] == "OperationInfo"
    assert {m["code"] for m in data["accountRegister"]["messages"]} == {"WEAK_PASSWORD"}
    assert not User.objects.filter(username="weak").exists()
    assert not CreditLedgerEntry.objects.exists()


def test_accounts_made_by_other_means_get_no_welcome_grant(db):
    user = services.user_register(username="seeded", password="first-hour-2026", signup_grant=False)

    assert credit_balance(user) == 0
    assert not CreditLedgerEntry.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_applications_grant_once():
    # given: an account whose grant has not been written (registered with it off)
    user = services.user_register(username="racer", password="first-hour-2026", signup_grant=False)

    # when: 40 threads apply it at once
    results = run_in_parallel(lambda i: services.signup_grant_apply(user=user))

    # then
    entries = CreditLedgerEntry.objects.filter(user=user)
    assert entries.count() == 1, results
    assert all(r == entries.get() for r in results), results
    assert credit_balance(user) == 60


def test_staff_edit_the_grant_on_the_tier_list(db):
    # given
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    tiers = list(MembershipTier.objects.order_by("rank", "code"))
    assert MembershipTier in site._registry

    # when: the changelist's editable column
    form = {
        "form-TOTAL_FORMS": str(len(tiers)),
        "form-INITIAL_FORMS": str(len(tiers)),
        "_save": "Save",
    }
    for i, tier in enumerate(tiers):
        form.update(
            {
                f"form-{i}-id": str(tier.pk),
                f"form-{i}-rank": str(tier.rank),
                f"form-{i}-element_limit": str(tier.element_limit),
                f"form-{i}-daily_free_multiview": str(tier.daily_free_multiview),
                f"form-{i}-daily_credit_grant": str(tier.daily_credit_grant),
                f"form-{i}-signup_grant": "25" if tier.code == "non_member" else "0",
            }
        )
    response = client.post("/admin/accounts/membershiptier/", form)

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    assert non_member().signup_grant == 25
