"""Reading an upload under a byte cap, whatever kind of file object it is."""

from __future__ import annotations

import io
from typing import IO, Any

from elements.media.errors import MediaErrorCode, human_size, media_error

CHUNK = 1 << 20


def _rewind(upload: Any) -> None:
    # A Django UploadedFile may already have been read (by a size check or an earlier
    # validation); its content starts at 0 either way.
    seekable = getattr(upload, "seekable", None)
    try:
        if seekable is None or seekable():
            upload.seek(0)
    except (AttributeError, OSError, ValueError):
        pass


def _declared_size(upload: Any) -> int | None:
    # Django's File.size; a plain stream has none. Only used to refuse early: the bytes
    # actually read are what counts.
    try:
        size = upload.size
    except (AttributeError, OSError, ValueError):
        return None
    return size if isinstance(size, int) else None


def _too_large(kind: str, max_bytes: int) -> Exception:
    return media_error(
        f"The {kind} file is too large: the limit is {human_size(max_bytes)}.",
        MediaErrorCode.FILE_TOO_LARGE,
    )


def _empty(kind: str) -> Exception:
    return media_error(f"The {kind} file is empty.", MediaErrorCode.EMPTY_FILE)


def copy_capped(upload: Any, destination: IO[bytes], *, max_bytes: int, kind: str) -> int:
    """Copies the upload into `destination`, refusing it as soon as it passes `max_bytes`
    (never more than `max_bytes + 1` bytes are read). Returns the number of bytes."""
    declared = _declared_size(upload)
    if declared is not None and declared > max_bytes:
        raise _too_large(kind, max_bytes)
    _rewind(upload)
    total = 0
    while True:
        chunk = upload.read(min(CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(kind, max_bytes)
        destination.write(chunk)
    if total == 0:
        raise _empty(kind)
    return total


def read_capped(upload: Any, *, max_bytes: int, kind: str) -> bytes:
    """The upload's bytes, or FILE_TOO_LARGE / EMPTY_FILE."""
    buffer = io.BytesIO()
    copy_capped(upload, buffer, max_bytes=max_bytes, kind=kind)
    return buffer.getvalue()
