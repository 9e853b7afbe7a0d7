"""What Kling calls on our side: task callbacks (hints) and the media it fetches."""

from __future__ import annotations

import json
import logging
import mimetypes
from pathlib import PurePosixPath

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from generation.models import GenerationJob

logger = logging.getLogger("generation.kling")


@csrf_exempt
@require_POST
def kling_callback(request: HttpRequest, token: str) -> HttpResponse:
    """A status change Kling reports. Never believed: it only wakes the job's poll, which
    fetches the task again. A bad token, a body that is not JSON, or a `task_id` that is not
    the one of the job the token names is logged and ignored. The answer is always 204, so
    a caller learns nothing from it."""
    from generation.providers.kling.urls import read_callback_token

    try:
        kind, key = read_callback_token(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        logger.warning("kling callback ignored: bad token from %s", request.META.get("REMOTE_ADDR"))
        return HttpResponse(status=204)
    try:
        body = json.loads(request.body or b"{}")
        task_id = str(body.get("task_id") or "")
    except (ValueError, AttributeError):
        logger.warning("kling callback ignored: body is not a JSON object (%s %s)", kind, key)
        return HttpResponse(status=204)
    if kind != "job":
        logger.info("kling callback for %s %s: polling covers it", kind, key)
        return HttpResponse(status=204)
    updated = GenerationJob.objects.filter(
        pk=key, provider="kling", provider_task_id=task_id
    ).exclude(provider_task_id="")
    if not updated.update(provider_hint_at=timezone.now()):
        logger.warning("kling callback ignored: unknown task %r for job %s", task_id[:80], key)
    return HttpResponse(status=204)


@require_safe
def kling_media(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    """A stored file Kling fetches (a voice sample, an element's clip, an input video), by a
    signed token that names it and expires, then `file.<its extension>` (Kling reads the
    format from the URL); anything else is a bare 404."""
    from generation.providers.kling.urls import read_media_token

    try:
        name = read_media_token(token)
        if filename != "file" + PurePosixPath(name).suffix.lower():
            raise Http404
        handle = default_storage.open(name, "rb")
    except (signing.BadSignature, OSError, ValueError):
        raise Http404 from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)
