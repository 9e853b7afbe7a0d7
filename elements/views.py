"""The one view that serves media from local storage (see `elements.media_urls`)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from elements.media_urls import (
    MediaGrant,
    MediaTokenExpired,
    MediaTokenInvalid,
    read_media_token,
)
from elements.models import Element, Voice
from elements.teams.policy import Action, allowed
from elementsite.ranged_files import stored_file_response


@require_safe
def media_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stream the file a `media_url` token names, to its owner (any logged-in user for a
    preset).

    A bad token, an anonymous caller, another user, and a missing file all get the same bare
    404: "not found" and "not yours" look alike, and an anonymous caller learns nothing
    either, even about presets. Only a genuine token past its age gets a 403 that says so,
    so the client knows to ask for a fresh URL rather than give up.

    Byte ranges are served (a video can be seeked, a download resumed), and the file name
    is the stored one's; `?download=1` asks the browser to save the file instead of showing
    it, and `?as=name.ext` names the saved file (letters, digits, `.`, `-`, `_`; the stored
    extension kept; anything else ignored): the token, not the name, grants the file.
    """
    try:
        grant = read_media_token(token)
    except MediaTokenExpired:
        expired = HttpResponseForbidden(
            "This media link has expired; ask for a fresh one.\n",
            content_type="text/plain; charset=utf-8",
        )
        expired.headers["Cache-Control"] = "no-store"
        return expired
    except MediaTokenInvalid:
        raise Http404 from None

    user = request.user
    if not user.is_authenticated:
        raise Http404
    if grant.owner_id is not None and user.pk != grant.owner_id:
        raise Http404
    if not _still_allowed(user, grant):
        raise Http404

    try:
        # The type comes from the extension of the name we stored, never from the uploader.
        response = stored_file_response(
            request,
            default_storage,
            grant.name,
            as_attachment=request.GET.get("download") == "1",
            filename=_shown_name(request.GET.get("as", ""), grant.name),
        )
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        raise Http404 from None
    response.headers["Cache-Control"] = f"private, max-age={grant.expires_in}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _still_allowed(user: Any, grant: MediaGrant) -> bool:
    """The policy, asked again now: the link was made for a member who may since have left
    the team, or lost the role that let them download the voice."""
    if grant.element_id is not None:
        element = Element.objects.filter(pk=grant.element_id).only("owner_id", "team_id").first()
        if not allowed(user, element, Action.VIEW):
            return False
    if grant.voice_id is not None:
        voice = Voice.objects.filter(pk=grant.voice_id).only("owner_id", "team_id").first()
        if not allowed(user, voice, Action.DOWNLOAD_VOICE):
            return False
    return True


_SHOWN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _shown_name(asked: str, stored: str) -> str | None:
    """The file name a link asks the download to carry, if it is a plain one with the
    stored file's extension."""
    if not _SHOWN_NAME.fullmatch(asked):
        return None
    return asked if PurePosixPath(asked).suffix == PurePosixPath(stored).suffix else None
