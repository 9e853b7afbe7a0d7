"""Writes about accounts: registration, login, API tokens, memberships, credits, free uses,
and the daily reset.

Credits and free uses are limited in the database, not in Python: a debit is a conditional
`UPDATE … SET balance = balance - n WHERE balance >= n` and a free use a conditional
`UPDATE … SET used = used + 1 WHERE used < allowance`; whoever loses the race sees zero rows
updated. The ledger entry is written in the same transaction as the balance change.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.error_codes import AccountErrorCode, CreditErrorCode
from accounts.locks import lock_owner
from accounts.models import (
    ApiToken,
    CreditLedgerEntry,
    CreditWallet,
    DailyReset,
    FreeUseCounter,
    FreeUseFeature,
    LedgerKind,
    Membership,
    MembershipTier,
    User,
)
from accounts.selectors import (
    day_start,
    entitlements_for_membership,
    membership_in_force,
    non_member_tier,
    service_day,
    user_entitlements,
)
from accounts.throttle import lock_wait_seconds
from elementsite.errors import field_error as _error
from elementsite.ids import row_or_not_found

# --- Users and sessions ---------------------------------------------------------------------

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,29}$")


SIGNUP_GRANT_KEY = "signup-grant"


def user_register(
    *, username: str, password: str, email: str = "", signup_grant: bool = True
) -> User:
    """Create an account. Usernames are 3–30 characters of letters, digits, `.`, `_` and `-`,
    unique ignoring case; the password must pass Django's password validators.

    A self-registered account gets its tier's `signup_grant` in the same transaction
    (`signup_grant=False` for accounts set up by other means, e.g. the demo data)."""
    username = (username or "").strip()
    email = (email or "").strip()
    if not USERNAME_RE.match(username):
        raise _error(
            "username",
            "Use 3–30 characters: letters, digits, '.', '_' or '-', starting with a letter "
            "or digit.",
            AccountErrorCode.INVALID_USERNAME,
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _error(
                "email", "Enter a valid email address.", AccountErrorCode.INVALID_EMAIL
            ) from None
    if User.objects.filter(username__iexact=username).exists():
        raise _error("username", "This username is taken.", AccountErrorCode.USERNAME_TAKEN)

    user = User(username=username, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError(
            {
                "password": [
                    ValidationError(message, code=AccountErrorCode.WEAK_PASSWORD)
                    for message in exc.messages
                ]
            }
        ) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            CreditWallet.objects.create(user=user)
            if signup_grant:
                signup_grant_apply(user=user)
    except IntegrityError:
        # Two registrations of the same name raced past the check above.
        raise _error(
            "username", "This username is taken.", AccountErrorCode.USERNAME_TAKEN
        ) from None
    return user


class LoginThrottled(ValidationError):
    """A login refused because of too many failures; `retry_after` is the wait in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed logins: try again in {retry_after} seconds.",
            code=AccountErrorCode.TOO_MANY_ATTEMPTS,
        )
        self.retry_after = retry_after


def signup_grant_apply(*, user: AbstractBaseUser) -> CreditLedgerEntry | None:
    """Give `user` the `signup_grant` of the tier in force, once per account: the ledger
    entry's idempotency key makes a second call (or a concurrent twin) return the first entry
    and move nothing. None when the tier grants nothing."""
    tier = user_entitlements(user).tier
    if tier.signup_grant <= 0:
        return None
    return credits_grant(
        user=user,
        amount=tier.signup_grant,
        reason=f"Welcome credits ({tier.name})",
        reference="signup",
        idempotency_key=SIGNUP_GRANT_KEY,
    )


def user_login(*, request: HttpRequest, username: str, password: str) -> User:
    """Check the credentials and start a cookie session (which rotates the CSRF token).

    `request` goes to `authenticate` so the login throttle (accounts.throttle) sees the
    client: past the limit of failures for this user name or address, the answer is
    TOO_MANY_ATTEMPTS with the wait, even for the right password."""
    username = (username or "").strip()
    user = auth.authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginThrottled(lock_wait_seconds(request=request, username=username))
    if user is None:
        raise _error(
            None, "The username or password is not correct.", AccountErrorCode.INVALID_CREDENTIALS
        )
    auth.login(request, user)
    assert isinstance(user, User)
    return user


