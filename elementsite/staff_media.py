"""Staff-only streaming of stored media for the admin's previews (images, audio, video).

Files are read from `default_storage` by the names our services chose; nothing here is a
public path.
"""

from __future__ import annotations

import mimetypes

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponseBase

from elements.media_urls import is_safe_name
from elementsite.ranged_files import stored_file_response

# Previews are private to the browser that asked; a short life is enough for a page.
PREVIEW_CACHE_CONTROL = "private, max-age=300"


def content_type_of(name: str) -> str:
    content_type, encoding = mimetypes.guess_type(name)
    if content_type is None or encoding is not None:
        return "application/octet-stream"
    return content_type


def stream_stored_file(request: HttpRequest, name: str) -> HttpResponseBase:
    """The stored file `name`, inline, typed by the extension of the name we chose, with
    byte ranges (`elementsite.ranged_files`), which browsers need to seek in a video (Safari
    to play one)."""
    if not is_safe_name(name):
        raise Http404
    try:
        response = stored_file_response(
            request, default_storage, name, content_type=content_type_of(name)
        )
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404 from None
    response.headers["Cache-Control"] = PREVIEW_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
