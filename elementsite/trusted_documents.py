"""Trusted documents: the web studio's operations, known to the service by their SHA-256.

`npm run build` in web/ lists every GraphQL operation of the studio with its id,
`{"sha256:<hex of the text>": "<text>"}`, in web/dist/persisted-documents.json (GraphQL Code
Generator's client preset, web/codegen.ts). The studio then sends `{"documentId": "sha256:…",
"variables": …}` instead of the text (GraphQL over HTTP, persisted documents), and the view
runs the listed text (elementsite.views).

Each document is parsed once and validated once per set of validation rules, then kept for as
long as the list is: a known document skips parsing and validation (elementsite.schema's
caches ask `for_execution`). The file is read when first needed and again whenever it changes
on disk (one `stat` a request), like the studio's index.html, so a new build of the studio is
served with its own list without a restart. No file (the studio never built) means no trusted
documents: every id is unknown, and text is answered as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.schema.schema import validate_document

logger = logging.getLogger(__name__)

ID_PREFIX = "sha256:"
MANIFEST_NAME = "persisted-documents.json"


def document_id(text: str) -> str:
    """The id codegen gives `text`: `sha256:` and the hex SHA-256 of its UTF-8 bytes."""
    return ID_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(eq=False)
class TrustedDocument:
    id: str
    text: str
    _document: DocumentNode | None = None
    _validation: dict[tuple[type[ASTValidationRule], ...], list[GraphQLError]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def document(self) -> DocumentNode:
        """The parsed text, parsed on first use. No token limit: the text is ours."""
        if self._document is None:
            with self._lock:
                if self._document is None:
                    self._document = parse(self.text)
        return self._document

    def validate(
        self, schema: GraphQLSchema, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        """The validation errors under `rules`, computed once per set of rules (the limits
        are settings: a changed one gets its own entry, never a stale answer)."""
        errors = self._validation.get(rules)
        if errors is None:
            errors = validate_document(schema, self.document, rules)
            with self._lock:
                self._validation[rules] = errors
        return errors


@dataclass(frozen=True)
class TrustedDocuments:
    path: Path | None
    by_id: dict[str, TrustedDocument]

    def get(self, id_: str) -> TrustedDocument | None:
        return self.by_id.get(id_)

    def __len__(self) -> int:
        return len(self.by_id)


def load(path: Path) -> TrustedDocuments:
    """The list in `path`; none when there is no file. A file that is not the list codegen
    writes (torn, hand-edited, an id that is not its text's SHA-256) stops the service with
    what is wrong, rather than answering the studio's requests with unknown ids."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return TrustedDocuments(path=None, by_id={})
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ImproperlyConfigured(f"{path} is not JSON: rebuild the web studio.") from None
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"{path} must be a JSON object of ids to documents.")
    by_id: dict[str, TrustedDocument] = {}
    for id_, text in data.items():
        if not isinstance(text, str) or document_id(text) != id_:
            raise ImproperlyConfigured(
                f"{path}: {id_!r} is not the sha256 of its document: rebuild the web studio."
            )
        by_id[id_] = TrustedDocument(id=id_, text=text)
    logger.info("trusted documents: %d from %s", len(by_id), path)
    return TrustedDocuments(path=path, by_id=by_id)


def manifest_path() -> Path:
    return Path(settings.WEB_DIST) / MANIFEST_NAME


_lock = threading.Lock()
_loaded: tuple[tuple[Path, int, int] | Path, TrustedDocuments] | None = None


def trusted_documents() -> TrustedDocuments:
    """The current list: loaded once, loaded again when the file changes (a new build)."""
    global _loaded
    path = manifest_path()
    try:
        stat = path.stat()
        key: tuple[Path, int, int] | Path = (path, stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        key = path
    current = _loaded
    if current is not None and current[0] == key:
        return current[1]
    with _lock:
        if _loaded is None or _loaded[0] != key:
            _loaded = (key, load(path))
        return _loaded[1]


# The document a request runs by id, for the parse and validation caches of the schema.
REQUEST_ATTRIBUTE = "_trusted_document"


def for_execution(execution_context: Any) -> TrustedDocument | None:
    """The trusted document this execution runs, when the request named one by id."""
    context = execution_context.context
    request = getattr(context, "request", None)
    document = getattr(request, REQUEST_ATTRIBUTE, None)
    return document if isinstance(document, TrustedDocument) else None
