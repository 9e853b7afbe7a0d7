from __future__ import annotations

import strawberry
import strawberry_django
from django.middleware.csrf import get_token
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, current_user
from accounts.graphql.types import ApiTokenType, CreditLedgerEntryType, MeType
from accounts.selectors import account_overview
from elementsite.relay import ListConnection


@strawberry.type
class AccountQuery:
    @strawberry_django.field(
        description="The signed-in user, or null when the request is anonymous."
    )
    def me(self, info: Info) -> MeType | None:
        user = current_user(info)
        if user is None:
            return None
        return MeType.from_overview(user, account_overview(user))

    credit_ledger: ListConnection[CreditLedgerEntryType] = strawberry_django.connection(
        description="The viewer's credit movements, newest first.",
        permission_classes=[IsAuthenticated],
    )

    api_tokens: ListConnection[ApiTokenType] = strawberry_django.connection(
        description="The viewer's API tokens, newest first, revoked ones included.",
        permission_classes=[IsAuthenticated],
    )

    @strawberry.field(
        description="A CSRF token for cookie-session requests, to send as `X-CSRFToken`; "
        "the answer also sets the `csrftoken` cookie. Ask it with a GET "
        "(`/graphql?query={csrfToken}`): a POST without it is refused before any query runs."
    )
    def csrf_token(self, info: Info) -> str:
        # get_token also marks the cookie to be (re)set on this response by
        # CsrfViewMiddleware: a single-page client needs nothing but JSON to log in.
        return get_token(info.context.request)
