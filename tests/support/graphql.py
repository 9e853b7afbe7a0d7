"""GraphQL as a client sends it: JSON posts and multipart uploads, logged in like a person."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.factories import TEST_PASSWORD


class GraphQLClient:
    """Posts GraphQL operations to /graphql like a real client, cookies and CSRF included."""

    def __init__(self, client: Client | None = None, token: str | None = None) -> None:
        self.client = client or Client(enforce_csrf_checks=True)
        self.token = token

    def csrf_token(self) -> str:
        if "csrftoken" not in self.client.cookies:
            self.client.get("/admin/login/")
        return self.client.cookies["csrftoken"].value

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, csrf: bool = True
    ) -> Any:
        headers: dict[str, str] = {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        elif csrf:
            headers["X-CSRFToken"] = self.csrf_token()
        return self.client.post(
            "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            headers=headers,
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


class UploadClient(GraphQLClient):
    """A GraphQL client that can also send files (the multipart request spec)."""

    def upload(self, query: str, variables: dict[str, Any], files: dict[str, Any]) -> Any:
        """A GraphQL multipart request: `files` maps a variable path to a file."""
        file_map = {str(i): [f"variables.{path}"] for i, path in enumerate(files)}
        data: dict[str, Any] = {
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps(file_map),
        }
        for i, upload in enumerate(files.values()):
            data[str(i)] = upload
        headers = (
            {"X-CSRFToken": self.csrf_token()}
            if self.token is None
            else {"Authorization": f"Bearer {self.token}"}
        )
        response = self.client.post("/graphql", data=data, headers=headers)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


def logged_in_client(user: Any) -> UploadClient:
    """An upload-capable client with `user`'s session cookie (CSRF enforced)."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return UploadClient(client)
