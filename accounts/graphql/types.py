"""GraphQL types of the accounts app. Every list is owner-scoped in `get_queryset`, which
relay `node(id:)` lookups go through too."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
import strawberry_django
from django.conf import settings
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts import models
from accounts.graphql.permissions import current_user
from accounts.selectors import AccountOverview
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.relay import PkNodeID


def owned_by_viewer(queryset: QuerySet[Any], info: Info, *, field: str = "user") -> QuerySet[Any]:
    user = current_user(info)
    if user is None:
        return queryset.none()
    return queryset.filter(**{f"{field}_id": user.pk})


choices_enum(models.LedgerKind, description="What moved the credits.")
LedgerKind = models.LedgerKind


@strawberry_django.type(models.MembershipTier, name="MembershipTier")
class MembershipTierType:
    """A membership level and what it allows."""

    code: str = column(description="Stable machine name, e.g. `pro`.")
    name: str = column(description="Name shown to users.")
    element_limit: int = column(description="How many elements a user of this tier may keep.")
    daily_free_multiview: int = column(description="Free AI multi-view completions per day.")
    daily_credit_grant: int = column(description="Credits granted every day by the daily reset.")

    @strawberry_django.field(description="Whether this is a paid membership tier.", only=["code"])
    def is_member_tier(self, root: models.MembershipTier) -> bool:
        return root.is_member_tier


@strawberry_django.type(models.CreditLedgerEntry, name="CreditLedgerEntry")
class CreditLedgerEntryType(PkNodeID, relay.Node):
    """One movement of the viewer's credits."""

    kind: LedgerKind = column(description="What moved the credits.")
    amount: int = column(description="Signed change: positive adds credits, negative takes them.")
    balance_after: int = column(description="The balance right after it.")
    reason: str = column(description="Why the credits moved.")
    reference: str = column(
        description="What caused it, e.g. `generation.job:<id>`; empty for staff adjustments."
    )
    created_at: datetime.datetime = column(description="When it happened.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return owned_by_viewer(queryset, info)


@strawberry_django.type(models.ApiToken, name="ApiToken")
class ApiTokenType(PkNodeID, relay.Node):
    """A personal API token of the viewer. The secret is shown only when it is created."""

    name: str = column(description="The owner's label.")
    prefix: str = column(description="The first characters of the secret, to recognise it.")
    created_at: datetime.datetime = column(description="When it was created.")
    last_used_at: datetime.datetime | None = column(
        description="When it last authenticated a request (to the minute); null if never."
    )
    revoked_at: datetime.datetime | None = column(
        description="When it was revoked; null while it is active."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return owned_by_viewer(queryset, info)


@strawberry.type(name="Me", description="The signed-in user and what they may do now.")
class MeType:
    username: str = strawberry.field(description="The login name.")
    email: str = strawberry.field(description="The email address; empty if none was given.")
    display_name: str = strawberry.field(description="The name shown to others.")
    is_staff: bool = strawberry.field(description="Whether the user may use the admin.")
    tier: MembershipTierType = strawberry.field(
        description="The tier in force now (non-member once a membership has expired)."
    )
    is_member: bool = strawberry.field(description="Whether a paid membership is in force.")
    membership_expires_at: datetime.datetime | None = strawberry.field(
        description="When the membership in force ends; null for non-members or no end date."
    )
    element_limit: int = strawberry.field(description="Elements the tier in force allows.")
    element_count: int = strawberry.field(description="Elements in the library now.")
    credit_balance: int = strawberry.field(description="Credits available now.")
    can_create_elements: bool = strawberry.field(
        description="Whether a new element may be created now (below the element limit)."
    )
    can_edit_elements: bool = strawberry.field(
        description="Whether elements may be edited now (not over the element limit)."
    )
    element_quota_reason: str | None = strawberry.field(
        description="Why creating or editing is not allowed; null when both are."
    )
    free_multiview_uses_per_day: int = strawberry.field(
        description="Free AI multi-view completions the tier gives each day."
    )
    free_multiview_uses_left_today: int = strawberry.field(
        description="Free AI multi-view completions left today (service time zone)."
    )
    multiview_price_credits: int = strawberry.field(
        description="Credits one AI multi-view completion costs once no free use is left."
    )

    @classmethod
    def from_overview(cls, user: models.User, overview: AccountOverview) -> MeType:
        entitlements = overview.entitlements
        return cls(
            username=user.username,
            email=user.email,
            display_name=user.shown_name,
            is_staff=user.is_staff,
            tier=entitlements.tier,  # type: ignore[arg-type]
            is_member=entitlements.is_member,
            membership_expires_at=entitlements.membership_expires_at,
            element_limit=entitlements.element_limit,
            element_count=overview.element_count,
            can_create_elements=overview.can_create_elements,
            can_edit_elements=overview.can_edit_elements,
            element_quota_reason=overview.element_quota_reason,
            credit_balance=overview.credit_balance,
            free_multiview_uses_per_day=entitlements.daily_free_multiview,
            free_multiview_uses_left_today=overview.free_multiview_left_today,
            multiview_price_credits=settings.MULTIVIEW_PRICE_CREDITS,
        )
