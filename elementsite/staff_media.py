"""Staff-only streaming of stored media for the admin's previews (images, audio, video).

Files are read from `default_storage` by the names our services chose; nothing here is a
public path. A single byte range is honoured, which browsers need to seek in audio or video
(Safari to play a video at all).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import IO

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

from elements.media_urls import is_safe_name

# Previews are private to the browser that asked; a short life is enough for a page.
PREVIEW_CACHE_CONTROL = "private, max-age=300"
STREAM_CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_type_of(name: str) -> str:
    content_type, encoding = mimetypes.guess_type(name)
    if content_type is None or encoding is not None:
        return "application/octet-stream"
    return content_type


def _is_video(name: str) -> bool:
    return content_type_of(name).startswith("video/")


class _RangeNotSatisfiable(Exception):
    pass


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range of `Range: bytes=…` as (first, last), or None to send the whole file (no
    header, or one we don't take, such as several ranges)."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        if int(last) == 0 or size == 0:
            raise _RangeNotSatisfiable
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise _RangeNotSatisfiable
    return start, end


def _chunks(handle: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def stream_stored_file(request: HttpRequest, name: str) -> HttpResponseBase:
    """The stored file `name`, inline, typed by the extension of the name we chose. A single
    byte range is honoured, which browsers need to seek in a video (Safari to play one)."""
    if not is_safe_name(name):
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404 from None
    content_type = content_type_of(name)
    size = handle.size
    response: HttpResponseBase
    try:
        wanted = _byte_range(request.headers.get("Range"), size)
    except _RangeNotSatisfiable:
        handle.close()
        response = HttpResponse(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
    else:
        if wanted is None:
            response = FileResponse(handle, content_type=content_type)
        else:
            start, end = wanted
            handle.seek(start)
            response = StreamingHttpResponse(
                _chunks(handle, end - start + 1), status=206, content_type=content_type
            )
            response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            response.headers["Content-Length"] = str(end - start + 1)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = PREVIEW_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