def user_start_session(*, request: HttpRequest, user: User) -> None:
    """Log in an account that has just proved its password (a registration): no
    authentication round, so the login throttle has nothing to count."""
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")


def user_logout(*, request: HttpRequest) -> bool:
    """End the cookie session; returns whether someone was logged in."""
    was_authenticated = bool(request.user.is_authenticated)
    auth.logout(request)
    return was_authenticated


# --- API tokens ---------------------------------------------------------------------------

API_TOKEN_PREFIX = "elk_"  # noqa: S105 (a public prefix, not a secret)


class ApiTokenError(Exception):
    """A bearer token that can't authenticate; `code` is an `AccountErrorCode`."""

    def __init__(self, code: AccountErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _token_hash(raw: str) -> str:
    # The token holds 256 random bits, so a plain SHA-256 is enough: there is nothing to
    # brute-force, and a lookup by hash keeps authentication to one indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create a named personal token and return it with its secret, shown this once.

    Names are 1–60 characters, unique ignoring case among the user's active tokens; a user
    keeps at most `API_TOKENS_PER_USER` active tokens.
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= 60 or not name.isprintable():
        raise _error(
            "name", "Give the token a name of 1–60 characters.", AccountErrorCode.TOKEN_NAME_INVALID
        )
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            # Locks the user row on PostgreSQL so the count below can't be raced; SQLite
            # transactions are IMMEDIATE, which serialises writers anyway.
            lock_owner(user)
            active = ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True)
            if active.count() >= settings.API_TOKENS_PER_USER:
                raise _error(
                    None,
                    f"You already have {settings.API_TOKENS_PER_USER} active tokens; "
                    "revoke one first.",
                    AccountErrorCode.TOKEN_LIMIT_REACHED,
                )
            if active.filter(name__iexact=name).exists():
                raise _error(
                    "name",
                    "You already have an active token with this name.",
                    AccountErrorCode.TOKEN_NAME_TAKEN,
                )
            token = ApiToken.objects.create(
                user_id=user.pk, name=name, prefix=raw[:12], token_hash=_token_hash(raw)
            )
    except IntegrityError:
        raise _error(
            "name",
            "You already have an active token with this name.",
            AccountErrorCode.TOKEN_NAME_TAKEN,
        ) from None
    return token, raw


def api_token_revoke(*, user: AbstractBaseUser, token_id: int | str) -> ApiToken:
    """Revoke one of the user's tokens; revoking a revoked token changes nothing.

    Another user's token is reported exactly like a token that does not exist."""
    token = row_or_not_found(
        ApiToken.objects.filter(user_id=user.pk),
        token_id,
        field="id",
        message="No such token.",
        code=AccountErrorCode.NOT_FOUND,
    )
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def api_token_authenticate(*, raw: str) -> User:
    """The user a bearer token stands for, or `ApiTokenError`. Records when it was last
    used, writing at most once a minute per token."""
    raw = (raw or "").strip()
    if not raw.startswith(API_TOKEN_PREFIX) or not 20 <= len(raw) <= 128:
        raise ApiTokenError(AccountErrorCode.TOKEN_INVALID, "The API token is malformed.")
    token = ApiToken.objects.select_related("user").filter(token_hash=_token_hash(raw)).first()
    if token is None or not token.user.is_active:
        raise ApiTokenError(AccountErrorCode.TOKEN_INVALID, "The API token is not valid.")
    if token.revoked_at is not None:
        raise ApiTokenError(AccountErrorCode.TOKEN_REVOKED, "The API token has been revoked.")
    now = timezone.now()
    # Most requests need no write at all (a write takes SQLite's lock): only when the stored
    # time is stale, and then conditionally, so parallel requests write it once.
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.user


# --- Memberships ----------------------------------------------------------------------------


def membership_set(
    *,
    user: AbstractBaseUser,
    tier: MembershipTier,
    expires_at: datetime.datetime | None,
    started_at: datetime.datetime | None = None,
) -> Membership:
    """Give `user` the `tier` until `expires_at` (an upgrade, renewal or downgrade)."""
    membership = Membership.objects.filter(user_id=user.pk).first() or Membership(user_id=user.pk)
    membership.tier = tier
    membership.expires_at = expires_at
    membership.started_at = started_at or timezone.now()
    membership.full_clean(exclude=["user"])
    membership.save()
    return membership


