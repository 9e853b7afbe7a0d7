"""Every malformed request to /graphql: its HTTP status, a JSON body with a stable code, and
nothing created, charged or written.

Each multipart row carries a real `elementCreate` with valid images, so a request that got
through would leave an element, its files and (for a job) a debit behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import ApiToken, CreditLedgerEntry
from accounts.services import api_token_create
from elements.models import Element, ReferenceImage, Voice
from generation.models import GenerationJob
from tests.conftest import media_files
from tests.factories import TEST_PASSWORD
from tests.support.media import image_bytes, image_upload

pytestmark = pytest.mark.django_db

CREATE = """
mutation ($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename
    ... on ElementWithWarningsResult { element { id } }
    ... on OperationInfo { messages { code } }
  }
}"""


def create_variables(extras: int = 1) -> dict[str, Any]:
    return {
        "input": {
            "name": "Little Scholar",
            "type": "CHARACTER",
            "mainImage": None,
            "extraImages": [None] * extras,
        }
    }


def state() -> tuple[Any, ...]:
    return (
        Element.objects.count(),
        ReferenceImage.objects.count(),
        Voice.objects.count(),
        GenerationJob.objects.count(),
        CreditLedgerEntry.objects.count(),
        ApiToken.objects.count(),
        frozenset(media_files()),
    )


@pytest.fixture
def token(user: Any) -> str:
    _, secret = api_token_create(user=user, name="bad requests")
    return secret


@pytest.fixture
def session(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    client.get("/admin/login/")  # sets the csrftoken cookie
    return client


@pytest.fixture
def refused(user: Any, token: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """Send a request and check the refusal: status, JSON body, code, and that nothing
    moved."""
    before = state()

    def check(response: Any, status: int, code: str) -> dict[str, Any]:
        assert response.status_code == status, response.content
        assert response["Content-Type"].startswith("application/json"), response.content
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
        message = body["errors"][0]["message"]
        for leak in ("Traceback", "Error:", "django", "line ", "0x"):
            assert leak not in message, message
        assert state() == before
        return body

    yield check
    assert state() == before


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_raw(client: Client, body: bytes, content_type: str, headers: dict[str, str]) -> Any:
    return client.post("/graphql", data=body, content_type=content_type, headers=headers)


def multipart(
    client: Client,
    headers: dict[str, str],
    *,
    operations: Any,
    files_map: Any,
    files: dict[str, Any],
) -> Any:
    data: dict[str, Any] = {
        "operations": operations if isinstance(operations, str) else json.dumps(operations),
        "map": files_map if isinstance(files_map, str) else json.dumps(files_map),
        **files,
    }
    return client.post("/graphql", data=data, headers=headers)


def valid_create_files(extras: int = 1) -> dict[str, Any]:
    files = {"0": image_upload()}
    for i in range(extras):
        files[str(i + 1)] = image_upload(color=(i * 40, 90, 10))
    return files


def valid_create_map(extras: int = 1) -> dict[str, list[str]]:
    places = {"0": ["variables.input.mainImage"]}
    for i in range(extras):
        places[str(i + 1)] = [f"variables.input.extraImages.{i}"]
    return places


# --- JSON bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"null", b'"x"', b"[]", b"42", b'{"query": "{ me { username } }", "variables": "x"}'],
    ids=["null", "string", "batch", "number", "variables-not-object"],
)
def test_a_json_body_that_is_not_a_request(refused, token, body):
    refused(post_raw(Client(), body, "application/json", bearer(token)), 400, "BAD_REQUEST")


def test_invalid_utf8_in_json(refused, token):
    body = b'{"query": "{ me { username } }", "operationName": "\xff\xfe"}'
    answer = refused(
        post_raw(Client(), body, "application/json", bearer(token)), 400, "BAD_REQUEST"
    )
    assert "UTF-8" in answer["errors"][0]["message"]


def test_json_declared_form_sent(refused, token):
    body = b"query=%7B+me+%7B+username+%7D+%7D"
    refused(post_raw(Client(), body, "application/json", bearer(token)), 400, "BAD_REQUEST")


def test_form_declared(refused, token):
    body = b"query=%7B+me+%7B+username+%7D+%7D"
    refused(
        post_raw(Client(), body, "application/x-www-form-urlencoded", bearer(token)),
        400,
        "BAD_REQUEST",
    )


# With DEBUG on, a body Django refuses inside its CSRF check used to become a traceback page.
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_multipart_declared_json_sent(refused, token, session, settings, debug):
    settings.DEBUG = debug
    body = json.dumps({"query": "{ me { username } }"}).encode()
    lying = "multipart/form-data; boundary=nothing-like-this"
    refused(post_raw(Client(), body, lying, bearer(token)), 400, "BAD_REQUEST")
    # With a cookie session the CSRF check reads the body first: still JSON, still 400.
    csrf = {"X-CSRFToken": session.cookies["csrftoken"].value}
    refused(post_raw(session, body, lying, csrf), 400, "BAD_REQUEST")


def test_deeply_nested_json(refused, token):
    body = b"[" * 100_000 + b"]" * 100_000
    refused(post_raw(Client(), body, "application/json", bearer(token)), 400, "BAD_REQUEST")


def test_a_body_over_the_size_limit(refused, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"query": "{ me { username } }", "variables": {"pad": "x" * 2000}})
    refused(
        post_raw(Client(), body.encode(), "application/json", bearer(token)),
        413,
        "REQUEST_TOO_LARGE",
    )


def test_a_mutation_over_get(refused, token):
    response = Client().get(
        "/graphql", {"query": "mutation { logout { __typename } }"}, headers=bearer(token)
    )
    refused(response, 400, "BAD_REQUEST")


def test_another_method(refused, token):
    refused(Client().put("/graphql", data=b"{}", headers=bearer(token)), 405, "METHOD_NOT_ALLOWED")


# --- Multipart ----------------------------------------------------------------------------


def test_a_map_that_is_not_an_object(refused, token):
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map='"x"',
        files=valid_create_files(),
    )
    refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("files_map", ["not json", "null", "[]", '{"0": "variables.x"}'])
def test_other_unreadable_maps(refused, token, files_map):
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=files_map,
        files=valid_create_files(),
    )
    refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("operations", ["null", '"x"', "[]", "not json"])
def test_operations_that_are_not_one_object(refused, token, operations):
    response = multipart(
        Client(),
        bearer(token),
        operations=operations,
        files_map=valid_create_map(),
        files=valid_create_files(),
    )
    refused(response, 400, "BAD_REQUEST")


def test_a_map_pointing_at_a_variable_that_is_not_an_upload(refused, token):
    variables = create_variables()
    variables["input"]["description"] = None
    files_map = {**valid_create_map(), "2": ["variables.input.description"]}
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": variables},
        files_map=files_map,
        files={**valid_create_files(), "2": image_upload()},
    )
    answer = refused(response, 400, "BAD_REQUEST")
    assert "not an `Upload`" in answer["errors"][0]["message"]


def test_a_map_pointing_at_a_value_the_client_filled(refused, token):
    # `name` holds a string, not the `null` the spec leaves for a file.
    files_map = {**valid_create_map(), "2": ["variables.input.name"]}
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=files_map,
        files={**valid_create_files(), "2": image_upload()},
    )
    refused(response, 400, "BAD_REQUEST")


def test_a_map_pointing_at_a_missing_file(refused, token):
    files = valid_create_files()
    del files["1"]
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=valid_create_map(),
        files=files,
    )
    answer = refused(response, 400, "BAD_REQUEST")
    assert "was not sent" in answer["errors"][0]["message"]


def test_a_map_pointing_twice_at_one_file(refused, token):
    variables = create_variables(extras=2)
    files_map = {
        "0": ["variables.input.mainImage"],
        "1": ["variables.input.extraImages.0", "variables.input.extraImages.1"],
    }
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": variables},
        files_map=files_map,
        files=valid_create_files(),
    )
    refused(response, 400, "BAD_REQUEST")


def test_two_files_at_one_place(refused, token):
    files_map = {**valid_create_map(), "2": ["variables.input.extraImages.0"]}
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=files_map,
        files={**valid_create_files(), "2": image_upload()},
    )
    refused(response, 400, "BAD_REQUEST")


def test_a_map_pointing_outside_the_variables(refused, token):
    files_map = {**valid_create_map(), "2": ["query"]}
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=files_map,
        files={**valid_create_files(), "2": image_upload()},
    )
    refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_101_files(refused, token, session, settings, debug):
    settings.DEBUG = debug
    data = image_bytes(width=8, height=8, fmt="PNG")
    files_map = {str(i): [f"variables.input.extraImages.{i}"] for i in range(101)}
    variables = create_variables(extras=101)
    for client, headers in (
        (Client(), bearer(token)),
        (session, {"X-CSRFToken": session.cookies["csrftoken"].value}),
    ):
        response = multipart(
            client,
            headers,
            operations={"query": CREATE, "variables": variables},
            files_map=files_map,
            files={str(i): SimpleUploadedFile("tiny.png", data) for i in range(101)},
        )
        answer = refused(response, 400, "BAD_REQUEST")
        assert "Too many files" in answer["errors"][0]["message"]


def test_a_well_formed_upload_still_works(user, token):
    """The checks above leave the spec's own requests alone."""
    response = multipart(
        Client(),
        bearer(token),
        operations={"query": CREATE, "variables": create_variables()},
        files_map=valid_create_map(),
        files=valid_create_files(),
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["elementCreate"]["__typename"] == "ElementWithWarningsResult"
    assert Element.objects.filter(owner=user).count() == 1


# --- Credentials and CSRF ---------------------------------------------------------------------


def test_no_credentials_at_all(refused):
    body = json.dumps({"query": "{ me { username } }"}).encode()
    answer = refused(
        post_raw(Client(enforce_csrf_checks=True), body, "application/json", {}),
        401,
        "NOT_AUTHENTICATED",
    )
    assert "Bearer" in answer["errors"][0]["message"]


def test_a_cookie_session_without_the_csrf_token(refused, session):
    body = json.dumps({"query": CREATE, "variables": create_variables(extras=0)}).encode()
    refused(post_raw(session, body, "application/json", {}), 403, "CSRF_FAILED")
    refused(
        post_raw(session, body, "application/json", {"X-CSRFToken": "wrong" * 7}),
        403,
        "CSRF_FAILED",
    )


def test_a_cookie_multipart_upload_without_the_csrf_token(refused, session):
    response = multipart(
        session,
        {},
        operations={"query": CREATE, "variables": create_variables()},
        files_map=valid_create_map(),
        files=valid_create_files(),
    )
    refused(response, 403, "CSRF_FAILED")


def test_a_token_request_needs_no_csrf_token(token):
    client = Client(enforce_csrf_checks=True)
    body = json.dumps({"query": "{ me { username } }"}).encode()
    response = post_raw(client, body, "application/json", bearer(token))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["me"]["username"]


def test_the_admin_keeps_djangos_csrf_page(db):
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_a_query_that_needs_a_login_without_one(db):
    """Nothing answerable without credentials: 401 with the code (over GET, no CSRF)."""
    response = Client().get("/graphql", {"query": "{ elements(first: 1) { totalCount } }"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    # Partly answerable: the usual 200 with the error beside the data.
    partly = Client().get("/graphql", {"query": "{ me { username } elementTypes { value } }"})
    assert partly.status_code == 200
    assert partly.json()["data"]["me"] is None


def test_an_error_outside_graphql_is_json_with_a_logged_id(refused, token, monkeypatch, caplog):
    """E.g. the database gone while the request is read: no traceback page, an id to quote."""
    from elementsite.views import GraphQLView

    def broken(self: Any, request: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection to server at 10.0.0.12 failed")

    monkeypatch.setattr(GraphQLView, "run", broken)
    client = Client(raise_request_exception=False)
    body = json.dumps({"query": "{ me { username } }"}).encode()
    answer = refused(
        post_raw(client, body, "application/json", bearer(token)), 500, "INTERNAL_ERROR"
    )
    error_id = answer["errors"][0]["extensions"]["errorId"]
    assert "10.0.0.12" not in json.dumps(answer)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
