"""URLs of stored media (reference images, thumbnails, voices) that are neither guessable nor
public.

Two ways, chosen by the class of `default_storage`:

- **Local storage** (`FileSystemStorage`, or Django's `InMemoryStorage`): nothing under
  `MEDIA_ROOT` is served as is. `media_url` hands out the address of the `media-file` view
  with one path segment, a token signed with `SECRET_KEY` (salt `elements.media`) over the
  storage name and the id of the user who may read it (`None`: a shared preset any logged-in
  user may read). The view checks the signature, the age (`MEDIA_URL_TTL` seconds) and that
  the requesting user is that owner. The token is signed, not encrypted: the storage name can
  be decoded from it, but not changed, so it reveals nothing the owner does not already have
  and grants nothing beyond that one file for that one user.
  A file of an element or a voice (which may be a team's) is signed for the user who asked,
  with the element's or voice's id: the view asks the access policy again on every request
  (`elements.teams.policy`: VIEW for an element's images and clip, DOWNLOAD_VOICE for a
  voice's audio), so a member removed from the team can't use a link they were given before.
- **Any other storage** (S3 through django-storages): `default_storage.url(name)`, a
  presigned URL that expires after `AWS_QUERYSTRING_EXPIRE` seconds. A presigned URL is a
  bearer URL: whoever holds it can fetch the object until it expires, and S3 knows nothing
  of our users. Access is therefore enforced *before* a URL is made: callers (the GraphQL
  types and selectors, scoped by the access policy) only ever pass names of files the
  requesting user may read now (their own, their team's: VIEW for images and clips,
  DOWNLOAD_VOICE for a voice's audio), or presets. `owner_id`, `element_id` and `voice_id`
  are not checked on this path, and a member removed from a team keeps a presigned URL until
  it expires (`AWS_QUERYSTRING_EXPIRE`: keep it short); never call `media_url` for a file the
  caller may not read.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage, default_storage
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

# A namespace for the signatures, not a secret: the secret is SECRET_KEY.
MEDIA_TOKEN_SALT = "elements.media"  # noqa: S105


class MediaTokenExpired(Exception):
    """The token was ours and valid, but is older than `MEDIA_URL_TTL`."""


class MediaTokenInvalid(Exception):
    """The token was not signed by us for media, or does not hold a usable name."""


@dataclasses.dataclass(frozen=True)
class MediaGrant:
    """What a valid token allows: reading `name` as `owner_id` (None: any logged-in user)."""

    name: str
    owner_id: int | None
    expires_in: int
    # The element or voice the file belongs to: the view checks the policy on it again.
    element_id: int | None = None
    voice_id: int | None = None


def media_url_ttl() -> int:
    return int(settings.MEDIA_URL_TTL)


def is_safe_name(name: object) -> bool:
    """A relative storage name with no way up the tree. Storage names are ours (services
    choose them), so anything else is refused rather than cleaned."""
    return (
        isinstance(name, str)
        and bool(name)
        and ".." not in name
        and not name.startswith(("/", "\\"))
        and "\x00" not in name
    )


def served_by_view(storage: Storage) -> bool:
    """Storages with no access control of their own: their files go through `media-file`."""
    return isinstance(storage, FileSystemStorage | InMemoryStorage)


# A listing signs a few URLs per row, so the per-URL work below is kept to the signature:
# the signer is made once per key, and the path in front of the token once per URLconf.


@functools.lru_cache(maxsize=4)
def _signer(key: str) -> signing.TimestampSigner:
    # What `signing.dumps(..., salt=MEDIA_TOKEN_SALT)` builds on every call; keyed by the key,
    # so a changed SECRET_KEY takes effect.
    return signing.TimestampSigner(key=key, salt=MEDIA_TOKEN_SALT)


# Every character a token can hold (URL-safe base64, the `.` of a compressed payload, the
# `:` between the parts): all left as they are by `reverse()` and by `iri_to_uri()`. The
# probe is a made-up token with one of each kind, not a secret.
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.:]+")
_PROBE_TOKEN = ".Probe-09_:Az"  # noqa: S105


@functools.lru_cache(maxsize=16)
def _path_prefix(urlconf: str, script_prefix: str) -> str | None:
    """What `reverse("media-file", …)` puts in front of the token, or None if that URL
    doesn't end with the token as given (then each URL goes through `reverse()`)."""
    probe = reverse("media-file", urlconf=urlconf, kwargs={"token": _PROBE_TOKEN})
    return probe.removesuffix(_PROBE_TOKEN) if probe.endswith("/" + _PROBE_TOKEN) else None


