"""Stored files as HTTP responses with byte ranges (RFC 9110 §14), so a browser can seek in
a video and resume a download.

Django's `FileResponse` always sends the whole file: a `<video>` element asks for
`Range: bytes=N-` to seek, and without a 206 answer the browser either downloads from the
start or refuses to seek at all (Safari will not play an MP4 from a server that ignores
ranges). One range is served; a request for several ranges gets the whole file (a server
may always ignore `Range`), as does a malformed header. A range that starts past the end is
416 with `Content-Range: bytes */<size>`. `If-Range` is honoured against the ETag and
Last-Modified sent here, so a client never stitches parts of two different files.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header, http_date

# Larger than FileResponse's 4 KiB: each chunk is one trip through the WSGI server.
CHUNK_SIZE = 64 * 1024

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """The range asks for nothing inside the file (416)."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions one `Range` header asks for in a file of
    `size` bytes; None when the header is to be ignored (absent, malformed, several ranges).
    Raises `Unsatisfiable` for a well-formed range that selects no byte."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None  # "bytes=-" is not a range
    if not first_text:  # "bytes=-N": the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid syntax: ignored, as RFC 9110 asks
    if first >= size:
        raise Unsatisfiable
    last = min(int(last_text), size - 1) if last_text else size - 1
    return first, last


def _read(handle: IO[bytes], first: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(CHUNK_SIZE, length))
            if not chunk:
                break  # the file shrank under us: the client sees a short body, not garbage
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _etag(name: str, size: int, modified: datetime | None) -> str:
    stamp = modified.timestamp() if modified is not None else ""
    digest = hashlib.blake2b(f"{name}\0{size}\0{stamp}".encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def _if_range_matches(value: str, etag: str, last_modified: str | None) -> bool:
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # a strong comparison: a weak tag never matches
    return last_modified is not None and value == last_modified


def stored_file_response(
    request: HttpRequest,
    storage: Storage,
    name: str,
    *,
    as_attachment: bool = False,
    filename: str | None = None,
    content_type: str | None = None,
) -> HttpResponseBase:
    """The file `name` of `storage`, whole (200) or the one range asked for (206), with
    `Accept-Ranges`, an ETag, Last-Modified and a Content-Disposition carrying `filename`
    (the stored name's last part unless given). Raises what `storage.open` raises for a
    missing file. The type comes from `content_type` or from the stored name's extension,
    never from whoever uploaded the file."""
    handle = storage.open(name, "rb")
    try:
        size = storage.size(name)
        try:
            modified: datetime | None = storage.get_modified_time(name)
        except (NotImplementedError, OSError):
            modified = None
    except BaseException:
        handle.close()
        raise
    if content_type is None:
        guessed, encoding = mimetypes.guess_type(name)
        content_type = guessed if guessed and encoding is None else "application/octet-stream"
    etag = _etag(name, size, modified)
    last_modified = http_date(modified.timestamp()) if modified is not None else None

    wanted: tuple[int, int] | None = None
    unsatisfiable = False
    header = request.headers.get("Range", "")
    if header and request.method in ("GET", "HEAD"):
        if_range = request.headers.get("If-Range")
        if if_range is None or _if_range_matches(if_range, etag, last_modified):
            try:
                wanted = parse_range(header, size)
            except Unsatisfiable:
                unsatisfiable = True

    response: HttpResponseBase
    if unsatisfiable:
        handle.close()
        response = HttpResponse(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
    elif wanted is not None:
        first, last = wanted
        length = last - first + 1
        response = StreamingHttpResponse(
            _read(handle, first, length), status=206, content_type=content_type
        )
        response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        response.headers["Content-Length"] = str(length)
    else:
        response = StreamingHttpResponse(_read(handle, 0, size), content_type=content_type)
        response.headers["Content-Length"] = str(size)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    if last_modified is not None:
        response.headers["Last-Modified"] = last_modified
    if response.status_code != 416:
        shown = filename or name.rsplit("/", 1)[-1]
        disposition = content_disposition_header(as_attachment, shown)
        if disposition:
            response.headers["Content-Disposition"] = disposition
    return response
