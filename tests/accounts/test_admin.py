"""The staff admin for accounts: credits move only through the adjust action, the ledger is
read-only, tiers are editable but the non-member tier stays, and the user list reads a
fixed number of queries."""

from __future__ import annotations

import datetime
import uuid
from html.parser import HTMLParser
from typing import Any, cast

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.admin import LEDGER_INLINE_ROWS
from accounts.models import (
    NON_MEMBER_TIER_CODE,
    CreditLedgerEntry,
    CreditWallet,
    DailyReset,
    LedgerKind,
    Membership,
    MembershipTier,
    User,
)
from accounts.services import api_token_create, credits_grant
from tests.factories import MembershipFactory, StaffUserFactory, UserFactory, tier

pytestmark = pytest.mark.django_db

USER_CHANGELIST = reverse("admin:accounts_user_changelist")
TIER_CHANGELIST = reverse("admin:accounts_membershiptier_changelist")


class _FormFields(HTMLParser):
    """What a browser would submit from the form with a given id: its inputs, checked boxes,
    selected options and textareas, submit buttons left out."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_multiple = False
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = (attr.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attr:
                    self._add(name, attr.get("value") or "on")
                return
            self._add(name, attr.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self._select_multiple = "multiple" in attr
            self._first_option = None
            self._selected = False
        elif tag == "option" and self._select is not None:
            value = attr.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attr:
                self._selected = True
                self._add(self._select, value)
        elif tag == "textarea" and name:
            self._textarea = name
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            if not self._selected and not self._select_multiple and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._add(self._textarea, text.removeprefix("\r\n").removeprefix("\n"))
            self._textarea = None


def form_data(response: Any, form_id: str) -> dict[str, Any]:
    assert response.status_code == 200, response.status_code
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    assert parser.data, f"no form #{form_id} on the page"
    return {name: values if len(values) > 1 else values[0] for name, values in parser.data.items()}


def balance_of(user: User) -> int:
    return CreditWallet.objects.get(user=user).balance


def user_with_credits(amount: int, **kwargs: Any) -> User:
    user = cast(User, UserFactory(**kwargs))
    if amount:
        credits_grant(user=user, amount=amount, reason="Welcome credits")
    return user


def adjust(client: Client, users: list[User], *, amount: Any, reason: str, **extra: Any) -> Any:
    return client.post(
        USER_CHANGELIST,
        {
            "action": "adjust_credits",
            ACTION_CHECKBOX_NAME: [str(u.pk) for u in users],
            "apply": "yes",
            "amount": str(amount),
            "reason": reason,
            "request_key": str(uuid.uuid4()),
            **extra,
        },
        follow=True,
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Adjust credits ---------------------------------------------------------------------


def test_adjust_credits_first_shows_the_form(admin_client: Client) -> None:
    # given
    user = user_with_credits(7)

    # when
    response = admin_client.post(
        USER_CHANGELIST,
        {"action": "adjust_credits", ACTION_CHECKBOX_NAME: [str(user.pk)], "index": "0"},
    )

    # then
    assert response.status_code == 200
    assert "admin/accounts/user/adjust_credits.html" in [t.name for t in response.templates]
    data = form_data(response, "adjust-credits-form")
    assert data[ACTION_CHECKBOX_NAME] == str(user.pk)
    assert data["action"] == "adjust_credits"
    assert not CreditLedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).exists()


def test_adjust_credits_writes_one_adjustment_entry(admin_client: Client, admin_user: User) -> None:
    # given
    user = user_with_credits(10)
    entries_before = CreditLedgerEntry.objects.filter(user=user).count()

    # when
    response = adjust(admin_client, [user], amount=5, reason="Sorry for the outage")

    # then
    assert response.status_code == 200
    assert CreditLedgerEntry.objects.filter(user=user).count() == entries_before + 1
    entry = CreditLedgerEntry.objects.filter(user=user).first()
    assert entry is not None
    assert entry.kind == LedgerKind.ADJUSTMENT
    assert entry.amount == 5
    assert entry.balance_after == 15
    assert entry.reason == "Sorry for the outage"
    assert entry.actor == admin_user
    assert balance_of(user) == 15
    assert any("Adjusted the credits of 1 user by +5" in m for m in messages_of(response))


def test_resending_the_same_confirmation_adjusts_once(admin_client: Client) -> None:
    user = user_with_credits(10)
    key = str(uuid.uuid4())

    adjust(admin_client, [user], amount=5, reason="Outage", request_key=key)
    again = adjust(admin_client, [user], amount=5, reason="Outage", request_key=key)

    assert balance_of(user) == 15
    assert CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.ADJUSTMENT).count() == 1
    assert any("already made" in m for m in messages_of(again))


def test_adjust_credits_can_take_credits_away(admin_client: Client) -> None:
    user = user_with_credits(10)

    adjust(admin_client, [user], amount=-4, reason="Duplicate grant")

    assert balance_of(user) == 6
    entry = CreditLedgerEntry.objects.get(user=user, kind=LedgerKind.ADJUSTMENT)
    assert (entry.amount, entry.balance_after) == (-4, 6)


def test_negative_adjustment_beyond_balance_writes_nothing(admin_client: Client) -> None:
    # given: one user who can afford it, one who can't
    poor = user_with_credits(3, username="poor")
    rich = user_with_credits(50, username="rich")
    poor_entries = list(CreditLedgerEntry.objects.filter(user=poor).values_list("pk", flat=True))

    # when
    response = adjust(admin_client, [poor, rich], amount=-5, reason="Chargeback")

    # then: nothing for the poor user, and an error naming them; the other still adjusted
    assert balance_of(poor) == 3
    assert list(CreditLedgerEntry.objects.filter(user=poor).values_list("pk", flat=True)) == (
        poor_entries
    )
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("poor: not adjusted.")
    assert "Not enough credits" in errors[0]
    assert balance_of(rich) == 45


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [(0, "Zero", "amount"), ("ten", "Words", "amount"), (5, "   ", "reason")],
)
def test_adjust_credits_refuses_bad_input(
    admin_client: Client, amount: Any, reason: str, field: str
) -> None:
    user = user_with_credits(10)

    response = adjust(admin_client, [user], amount=amount, reason=reason)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert balance_of(user) == 10
    assert not CreditLedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).exists()


def test_staff_without_wallet_permission_cannot_adjust(client: Client) -> None:
    # given: staff who may see and edit users, but not credits
    staff = StaffUserFactory(permissions=["view_user", "change_user"])
    user = user_with_credits(10)
    client.force_login(staff)

    # when
    listing = client.get(USER_CHANGELIST)
    response = adjust(client, [user], amount=100, reason="Because I can")

    # then
    assert listing.status_code == 200
    assert "adjust_credits" not in listing.context["cl"].model_admin.get_actions(
        listing.wsgi_request
    )
    assert balance_of(user) == 10
    assert not CreditLedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).exists()
    assert response.status_code == 200


def test_staff_with_wallet_permission_can_adjust(client: Client) -> None:
    staff = StaffUserFactory(permissions=["view_user", "change_user", "change_creditwallet"])
    user = user_with_credits(10)
    client.force_login(staff)

    adjust(client, [user], amount=2, reason="Goodwill")

    assert balance_of(user) == 12
    assert CreditLedgerEntry.objects.get(kind=LedgerKind.ADJUSTMENT).actor == staff


# --- The user change form ---------------------------------------------------------------


def test_balance_cannot_be_edited_through_the_user_form(admin_client: Client) -> None:
    # given
    user = user_with_credits(10)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = admin_client.get(url)
    data = form_data(page, "user_form")
    assert not any("balance" in name for name in data)

    # when: a crafted post tries every name a balance field could have
    data.update(
        {
            "balance": "999",
            "wallet-0-balance": "999",
            "wallet-TOTAL_FORMS": "1",
            "wallet-INITIAL_FORMS": "1",
            "credit_balance": "999",
            "first_name": "Renamed",
        }
    )
    response = admin_client.post(url, data)

    # then: the form saved, the balance did not move
    assert response.status_code == 302, response.context["errors"]
    user.refresh_from_db()
    assert user.first_name == "Renamed"
    assert balance_of(user) == 10
    assert CreditLedgerEntry.objects.filter(user=user).count() == 1


def test_user_form_shows_balance_and_effective_tier(admin_client: Client) -> None:
    user = user_with_credits(42)
    MembershipFactory(user=user, tier=tier("pro"))

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    content = response.content.decode()
    assert '<div class="readonly">42</div>' in content
    assert '<div class="readonly">Pro</div>' in content
    assert f"?user__id__exact={user.pk}" in content


def test_membership_is_edited_in_the_user_form(admin_client: Client) -> None:
    # given: a user without membership
    user = user_with_credits(0)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    data = form_data(admin_client.get(url), "user_form")
    expires = timezone.localtime() + datetime.timedelta(days=30)

    # when
    data.update(
        {
            "membership-0-tier": str(tier("ultra").pk),
            "membership-0-expires_at_0": expires.strftime("%Y-%m-%d"),
            "membership-0-expires_at_1": expires.strftime("%H:%M:%S"),
        }
    )
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302, response.context["errors"]
    membership = Membership.objects.get(user=user)
    assert membership.tier.code == "ultra"
    assert membership.expires_at is not None


def test_ledger_inline_is_read_only_and_newest_first(admin_client: Client) -> None:
    # given
    user = user_with_credits(10)
    credits_grant(user=user, amount=5, reason="Second grant")
    newest = CreditLedgerEntry.objects.filter(user=user).first()
    assert newest is not None
    url = reverse("admin:accounts_user_change", args=[user.pk])

    # when
    page = admin_client.get(url)

    # then: shown, newest first, with no field to edit, no add row, no delete box
    (ledger,) = [
        inline
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is CreditLedgerEntry
    ]
    assert [form.instance.reason for form in ledger.formset.forms] == [
        "Second grant",
        "Welcome credits",
    ]
    assert not ledger.has_add_permission
    assert not ledger.has_change_permission
    assert not ledger.has_delete_permission
    data = form_data(page, "user_form")
    prefix = ledger.formset.prefix
    assert not [n for n in data if n.startswith(f"{prefix}-") and n.endswith(("amount", "reason"))]

    # when: a crafted post edits, deletes and adds ledger rows
    data.update(
        {
            f"{prefix}-0-amount": "1000",
            f"{prefix}-0-balance_after": "1000",
            f"{prefix}-0-reason": "Tampered",
            f"{prefix}-0-DELETE": "on",
            f"{prefix}-TOTAL_FORMS": "3",
            f"{prefix}-2-kind": "grant",
            f"{prefix}-2-amount": "1000",
            f"{prefix}-2-balance_after": "1015",
            f"{prefix}-2-reason": "Free money",
        }
    )
    admin_client.post(url, data)

    # then: the ledger is as it was
    entries = CreditLedgerEntry.objects.filter(user=user)
    assert [(e.amount, e.reason) for e in entries] == [(5, "Second grant"), (10, "Welcome credits")]
    newest.refresh_from_db()
    assert newest.balance_after == 15
    assert balance_of(user) == 15


def test_user_is_added_with_username_and_password(admin_client: Client) -> None:
    url = reverse("admin:accounts_user_add")
    assert admin_client.get(url).context["inline_admin_formsets"] == []

    response = admin_client.post(
        url,
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    assert User.objects.get(username="newcomer").check_password("a-long-enough-passphrase")


def test_user_with_ledger_and_tokens_can_be_deleted(admin_client: Client) -> None:
    # given
    user = user_with_credits(10)
    api_token_create(user=user, name="laptop")
    url = reverse("admin:accounts_user_delete", args=[user.pk])
    assert admin_client.get(url).context["perms_lacking"] == set()

    # when
    response = admin_client.post(url, {"post": "yes"})

    # then
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not CreditLedgerEntry.objects.filter(user_id=user.pk).exists()


def test_ledger_inline_shows_only_the_newest_entries(admin_client: Client) -> None:
    # given
    user = user_with_credits(1)
    for n in range(LEDGER_INLINE_ROWS + 4):
        credits_grant(user=user, amount=1, reason=f"Grant {n}")
    url = reverse("admin:accounts_user_change", args=[user.pk])

    # when
    page = admin_client.get(url)
    saved = admin_client.post(url, form_data(page, "user_form"))

    # then
    (ledger,) = [
        inline
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is CreditLedgerEntry
    ]
    reasons = [form.instance.reason for form in ledger.formset.forms]
    assert len(reasons) == LEDGER_INLINE_ROWS
    assert reasons[0] == f"Grant {LEDGER_INLINE_ROWS + 3}"
    assert saved.status_code == 302
    assert balance_of(user) == LEDGER_INLINE_ROWS + 5


# --- The user list ----------------------------------------------------------------------


def make_users(count: int) -> None:
    now = timezone.now()
    codes = ["standard", "pro", "premier", "ultra"]
    for n in range(count):
        user = user_with_credits(n % 4)
        if n % 3 == 0:
            continue  # never a member
        MembershipFactory(
            user=user,
            tier=tier(codes[n % 4]),
            # every other member's membership has run out
            expires_at=now + datetime.timedelta(days=-1 if n % 2 else 30),
        )


def test_user_list_reads_a_fixed_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    # given
    make_users(3)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(USER_CHANGELIST).status_code == 200
    make_users(27)
    assert User.objects.count() == 31  # and the admin

    # when / then
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(USER_CHANGELIST)
    assert len(response.context["cl"].result_list) == 31


def test_user_list_shows_effective_tier_and_balance(admin_client: Client) -> None:
    # given
    now = timezone.now()
    active = user_with_credits(12, username="active")
    MembershipFactory(user=active, tier=tier("premier"))
    lapsed = user_with_credits(0, username="lapsed")
    MembershipFactory(
        user=lapsed, tier=tier("ultra"), expires_at=now - datetime.timedelta(minutes=1)
    )
    UserFactory(username="plain")

    # when
    response = admin_client.get(USER_CHANGELIST)

    # then
    admin = response.context["cl"].model_admin
    rows = {u.username: u for u in response.context["cl"].result_list}
    assert admin.effective_tier(rows["active"]) == "Premier"
    assert admin.effective_tier(rows["lapsed"]) == "Non-member"
    assert admin.effective_tier(rows["plain"]) == "Non-member"
    assert admin.effective_tier(rows["admin"]) == "Non-member"
    assert admin.balance(rows["active"]) == 12
    assert admin.balance(rows["admin"]) == 0  # no wallet yet
    assert "Premier" in response.content.decode()


# --- Membership tiers -------------------------------------------------------------------


def test_non_member_tier_cannot_be_deleted(admin_client: Client) -> None:
    non_member = tier(NON_MEMBER_TIER_CODE)
    url = reverse("admin:accounts_membershiptier_delete", args=[non_member.pk])

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    change = admin_client.get(reverse("admin:accounts_membershiptier_change", args=[non_member.pk]))
    assert url not in change.content.decode()
    assert MembershipTier.objects.filter(code=NON_MEMBER_TIER_CODE).exists()


def test_delete_selected_refuses_the_non_member_tier(admin_client: Client) -> None:
    # given
    spare = MembershipTier.objects.create(code="spare", name="Spare", rank=99, element_limit=1)
    selected = [str(tier(NON_MEMBER_TIER_CODE).pk), str(spare.pk)]

    action = {"action": "delete_selected", ACTION_CHECKBOX_NAME: selected, "index": "0"}

    # when
    confirmation = admin_client.post(TIER_CHANGELIST, action)
    confirmed = admin_client.post(TIER_CHANGELIST, {**action, "post": "yes"})

    # then: refused, and neither tier is gone
    assert confirmation.context["title"] == "Cannot delete membership tiers"
    assert confirmed.status_code == 403
    assert MembershipTier.objects.filter(code__in=[NON_MEMBER_TIER_CODE, "spare"]).count() == 2


def test_other_tiers_can_be_deleted(admin_client: Client) -> None:
    spare = MembershipTier.objects.create(code="spare", name="Spare", rank=99, element_limit=1)

    admin_client.post(
        TIER_CHANGELIST,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(spare.pk)], "post": "yes"},
    )

    assert not MembershipTier.objects.filter(code="spare").exists()


def test_tier_numbers_are_edited_in_the_list(admin_client: Client) -> None:
    # given
    standard = tier("standard")
    data = form_data(admin_client.get(TIER_CHANGELIST), "changelist-form")
    (index,) = [
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("form-") and key.endswith("-id") and value == str(standard.pk)
    ]

    # when
    data.update(
        {
            f"form-{index}-element_limit": "60",
            f"form-{index}-daily_free_multiview": "4",
            f"form-{index}-daily_credit_grant": "25",
            "_save": "Save",
        }
    )
    response = admin_client.post(TIER_CHANGELIST, data)

    # then
    assert response.status_code == 302
    standard.refresh_from_db()
    assert (standard.element_limit, standard.daily_free_multiview) == (60, 4)
    assert standard.daily_credit_grant == 25
    assert tier("pro").element_limit == 150


def test_tier_code_is_read_only_once_created(admin_client: Client) -> None:
    # given
    pro = tier("pro")
    url = reverse("admin:accounts_membershiptier_change", args=[pro.pk])
    data = form_data(admin_client.get(url), "membershiptier_form")
    assert "code" not in data

    # when
    data.update({"code": "renamed", "name": "Pro+"})
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    pro.refresh_from_db()
    assert (pro.code, pro.name) == ("pro", "Pro+")


def test_new_tier_gets_its_code(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_membershiptier_add"),
        {
            "code": "mega",
            "name": "Mega",
            "rank": "50",
            "element_limit": "900",
            "daily_free_multiview": "5",
            "daily_credit_grant": "10",
            "signup_grant": "0",
        },
    )

    assert response.status_code == 302
    assert tier("mega").element_limit == 900


# --- Ledger, tokens, daily resets -------------------------------------------------------


def test_ledger_admin_is_read_only(admin_client: Client) -> None:
    # given
    user = user_with_credits(10, username="ledgerowner")
    entry = CreditLedgerEntry.objects.get(user=user)

    # when / then
    listing = admin_client.get(
        reverse("admin:accounts_creditledgerentry_changelist"),
        {"q": "ledgerowner", "kind__exact": "grant"},
    )
    assert list(listing.context["cl"].result_list) == [entry]
    assert admin_client.get(reverse("admin:accounts_creditledgerentry_add")).status_code == 403
    change_url = reverse("admin:accounts_creditledgerentry_change", args=[entry.pk])
    assert admin_client.get(change_url).status_code == 200
    admin_client.post(change_url, {"amount": "1000", "reason": "Tampered"})
    delete_url = reverse("admin:accounts_creditledgerentry_delete", args=[entry.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (10, "Welcome credits")


def test_ledger_admin_filters_by_user(admin_client: Client) -> None:
    mine = user_with_credits(10)
    user_with_credits(20)

    response = admin_client.get(
        reverse("admin:accounts_creditledgerentry_changelist"), {"user__id__exact": mine.pk}
    )

    assert [e.user_id for e in response.context["cl"].result_list] == [mine.pk]


def test_revoke_action_revokes_selected_tokens(admin_client: Client) -> None:
    # given
    owner = UserFactory()
    chosen, _ = api_token_create(user=owner, name="laptop")
    kept, _ = api_token_create(user=owner, name="phone")

    # when
    response = admin_client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_tokens", ACTION_CHECKBOX_NAME: [str(chosen.pk)], "index": "0"},
        follow=True,
    )

    # then
    chosen.refresh_from_db()
    kept.refresh_from_db()
    assert chosen.revoked_at is not None
    assert kept.revoked_at is None
    assert "Revoked 1 token." in messages_of(response)


def test_token_hash_is_never_shown_and_tokens_are_not_added(admin_client: Client) -> None:
    token, _ = api_token_create(user=UserFactory(), name="laptop")

    listing = admin_client.get(reverse("admin:accounts_apitoken_changelist"))
    detail = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))

    for page in (listing, detail):
        assert page.status_code == 200
        assert token.token_hash not in page.content.decode()
    assert token.prefix in listing.content.decode()
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403


def test_staff_without_token_permission_cannot_revoke(client: Client) -> None:
    staff = StaffUserFactory(permissions=["view_apitoken"])
    token, _ = api_token_create(user=UserFactory(), name="laptop")
    client.force_login(staff)

    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_tokens", ACTION_CHECKBOX_NAME: [str(token.pk)], "index": "0"},
    )

    token.refresh_from_db()
    assert token.revoked_at is None


def test_daily_reset_admin_is_a_read_only_list(admin_client: Client) -> None:
    run = DailyReset.objects.create(day=datetime.date(2026, 1, 2), grants=3)

    listing = admin_client.get(reverse("admin:accounts_dailyreset_changelist"))

    assert list(listing.context["cl"].result_list) == [run]
    assert admin_client.get(reverse("admin:accounts_dailyreset_add")).status_code == 403
    delete_url = reverse("admin:accounts_dailyreset_delete", args=[run.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert DailyReset.objects.filter(pk=run.pk).exists()