def _media_path(token: str) -> str:
    """`reverse("media-file", kwargs={"token": token})`, without resolving it each time."""
    # The cache is keyed by what reverse() depends on: the URLconf (the thread's, set per
    # request, or the setting) and the script prefix.
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    prefix = _path_prefix(urlconf, get_script_prefix())
    if prefix is None or not _TOKEN_CHARS.fullmatch(token):
        return reverse("media-file", urlconf=urlconf, kwargs={"token": token})
    return prefix + token


def media_url(
    name: str,
    *,
    owner_id: int | None,
    request: HttpRequest | None = None,
    element_id: int | None = None,
    voice_id: int | None = None,
) -> str:
    """The URL at which `owner_id` (None: any logged-in user, for presets) can read the file
    `name` of `default_storage`, for a limited time. Absolute when `request` is given (a
    presigned S3 URL always is). With `element_id` (an image or clip of that element) or
    `voice_id` (that voice's audio), the view also asks the access policy whether the user
    may still see the element / download the voice: pass them for every file of a library."""
    if not is_safe_name(name):
        raise ValueError(f"not a storage name media URLs are made for: {name!r}")
    if not served_by_view(default_storage):
        if getattr(default_storage, "querystring_auth", True) is False:
            # A plain object URL would be public and permanent.
            raise ImproperlyConfigured("Media storage must presign its URLs (querystring_auth).")
        return default_storage.url(name)
    # The same token as signing.dumps({...}, salt=MEDIA_TOKEN_SALT, compress=True).
    payload: dict[str, object] = {"n": name, "o": owner_id}
    if element_id is not None:
        payload["e"] = element_id
    if voice_id is not None:
        payload["v"] = voice_id
    token = _signer(settings.SECRET_KEY).sign_object(payload, compress=True)
    path = _media_path(token)
    return request.build_absolute_uri(path) if request is not None else path


def read_media_token(token: str) -> MediaGrant:
    """The grant in a token made by `media_url`. Raises `MediaTokenExpired` for a genuine but
    old token and `MediaTokenInvalid` for anything else."""
    ttl = media_url_ttl()
    try:
        payload = signing.loads(token, salt=MEDIA_TOKEN_SALT, max_age=ttl)
    except signing.SignatureExpired as exc:
        raise MediaTokenExpired from exc
    except (signing.BadSignature, ValueError) as exc:
        # ValueError: a signature that checks out over a payload that doesn't decode, which
        # only a holder of SECRET_KEY could make; refused all the same.
        raise MediaTokenInvalid from exc
    if not isinstance(payload, dict):
        raise MediaTokenInvalid
    name, owner_id = payload.get("n"), payload.get("o")
    element_id, voice_id = payload.get("e"), payload.get("v")
    if not is_safe_name(name) or not all(
        key is None or type(key) is int for key in (owner_id, element_id, voice_id)
    ):
        raise MediaTokenInvalid
    assert isinstance(name, str)
    # A TimestampSigner value is `payload:timestamp:signature`; loads() checked all three.
    issued_at = signing.b62_decode(token.rsplit(":", 2)[1])
    expires_in = max(0, min(ttl, int(issued_at + ttl - time.time())))
    return MediaGrant(
        name=name,
        owner_id=owner_id,
        expires_in=expires_in,
        element_id=element_id,  # type: ignore[arg-type]
        voice_id=voice_id,  # type: ignore[arg-type]
    )
