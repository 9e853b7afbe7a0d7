"""Media storages that fail the way real ones do, for the fault tests.

`FullDiskStorage` writes part of a file and then raises ENOSPC, as a filesystem that runs out
of room mid-write does (the part stays on disk unless someone removes it).
`FlakyStorage` refuses writes, reads and deletes while it is `down`, as an S3 endpoint that
is down does (botocore's EndpointConnectionError).
"""

from __future__ import annotations

import errno
import os
import threading
from typing import Any

from botocore.exceptions import EndpointConnectionError
from django.core.files.storage import FileSystemStorage

SECRET_ENDPOINT = "http://storage.internal.example:9000"


class FullDiskStorage(FileSystemStorage):
    """The first `ok_writes` writes succeed; every later one writes half and fails."""

    def __init__(self, ok_writes: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ok_writes = ok_writes
        self.writes = 0

    def _save(self, name: str, content: Any) -> str:
        self.writes += 1
        if self.writes <= self.ok_writes:
            return super()._save(name, content)
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = b"".join(content.chunks())
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", path)


class FlakyStorage(FileSystemStorage):
    """Refuses writes (and reads) while `down` is set, like an unreachable S3 endpoint."""

    down = threading.Event()
    refused = 0

    def _check(self, name: str) -> None:
        if type(self).down.is_set():
            type(self).refused += 1
            raise EndpointConnectionError(endpoint_url=f"{SECRET_ENDPOINT}/media/{name}")

    def _save(self, name: str, content: Any) -> str:
        self._check(name)
        return super()._save(name, content)

    def _open(self, name: str, mode: str = "rb") -> Any:
        self._check(name)
        return super()._open(name, mode)

    def delete(self, name: str) -> None:
        self._check(name)
        super().delete(name)