# --- Credits --------------------------------------------------------------------------------


# GraphQL's Int is 32-bit: balances and amounts stay below 2^31 so every client can read them.
MAX_BALANCE = 2_000_000_000
MAX_AMOUNT = 1_000_000_000


def _check_amount(amount: object, *, allow_negative: bool = False) -> int:
    valid = isinstance(amount, int) and not isinstance(amount, bool)
    if valid and abs(amount) <= MAX_AMOUNT and (amount != 0 if allow_negative else amount > 0):  # type: ignore[arg-type, operator]
        return int(amount)  # type: ignore[call-overload]
    expected = "a whole number other than zero" if allow_negative else "a whole number above zero"
    raise _error(
        "amount",
        f"The amount must be {expected}, at most {MAX_AMOUNT:,} in size.",
        CreditErrorCode.INVALID_AMOUNT,
    )


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 200:
        raise _error("reason", "Give a reason of 1–200 characters.", CreditErrorCode.INVALID_REASON)
    return reason


def _wallet_move(user_id: int, amount: int) -> int | None:
    """Move `amount` (signed) on the user's wallet if the balance stays within 0 and
    MAX_BALANCE (one conditional UPDATE, exact under concurrency); the balance after it, or
    None when nothing moved (no wallet, or the limit). The UPDATE holds the row lock until
    commit, so the balance it reads is ours: returned by the same statement where the
    database can (`RETURNING`), else read after it."""
    now = timezone.now()
    connection = connections[router.db_for_write(CreditWallet)]
    # `UPDATE … RETURNING`: PostgreSQL, and SQLite from 3.35 (the version that also returns
    # columns from an INSERT). MariaDB returns them from INSERT, not from UPDATE.
    returning = connection.vendor == "postgresql" or (
        connection.vendor == "sqlite" and connection.features.can_return_columns_from_insert
    )
    if not returning:
        wallet = CreditWallet.objects.filter(user_id=user_id)
        if amount < 0:
            wallet = wallet.filter(balance__gte=-amount)
        else:
            wallet = wallet.filter(balance__lte=MAX_BALANCE - amount)
        if not wallet.update(balance=F("balance") + amount, updated_at=now):
            return None
        return CreditWallet.objects.values_list("balance", flat=True).get(user_id=user_id)
    meta = CreditWallet._meta
    quote = connection.ops.quote_name
    balance = quote(meta.get_field("balance").column)
    updated_at = meta.get_field("updated_at")
    bound = f"{balance} >= %s" if amount < 0 else f"{balance} <= %s"
    with connection.cursor() as cursor:
        # Names from the model's metadata, every value a parameter.
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {balance} = {balance} + %s, "  # noqa: S608
            f"{quote(updated_at.column)} = %s "
            f"WHERE {quote(meta.get_field('user').column)} = %s AND {bound} "
            f"RETURNING {balance}",
            [
                amount,
                updated_at.get_db_prep_value(now, connection),
                user_id,
                -amount if amount < 0 else MAX_BALANCE - amount,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _post_entry(
    *,
    user_id: int,
    kind: LedgerKind,
    amount: int,
    reason: str,
    reference: str = "",
    idempotency_key: str | None = None,
    refund_of: CreditLedgerEntry | None = None,
    actor: AbstractBaseUser | None = None,
    new_key: bool = False,
) -> CreditLedgerEntry:
    """Move `amount` credits (signed) and write the ledger entry, in one transaction.

    A repeated `idempotency_key` (or a second refund of one debit) returns the first entry
    and moves nothing. `new_key`: the caller vouches that no entry can hold the key yet (it
    names a row made in the caller's open transaction), so neither the look-up for a first
    entry nor the savepoint to recover from a concurrent twin is needed; the unique
    constraint still refuses a duplicate, and the caller's transaction with it.
    """

    def existing() -> CreditLedgerEntry | None:
        if idempotency_key:
            return CreditLedgerEntry.objects.filter(
                user_id=user_id, idempotency_key=idempotency_key
            ).first()
        if refund_of is not None:
            return CreditLedgerEntry.objects.filter(refund_of=refund_of).first()
        return None

    if not new_key and (found := existing()) is not None:
        return found
    try:
        with transaction.atomic(savepoint=not new_key):
            balance_after = _wallet_move(user_id, amount)
            if balance_after is None and CreditWallet.objects.get_or_create(user_id=user_id)[1]:
                # The user had no wallet yet: it starts at zero, try again.
                balance_after = _wallet_move(user_id, amount)
            if balance_after is None:
                if amount > 0:
                    raise _error(
                        "amount",
                        f"A balance can't exceed {MAX_BALANCE:,} credits.",
                        CreditErrorCode.BALANCE_LIMIT,
                    )
                raise _error(
                    "amount",
                    f"Not enough credits: this needs {-amount}.",
                    CreditErrorCode.INSUFFICIENT_CREDITS,
                )
            return CreditLedgerEntry.objects.create(
                user_id=user_id,
                kind=kind,
                amount=amount,
                balance_after=balance_after,
                reason=reason,
                reference=reference[:120],
                idempotency_key=idempotency_key or None,
                refund_of=refund_of,
                actor_id=actor.pk if actor is not None else None,
            )
    except IntegrityError:
        if new_key:  # the caller's transaction is spoilt: it has to fail as a whole
            raise
        # A concurrent twin committed first: the balance change above was rolled back.
        if (found := existing()) is not None:
            return found
        raise


def credits_grant(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    reference: str = "",
    idempotency_key: str | None = None,
) -> CreditLedgerEntry:
    """Add `amount` (> 0) credits, e.g. a purchase or the tier's daily grant."""
    return _post_entry(
        user_id=user.pk,
        kind=LedgerKind.GRANT,
        amount=_check_amount(amount),
        reason=_check_reason(reason),
        reference=reference,
        idempotency_key=idempotency_key,
    )


def credits_debit(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    reference: str = "",
    idempotency_key: str | None = None,
    new_key: bool = False,
) -> CreditLedgerEntry:
    """Take `amount` (> 0) credits, or raise INSUFFICIENT_CREDITS and take nothing.

    Call it inside the transaction that creates what is paid for, so both land or neither.
    `new_key`: see `_post_entry` (the key names a row this transaction made).
    """
    return _post_entry(
        user_id=user.pk,
        kind=LedgerKind.DEBIT,
        amount=-_check_amount(amount),
        reason=_check_reason(reason),
        reference=reference,
        idempotency_key=idempotency_key,
        new_key=new_key,
    )


def credits_refund(*, debit: CreditLedgerEntry, reason: str) -> CreditLedgerEntry:
    """Give back everything `debit` took, exactly once however often it is called."""
    if debit.kind != LedgerKind.DEBIT:
        raise _error(None, "Only a debit can be refunded.", CreditErrorCode.NOT_A_DEBIT)
    return _post_entry(
        user_id=debit.user_id,
        kind=LedgerKind.REFUND,
        amount=-debit.amount,
        reason=_check_reason(reason),
        reference=debit.reference,
        refund_of=debit,
    )


def credits_adjust(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    actor: AbstractBaseUser,
    idempotency_key: str | None = None,
) -> CreditLedgerEntry:
    """A staff correction of `amount` credits (either sign); never below a zero balance."""
    return _post_entry(
        user_id=user.pk,
        kind=LedgerKind.ADJUSTMENT,
        amount=_check_amount(amount, allow_negative=True),
        reason=_check_reason(reason),
        idempotency_key=idempotency_key,
        actor=actor,
    )


# --- Daily free uses ----------------------------------------------------------------------


def free_use_consume(
    *,
    user: AbstractBaseUser,
    feature: str = FreeUseFeature.MULTIVIEW,
    at: datetime.datetime | None = None,
) -> datetime.date | None:
    """Take one of today's free uses of `feature` under the tier in force.

    Returns the service day it was counted on (pass it to `free_use_release` to give it
    back), or None when none is left and the caller must charge credits instead.
    """
    allowance = user_entitlements(user, at=at).free_allowance(feature)
    if allowance <= 0:
        return None
    day = service_day(at)
    with transaction.atomic():
        counter, _ = FreeUseCounter.objects.get_or_create(user_id=user.pk, feature=feature, day=day)
        taken = FreeUseCounter.objects.filter(pk=counter.pk, used__lt=allowance).update(
            used=F("used") + 1
        )
    return day if taken else None


def free_use_release(
    *, user: AbstractBaseUser, day: datetime.date, feature: str = FreeUseFeature.MULTIVIEW
) -> bool:
    """Give back a free use taken on `day` (its job failed). Returns whether one was."""
    released = FreeUseCounter.objects.filter(
        user_id=user.pk, feature=feature, day=day, used__gt=0
    ).update(used=F("used") - 1)
    return released == 1


# --- The daily reset ------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyResetResult:
    days: list[datetime.date]
    grants: int
    counters_pruned: int


ProgressCallback = Callable[[int, int], None]


def daily_grant_key(day: datetime.date) -> str:
    return f"daily-grant:{day.isoformat()}"


def _apply_daily_grants(day: datetime.date, progress: ProgressCallback | None) -> int:
    """Grant each user who existed during `day` the daily credits of the tier they had at
    its start (an account made on the 4th gets nothing for the 3rd, even from a catch-up or
    `daily_reset --day`).

    One ledger entry per user and day (its idempotency key), so a second run grants nothing.
    """
    key = daily_grant_key(day)
    moment = day_start(day)
    day_end = day_start(day + datetime.timedelta(days=1))
    non_member = non_member_tier()
    active_membership = membership_in_force(moment, "membership__")
    granting = Q(membership__tier__daily_credit_grant__gt=0) & active_membership
    if non_member.daily_credit_grant > 0:
        granting |= ~active_membership | Q(membership__isnull=True)
    already = CreditLedgerEntry.objects.filter(user_id=OuterRef("pk"), idempotency_key=key)
    users = (
        User.objects.filter(is_active=True, date_joined__lt=day_end)
        .filter(granting)
        .exclude(Exists(already))
        .select_related("membership__tier")
        .order_by("pk")
        .distinct()
    )
    total = users.count()
    granted = 0
    for done, user in enumerate(users.iterator(chunk_size=500), start=1):
        membership = getattr(user, "membership", None)
        tier = entitlements_for_membership(membership, at=moment, non_member=non_member).tier
        if tier.daily_credit_grant > 0:
            credits_grant(
                user=user,
                amount=tier.daily_credit_grant,
                reason=f"Daily {tier.name} credits for {day.isoformat()}",
                reference=key,
                idempotency_key=key,
            )
            granted += 1
        if progress is not None:
            progress(done, total)
    return granted


def daily_reset(
    *, today: datetime.date | None = None, progress: ProgressCallback | None = None
) -> DailyResetResult:
    """The midnight job: apply the tiers' daily credit grants and prune old counters.

    Free-use counters are keyed by day, so today's allowance starts fresh without this job;
    the job only prunes rows older than `FREE_USE_RETENTION_DAYS`. Grants are idempotent per
    user and day, so running twice grants nothing twice. Days missed since the last run are
    caught up, at most `DAILY_GRANT_CATCH_UP_DAYS` back, each with the tier the user had at
    the start of that day.
    """
    today = today or service_day()
    catch_up = max(1, settings.DAILY_GRANT_CATCH_UP_DAYS)
    earliest = today - datetime.timedelta(days=catch_up - 1)
    last = (
        DailyReset.objects.filter(finished_at__isnull=False, day__lt=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    first = today if last is None else max(last + datetime.timedelta(days=1), earliest)
    days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]

    cutoff = today - datetime.timedelta(days=settings.FREE_USE_RETENTION_DAYS)
    pruned, _ = FreeUseCounter.objects.filter(day__lt=cutoff).delete()
    grants = 0
    for day in days:
        record, _ = DailyReset.objects.get_or_create(day=day)
        grants += _apply_daily_grants(day, progress)
        record.grants = CreditLedgerEntry.objects.filter(
            idempotency_key=daily_grant_key(day)
        ).count()
        record.counters_pruned += pruned if day == today else 0
        record.finished_at = timezone.now()
        record.save(update_fields=["grants", "counters_pruned", "finished_at"])
    return DailyResetResult(days=days, grants=grants, counters_pruned=pruned)
