"""Login throttling: after LOGIN_FAILURE_LIMIT failures for a user name or from an address,
`login` answers TOO_MANY_ATTEMPTS with the wait, opens no session, and the lock lifts after
the cool-off or when staff delete the attempts in the admin."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = """
mutation ($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on LoginResult { user { username } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

LIMIT = 3
COOL_OFF = datetime.timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF


def attempt(username: str, password: str, address: str = "10.0.0.1") -> tuple[Any, GraphQLClient]:
    """One login from a fresh browser at `address`: the HTTP answer and the client."""
    api = GraphQLClient(Client(enforce_csrf_checks=True, REMOTE_ADDR=address))
    response = api.post(LOGIN, {"input": {"username": username, "password": password}})
    return response, api


def code_of(response: Any) -> str:
    payload = response.json()["data"]["login"]
    if payload["__typename"] == "LoginResult":
        return "OK"
    return payload["messages"][0]["code"]


def fail(username: str, times: int, address: str = "10.0.0.1") -> list[str]:
    return [code_of(attempt(username, "wrong-password", address)[0]) for _ in range(times)]


def assert_locked(username: str, address: str = "10.0.0.1") -> Any:
    """Even the right password is refused, with 429, the wait, and no session."""
    response, api = attempt(username, TEST_PASSWORD, address)
    assert response.status_code == 429, response.content
    assert code_of(response) == "TOO_MANY_ATTEMPTS"
    wait = int(response["Retry-After"])
    assert 0 < wait <= COOL_OFF.total_seconds()
    assert (
        f"try again in {wait} seconds" in response.json()["data"]["login"]["messages"][0]["message"]
    )
    assert api("{ me { username } }") == {"me": None}
    return wait


def test_failures_for_one_user_name_lock_it_and_the_lock_expires():
    user = UserFactory()

    assert fail(user.username, LIMIT - 1) == ["INVALID_CREDENTIALS"] * (LIMIT - 1)
    assert fail(user.username, 1) == ["TOO_MANY_ATTEMPTS"]
    wait = assert_locked(user.username)
    assert wait > COOL_OFF.total_seconds() - 60
    # From another address, and in another case: the same user name, still locked.
    assert_locked(user.username.upper(), address="10.9.9.9")

    # The clock moves past the cool-off (the failures are that old now).
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - COOL_OFF)
    response, api = attempt(user.username, TEST_PASSWORD)
    assert response.status_code == 200
    assert code_of(response) == "OK"
    assert api("{ me { username } }") == {"me": {"username": user.username}}


def test_locked_attempts_do_not_extend_the_lock():
    user = UserFactory()
    fail(user.username, LIMIT)
    first_wait = assert_locked(user.username)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=5))
    fail(user.username, 3)
    later_wait = assert_locked(user.username)
    assert later_wait <= first_wait - 299


def test_failures_from_one_address_lock_every_user_name_there():
    victims = [UserFactory() for _ in range(LIMIT)]
    for victim in victims:
        assert fail(victim.username, 1, address="10.0.0.7") in (
            ["INVALID_CREDENTIALS"],
            ["TOO_MANY_ATTEMPTS"],
        )
    other = UserFactory()
    assert_locked(other.username, address="10.0.0.7")
    # The same user from elsewhere is not locked: only that address is.
    response, _ = attempt(other.username, TEST_PASSWORD, address="10.0.0.8")
    assert code_of(response) == "OK"


def test_a_success_before_the_limit_resets_the_count():
    user = UserFactory()
    fail(user.username, LIMIT - 1)
    assert code_of(attempt(user.username, TEST_PASSWORD)[0]) == "OK"
    assert fail(user.username, LIMIT - 1) == ["INVALID_CREDENTIALS"] * (LIMIT - 1)


def test_staff_unlock_in_the_admin():
    user = UserFactory()
    fail(user.username, LIMIT)
    assert_locked(user.username)

    staff = Client()
    staff.force_login(StaffFactory())
    listing = staff.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert user.username.casefold() in listing.content.decode()
    pks = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = staff.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert code_of(attempt(user.username, TEST_PASSWORD)[0]) == "OK"


def test_registration_from_a_locked_address_still_logs_the_new_account_in():
    """A registration proves its password; it creates the account and its session once."""
    fail("nobody-here", LIMIT, address="10.0.0.5")
    api = GraphQLClient(Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.5"))
    register = """
    mutation ($input: AccountRegisterInput!) {
      accountRegister(input: $input) { __typename }
    }"""
    data = api(register, {"input": {"username": "newcomer", "password": "a-long-passphrase-1"}})
    assert data["accountRegister"]["__typename"] == "AccountRegisterResult"
    assert api("{ me { username } }") == {"me": {"username": "newcomer"}}


def test_the_admin_login_page_is_throttled_too():
    user = UserFactory(is_staff=True)
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(LIMIT):
        client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_throttle_answer_is_json_shaped_like_graphql():
    user = UserFactory()
    fail(user.username, LIMIT)
    response, _ = attempt(user.username, TEST_PASSWORD)
    body = json.loads(response.content)
    assert body["data"]["login"]["messages"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert "errors" not in body
