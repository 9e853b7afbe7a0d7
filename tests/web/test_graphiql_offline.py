"""GraphiQL is served from the project's own build: it loads and runs a query with every
request to the outside blocked (issue 11, deliverable 5)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_graphiql_loads_and_runs_a_query_offline(
    page: Any, browser_context: Any, studio_url: str, shoot: Any
) -> None:
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))

    response = page.goto(f"{studio_url}/graphql")
    assert response.status == 200
    editor = page.locator(".graphiql-query-editor .monaco-editor")
    editor.wait_for()
    page.get_by_role("button", name="Execute query").click()
    result = page.locator(".graphiql-response .monaco-editor")
    result.get_by_text('"me": null').wait_for()
    shoot("graphiql", widths=("desktop",))

    assert browser_context.outside_requests.attempted == []
    assert any(url.endswith("/graphql") for url in loaded)
    assert all(url.startswith(studio_url) or url.startswith(("data:", "blob:")) for url in loaded)
