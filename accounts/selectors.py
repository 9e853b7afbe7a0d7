"""Reads about accounts: what a user may do now, their balance, their ledger."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.models import (
    NON_MEMBER_TIER_CODE,
    ApiToken,
    CreditLedgerEntry,
    CreditWallet,
    FreeUseCounter,
    FreeUseFeature,
    Membership,
    MembershipTier,
)


def service_day(at: datetime.datetime | None = None) -> datetime.date:
    """The calendar day in the service time zone (`TIME_ZONE`) at `at` (default: now)."""
    return timezone.localdate(at or timezone.now())


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight starting `day` in the service time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def membership_in_force(moment: datetime.datetime, prefix: str = "") -> Q:
    """The database form of `Membership.is_active_at(moment)`; `prefix` reaches the
    membership through a relation, e.g. `"membership__"` from a user."""
    return Q(**{f"{prefix}started_at__lte": moment}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": moment})
    )


def non_member_tier() -> MembershipTier:
    return MembershipTier.objects.get(code=NON_MEMBER_TIER_CODE)


@dataclass(frozen=True)
class Entitlements:
    """What a user may do now, from the tier in force (not the tier they once paid for)."""

    tier: MembershipTier
    membership_expires_at: datetime.datetime | None
    element_limit: int
    daily_free_multiview: int

    @property
    def is_member(self) -> bool:
        return self.tier.is_member_tier

    def free_allowance(self, feature: str) -> int:
        if feature == FreeUseFeature.MULTIVIEW:
            return self.daily_free_multiview
        raise ValueError(f"unknown free-use feature {feature!r}")


def _membership_of(user: AbstractBaseUser) -> Membership | None:
    try:
        return Membership.objects.select_related("tier").get(user_id=user.pk)
    except Membership.DoesNotExist:
        return None


def _entitlements(tier: MembershipTier, expires_at: datetime.datetime | None) -> Entitlements:
    return Entitlements(
        tier=tier,
        membership_expires_at=expires_at,
        element_limit=tier.element_limit,
        daily_free_multiview=tier.daily_free_multiview,
    )


def entitlements_for_membership(
    membership: Membership | None, *, at: datetime.datetime, non_member: MembershipTier
) -> Entitlements:
    """The entitlements a (prefetched) membership gives at `at`, for batch reads."""
    if membership is not None and membership.is_active_at(at):
        return _entitlements(membership.tier, membership.expires_at)
    return _entitlements(non_member, None)


def user_entitlements(
    user: AbstractBaseUser, *, at: datetime.datetime | None = None
) -> Entitlements:
    """The one answer to "what may this user do now".

    An expired membership (or one not started yet) counts as none: the user falls back to
    the non-member tier. A downgrade made by staff changes the tier row, so it applies at once.
    """
    moment = at or timezone.now()
    membership = _membership_of(user)
    if membership is not None and membership.is_active_at(moment):
        return _entitlements(membership.tier, membership.expires_at)
    return _entitlements(non_member_tier(), None)


def credit_balance(user: AbstractBaseUser) -> int:
    balance = CreditWallet.objects.filter(user_id=user.pk).values_list("balance", flat=True)
    return next(iter(balance), 0)


def credit_ledger(user: AbstractBaseUser) -> QuerySet[CreditLedgerEntry]:
    """The user's ledger, newest first."""
    return CreditLedgerEntry.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def free_uses_used(user: AbstractBaseUser, feature: str, day: datetime.date) -> int:
    used = FreeUseCounter.objects.filter(user_id=user.pk, feature=feature, day=day).values_list(
        "used", flat=True
    )
    return next(iter(used), 0)


def free_uses_left(
    user: AbstractBaseUser, feature: str, *, at: datetime.datetime | None = None
) -> int:
    """Free uses of `feature` left today (service time zone) under the tier in force."""
    allowance = user_entitlements(user, at=at).free_allowance(feature)
    return max(0, allowance - free_uses_used(user, feature, service_day(at)))


def api_tokens(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


@dataclass(frozen=True)
class AccountOverview:
    """Everything the `me` query shows, read in a fixed number of queries."""

    entitlements: Entitlements
    element_count: int
    credit_balance: int
    free_multiview_left_today: int

    @property
    def can_create_elements(self) -> bool:
        return self.element_count < self.entitlements.element_limit

    @property
    def can_edit_elements(self) -> bool:
        # Over the limit (after a downgrade or expiry) elements stay usable but frozen.
        return self.element_count <= self.entitlements.element_limit

    @property
    def element_quota_reason(self) -> str | None:
        count, limit = self.element_count, self.entitlements.element_limit
        if count > limit:
            return (
                f"Your library holds {count} element{pluralize(count)}, more than the {limit} of "
                "your "
                f"{self.entitlements.tier.name} tier: delete some or upgrade to create or "
                "edit elements. They all still work in generation."
            )
        if count == limit:
            return (
                f"Your library is full ({limit} element{pluralize(limit)} for your "
                f"{self.entitlements.tier.name} tier): delete some or upgrade to create more."
            )
        return None


def account_overview(user: AbstractBaseUser) -> AccountOverview:
    from elements.selectors import element_count

    now = timezone.now()
    entitlements = user_entitlements(user, at=now)
    used = free_uses_used(user, FreeUseFeature.MULTIVIEW, service_day(now))
    return AccountOverview(
        entitlements=entitlements,
        element_count=element_count(owner=user),
        credit_balance=credit_balance(user),
        free_multiview_left_today=max(0, entitlements.daily_free_multiview - used),
    )
