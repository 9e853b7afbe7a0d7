from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import FreeUseCounter
from accounts.selectors import free_uses_left, service_day
from tests.factories import MembershipFactory, tier

pytestmark = pytest.mark.django_db


def test_member_gets_three_free_uses_a_day(user):
    MembershipFactory(user=user, tier=tier("standard"))
    taken = [services.free_use_consume(user=user) for _ in range(4)]
    today = service_day()
    assert taken == [today, today, today, None]
    assert free_uses_left(user, "multiview") == 0


def test_non_member_gets_none_and_no_counter_row(user):
    assert services.free_use_consume(user=user) is None
    assert not FreeUseCounter.objects.exists()


def test_release_gives_one_back(user):
    MembershipFactory(user=user, tier=tier("pro"))
    days = [services.free_use_consume(user=user) for _ in range(3)]
    assert services.free_use_release(user=user, day=days[0]) is True
    assert free_uses_left(user, "multiview") == 1
    assert services.free_use_consume(user=user) == days[0]


def test_release_never_goes_below_zero(user):
    assert services.free_use_release(user=user, day=service_day()) is False


def test_new_day_starts_fresh_without_any_reset(user):
    MembershipFactory(user=user, tier=tier("standard"))
    now = timezone.now()
    for _ in range(3):
        services.free_use_consume(user=user, at=now)
    tomorrow = now + datetime.timedelta(days=1)
    assert free_uses_left(user, "multiview", at=tomorrow) == 3
    assert services.free_use_consume(user=user, at=tomorrow) == service_day(tomorrow)


def test_day_is_counted_in_the_service_time_zone(user, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    MembershipFactory(
        user=user,
        tier=tier("standard"),
        started_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        expires_at=None,
    )
    # 20:00 UTC on the 1st is 05:00 on the 2nd in Tokyo.
    moment = datetime.datetime(2026, 11, 1, 20, 0, tzinfo=datetime.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        day = services.free_use_consume(user=user, at=moment)
    assert day == datetime.date(2026, 11, 2)
