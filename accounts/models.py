"""Users, memberships, credits and API tokens.

The credit balance is a cached sum of the ledger: it changes only in `accounts.services`,
in the same transaction that writes the ledger entry, and the database refuses a negative
balance or a ledger entry whose sign does not match its kind.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from elementsite.model_rows import plain_rows

NON_MEMBER_TIER_CODE = "non_member"


class UserManager(DjangoUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Usernames are unique ignoring case, so logging in ignores case too.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person using the service, through the web app, a client app or the admin."""

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    display_name = models.CharField(
        max_length=60, blank=True, help_text="Name shown to other users; the username if empty."
    )

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class MembershipTier(models.Model):
    """A membership level and what it allows; staff edit the numbers in admin."""

    code = models.SlugField(max_length=32, unique=True, help_text="Stable machine name.")
    name = models.CharField(max_length=60, help_text="Name shown to users.")
    rank = models.PositiveSmallIntegerField(
        default=0, help_text="Ordering of tiers, lowest first; the non-member tier is 0."
    )
    element_limit = models.PositiveIntegerField(
        help_text="How many elements a user of this tier may keep in their library."
    )
    daily_free_multiview = models.PositiveSmallIntegerField(
        default=0, help_text="Free AI multi-view completions per day (service time zone)."
    )
    daily_credit_grant = models.PositiveIntegerField(
        default=0, help_text="Credits granted to each user of this tier by the daily reset."
    )
    signup_grant = models.PositiveIntegerField(
        default=0,
        help_text="Credits given once to a user who registers on this tier (a self-registered "
        "user is a non-member), so a new account can try generation.",
    )

    class Meta:
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_member_tier(self) -> bool:
        return self.code != NON_MEMBER_TIER_CODE


class Membership(models.Model):
    """A user's paid tier until `expires_at`; past it the user is a non-member again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tier = models.ForeignKey(MembershipTier, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the membership ends; empty means no end date."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("started_at")),
                name="accounts_membership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.tier}"

    def clean(self) -> None:
        if self.expires_at is not None and self.started_at and self.expires_at <= self.started_at:
            raise ValidationError(
                {
                    "expires_at": ValidationError(
                        "A membership must end after it starts.", code="ends_before_start"
                    )
                }
            )

    def is_active_at(self, moment: datetime.datetime) -> bool:
        return self.started_at <= moment and (self.expires_at is None or self.expires_at > moment)


class CreditWallet(models.Model):
    """A user's credit balance: the running total of their ledger."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet"
    )
    balance = models.BigIntegerField(default=0, help_text="Credits available now.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="accounts_wallet_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.balance} credits"


class LedgerKind(models.TextChoices):
    GRANT = "grant", "Grant"
    DEBIT = "debit", "Debit"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"


@plain_rows
class CreditLedgerEntry(models.Model):
    """One movement of credits; the wallet balance is the sum of a user's entries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    amount = models.BigIntegerField(
        help_text="Signed change of the balance: positive adds credits, negative takes them."
    )
    balance_after = models.BigIntegerField(help_text="The balance right after this entry.")
    reason = models.CharField(max_length=200, help_text="Why the credits moved, for the user.")
    reference = models.CharField(
        max_length=120,
        blank=True,
        help_text="What caused the movement, e.g. `generation.job:<id>` or `daily-grant:<day>`.",
    )
    # NULL, not "", for "no key": the partial unique constraint below skips NULLs.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=120,
        null=True,
        blank=True,
        help_text="Makes a repeated request a no-op: one entry per user and key.",
    )
    refund_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunded_by",
        help_text="The debit this entry gives back; a debit is refunded at most once.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who made an adjustment.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "credit ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(kind__in=["grant", "refund"]) & Q(amount__gt=0))
                    | (Q(kind="debit") & Q(amount__lt=0))
                    | (Q(kind="adjustment") & ~Q(amount=0))
                ),
                name="accounts_ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="accounts_ledger_balance_not_negative"
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="accounts_ledger_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.amount:+d} → {self.balance_after}"


class FreeUseFeature(models.TextChoices):
    MULTIVIEW = "multiview", "AI multi-view completion"


class FreeUseCounter(models.Model):
    """How many free uses of a feature a user took on one day (service time zone).

    A new day is a new row, so the daily allowance starts over by itself; the daily reset
    only prunes old rows.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="free_use_counters"
    )
    feature = models.CharField(max_length=32, choices=FreeUseFeature.choices)
    day = models.DateField(help_text="The day in the service time zone.")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "feature", "day"], name="accounts_free_use_one_row_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.feature} {self.day}: {self.used}"


class DailyReset(models.Model):
    """A record of the daily reset having run for a day, so a second run knows."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    grants = models.PositiveIntegerField(default=0, help_text="Grant entries written.")
    counters_pruned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Daily reset {self.day}"


class ApiToken(models.Model):
    """A personal API token: `Authorization: Bearer <token>`. Only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=60, help_text="The owner's label for this token.")
    prefix = models.CharField(
        max_length=16, help_text="The first characters of the token, to recognise it."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "user",
                condition=Q(revoked_at__isnull=True),
                name="accounts_apitoken_active_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
