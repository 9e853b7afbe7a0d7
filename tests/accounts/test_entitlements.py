from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts import services
from accounts.selectors import free_uses_left, user_entitlements
from tests.factories import MembershipFactory, tier

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("code", "limit", "free"),
    [
        ("non_member", 30, 0),
        ("standard", 50, 3),
        ("pro", 150, 3),
        ("premier", 150, 3),
        ("ultra", 500, 3),
    ],
)
def test_seeded_tiers_carry_the_guide_numbers(code, limit, free):
    row = tier(code)
    assert (row.element_limit, row.daily_free_multiview, row.daily_credit_grant) == (limit, free, 0)


def test_user_without_membership_is_a_non_member(user):
    entitlements = user_entitlements(user)
    assert entitlements.tier.code == "non_member"
    assert not entitlements.is_member
    assert entitlements.element_limit == 30
    assert entitlements.membership_expires_at is None


def test_active_membership_gives_its_tier(user):
    membership = MembershipFactory(user=user, tier=tier("pro"))
    entitlements = user_entitlements(user)
    assert entitlements.tier.code == "pro"
    assert entitlements.is_member
    assert entitlements.element_limit == 150
    assert entitlements.membership_expires_at == membership.expires_at


def test_expired_membership_falls_back_to_non_member(user):
    MembershipFactory(user=user, tier=tier("ultra"), expires_at=timezone.now() - DAY)
    entitlements = user_entitlements(user)
    assert entitlements.tier.code == "non_member"
    assert entitlements.element_limit == 30
    assert free_uses_left(user, "multiview") == 0


def test_membership_expiry_is_checked_at_the_given_moment(user):
    expires = timezone.now() + DAY
    MembershipFactory(user=user, tier=tier("ultra"), expires_at=expires)
    assert user_entitlements(user, at=expires - datetime.timedelta(seconds=1)).tier.code == "ultra"
    assert user_entitlements(user, at=expires).tier.code == "non_member"


def test_downgrade_applies_at_once(user):
    MembershipFactory(user=user, tier=tier("ultra"))
    services.membership_set(user=user, tier=tier("standard"), expires_at=None)
    entitlements = user_entitlements(user)
    assert entitlements.tier.code == "standard"
    assert entitlements.element_limit == 50


def test_staff_edits_of_a_tier_apply_to_its_members(user):
    MembershipFactory(user=user, tier=tier("pro"))
    pro = tier("pro")
    pro.element_limit = 175
    pro.save()
    assert user_entitlements(user).element_limit == 175


def test_membership_cannot_end_before_it_starts(user):
    from django.core.exceptions import ValidationError

    now = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        services.membership_set(user=user, tier=tier("pro"), expires_at=now, started_at=now)
    assert excinfo.value.error_dict["expires_at"][0].code == "ends_before_start"
    assert not hasattr(user, "membership") or user_entitlements(user).tier.code == "non_member"
