"""Which GraphQL operation a request of the studio runs.

The studio sends its operations by id (trusted documents: `{"documentId": "sha256:…"}`, no
text, no `operationName`), so a test that counts requests per operation reads the name from
the list the build left beside the studio (WEB_DIST/persisted-documents.json).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from django.conf import settings
from graphql import OperationDefinitionNode, parse

from elementsite.trusted_documents import MANIFEST_NAME

DOCUMENT_ID = re.compile(r'"documentId"\s*:\s*"(sha256:[0-9a-f]{64})"')


@functools.cache
def _names(path: Path, mtime_ns: int) -> dict[str, str]:
    names: dict[str, str] = {}
    for id_, text in json.loads(path.read_text()).items():
        for definition in parse(text).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                names[id_] = definition.name.value
    return names


def operation_names() -> dict[str, str]:
    """Each trusted document's id with the name of its operation."""
    path = Path(settings.WEB_DIST) / MANIFEST_NAME
    return _names(path, path.stat().st_mtime_ns)


def operation_of(body: str) -> str:
    """The name of the operation a request body (JSON or a multipart form) runs; `?` for a
    body that names no listed document."""
    match = DOCUMENT_ID.search(body)
    return operation_names().get(match.group(1), "?") if match else "?"
