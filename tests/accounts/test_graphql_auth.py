from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ApiToken, User
from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = """
mutation ($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    __typename
    ... on AccountRegisterResult { user { username tier { code } creditBalance } }
    ... on OperationInfo { messages { kind field code message } }
  }
}"""

LOGIN = """
mutation ($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on LoginResult { user { username } }
    ... on OperationInfo { messages { kind field code } }
  }
}"""

LOGOUT = "mutation { logout { __typename ... on LogoutResult { wasLoggedIn } } }"

TOKEN_CREATE = """
mutation ($name: String!) {
  apiTokenCreate(input: {name: $name}) {
    __typename
    ... on ApiTokenCreateResult { secret token { id name prefix revokedAt } }
    ... on OperationInfo { messages { kind field code } }
  }
}"""

TOKEN_REVOKE = """
mutation ($id: ID!) {
  apiTokenRevoke(input: {id: $id}) {
    __typename
    ... on ApiTokenRevokeResult { token { id revokedAt } }
    ... on OperationInfo { messages { kind field code } }
  }
}"""


def message_codes(payload: dict) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def test_register_creates_logged_in_non_member(gql):
    data = gql(REGISTER, {"input": {"username": "Ada", "password": "analytical-engine-1843"}})

    assert data["accountRegister"]["user"] == {
        "username": "Ada",
        "tier": {"code": "non_member"},
        # The non-member tier's signup grant (tests/accounts/test_signup_grant.py).
        "creditBalance": 60,
    }
    assert gql("{ me { username } }") == {"me": {"username": "Ada"}}


def test_register_with_a_taken_name_in_other_case_is_refused(gql, user):
    data = gql(REGISTER, {"input": {"username": user.username.upper(), "password": "x-" * 8}})

    assert message_codes(data["accountRegister"]) == ["USERNAME_TAKEN"]
    assert User.objects.count() == 1


def test_weak_password_is_refused_with_every_reason(gql, db):
    data = gql(REGISTER, {"input": {"username": "bob", "password": "12345"}})

    payload = data["accountRegister"]
    assert set(message_codes(payload)) == {"WEAK_PASSWORD"}
    assert {m["field"] for m in payload["messages"]} == {"password"}
    assert len(payload["messages"]) >= 2  # too short, too common, entirely numeric
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["", "ab", "has space", "[@Name]", "x" * 31, "-dash"])
def test_invalid_usernames_are_refused(gql, db, username):
    data = gql(REGISTER, {"input": {"username": username, "password": "a-strong-passphrase"}})
    assert message_codes(data["accountRegister"]) == ["INVALID_USERNAME"]
    assert not User.objects.exists()


def test_invalid_email_is_refused(gql, db):
    data = gql(
        REGISTER,
        {"input": {"username": "carol", "password": "a-strong-passphrase", "email": "nope"}},
    )
    assert message_codes(data["accountRegister"]) == ["INVALID_EMAIL"]
    assert not User.objects.exists()


def test_login_ignores_username_case_and_logout_ends_the_session(gql, user):
    data = gql(LOGIN, {"input": {"username": user.username.upper(), "password": TEST_PASSWORD}})
    assert data["login"]["user"]["username"] == user.username
    assert gql("{ me { username } }")["me"]["username"] == user.username

    assert gql(LOGOUT)["logout"]["wasLoggedIn"] is True
    assert gql("{ me { username } }") == {"me": None}


def test_wrong_password_is_refused_and_opens_no_session(gql, user):
    data = gql(LOGIN, {"input": {"username": user.username, "password": "wrong-password"}})

    assert message_codes(data["login"]) == ["INVALID_CREDENTIALS"]
    assert gql("{ me { username } }") == {"me": None}


def test_inactive_account_cannot_log_in(gql, db):
    inactive = UserFactory(is_active=False)
    data = gql(LOGIN, {"input": {"username": inactive.username, "password": TEST_PASSWORD}})
    assert message_codes(data["login"]) == ["INVALID_CREDENTIALS"]


