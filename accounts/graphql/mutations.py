"""Account mutations. Each returns its payload or an `OperationInfo` whose messages carry a
stable `code` from `accounts.error_codes`."""

from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from accounts import services
from accounts.graphql.inputs import (
    AccountRegisterInput,
    ApiTokenCreateInput,
    ApiTokenRevokeInput,
    LoginInput,
)
from accounts.graphql.permissions import require_user
from accounts.graphql.types import ApiTokenType, MeType
from accounts.selectors import account_overview
from elementsite.ids import node_pk


@strawberry.type(description="The account that was created and is now logged in.")
class AccountRegisterResult:
    user: MeType = strawberry.field(description="The new account.")


@strawberry.type(description="The user now logged in with a cookie session.")
class LoginResult:
    user: MeType = strawberry.field(description="The logged-in user.")


@strawberry.type(description="The outcome of logging out.")
class LogoutResult:
    was_logged_in: bool = strawberry.field(description="Whether a session was open.")


@strawberry.type(description="A new API token and its secret.")
class ApiTokenCreateResult:
    token: ApiTokenType = strawberry.field(description="The token's record.")
    secret: str = strawberry.field(
        description="The token itself, for `Authorization: Bearer <secret>`. Shown only now."
    )


@strawberry.type(description="The revoked token.")
class ApiTokenRevokeResult:
    token: ApiTokenType = strawberry.field(description="The token, now revoked.")


@strawberry.type
class AccountMutation:
    @strawberry_django.mutation(
        description="Create an account and log it in with a cookie session."
    )
    def account_register(
        self,
        info: Info,
        input: Annotated[AccountRegisterInput, strawberry.argument(description="The new account.")],
    ) -> AccountRegisterResult:
        user = services.user_register(
            username=input.username, password=input.password, email=input.email
        )
        services.user_start_session(request=info.context.request, user=user)
        return AccountRegisterResult(user=MeType.from_overview(user, account_overview(user)))

    @strawberry_django.mutation(description="Log in with a cookie session (browser clients).")
    def login(
        self,
        info: Info,
        input: Annotated[
            LoginInput, strawberry.argument(description="The user name and password.")
        ],
    ) -> LoginResult:
        try:
            user = services.user_login(
                request=info.context.request, username=input.username, password=input.password
            )
        except services.LoginThrottled as exc:
            # Over a limit: 429 with the wait, and the typed message in the body.
            info.context.response.status_code = 429
            info.context.response.headers["Retry-After"] = str(exc.retry_after)
            raise
        return LoginResult(user=MeType.from_overview(user, account_overview(user)))

    @strawberry_django.mutation(description="End the cookie session.")
    def logout(self, info: Info) -> LogoutResult:
        return LogoutResult(was_logged_in=services.user_logout(request=info.context.request))

    @strawberry_django.mutation(description="Create a personal API token for client apps.")
    def api_token_create(
        self,
        info: Info,
        input: Annotated[ApiTokenCreateInput, strawberry.argument(description="The new token.")],
    ) -> ApiTokenCreateResult:
        token, secret = services.api_token_create(user=require_user(info), name=input.name)
        return ApiTokenCreateResult(token=token, secret=secret)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Revoke one of your API tokens.")
    def api_token_revoke(
        self,
        info: Info,
        input: Annotated[
            ApiTokenRevokeInput, strawberry.argument(description="The token to revoke.")
        ],
    ) -> ApiTokenRevokeResult:
        token = services.api_token_revoke(
            user=require_user(info), token_id=node_pk(input.id, ApiTokenType)
        )
        return ApiTokenRevokeResult(token=token)  # type: ignore[arg-type]
