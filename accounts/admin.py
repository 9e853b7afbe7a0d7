"""Staff screens for accounts: users with their membership and credits, tiers, the credit
ledger, API tokens and the daily reset runs.

Credits move only through `accounts.services`: the wallet balance is shown, never edited, and
the "Adjust credits" action on the user list is the one way staff change it (it writes an
adjustment ledger entry naming them). The ledger, tokens' secrets and reset runs are
read-only here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_q.admin import FailAdmin as QFailAdmin
from django_q.admin import ScheduleAdmin as QScheduleAdmin
from django_q.admin import TaskAdmin as QTaskAdmin
from django_q.models import Failure, Schedule, Success

from accounts.models import (
    NON_MEMBER_TIER_CODE,
    ApiToken,
    CreditLedgerEntry,
    DailyReset,
    Membership,
    MembershipTier,
    User,
)
from accounts.selectors import entitlements_for_membership, non_member_tier, user_entitlements
from accounts.services import api_token_revoke, credits_adjust
from elementsite.admin_actions import confirm_page, plural, staff_user
from elementsite.admin_readonly import ReadOnlyAdmin, ReadOnlyMixin

# A typo guard, not a business rule: an extra few zeros typed by hand should not go through.
MAX_ADJUSTMENT = 1_000_000_000

# A long-lived account has thousands of entries; the user page shows the newest and links
# to the full, searchable ledger.
LEDGER_INLINE_ROWS = 50


def _balance(user: User) -> int:
    # `wallet` comes with the user through select_related; a user made in the admin or by
    # createsuperuser has no wallet until credits first move, which is a zero balance.
    wallet = getattr(user, "wallet", None)
    return wallet.balance if wallet is not None else 0


# --- Users --------------------------------------------------------------------------------


class MembershipInline(admin.StackedInline):
    model = Membership
    fields = ("tier", "started_at", "expires_at", "in_force_now")
    readonly_fields = ("in_force_now",)
    extra = 1
    verbose_name_plural = "membership"

    @admin.display(boolean=True, description="in force now")
    def in_force_now(self, obj: Membership) -> bool | None:
        if obj.pk is None:
            return None
        return obj.is_active_at(timezone.now())


class RecentLedgerFormSet(BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[CreditLedgerEntry]:
        # Sliced once and kept: the formset asks for its queryset several times, and each
        # fresh slice would be another query.
        if not hasattr(self, "_recent"):
            self._recent = super().get_queryset()[:LEDGER_INLINE_ROWS]
        return self._recent


class CreditLedgerInline(ReadOnlyMixin, admin.TabularInline):
    model = CreditLedgerEntry
    fk_name = "user"  # `actor` points at users too
    formset = RecentLedgerFormSet
    fields = ("created_at", "kind", "amount", "balance_after", "reason", "reference", "actor")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name_plural = f"credit ledger (newest {LEDGER_INLINE_ROWS})"
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditLedgerEntry]:
        return super().get_queryset(request).select_related("actor")


class UserChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The page's memberships came with the users (select_related), so the effective tier
        # costs one query for the fallback tier per page, not one per row; it is worked out
        # by the same function the daily grant uses.
        now = timezone.now()
        non_member = non_member_tier()
        for user in self.result_list:
            user._effective_tier = entitlements_for_membership(
                getattr(user, "membership", None), at=now, non_member=non_member
            ).tier


class AdjustCreditsForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text="Credits to add to each selected user; negative to take credits away.",
    )
    reason = forms.CharField(
        max_length=200,
        help_text="Why, in words the user understands: it is shown in their credit history.",
    )
    # One key per rendered form: re-sending the same confirmation (back button, double
    # click) finds the entries already written instead of adjusting twice.
    request_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise ValidationError("The amount must not be zero.", code="zero")
        return amount


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("display_name", "first_name", "last_name", "email")}),
        (
            "Membership and credits",
            {
                "fields": ("effective_tier", "balance", "ledger_link"),
                "description": "Credits change only through the “Adjust credits” action "
                "on the user list, which records the change in the ledger.",
            },
        ),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("effective_tier", "balance", "ledger_link")
    list_display = ("username", "effective_tier", "balance", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    inlines = (MembershipInline, CreditLedgerInline)
    actions = ("adjust_credits",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).select_related("wallet", "membership__tier")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return UserChangeList

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # The add form is only username and password, like Django's; membership and ledger
        # belong to an existing user.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        # The ledger and tokens refuse deletion on their own pages, which Django would also
        # apply to the cascade; they go with their user, so deleting a user stays possible.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed -= {CreditLedgerEntry._meta.verbose_name, ApiToken._meta.verbose_name}
        return deleted, model_count, perms_needed, protected

    @admin.display(description="effective tier")
    def effective_tier(self, obj: User) -> str:
        tier = getattr(obj, "_effective_tier", None)
        if tier is None:
            tier = user_entitlements(obj).tier
        return str(tier.name)

    @admin.display(description="credits", ordering="wallet__balance")
    def balance(self, obj: User) -> int:
        return _balance(obj)

    @admin.display(description="ledger")
    def ledger_link(self, obj: User) -> str:
        url = reverse("admin:accounts_creditledgerentry_changelist")
        return format_html(
            '<a href="{}?user__id__exact={}">The full credit ledger</a>', url, obj.pk
        )

    def has_adjust_credits_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_creditwallet")

    @admin.action(description="Adjust credits", permissions=["adjust_credits"])
    def adjust_credits(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        users = list(queryset.order_by("username"))
        if "apply" in request.POST:
            form = AdjustCreditsForm(request.POST)
            if form.is_valid():
                self._apply_adjustment(
                    request,
                    users,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    key=f"admin-adjust:{form.cleaned_data['request_key']}",
                )
                return None
        else:
            form = AdjustCreditsForm()
        return confirm_page(
            self,
            request,
            template="admin/accounts/user/adjust_credits.html",
            action="adjust_credits",
            title="Adjust credits",
            selected=[user.pk for user in users],
            css_name="adjust-credits",
            form=form,
            users=[(user, _balance(user)) for user in users],
        )

    def _apply_adjustment(
        self, request: HttpRequest, users: list[User], *, amount: int, reason: str, key: str
    ) -> None:
        actor = staff_user(request)
        adjusted = 0
        for user in users:
            if CreditLedgerEntry.objects.filter(user=user, idempotency_key=key).exists():
                self.message_user(
                    request, f"{user.username}: this adjustment was already made.", messages.WARNING
                )
                continue
            try:
                # Each call is its own transaction: one user's refusal leaves the others'
                # adjustments standing, and writes nothing for that user.
                entry = credits_adjust(
                    user=user, amount=amount, reason=reason, actor=actor, idempotency_key=key
                )
            except ValidationError as exc:
                self.message_user(
                    request,
                    f"{user.username}: not adjusted. {' '.join(exc.messages)}",
                    messages.ERROR,
                )
                continue
            adjusted += 1
            self.log_change(
                request,
                user,
                f"Adjusted credits by {amount:+d} to {entry.balance_after}: {reason}",
            )
        if adjusted:
            self.message_user(
                request,
                f"Adjusted the credits of {plural(adjusted, 'user')} by {amount:+d}.",
                messages.SUCCESS,
            )


# --- Membership tiers -------------------------------------------------------------------


@admin.register(MembershipTier)
class MembershipTierAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "rank",
        "element_limit",
        "daily_free_multiview",
        "daily_credit_grant",
        "signup_grant",
    )
    list_editable = (
        "rank",
        "element_limit",
        "daily_free_multiview",
        "daily_credit_grant",
        "signup_grant",
    )
    list_display_links = ("code",)
    ordering = ("rank", "code")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Tiers are looked up by `code` (the non-member fallback, the seed migration); a
        # changed code would silently detach its tier from them.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also consulted per object by "delete selected", so that action refuses it too.
        if obj is not None and obj.code == NON_MEMBER_TIER_CODE:
            return False
        return super().has_delete_permission(request, obj)


# --- Credit ledger ----------------------------------------------------------------------


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "reference",
        "actor",
    )
    list_filter = ("kind",)
    search_fields = ("user__username", "reason", "reference")
    list_select_related = ("user", "actor")
    ordering = ("-created_at", "-id")
    # The ledger grows without bound; an unfiltered COUNT(*) on every search is not worth it.
    show_full_result_count = False


# --- API tokens -------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    # token_hash is left out everywhere: it is what a stolen database would need to match.
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "name", "prefix")
    list_select_related = ("user",)
    actions = ("revoke_tokens",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apitoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.select_related("user"):
            if token.revoked_at is None:
                api_token_revoke(user=token.user, token_id=token.pk)
                revoked += 1
        self.message_user(request, f"Revoked {plural(revoked, 'token')}.", messages.SUCCESS)


# --- Daily reset ------------------------------------------------------------------------


# --- django-q2's schedules ----------------------------------------------------------------


admin.site.unregister(Schedule)


@admin.register(Schedule)
class ScheduleAdmin(QScheduleAdmin):
    """django-q2's schedule list with five of its nine columns, so it fits 1400 px with its
    filters; the id, repeats, cluster and last run are on each schedule's page."""

    list_display = ("name", "func", "schedule_type", "next_run", "get_success")
    list_display_links = ("name",)


admin.site.unregister(Success)
admin.site.unregister(Failure)


@admin.register(Success)
class SuccessfulTaskAdmin(QTaskAdmin):
    """django-q2's finished tasks without the group and cluster columns (filters and each
    task's page have them): a task path as long as `generation.webhooks.tasks.deliver_webhook`
    pushed the seven columns past 1400 px."""

    list_display = ("name", "func", "started", "stopped", "time_taken")


@admin.register(Failure)
class FailedTaskAdmin(QFailAdmin):
    """django-q2's failed tasks, cut like the finished ones; the whole result is on the page."""

    list_display = ("name", "func", "started", "stopped", "short_result")


@admin.register(DailyReset)
class DailyResetAdmin(ReadOnlyAdmin):
    list_display = ("day", "started_at", "finished_at", "grants", "counters_pruned")
    date_hierarchy = "day"