def test_cookie_session_needs_the_csrf_token(logged_in):
    client = logged_in()

    without = client.post("{ me { username } }", csrf=False)
    with_token = client.post("{ me { username } }")

    assert without.status_code == 403
    assert with_token.status_code == 200


def test_token_lifecycle(logged_in, user):
    session = logged_in()
    created = session(TOKEN_CREATE, {"name": "My phone"})["apiTokenCreate"]
    secret = created["secret"]
    assert secret.startswith("elk_")
    assert secret.startswith(created["token"]["prefix"])
    stored = ApiToken.objects.get(user=user)
    assert secret not in (stored.token_hash, stored.prefix)  # only the hash is kept

    # A bearer request needs no CSRF token and no cookie.
    app = GraphQLClient(Client(enforce_csrf_checks=True), token=secret)
    assert app("{ me { username } }") == {"me": {"username": user.username}}
    stored.refresh_from_db()
    assert stored.last_used_at is not None

    revoked = session(TOKEN_REVOKE, {"id": created["token"]["id"]})["apiTokenRevoke"]
    assert revoked["token"]["revokedAt"] is not None
    response = app.post("{ me { username } }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer not-a-token", "Bearer elk_" + "A" * 43, "bearer elk_short"],
)
def test_malformed_or_unknown_tokens_get_401_with_a_code(db, header):
    response = Client().post(
        "/graphql",
        data={"query": "{ me { username } }"},
        content_type="application/json",
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


def test_token_of_an_inactive_user_is_refused(logged_in, user):
    secret = logged_in()(TOKEN_CREATE, {"name": "cli"})["apiTokenCreate"]["secret"]
    user.is_active = False
    user.save()
    response = GraphQLClient(token=secret).post("{ me { username } }")
    assert response.status_code == 401


def test_token_create_needs_a_login(gql, db):
    data = gql(TOKEN_CREATE, {"name": "x"})
    assert message_codes(data["apiTokenCreate"]) == ["NOT_AUTHENTICATED"]
    assert not ApiToken.objects.exists()


def test_active_token_names_are_unique_ignoring_case(logged_in, user):
    session = logged_in()
    session(TOKEN_CREATE, {"name": "Laptop"})
    data = session(TOKEN_CREATE, {"name": " laptop "})
    assert message_codes(data["apiTokenCreate"]) == ["TOKEN_NAME_TAKEN"]
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "tab\there"])
def test_bad_token_names_are_refused(logged_in, user, name):
    data = logged_in()(TOKEN_CREATE, {"name": name})
    assert message_codes(data["apiTokenCreate"]) == ["TOKEN_NAME_INVALID"]
    assert not ApiToken.objects.exists()


def test_token_count_is_limited(logged_in, user, settings):
    settings.API_TOKENS_PER_USER = 2
    session = logged_in()
    session(TOKEN_CREATE, {"name": "a"})
    session(TOKEN_CREATE, {"name": "b"})
    data = session(TOKEN_CREATE, {"name": "c"})
    assert message_codes(data["apiTokenCreate"]) == ["TOKEN_LIMIT_REACHED"]
    assert ApiToken.objects.filter(user=user).count() == 2


def test_another_users_token_looks_like_no_token(logged_in, user):
    from strawberry import relay

    from accounts import services

    stranger_token, _ = services.api_token_create(user=UserFactory(), name="theirs")
    global_id = str(relay.GlobalID("ApiToken", str(stranger_token.pk)))

    theirs = logged_in()(TOKEN_REVOKE, {"id": global_id})["apiTokenRevoke"]
    missing = logged_in()(TOKEN_REVOKE, {"id": str(relay.GlobalID("ApiToken", "999999"))})

    assert message_codes(theirs) == message_codes(missing["apiTokenRevoke"]) == ["NOT_FOUND"]
    stranger_token.refresh_from_db()
    assert stranger_token.revoked_at is None


def test_revoke_with_a_foreign_type_id_is_not_found(logged_in, user):
    from strawberry import relay

    data = logged_in()(TOKEN_REVOKE, {"id": str(relay.GlobalID("CreditLedgerEntry", "1"))})
    assert message_codes(data["apiTokenRevoke"]) == ["NOT_FOUND"]
