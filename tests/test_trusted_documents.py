"""Trusted documents at /graphql: operations sent by `documentId` from the list the web studio's
build leaves in WEB_DIST, and GRAPHQL_TRUSTED_DOCUMENTS_ONLY, which keeps cookie sessions to
that list while API tokens (and cookie-less requests) send any text.

Each test writes its own list into a temporary WEB_DIST, so none depends on a build; the
studio's real list is checked by tests/web/test_trusted_documents_e2e.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from accounts.models import ApiToken
from accounts.services import api_token_create
from elementsite import trusted_documents as trusted
from elementsite.trusted_documents import document_id, load, trusted_documents
from tests.factories import TEST_PASSWORD
from tests.support.media import image_bytes

pytestmark = pytest.mark.django_db

VIEWER = "query Viewer { __typename me { __typename username } }"
PAGE = "query Page($first: Int!) { __typename elements(first: $first) { totalCount } }"
TOKEN_CREATE = (
    "mutation TokenCreate($input: ApiTokenCreateInput!) { __typename "
    "apiTokenCreate(input: $input) { __typename ... on ApiTokenCreateResult { secret } "
    "... on OperationInfo { messages { code } } } }"
)
DETECT = (
    "query Detect($image: Upload!, $skip: Boolean! = false) { __typename "
    "subjectTypeDetect(image: $image) @skip(if: $skip) { __typename } }"
)
DOCUMENTS = [VIEWER, PAGE, TOKEN_CREATE, DETECT]


@pytest.fixture(autouse=True)
def web_dist(tmp_path: Path) -> Iterator[Path]:
    """A WEB_DIST holding a list of DOCUMENTS, as `npm run build` writes it."""
    (tmp_path / trusted.MANIFEST_NAME).write_text(
        json.dumps({document_id(text): text for text in DOCUMENTS})
    )
    with override_settings(WEB_DIST=tmp_path):
        yield tmp_path


@pytest.fixture
def enforced() -> Iterator[None]:
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS_ONLY=True):
        yield


@pytest.fixture
def session(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    client.get("/admin/login/")  # sets the csrftoken cookie
    return client


@pytest.fixture
def token(user: Any) -> str:
    _, secret = api_token_create(user=user, name="trusted documents")
    return secret


def post(client: Client, body: dict[str, Any], *, csrf: bool = True, **headers: str) -> Any:
    if csrf and "csrftoken" in client.cookies:
        headers["X-CSRFToken"] = client.cookies["csrftoken"].value
    return client.post(
        "/graphql", data=json.dumps(body), content_type="application/json", headers=headers
    )


def code_of(response: Any) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_a_known_id_runs_its_document_with_the_variables(session: Client, user: Any) -> None:
    response = post(session, {"documentId": document_id(VIEWER)})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["__typename"] == "Query"
    assert data["me"]["username"] == user.username
    page = post(session, {"documentId": document_id(PAGE), "variables": {"first": 5}})
    assert page.json() == {"data": {"__typename": "Query", "elements": {"totalCount": 0}}}


def test_variables_are_checked_as_for_text(session: Client) -> None:
    by_id = post(session, {"documentId": document_id(PAGE), "variables": {"first": "five"}})
    by_text = post(session, {"query": PAGE, "variables": {"first": "five"}})
    assert by_id.json()["data"] is None
    assert by_id.status_code == by_text.status_code
    assert by_id.json() == by_text.json()
    missing = post(session, {"documentId": document_id(PAGE)})
    assert missing.json()["data"] is None
    assert code_of(missing) == code_of(post(session, {"query": PAGE}))


def test_an_unknown_id_is_a_typed_error(session: Client) -> None:
    response = post(session, {"documentId": document_id("query Other { __typename }")})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert code_of(response) == "PERSISTED_DOCUMENT_NOT_FOUND"
    assert "Reload the page" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"documentId": 7}, "`documentId` must be a string."),
        (
            {"documentId": document_id(VIEWER), "query": VIEWER},
            "Send either `query` or `documentId`, not both.",
        ),
        ({"documentId": document_id(PAGE), "variables": [1]}, "`variables` must be an object."),
    ],
)
def test_a_malformed_id_request_is_a_bad_request(
    session: Client, body: dict[str, Any], message: str
) -> None:
    response = post(session, body)
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert response.json()["errors"][0]["message"] == message


def test_a_mutation_by_id_needs_the_csrf_token_as_text_does(session: Client) -> None:
    body = {"documentId": document_id(TOKEN_CREATE), "variables": {"input": {"name": "cli"}}}
    refused = post(session, body, csrf=False)
    assert refused.status_code == 403
    assert code_of(refused) == "CSRF_FAILED"
    assert not ApiToken.objects.filter(name="cli").exists()
    done = post(session, body)
    assert done.status_code == 200, done.content
    assert done.json()["data"]["apiTokenCreate"]["__typename"] == "ApiTokenCreateResult"
    assert ApiToken.objects.filter(name="cli").count() == 1


def test_a_mutation_by_id_over_get_is_refused(session: Client) -> None:
    response = session.get(
        "/graphql",
        {"documentId": document_id(TOKEN_CREATE), "variables": '{"input": {"name": "x"}}'},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "not allowed when using GET" in response.json()["errors"][0]["message"]
    assert not ApiToken.objects.filter(name="x").exists()


def test_a_query_by_id_over_get_runs(session: Client, user: Any) -> None:
    response = session.get(
        "/graphql", {"documentId": document_id(VIEWER)}, headers={"Accept": "*/*"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["me"]["username"] == user.username


# --- GRAPHQL_TRUSTED_DOCUMENTS_ONLY -------------------------------------------------------------


def test_off_a_session_sends_any_text(session: Client, user: Any) -> None:
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS_ONLY=False):
        response = post(session, {"query": "{ me { username } }"})
    assert response.json() == {"data": {"me": {"username": user.username}}}


@pytest.mark.usefixtures("enforced")
def test_on_a_session_sending_text_is_refused(session: Client) -> None:
    before = ApiToken.objects.count()
    response = post(
        session,
        {"query": TOKEN_CREATE, "variables": {"input": {"name": "sneaky"}}},
    )
    assert response.status_code == 403
    assert code_of(response) == "TRUSTED_DOCUMENT_REQUIRED"
    assert "Authorization: Bearer" in response.json()["errors"][0]["message"]
    assert ApiToken.objects.count() == before
    over_get = session.get("/graphql", {"query": "{ me { username } }"})
    assert over_get.status_code == 403
    assert code_of(over_get) == "TRUSTED_DOCUMENT_REQUIRED"


@pytest.mark.usefixtures("enforced")
def test_on_a_session_runs_the_listed_documents(session: Client, user: Any) -> None:
    response = post(session, {"documentId": document_id(VIEWER)})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["me"]["username"] == user.username


@pytest.mark.usefixtures("enforced")
def test_on_an_api_token_sends_any_text(token: str, user: Any) -> None:
    response = post(
        Client(enforce_csrf_checks=True),
        {"query": "{ me { username } }"},
        Authorization=f"Bearer {token}",
    )
    assert response.json() == {"data": {"me": {"username": user.username}}}


@pytest.mark.usefixtures("enforced")
def test_on_a_token_wins_over_a_session_cookie_too(session: Client, token: str) -> None:
    response = post(session, {"query": "{ me { username } }"}, Authorization=f"Bearer {token}")
    assert response.status_code == 200, response.content


@pytest.mark.usefixtures("enforced")
def test_on_a_request_without_cookies_sends_text_anonymously() -> None:
    response = post(Client(), {"query": "{ csrfToken }"})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["csrfToken"]


# --- Multipart -----------------------------------------------------------------------------------


def multipart(client: Client, operations: dict[str, Any], files_map: dict[str, Any]) -> Any:
    return client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps(files_map),
            "0": SimpleUploadedFile("a.png", image_bytes(), content_type="image/png"),
        },
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )


def test_an_upload_by_id_is_checked_against_the_listed_document(session: Client) -> None:
    operations = {"documentId": document_id(DETECT), "variables": {"image": None, "skip": False}}
    ok = multipart(session, operations, {"0": ["variables.image"]})
    assert ok.status_code == 200, ok.content
    assert ok.json()["data"]["subjectTypeDetect"]["__typename"]
    wrong = multipart(
        session,
        {**operations, "variables": {"image": None, "skip": None}},
        {"0": ["variables.skip"]},
    )
    assert wrong.status_code == 400
    assert "not an `Upload`" in wrong.json()["errors"][0]["message"]
    unknown = multipart(
        session, {**operations, "documentId": document_id("x")}, {"0": ["variables.image"]}
    )
    assert unknown.status_code == 400
    assert code_of(unknown) == "PERSISTED_DOCUMENT_NOT_FOUND"


# --- The list and its caches ---------------------------------------------------------------------


def test_no_list_no_trusted_documents_and_text_still_works(
    web_dist: Path, session: Client, user: Any
) -> None:
    (web_dist / trusted.MANIFEST_NAME).unlink()
    assert len(trusted_documents()) == 0
    assert code_of(post(session, {"documentId": document_id(VIEWER)})) == (
        "PERSISTED_DOCUMENT_NOT_FOUND"
    )
    response = post(session, {"query": "{ me { username } }"})
    assert response.json() == {"data": {"me": {"username": user.username}}}


def test_a_new_build_is_picked_up_without_a_restart(web_dist: Path, session: Client) -> None:
    assert trusted_documents().get(document_id(VIEWER)) is not None
    newer = "query Newer { __typename }"
    (web_dist / trusted.MANIFEST_NAME).write_text(json.dumps({document_id(newer): newer}))
    response = post(session, {"documentId": document_id(newer)})
    assert response.json() == {"data": {"__typename": "Query"}}
    assert trusted_documents().get(document_id(VIEWER)) is None


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        ("{not json", "is not JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"sha256:00": VIEWER}), "is not the sha256 of its document"),
        (json.dumps({document_id(VIEWER): 3}), "is not the sha256 of its document"),
    ],
)
def test_a_damaged_list_stops_the_service_saying_what(
    tmp_path: Path, content: str, fault: str
) -> None:
    path = tmp_path / "list.json"
    path.write_text(content)
    with pytest.raises(ImproperlyConfigured, match=fault):
        load(path)


def test_a_listed_document_is_parsed_and_validated_once(
    session: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"parse": 0, "validate": 0}
    real_parse, real_validate = trusted.parse, trusted.validate_document

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        calls["parse"] += 1
        return real_parse(*args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls["validate"] += 1
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(trusted, "parse", counting_parse)
    monkeypatch.setattr(trusted, "validate_document", counting_validate)
    text_parses = _get_parse_cache(128).cache_info()
    text_validations = _get_validate_cache(128).cache_info()
    for first in (1, 2, 3):
        response = post(session, {"documentId": document_id(PAGE), "variables": {"first": first}})
        assert response.status_code == 200, response.content
    assert calls == {"parse": 1, "validate": 1}
    # Never through strawberry's LRUs for texts: a flood of other texts can't evict it.
    assert _get_parse_cache(128).cache_info() == text_parses
    assert _get_validate_cache(128).cache_info() == text_validations
    # A changed limit is validated anew, not served the old answer.
    with override_settings(GRAPHQL_MAX_DEPTH=0):
        deep = post(session, {"documentId": document_id(PAGE), "variables": {"first": 1}})
    assert code_of(deep) == "GRAPHQL_VALIDATION_FAILED"
    assert calls == {"parse": 1, "validate": 2}
