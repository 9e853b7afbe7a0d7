"""Files written together with rows: kept when the transaction commits, deleted when it fails.

A service that saves files and writes rows opens `atomic_with_files()` and saves every file
through the `FileBatch` it yields, so bad input or a failed write leaves no file behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.base import File
from django.db import transaction

from elementsite.storage import remove_quietly, save_file


class FileBatch:
    """Files saved during one service call: deleted again if its transaction fails.

    A name joins the batch before its write starts, and a write that fails removes its own
    part at once (`elementsite.storage.save_file`), so a full disk or a storage that drops
    the connection leaves neither a cut-off file nor a 0-byte one. Storage failures reach
    the caller as STORAGE_FULL / STORAGE_UNAVAILABLE, without the backend's words."""

    def __init__(self) -> None:
        self.saved: list[str] = []

    def save(self, folder: str, content: bytes | File[Any], extension: str) -> str:
        # A random name: nothing about the file, its owner or its order can be guessed.
        return save_file(f"{folder}/{uuid.uuid4().hex}.{extension}", content, self.saved)

    def discard(self) -> None:
        for name in self.saved:
            remove_quietly(name)


@contextmanager
def atomic_with_files() -> Iterator[FileBatch]:
    """A transaction and the batch of files saved in it: the files are deleted when the
    transaction does not commit (any exception leaving the block)."""
    batch = FileBatch()
    try:
        with transaction.atomic():
            yield batch
    except BaseException:
        batch.discard()
        raise
