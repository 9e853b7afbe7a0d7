"""Writing to the media storage so that a failure is typed and leaves nothing behind.

Storage backends fail in their own words: boto's "Could not connect to the endpoint URL:
http://…/elements/<key>.jpg" (the storage's address and our key), "NoSuchBucket … PutObject",
Python's "[Errno 28] No space left on device". None of that may reach a client. `save_file`
turns each into a `StorageError` with a stable code (STORAGE_UNAVAILABLE, STORAGE_FULL) and a
message of ours, after removing whatever part of the file the backend had written: a full disk
leaves no cut-off or 0-byte file. The name is handed to the caller's list before the write
starts, so a process that dies mid-write still left a name for its cleanup to try.
"""

from __future__ import annotations

import errno
import logging
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


class StorageErrorCode(StrEnum):
    UNAVAILABLE = "STORAGE_UNAVAILABLE"
    FULL = "STORAGE_FULL"


MESSAGES = {
    StorageErrorCode.UNAVAILABLE: "File storage is unavailable right now; nothing was saved. "
    "Try again in a moment.",
    StorageErrorCode.FULL: "File storage is full; nothing was saved. Try again later.",
}

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class StorageError(ValidationError):
    """A storage failure as clients see it: a request-wide error with a stable code (the code
    sits on the error itself, see PITFALLS.md). Workers catch it to retry or fail a job."""

    def __init__(self, code: StorageErrorCode) -> None:
        super().__init__(MESSAGES[code], code=str(code))
        self.storage_code = code


def _boto_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # no S3 backend installed
        return ()
    return (BotoCoreError, ClientError)


def storage_error_code(exc: BaseException, *, writing: bool = False) -> StorageErrorCode | None:
    """What kind of storage failure `exc` is, or None if it is not one. `writing`: the
    exception came out of a storage write, so any OSError is the storage's."""
    if isinstance(exc, StorageError):
        return exc.storage_code
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return StorageErrorCode.FULL
    if isinstance(exc, _boto_errors()):
        # Unreachable endpoint, missing bucket, refused credentials: not the client's doing.
        return StorageErrorCode.UNAVAILABLE
    if isinstance(exc, ConnectionError | TimeoutError):
        return StorageErrorCode.UNAVAILABLE
    if writing and isinstance(exc, OSError):
        return StorageErrorCode.UNAVAILABLE
    return None


def remove_quietly(name: str) -> None:
    """Delete a stored file if the storage lets us; a storage that is down now leaves it to
    the janitor (it is older than an hour and no row names it by then)."""
    try:
        default_storage.delete(name)
    except Exception:
        logger.warning("could not remove the stored file %s; the janitor will", name)


def save_file(name: str, content: bytes | File[Any], written: list[str] | None = None) -> str:
    """Save `content` under `name` (a fresh random name of the caller's) and return the name
    the storage gave it. `written` gets the name before the write starts; a failed write
    removes its part at once and raises StorageError (or the original exception, if it is not
    a storage failure, after the same cleanup)."""
    if written is not None:
        written.append(name)
    body = ContentFile(content) if isinstance(content, bytes) else content
    try:
        saved = default_storage.save(name, body)
    except Exception as exc:
        remove_quietly(name)
        code = storage_error_code(exc, writing=True)
        if code is None:
            raise
        # The backend's own words stay in the log (with the traceback), never in the answer.
        logger.warning("storage write of %s failed: %s", name, code, exc_info=True)
        raise StorageError(code) from exc
    if saved != name and written is not None:
        written.append(saved)
    return saved
