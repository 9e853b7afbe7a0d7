from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import CreditLedgerEntry, DailyReset, FreeUseCounter, LedgerKind
from accounts.selectors import credit_balance, day_start, service_day
from tests.factories import MembershipFactory, UserFactory, tier

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def granting_pro():
    pro = tier("pro")
    pro.daily_credit_grant = 20
    pro.save()
    return pro


def long_membership(user, tier_row, **kwargs):
    defaults = {"started_at": timezone.now() - 60 * DAY, "expires_at": None}
    defaults.update(kwargs)
    if user.date_joined > defaults["started_at"]:
        # A member since then existed since then (no grant reaches days before an account).
        user.date_joined = defaults["started_at"]
        user.save(update_fields=["date_joined"])
    return MembershipFactory(user=user, tier=tier_row, **defaults)


def test_grant_applies_once_however_often_the_reset_runs(user, granting_pro):
    long_membership(user, granting_pro)
    bystander = UserFactory()  # non-member tier grants nothing by default

    first = services.daily_reset()
    second = services.daily_reset()

    assert first.grants == 1
    assert second.grants == 0
    assert credit_balance(user) == 20
    assert credit_balance(bystander) == 0
    entry = CreditLedgerEntry.objects.get(user=user)
    assert entry.kind == LedgerKind.GRANT
    assert entry.reference == f"daily-grant:{service_day().isoformat()}"
    record = DailyReset.objects.get(day=service_day())
    assert record.grants == 1
    assert record.finished_at is not None


def test_missed_days_are_caught_up_once_each(user, granting_pro, settings):
    settings.DAILY_GRANT_CATCH_UP_DAYS = 7
    long_membership(user, granting_pro)
    today = service_day()
    DailyReset.objects.create(day=today - 3 * DAY, finished_at=timezone.now())

    result = services.daily_reset(today=today)
    services.daily_reset(today=today)

    assert result.days == [today - 2 * DAY, today - DAY, today]
    assert credit_balance(user) == 60
    keys = set(CreditLedgerEntry.objects.values_list("idempotency_key", flat=True))
    assert keys == {services.daily_grant_key(d) for d in result.days}


def test_catch_up_is_bounded(user, granting_pro, settings):
    settings.DAILY_GRANT_CATCH_UP_DAYS = 2
    long_membership(user, granting_pro)
    today = service_day()
    DailyReset.objects.create(day=today - 30 * DAY, finished_at=timezone.now())

    result = services.daily_reset(today=today)

    assert result.days == [today - DAY, today]
    assert credit_balance(user) == 40


def test_each_missed_day_uses_the_tier_the_user_had_then(user, granting_pro):
    today = service_day()
    # Pro until yesterday's noon: a member at the start of yesterday, not of today.
    long_membership(
        user, granting_pro, expires_at=day_start(today - DAY) + 12 * datetime.timedelta(hours=1)
    )
    DailyReset.objects.create(day=today - 2 * DAY, finished_at=timezone.now())

    services.daily_reset(today=today)

    granted = list(CreditLedgerEntry.objects.values_list("idempotency_key", flat=True))
    assert granted == [services.daily_grant_key(today - DAY)]


def test_non_member_grant_reaches_users_without_a_membership(user, granting_pro):
    non_member = tier("non_member")
    non_member.daily_credit_grant = 2
    non_member.save()
    expired = UserFactory()
    long_membership(expired, granting_pro, expires_at=timezone.now() - 5 * DAY)
    member = UserFactory()
    long_membership(member, granting_pro)
    inactive = UserFactory(is_active=False)

    result = services.daily_reset()

    assert result.grants == 3
    assert credit_balance(user) == 2
    assert credit_balance(expired) == 2
    assert credit_balance(member) == 20
    assert credit_balance(inactive) == 0


def test_reset_prunes_old_counters_and_keeps_recent_ones(user, settings):
    settings.FREE_USE_RETENTION_DAYS = 30
    today = service_day()
    FreeUseCounter.objects.create(user=user, feature="multiview", day=today - 31 * DAY, used=3)
    kept = FreeUseCounter.objects.create(user=user, feature="multiview", day=today - DAY, used=3)

    result = services.daily_reset(today=today)

    assert result.counters_pruned == 1
    assert list(FreeUseCounter.objects.all()) == [kept]


def test_progress_reports_every_user(granting_pro):
    users = [UserFactory() for _ in range(3)]
    for u in users:
        long_membership(u, granting_pro)
    seen: list[tuple[int, int]] = []

    services.daily_reset(progress=lambda done, total: seen.append((done, total)))

    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_no_grant_for_days_before_the_account_existed(granting_pro, settings):
    # given: a Pro account created on the 4th, at noon; the reset last ran on the 31st
    settings.DAILY_GRANT_CATCH_UP_DAYS = 7
    fourth = datetime.date(2026, 11, 4)
    created = day_start(fourth) + datetime.timedelta(hours=12)
    newcomer = UserFactory(date_joined=created)
    long_membership(newcomer, granting_pro, started_at=created)
    veteran = UserFactory(date_joined=day_start(fourth) - 30 * DAY)
    long_membership(veteran, granting_pro)
    DailyReset.objects.create(day=datetime.date(2026, 10, 31), finished_at=timezone.now())

    # when: the catch-up on the 5th covers the 1st to the 5th
    result = services.daily_reset(today=fourth + DAY)

    # then: the veteran gets five days; the newcomer only the 4th and the 5th — and on the 4th
    # by the tier in force at its start (none: non-member, which grants nothing)
    assert result.days == [datetime.date(2026, 11, d) for d in range(1, 6)]
    assert credit_balance(veteran) == 5 * 20
    newcomer_days = set(
        CreditLedgerEntry.objects.filter(user=newcomer).values_list("reference", flat=True)
    )
    assert newcomer_days == {"daily-grant:2026-11-05"}
    assert credit_balance(newcomer) == 20


def test_daily_reset_for_a_day_before_the_account_grants_nothing(granting_pro):
    # given
    fourth = datetime.date(2026, 11, 4)
    newcomer = UserFactory(date_joined=day_start(fourth) + datetime.timedelta(hours=1))
    # (a membership dated before the account, as staff may back-date one)
    MembershipFactory(
        user=newcomer, tier=granting_pro, started_at=day_start(fourth) - 10 * DAY, expires_at=None
    )

    # when: `daily_reset --day 2026-11-03`, then the 4th
    before = services.daily_reset(today=fourth - DAY)
    on_the_day = services.daily_reset(today=fourth)

    # then
    assert before.grants == 0
    assert on_the_day.grants == 1
    assert list(
        CreditLedgerEntry.objects.filter(user=newcomer).values_list("reference", flat=True)
    ) == ["daily-grant:2026-11-04"]
