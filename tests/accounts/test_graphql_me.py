from __future__ import annotations

import pytest
from strawberry import relay

from accounts import services
from elements.models import Element
from tests.factories import MembershipFactory, UserFactory, tier

pytestmark = pytest.mark.django_db

ME = """{
  me {
    username tier { code name elementLimit dailyFreeMultiview isMemberTier }
    isMember membershipExpiresAt elementLimit elementCount creditBalance
    freeMultiviewUsesPerDay freeMultiviewUsesLeftToday
  }
}"""

LEDGER = """
query ($first: Int, $after: String) {
  creditLedger(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind amount balanceAfter reason reference createdAt } }
  }
}"""


def test_me_shows_what_the_user_may_do_now(logged_in, user):
    membership = MembershipFactory(user=user, tier=tier("pro"))
    services.credits_grant(user=user, amount=12, reason="a")
    services.free_use_consume(user=user)
    Element.objects.create(owner=user, name="Banana Cat")
    Element.objects.create(owner=UserFactory(), name="Not mine")

    me = logged_in()(ME)["me"]

    assert me["tier"] == {
        "code": "pro",
        "name": "Pro",
        "elementLimit": 150,
        "dailyFreeMultiview": 3,
        "isMemberTier": True,
    }
    assert me["isMember"] is True
    assert me["membershipExpiresAt"] == membership.expires_at.isoformat()
    assert (me["elementLimit"], me["elementCount"], me["creditBalance"]) == (150, 1, 12)
    assert (me["freeMultiviewUsesPerDay"], me["freeMultiviewUsesLeftToday"]) == (3, 2)


def test_me_takes_a_constant_number_of_queries(logged_in, user, django_assert_max_num_queries):
    client = logged_in()
    client.csrf_token()
    MembershipFactory(user=user, tier=tier("pro"))
    # session, user, membership with tier, free uses, element count, balance
    with django_assert_max_num_queries(6):
        client(ME)


def test_ledger_lists_only_the_viewers_entries_newest_first(logged_in, user):
    services.credits_grant(user=user, amount=10, reason="first")
    services.credits_debit(user=user, amount=4, reason="second", reference="job:1")
    services.credits_grant(user=UserFactory(), amount=99, reason="someone else")

    ledger = logged_in()(LEDGER)["creditLedger"]

    assert ledger["totalCount"] == 2
    nodes = [edge["node"] for edge in ledger["edges"]]
    assert [(n["kind"], n["amount"], n["balanceAfter"], n["reason"]) for n in nodes] == [
        ("DEBIT", -4, 6, "second"),
        ("GRANT", 10, 10, "first"),
    ]


def test_ledger_pages_and_caps_the_page_size(logged_in, user):
    for i in range(5):
        services.credits_grant(user=user, amount=1, reason=f"g{i}")
    client = logged_in()

    page = client(LEDGER, {"first": 2})["creditLedger"]
    nxt = client(LEDGER, {"first": 2, "after": page["pageInfo"]["endCursor"]})["creditLedger"]
    too_big = client.post(LEDGER, {"first": 101}).json()

    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["reason"] for e in page["edges"] + nxt["edges"]] == ["g4", "g3", "g2", "g1"]
    assert too_big["errors"][0]["message"] == "`first` can be at most 100."
    assert too_big["errors"][0]["extensions"] == {
        "code": "PAGE_SIZE_TOO_LARGE",
        "argument": "first",
        "maxPageSize": 100,
    }


def test_ledger_of_150_entries_takes_a_constant_number_of_queries(
    logged_in, user, django_assert_max_num_queries
):
    for i in range(150):
        services.credits_grant(user=user, amount=1, reason=f"g{i}")
    client = logged_in()
    client.csrf_token()
    # session, user, count, page
    with django_assert_max_num_queries(4):
        data = client(LEDGER, {"first": 100})
    assert len(data["creditLedger"]["edges"]) == 100


def test_ledger_needs_a_login(gql, db):
    body = gql.post(LEDGER).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_node_lookup_cannot_reach_another_users_entry(logged_in, user):
    theirs = services.credits_grant(user=UserFactory(), amount=5, reason="private")
    mine = services.credits_grant(user=user, amount=5, reason="mine")
    query = "query ($id: ID!) { node(id: $id) { ... on CreditLedgerEntry { reason } } }"
    client = logged_in()

    def lookup(pk: int) -> object:
        return client(query, {"id": str(relay.GlobalID("CreditLedgerEntry", str(pk)))})["node"]

    assert lookup(mine.pk) == {"reason": "mine"}
    assert lookup(theirs.pk) is None


def test_api_tokens_list_is_owner_scoped(logged_in, user):
    services.api_token_create(user=user, name="mine")
    services.api_token_create(user=UserFactory(), name="theirs")
    data = logged_in()("{ apiTokens { edges { node { name } } } }")
    assert [e["node"]["name"] for e in data["apiTokens"]["edges"]] == ["mine"]


def test_too_many_aliases_are_refused(logged_in, user):
    query = "{ " + " ".join(f"a{i}: me {{ username }}" for i in range(20)) + " }"
    body = logged_in().post(query).json()
    assert "aliases" in body["errors"][0]["message"]


def test_too_deep_queries_are_refused(logged_in, user, settings):
    settings.GRAPHQL_MAX_DEPTH = 2
    client = logged_in()
    shallow = client.post("{ me { tier { code } } }").json()
    deep = client.post("{ creditLedger { edges { node { id } } } }").json()
    assert "errors" not in shallow
    assert "exceeds maximum operation depth" in deep["errors"][0]["message"]


def test_too_many_tokens_are_refused(logged_in, user, settings):
    settings.GRAPHQL_MAX_TOKENS = 50
    query = "{ " + " ".join("me { username }" for _ in range(20)) + " }"
    body = logged_in().post(query).json()
    assert "more than 50 tokens" in body["errors"][0]["message"]


def test_graphiql_sets_the_csrf_cookie_its_login_needs(user):
    from django.test import Client

    from tests.conftest import GraphQLClient
    from tests.factories import TEST_PASSWORD

    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert b"graphiql" in page.content.lower()
    token = browser.cookies["csrftoken"].value

    login = GraphQLClient(browser).client.post(
        "/graphql",
        data={
            "query": "mutation ($u: String!, $p: String!) { login(input: {username: $u, "
            "password: $p}) { __typename } }",
            "variables": {"u": user.username, "p": TEST_PASSWORD},
        },
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert login.json()["data"]["login"]["__typename"] == "LoginResult"
