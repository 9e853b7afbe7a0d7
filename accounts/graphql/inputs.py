from __future__ import annotations

import strawberry


@strawberry.input(description="A new account.")
class AccountRegisterInput:
    username: str = strawberry.field(
        description="3–30 letters, digits, '.', '_' or '-'; unique ignoring case."
    )
    password: str = strawberry.field(description="Checked by the password rules.")
    email: str = strawberry.field(default="", description="Optional email address.")


@strawberry.input(description="Credentials for a cookie session.")
class LoginInput:
    username: str = strawberry.field(description="The login name (case is ignored).")
    password: str = strawberry.field(description="The password.")


@strawberry.input(description="A new personal API token.")
class ApiTokenCreateInput:
    name: str = strawberry.field(description="Your label for it, 1–60 characters.")


@strawberry.input(description="A token to revoke.")
class ApiTokenRevokeInput:
    id: strawberry.ID = strawberry.field(description="The token's global id.")
