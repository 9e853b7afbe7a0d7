"""Trusted documents in the built studio (issue 15, deliverable 5): the build lists every
operation of the studio with its SHA-256, each listed document is valid against the schema
and its limits, and the browser sends ids only — never GraphQL text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from graphql import validate
from playwright.sync_api import expect

from elementsite.schema import _limit_rules, schema
from elementsite.trusted_documents import MANIFEST_NAME, document_id, load
from tests.factories import TEST_PASSWORD, UserFactory
from tests.web.operations import operation_of


def test_the_build_lists_every_operation_valid_under_the_limits(studio_built: Path) -> None:
    documents = load(studio_built / MANIFEST_NAME)
    assert len(documents) >= 10
    rules = _limit_rules(
        settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_ALIASES, introspection=False
    )
    for id_, document in documents.by_id.items():
        assert id_ == document_id(document.text)
        errors = document.validate(schema._schema, rules)
        assert errors == [], (document.text, errors)
        # The same document would pass the checks of plain GraphQL too.
        assert validate(schema._schema, document.document) == []
    # Every screen's operations, wherever they live under web/src: some of each kind.
    texts = [d.text for d in documents.by_id.values()]
    assert any(t.startswith("query LibraryPage") for t in texts)
    assert any(t.startswith("mutation ") for t in texts)


@pytest.mark.django_db(transaction=True)
def test_the_browser_sends_ids_never_text(page: Any, studio_url: str) -> None:
    user = UserFactory()
    bodies: list[bytes] = []
    answers: list[tuple[int, Any]] = []

    def record(request: Any) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            bodies.append(request.post_data_buffer or b"")

    def record_answer(route: Any) -> None:
        # Read as it passes: a response's body can be gone from the browser by the time the
        # test asks for it (after a navigation).
        response = route.fetch()
        if route.request.method == "POST":
            answers.append((response.status, response.json()))
        route.fulfill(response=response)

    page.on("request", record)
    page.route("**/graphql", record_answer)
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))
    page.get_by_role("heading", name="Your library is empty").wait_for()
    page.get_by_role("link", name="Voices").first.click()
    page.get_by_role("heading", name="Voices", exact=True).wait_for()
    page.get_by_role("link", name="Library").first.click()
    expect(page.get_by_role("heading", name="Your library is empty")).to_be_visible()

    assert bodies, "the studio sent no GraphQL request"
    names = []
    for raw in bodies:
        body = json.loads(raw)
        assert "query" not in body, body
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", body["documentId"]), body
        names.append(operation_of(raw.decode()))
    assert "?" not in names, names
    assert "Login" in names, names
    assert any(n.startswith("Library") for n in names), names
    assert answers, "no GraphQL answer was seen"
    for status, answer in answers:
        assert status == 200, (status, answer)
        assert "errors" not in answer, answer

    # The server runs as in production (tests/web/conftest.py): the same session sending text
    # is refused, so all of the above went through by id alone.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        f"{studio_url}/graphql",
        data=json.dumps({"query": "{ me { username } }"}),
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
    )
    assert refused.status == 403, refused.text()
    assert refused.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


@pytest.mark.django_db
def test_with_the_studio_list_a_session_may_not_send_text(studio_built: Path) -> None:
    """The studio's own list loaded by the service: ids from it run, text from a session is
    refused once GRAPHQL_TRUSTED_DOCUMENTS_ONLY is on."""
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS_ONLY=True, WEB_DIST=studio_built):
        client = Client()
        client.cookies["sessionid"] = "anything"
        viewer = next(
            id_
            for id_, d in load(studio_built / MANIFEST_NAME).by_id.items()
            if d.text.startswith("query Viewer ")
        )
        by_id = client.post("/graphql", {"documentId": viewer}, content_type="application/json")
        assert by_id.status_code in {200, 401}, by_id.content
        assert "TRUSTED_DOCUMENT_REQUIRED" not in by_id.content.decode()
        by_text = client.post(
            "/graphql", {"query": "{ __typename }"}, content_type="application/json"
        )
        assert by_text.status_code == 403
        assert by_text.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
