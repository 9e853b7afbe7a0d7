"""Errors inside GraphQL: ids, cursors, page sizes, search text, the unexpected, and the log.

- Every `id:` argument answers a malformed or foreign-typed id exactly as an unknown one.
- A cursor of another list (or no cursor at all) is INVALID_CURSOR; `first: 101` is
  PAGE_SIZE_TOO_LARGE; a search over 200 characters is SEARCH_TOO_LONG.
- An unexpected exception reaches the client as INTERNAL_ERROR with an id, and the log has
  the id with the traceback; a client's mistake is one info line with no traceback.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken, CreditLedgerEntry
from accounts.services import api_token_create, credits_grant
from elements.models import Element, ReferenceImage, Voice
from generation.explore.models import ExploreWork
from generation.models import GenerationJob
from generation.webhooks.models import WebhookEndpoint
from tests.conftest import GraphQLClient, media_files
from tests.factories import UserFactory
from tests.support.media import image_upload

pytestmark = pytest.mark.django_db


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def state() -> tuple[Any, ...]:
    return (
        Element.objects.count(),
        ReferenceImage.objects.count(),
        Voice.objects.count(),
        GenerationJob.objects.count(),
        ExploreWork.objects.count(),
        WebhookEndpoint.objects.count(),
        CreditLedgerEntry.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(),
        frozenset(media_files()),
    )


@pytest.fixture
def api(user: Any) -> GraphQLClient:
    credits_grant(user=user, amount=500, reason="test credits")
    _, secret = api_token_create(user=user, name="errors")
    return GraphQLClient(Client(), token=secret)


MUTATION_RESULT = "{ __typename ... on OperationInfo { messages { kind field code message } } }"

# Every operation with an `id:`-like argument: (name, query, variables with ID_<Type> where an
# id of that type goes, how to read the answer).
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("element", "query ($a: ID!) { element(id: $a) { id } }", {"a": "Element"}),
    ("generationJob", "query ($a: ID!) { generationJob(id: $a) { id } }", {"a": "GenerationJob"}),
    ("exploreWork", "query ($a: ID!) { exploreWork(id: $a) { id } }", {"a": "ExploreWork"}),
    ("node", "query ($a: ID!) { node(id: $a) { id } }", {"a": "Element"}),
    ("elementExport", "query ($a: ID!) { elementExport(id: $a) { id } }", {"a": "ElementExport"}),
    (
        "elementExport",
        "mutation ($a: ID!) { elementExport(input: {ids: [$a]}) RESULT }",
        {"a": "Element"},
    ),
    (
        "webhookDeliveries",
        "query ($a: ID) { webhookDeliveries(endpointId: $a) { totalCount edges { node { id } } } }",
        {"a": "WebhookEndpoint"},
    ),
    (
        "elementUpdate",
        'mutation ($a: ID!) { elementUpdate(input: {id: $a, name: "X"}) RESULT }',
        {"a": "Element"},
    ),
    (
        "elementDelete",
        "mutation ($a: ID!) { elementDelete(input: {id: $a}) RESULT }",
        {"a": "Element"},
    ),
    (
        "elementImageRemove",
        "mutation ($a: ID!, $b: ID!) "
        "{ elementImageRemove(input: {elementId: $a, imageId: $b}) RESULT }",
        {"a": "Element", "b": "ReferenceImage"},
    ),
    (
        "elementImageSetMain",
        "mutation ($a: ID!, $b: ID!) "
        "{ elementImageSetMain(input: {elementId: $a, imageId: $b}) RESULT }",
        {"a": "Element", "b": "ReferenceImage"},
    ),
    (
        "elementImageReorder",
        "mutation ($a: ID!, $b: ID!) "
        "{ elementImageReorder(input: {elementId: $a, imageIds: [$b]}) RESULT }",
        {"a": "Element", "b": "ReferenceImage"},
    ),
    (
        "elementImageAdd",
        "mutation ($a: ID!, $b: ID!) "
        "{ elementImageAdd(input: {elementId: $a, fromHistory: {outputId: $b}}) RESULT }",
        {"a": "Element", "b": "GenerationOutput"},
    ),
    (
        "elementVoiceBind",
        "mutation ($a: ID!, $b: ID!) "
        "{ elementVoiceBind(input: {elementId: $a, voiceId: $b}) RESULT }",
        {"a": "Element", "b": "Voice"},
    ),
    (
        "elementVoiceUnbind",
        "mutation ($a: ID!) { elementVoiceUnbind(input: {id: $a}) RESULT }",
        {"a": "Element"},
    ),
    ("voiceDelete", "mutation ($a: ID!) { voiceDelete(input: {id: $a}) RESULT }", {"a": "Voice"}),
    (
        "elementDescribe",
        "query ($a: ID!) { elementDescribe(elementId: $a) RESULT }",
        {"a": "Element"},
    ),
    (
        "elementMultiViewComplete",
        "mutation ($a: ID!) { elementMultiViewComplete(input: {elementId: $a}) RESULT }",
        {"a": "Element"},
    ),
    (
        "apiTokenRevoke",
        "mutation ($a: ID!) { apiTokenRevoke(input: {id: $a}) RESULT }",
        {"a": "ApiToken"},
    ),
    (
        "generationCancel",
        "mutation ($a: ID!) { generationCancel(id: $a) RESULT }",
        {"a": "GenerationJob"},
    ),
    (
        "generationShare",
        "mutation ($a: ID!, $b: ID!) "
        '{ generationShare(jobId: $a, outputId: $b, title: "T") RESULT }',
        {"a": "GenerationJob", "b": "GenerationOutput"},
    ),
    (
        "exploreUnshare",
        "mutation ($a: ID!) { exploreUnshare(id: $a) RESULT }",
        {"a": "MySharedWork"},
    ),
    (
        "exploreRecreate",
        "mutation ($a: ID!) { exploreRecreate(workId: $a) RESULT }",
        {"a": "ExploreWork"},
    ),
    (
        "exploreReport",
        'mutation ($a: ID!) { exploreReport(workId: $a, reason: "spam") RESULT }',
        {"a": "ExploreWork"},
    ),
    (
        "webhookEndpointDelete",
        "mutation ($a: ID!) { webhookEndpointDelete(id: $a) RESULT }",
        {"a": "WebhookEndpoint"},
    ),
    (
        "likenessAllowUser",
        "mutation ($a: ID!) { likenessAllowUser(input: {matchId: $a}) RESULT }",
        {"a": "LikenessMatch"},
    ),
    (
        "likenessDecline",
        "mutation ($a: ID!) { likenessDecline(input: {matchId: $a}) RESULT }",
        {"a": "LikenessMatch"},
    ),
    (
        "likenessGrantWithdraw",
        "mutation ($a: ID!) { likenessGrantWithdraw(input: {grantId: $a}) RESULT }",
        {"a": "LikenessGrant"},
    ),
    (
        "teamUpdate",
        'mutation ($a: ID!) { teamUpdate(input: {team: $a, name: "X"}) RESULT }',
        {"a": "Team"},
    ),
    ("teamDelete", "mutation ($a: ID!) { teamDelete(input: {team: $a}) RESULT }", {"a": "Team"}),
    (
        "teamInvite",
        "mutation ($a: ID!) "
        '{ teamInvite(input: {team: $a, username: "nobody", role: VIEWER}) RESULT }',
        {"a": "Team"},
    ),
    (
        "teamInvitationCancel",
        "mutation ($a: ID!) { teamInvitationCancel(input: {invitation: $a}) RESULT }",
        {"a": "TeamInvitation"},
    ),
    (
        "teamInvitationAccept",
        "mutation ($a: ID!) { teamInvitationAccept(input: {invitation: $a}) RESULT }",
        {"a": "TeamInvitation"},
    ),
    (
        "teamInvitationDecline",
        "mutation ($a: ID!) { teamInvitationDecline(input: {invitation: $a}) RESULT }",
        {"a": "TeamInvitation"},
    ),
    (
        "teamMemberRoleChange",
        "mutation ($a: ID!) { teamMemberRoleChange(input: {member: $a, role: VIEWER}) RESULT }",
        {"a": "TeamMember"},
    ),
    (
        "teamMemberRemove",
        "mutation ($a: ID!) { teamMemberRemove(input: {member: $a}) RESULT }",
        {"a": "TeamMember"},
    ),
    ("teamLeave", "mutation ($a: ID!) { teamLeave(input: {team: $a}) RESULT }", {"a": "Team"}),
    (
        "teamOwnershipTransfer",
        "mutation ($a: ID!, $b: ID!) "
        "{ teamOwnershipTransfer(input: {team: $a, member: $b}) RESULT }",
        {"a": "Team", "b": "TeamMember"},
    ),
    (
        "generationSubmit",
        "mutation ($a: ID!) { generationSubmit(input: "
        '{model: IMAGE_O1, prompt: "A red kite over the sea", elementIds: [$a]}) RESULT }',
        {"a": "Element"},
    ),
]

UUID_TYPES = {"GenerationJob", "GenerationOutput"}


def unknown_id(type_name: str) -> str:
    """A well-formed id of the right type that names no row."""
    if type_name in UUID_TYPES:
        return b64(f"{type_name}:{uuid.uuid4()}")
    return b64(f"{type_name}:987654")


def bad_ids(type_name: str, *, own_token: int = 1) -> dict[str, str]:
    # The viewer's own API token: a real row, of a type no argument here takes but one.
    other = b64(f"ApiToken:{own_token}") if type_name != "ApiToken" else b64("Element:1")
    return {
        "not base64": "abc",
        "empty": "",
        "no colon": b64(type_name),
        "another type": other,
        "a type of no schema": b64("Nonsense:1"),
        "letters for the key": b64(f"{type_name}:abc"),
        "negative key": b64(f"{type_name}:-5"),
        "key too large": b64(f"{type_name}:{10**30}"),
        "not UTF-8": base64.b64encode(b"\xff\xfe:1").decode(),
        "very long": "A" * 10_000,
    }


def run(api: GraphQLClient, query: str, variables: dict[str, str]) -> dict[str, Any]:
    response = api.post(query.replace("RESULT", MUTATION_RESULT), variables)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(("name", "query", "types"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_a_bad_id_is_answered_exactly_as_an_unknown_one(api, name, query, types):
    before = state()
    baseline = run(api, query, {var: unknown_id(t) for var, t in types.items()})
    if "errors" in baseline:
        pytest.fail(f"{name}: an unknown id should not raise: {baseline}")
    own_token = ApiToken.objects.get().pk
    for label in bad_ids("X"):
        if name == "node" and label == "another type":
            continue  # `node` takes every type: the viewer's own token is found, rightly
        variables = {var: bad_ids(t, own_token=own_token)[label] for var, t in types.items()}
        answer = run(api, query, variables)
        assert answer == baseline, f"{name} with {label}: {answer} != {baseline}"
    assert state() == before


# The id arguments that travel with files, sent as multipart requests: (name, query, the
# variables with the id's type where an id goes, the files by variable path).
UPLOAD_OPERATIONS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    (
        "elementCreate",
        "mutation ($input: ElementCreateInput!) { elementCreate(input: $input) RESULT }",
        {
            "input": {
                "name": "Kite",
                "type": "CHARACTER",
                "mainImage": None,
                "extraImages": [None],
                "voice": {"voiceId": "Voice"},
            }
        },
        ["input.mainImage", "input.extraImages.0"],
    ),
    (
        "elementCreate",
        "mutation ($input: ElementCreateInput!) { elementCreate(input: $input) RESULT }",
        {
            "input": {
                "name": "Kite",
                "type": "PROP",
                "mainImageFromHistory": {"outputId": "GenerationOutput"},
                "extraImages": [None],
            }
        },
        ["input.extraImages.0"],
    ),
    (
        "elementImageReplace",
        "mutation ($input: ElementImageReplaceInput!) "
        "{ elementImageReplace(input: $input) RESULT }",
        {"input": {"elementId": "Element", "imageId": "ReferenceImage", "file": None}},
        ["input.file"],
    ),
    (
        "likenessClaim",
        "mutation ($input: LikenessClaimInput!) { likenessClaim(input: $input) RESULT }",
        {"input": {"challengeId": "LikenessChallenge", "video": None}},
        ["input.video"],
    ),
]

ID_FIELDS = {"voiceId", "outputId", "elementId", "imageId", "challengeId"}


def with_ids(value: Any, make: Any) -> Any:
    """`value` with each id placeholder (its type name) replaced by `make(type_name)`."""
    if isinstance(value, dict):
        return {k: make(v) if k in ID_FIELDS else with_ids(v, make) for k, v in value.items()}
    return value


def upload_run(api: GraphQLClient, query: str, variables: Any, paths: list[str]) -> Any:
    files = {str(i): image_upload(color=(i * 50, 80, 20)) for i in range(len(paths))}
    response = api.client.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": query.replace("RESULT", MUTATION_RESULT), "variables": variables}
            ),
            "map": json.dumps({str(i): [f"variables.{p}"] for i, p in enumerate(paths)}),
            **files,
        },
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("name", "query", "variables", "paths"),
    UPLOAD_OPERATIONS,
    ids=[f"{o[0]}-{i}" for i, o in enumerate(UPLOAD_OPERATIONS)],
)
def test_a_bad_id_beside_files_is_answered_as_an_unknown_one(api, name, query, variables, paths):
    before = state()
    baseline = upload_run(api, query, with_ids(variables, unknown_id), paths)
    assert "errors" not in baseline, baseline
    assert baseline["data"][name]["__typename"] == "OperationInfo", baseline
    for label in bad_ids("X"):
        bad = with_ids(variables, lambda t, label=label: bad_ids(t)[label])
        assert upload_run(api, query, bad, paths) == baseline, label
    assert state() == before


def test_every_id_argument_is_covered():
    """Every query and mutation that takes an id somewhere in its arguments is tried above."""
    from graphql import GraphQLInputObjectType, get_named_type

    from elementsite.schema import schema

    def takes_an_id(gql_type: Any, seen: frozenset[str] = frozenset()) -> bool:
        named = get_named_type(gql_type)
        if named.name == "ID":
            return True
        if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            return any(takes_an_id(f.type, seen | {named.name}) for f in named.fields.values())
        return False

    gql = schema._schema
    taking_ids = {
        name
        for root in (gql.query_type, gql.mutation_type)
        if root is not None
        for name, field in root.fields.items()
        if any(takes_an_id(arg.type) for arg in field.args.values())
    }
    covered = {o[0] for o in OPERATIONS} | {o[0] for o in UPLOAD_OPERATIONS}
    covered.add("generationPromptPreview")  # below: its answer names no id
    assert taking_ids == covered


def test_preview_reads_a_bad_element_id_like_an_unknown_one(api):
    query = """
    query ($a: ID!) {
      generationPromptPreview(input: {model: IMAGE_O1, prompt: "A kite", elementIds: [$a]}) {
        ok issues { code field }
      }
    }"""
    baseline = run(api, query, {"a": unknown_id("Element")})
    assert baseline["data"]["generationPromptPreview"]["ok"] is False
    for label, bad in bad_ids("Element").items():
        assert run(api, query, {"a": bad}) == baseline, label


# --- Lists ---------------------------------------------------------------------------------

ELEMENTS = """
query ($after: String, $first: Int) {
  elements(first: $first, after: $after) {
    edges { cursor node { name } } pageInfo { endCursor hasNextPage }
  }
}"""
VOICES = "query { voices(first: 1) { pageInfo { endCursor } } }"
LEDGER = (
    "query ($after: String) { creditLedger(first: 1, after: $after) { pageInfo { endCursor } } }"
)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def test_cursors_page_through_their_own_list(api, user):
    for i in range(3):
        Element.objects.create(owner=user, name=f"Kite {i}", type="prop")
    first = api(ELEMENTS, {"first": 2})["elements"]
    rest = api(ELEMENTS, {"first": 2, "after": first["pageInfo"]["endCursor"]})["elements"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"] is True
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    names = {e["node"]["name"] for e in first["edges"] + rest["edges"]}
    assert names == {"Kite 0", "Kite 1", "Kite 2"}
    assert all(e["cursor"] for e in first["edges"])


def test_the_last_page_is_asked_without_a_cursor(api, user):
    # `last` alone: the last rows in the list's order, with cursors that page back.
    for i in range(5):
        Element.objects.create(owner=user, name=f"Kite {i}", type="prop")
    everything = [e["node"]["name"] for e in api(ELEMENTS, {"first": 5})["elements"]["edges"]]
    last = api(
        "{ elements(last: 2) { edges { cursor node { name } } pageInfo { hasPreviousPage } } }"
    )["elements"]
    assert [e["node"]["name"] for e in last["edges"]] == everything[-2:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = api(
        "query ($b: String) { elements(last: 2, before: $b) { edges { node { name } } } }",
        {"b": last["edges"][0]["cursor"]},
    )["elements"]
    assert [e["node"]["name"] for e in before["edges"]] == everything[1:3]


def test_a_cursor_of_another_list_is_refused(api, user):
    credits_grant(user=user, amount=1, reason="another")
    ledger_cursor = api(LEDGER)["creditLedger"]["pageInfo"]["endCursor"]
    error = error_of(api.post(ELEMENTS, {"after": ledger_cursor, "first": 2}).json())
    assert error["extensions"] == {"code": "INVALID_CURSOR", "argument": "after"}
    assert error["message"] == "`after` is not a cursor of this list."


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense!",
        "abc",  # base64's "Incorrect padding"
        b64("arrayconnection:1"),  # strawberry's own, which named no list
        b64("Query.elements:abc"),
        b64("Query.elements:-1"),
        b64("Query.elements"),
        "x" * 5000,
    ],
)
def test_a_malformed_cursor_is_refused(api, cursor):
    error = error_of(api.post(ELEMENTS, {"after": cursor, "first": 2}).json())
    assert error["extensions"]["code"] == "INVALID_CURSOR"
    for leak in ("padding", "base64", "int()", "invalid literal"):
        assert leak not in error["message"]


def test_page_sizes(api):
    too_big = error_of(api.post(ELEMENTS, {"first": 101}).json())
    assert too_big["extensions"] == {
        "code": "PAGE_SIZE_TOO_LARGE",
        "argument": "first",
        "maxPageSize": 100,
    }
    negative = error_of(api.post(ELEMENTS, {"first": -1}).json())
    assert negative["extensions"]["code"] == "INVALID_PAGE_SIZE"
    last = error_of(api.post("query { voices(last: 500) { totalCount } }").json())
    assert last["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"
    assert api(ELEMENTS, {"first": 100})["elements"]["edges"] == []


def test_search_text_over_200_characters(api, user):
    Element.objects.create(owner=user, name="Kite", type="prop")
    query = "query ($s: String!) { elements(search: $s) { totalCount } }"
    assert api(query, {"s": "k" * 200})["elements"]["totalCount"] == 0
    assert api(query, {"s": "  kite "})["elements"]["totalCount"] == 1
    error = error_of(api.post(query, {"s": "%_" * 500_000}).json())
    assert error["extensions"] == {
        "code": "SEARCH_TOO_LONG",
        "argument": "search",
        "maxLength": 200,
    }
    mention = "query ($q: String!) { mentionSuggestions(query: $q) { name } }"
    error = error_of(api.post(mention, {"q": "k" * 201}).json())
    assert error["extensions"]["code"] == "SEARCH_TOO_LONG"


# --- The unexpected and the log -------------------------------------------------------------


def test_an_unexpected_exception_is_internal_error_with_a_logged_id(api, monkeypatch, caplog):
    from elements import selectors

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database at 10.0.0.12:5432 said: relation elements_element is gone")

    monkeypatch.setattr(selectors, "element_list", broken)
    with caplog.at_level(logging.INFO, logger="elementsite.errors"):
        body = api.post("{ elements(first: 1) { totalCount } }").json()
    error = error_of(body)
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"Internal error; quote {error_id} to support."
    assert "10.0.0.12" not in str(body) and "relation" not in str(body)
    records = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None  # the traceback
    assert "relation elements_element is gone" in str(records[0].exc_info[1])


# A database that went away (a restart, a failover, its sessions ended): retryable, typed.
LOST = "terminating connection due to administrator command at 10.0.0.12"


def test_a_lost_database_under_a_resolver_is_503_service_unavailable(api, monkeypatch, caplog):
    from django.db import OperationalError

    from elements import selectors

    def lost(**kwargs: Any) -> Any:
        raise OperationalError(LOST)

    monkeypatch.setattr(selectors, "element_list", lost)
    with caplog.at_level(logging.INFO, logger="elementsite.errors"):
        response = api.post("{ elements(first: 1) { totalCount } }")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    error = error_of(response.json())
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == "The service is briefly unavailable; try again in a moment."
    assert "10.0.0.12" not in response.content.decode()
    records = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.WARNING, None)]
    assert "OperationalError" in records[0].getMessage()


@pytest.mark.parametrize("debug", [True, False])
def test_a_lost_database_before_graphql_runs_is_json_not_a_page(user, monkeypatch, settings, debug):
    # The bearer token is looked up in a middleware, outside the schema's error hook; under
    # DEBUG (`make run`) Django would answer its traceback page, else its 500 page.
    from django.db import OperationalError

    from accounts import middleware

    settings.DEBUG = debug
    token = api_token_create(user=user, name="outage")[1]

    def lost(**kwargs: Any) -> Any:
        raise OperationalError(LOST)

    monkeypatch.setattr(middleware, "api_token_authenticate", lost)
    client = Client(raise_request_exception=False)
    response = client.post(
        "/graphql",
        data=json.dumps({"query": "{ me { username } }"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "1"
    assert error_of(response.json())["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "10.0.0.12" not in response.content.decode()


def test_client_errors_are_one_info_line_without_a_traceback(api, gql, caplog):
    with caplog.at_level(logging.DEBUG):
        api.post(ELEMENTS, {"first": 101})
        gql.post("{ elements(first: 1) { totalCount } }")  # no credentials
        api.post("{ elements(first: 1) { nosuchfield } }")  # validation
        api.post("{ elements(")  # syntax
    graphql_records = [
        r for r in caplog.records if r.name.startswith(("strawberry", "elementsite"))
    ]
    assert [r.getMessage().split(" at ")[0] for r in graphql_records] == [
        "client error PAGE_SIZE_TOO_LARGE",
        "client error NOT_AUTHENTICATED",
        "client error GRAPHQL_VALIDATION_FAILED",
        "client error GRAPHQL_VALIDATION_FAILED",
    ]
    for record in graphql_records:
        assert record.levelno == logging.INFO
        assert record.exc_info is None
        assert "\n" not in record.getMessage()


def test_validation_and_input_errors_carry_a_code(api):
    bad_type = api.post("query ($f: Int) { elements(first: $f) { totalCount } }", {"f": "ten"})
    assert error_of(bad_type.json())["extensions"]["code"] == "INVALID_INPUT"
    unknown = api.post("{ nosuch }").json()
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# --- Introspection and the CSRF token --------------------------------------------------------


INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_follows_the_setting(api, settings):
    settings.GRAPHQL_INTROSPECTION = True
    assert api(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}

    settings.GRAPHQL_INTROSPECTION = False
    body = api.post(INTROSPECTION).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in body["errors"][0]["message"].lower()
    assert "__schema" not in str(body.get("data"))
    # `__typename` is not introspection of the schema; clients rely on it.
    assert api("{ __typename }") == {"__typename": "Query"}


def test_introspection_defaults_to_debug(tmp_path):
    probe = "from elementsite import settings as s; print(s.GRAPHQL_INTROSPECTION)"
    cases = [({"DEBUG": "1"}, "True"), ({"DEBUG": "0"}, "False")]
    cases.append(({"DEBUG": "0", "GRAPHQL_INTROSPECTION": "1"}, "True"))
    for env, expected in cases:
        base = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DEBUG", "GRAPHQL_INTROSPECTION", "SECRET_KEY")
        }
        base.update({"DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 50, **env})
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=Path(__file__).resolve().parent.parent,
            env=base,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == expected, (env, result.stderr)


def test_a_single_page_client_logs_in_over_json_alone(user):
    """GET the token (it sets the cookie), then log in with it; no HTML page involved."""
    from tests.factories import TEST_PASSWORD

    browser = Client(enforce_csrf_checks=True)
    response = browser.get("/graphql", {"query": "{ csrfToken }"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    token = response.json()["data"]["csrfToken"]
    assert browser.cookies["csrftoken"].value
    login = browser.post(
        "/graphql",
        data={
            "query": "mutation ($u: String!, $p: String!) "
            "{ login(input: {username: $u, password: $p}) { __typename } }",
            "variables": {"u": user.username, "p": TEST_PASSWORD},
        },
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert login.json()["data"]["login"]["__typename"] == "LoginResult"
    me = browser.post(
        "/graphql",
        data={"query": "{ me { username } }"},
        content_type="application/json",
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )
    assert me.json()["data"]["me"]["username"] == user.username


def test_another_users_ids_read_as_unknown(api):
    """Not a malformed id but a real one of someone else: the same answer again."""
    stranger = UserFactory()
    theirs = Element.objects.create(owner=stranger, name="Theirs", type="prop")
    query = "mutation ($a: ID!) { elementDelete(input: {id: $a}) RESULT }"
    mine_unknown = run(api, query, {"a": unknown_id("Element")})
    assert run(api, query, {"a": b64(f"Element:{theirs.pk}")}) == mine_unknown
    assert Element.objects.filter(pk=theirs.pk).exists()
