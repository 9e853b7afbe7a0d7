"""Media URLs: signed, expiring, owner-checked links on local storage; presigned URLs on S3."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.test import Client, RequestFactory
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from accounts.services import api_token_create
from elements.media_urls import MEDIA_TOKEN_SALT, media_url
from elementsite.settings import s3_storage_options
from tests.factories import UserFactory

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
MP3_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> Iterator[Callable[[str, bytes], str]]:
    """Saves files through default_storage (the test media dir) under a folder of this
    test's own, and removes them and the folder afterwards."""
    assert isinstance(default_storage, FileSystemStorage)
    folder = f"media-urls-test-{uuid.uuid4().hex}"
    saved: list[str] = []

    def save(name: str, content: bytes) -> str:
        stored = default_storage.save(f"{folder}/{name}", ContentFile(content))
        saved.append(stored)
        return stored

    yield save
    for name in saved:
        default_storage.delete(name)
    root = Path(default_storage.path(folder))
    if root.is_dir():
        for path in sorted(root.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        root.rmdir()


def logged_in_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: Any) -> bytes:
    # Reading to the end closes the response (and the file) the way the test client wants:
    # an extra close() would fire request_finished and close the test's database connection.
    return b"".join(response.streaming_content)


def token_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[1])


def url_of(token: str) -> str:
    return f"/media-files/{urllib.parse.quote(token, safe=':')}"


def token_and_name(url: str) -> tuple[str, str]:
    token = token_of(url)
    return token, signing.loads(token, salt=MEDIA_TOKEN_SALT)["n"]


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ("elements-2026-12-06.png", "elements-2026-12-06.png"),
        ("../../etc/passwd.png", None),
        ("picture.exe", None),
        ('a"b.png', None),
    ],
)
def test_a_download_carries_a_plain_name_it_asks_for(store: Any, asked: str, shown: Any) -> None:
    # given
    owner = UserFactory()
    name = store("picture.png", PNG_BYTES)
    url = media_url(name, owner_id=owner.pk)

    # when
    response = logged_in_client(owner).get(url, {"download": "1", "as": asked})

    # then: a plain name with the stored extension, else the stored name
    assert response.status_code == 200
    expected = shown or name.rsplit("/", 1)[1]
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'


def test_owner_fetches_the_exact_bytes_with_the_type_from_the_extension(store: Any) -> None:
    # given
    owner = UserFactory()
    name = store("picture.png", PNG_BYTES)
    url = media_url(name, owner_id=owner.pk)

    # when
    response = logged_in_client(owner).get(url)

    # then
    assert response.status_code == 200
    assert body(response) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG_BYTES))
    assert response["Content-Disposition"] == f'inline; filename="{name.rsplit("/", 1)[1]}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"
    cache_control = response["Cache-Control"]
    assert cache_control.startswith("private, max-age=")
    assert 0 < int(cache_control.rsplit("=", 1)[1]) <= 900


def test_audio_gets_its_type_from_the_extension_too(store: Any) -> None:
    owner = UserFactory()
    name = store("voice.mp3", MP3_BYTES)

    response = logged_in_client(owner).get(media_url(name, owner_id=owner.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert body(response) == MP3_BYTES


def test_head_gives_the_headers_and_other_methods_are_refused(store: Any) -> None:
    owner = UserFactory()
    url = media_url(store("picture.png", PNG_BYTES), owner_id=owner.pk)
    client = logged_in_client(owner)

    head = client.head(url)
    assert head.status_code == 200
    assert head["Content-Type"] == "image/png"
    assert head["Content-Length"] == str(len(PNG_BYTES))
    assert body(head) == b""
    assert client.post(url).status_code == 405
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_owner_with_a_bearer_token_fetches_it(store: Any) -> None:
    owner = UserFactory()
    _, raw = api_token_create(user=owner, name="media test")
    url = media_url(store("picture.png", PNG_BYTES), owner_id=owner.pk)

    response = Client().get(url, headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert body(response) == PNG_BYTES


def test_another_user_and_anonymous_get_the_same_404_as_a_missing_file(store: Any) -> None:
    owner, stranger = UserFactory(), UserFactory()
    _, stranger_token = api_token_create(user=stranger, name="media test")
    url = media_url(store("picture.png", PNG_BYTES), owner_id=owner.pk)
    missing = media_url(store("gone.png", PNG_BYTES), owner_id=owner.pk)
    default_storage.delete(token_and_name(missing)[1])

    by_session = logged_in_client(stranger).get(url)
    by_token = Client().get(url, headers={"Authorization": f"Bearer {stranger_token}"})
    anonymous = Client().get(url)
    not_there = logged_in_client(owner).get(missing)

    for response in (by_session, by_token, anonymous, not_there):
        assert response.status_code == 404
        assert PNG_BYTES not in response.content
    assert by_session.content == anonymous.content == by_token.content == not_there.content


def test_a_deleted_file_is_404(store: Any) -> None:
    owner = UserFactory()
    name = store("picture.png", PNG_BYTES)
    url = media_url(name, owner_id=owner.pk)
    client = logged_in_client(owner)
    assert body(client.get(url)) == PNG_BYTES

    default_storage.delete(name)

    assert client.get(url).status_code == 404


def test_a_preset_is_readable_by_any_logged_in_user_but_not_anonymously(store: Any) -> None:
    first, second = UserFactory(), UserFactory()
    url = media_url(store("preset.mp3", MP3_BYTES), owner_id=None)

    for user in (first, second):
        response = logged_in_client(user).get(url)
        assert response.status_code == 200
        assert body(response) == MP3_BYTES
    assert Client().get(url).status_code == 404


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature"])
def test_a_tampered_token_is_404(store: Any, where: str) -> None:
    owner = UserFactory()
    token = token_of(media_url(store("picture.png", PNG_BYTES), owner_id=owner.pk))
    payload, timestamp, signature = token.rsplit(":", 2)
    part = {"payload": payload, "timestamp": timestamp, "signature": signature}[where]
    flipped = part[:-1] + ("A" if part[-1] != "A" else "B")
    parts = {"payload": payload, "timestamp": timestamp, "signature": signature, where: flipped}
    tampered = ":".join((parts["payload"], parts["timestamp"], parts["signature"]))

    assert logged_in_client(owner).get(url_of(tampered)).status_code == 404


def test_a_token_from_another_signing_context_or_another_owner_is_refused(store: Any) -> None:
    owner, stranger = UserFactory(), UserFactory()
    name = store("picture.png", PNG_BYTES)
    client = logged_in_client(stranger)

    # the right payload signed with the same key but without the media salt
    unsalted = signing.dumps({"n": name, "o": stranger.pk}, compress=True)
    # the owner's token with its payload swapped for one naming the stranger
    owner_token = token_of(media_url(name, owner_id=owner.pk))
    stranger_payload = signing.dumps(
        {"n": name, "o": stranger.pk}, salt=MEDIA_TOKEN_SALT, compress=True
    ).split(":", 1)[0]
    swapped = stranger_payload + ":" + owner_token.split(":", 1)[1]

    assert client.get(url_of(unsalted)).status_code == 404
    assert client.get(url_of(swapped)).status_code == 404


@pytest.mark.parametrize("name", ["../secret.png", "/etc/passwd", "a/../../b.png"])
def test_names_that_climb_out_of_the_media_root_are_refused(name: str) -> None:
    owner = UserFactory()
    # even signed with the right key and salt, which only the service can do
    forged = signing.dumps({"n": name, "o": owner.pk}, salt=MEDIA_TOKEN_SALT, compress=True)

    assert logged_in_client(owner).get(url_of(forged)).status_code == 404
    with pytest.raises(ValueError):
        media_url(name, owner_id=owner.pk)


def test_urls_are_not_guessable(store: Any) -> None:
    owner = UserFactory()
    first = store("elements/first-picture.png", PNG_BYTES)
    second = store("elements/second-picture.png", PNG_BYTES)

    url_one = media_url(first, owner_id=owner.pk)
    url_two = media_url(second, owner_id=owner.pk)

    for name, url in ((first, url_one), (second, url_two)):
        assert url.startswith("/media-files/")
        for clear in (name, urllib.parse.quote(name), Path(name).name, Path(name).stem):
            assert clear not in url
    # only the fixed prefix is shared; each link carries its own signature
    token_one, token_two = token_of(url_one), token_of(url_two)
    assert token_one != token_two
    assert token_one.rsplit(":", 1)[1] != token_two.rsplit(":", 1)[1]
    assert len(token_one.rsplit(":", 1)[1]) >= 40


def test_absolute_url_with_a_request(store: Any) -> None:
    owner = UserFactory()
    request = RequestFactory().get("/graphql")

    url = media_url(store("picture.png", PNG_BYTES), owner_id=owner.pk, request=request)

    assert url.startswith("http://testserver/media-files/")
    assert body(logged_in_client(owner).get(url)) == PNG_BYTES


def mint_at(monkeypatch: pytest.MonkeyPatch, moment: float, **kwargs: Any) -> str:
    """media_url as if called at `moment`: only the signer's clock is moved."""
    with monkeypatch.context() as patch:
        patch.setattr(signing, "time", SimpleNamespace(time=lambda: moment))
        return media_url(**kwargs)


def test_an_expired_link_is_403_and_says_so(
    store: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a one-second lifetime and a link minted ten seconds ago
    settings.MEDIA_URL_TTL = 1
    owner = UserFactory()
    name = store("picture.png", PNG_BYTES)
    old = mint_at(monkeypatch, time.time() - 10, name=name, owner_id=owner.pk)

    # when
    response = logged_in_client(owner).get(old)

    # then
    assert response.status_code == 403
    assert b"expired" in response.content
    assert b"fresh" in response.content
    assert PNG_BYTES not in response.content
    assert response["Content-Type"].startswith("text/plain")
    # a fresh link for the same file works
    assert body(logged_in_client(owner).get(media_url(name, owner_id=owner.pk))) == PNG_BYTES


def test_cache_lifetime_is_what_is_left_of_the_link(
    store: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MEDIA_URL_TTL = 900
    owner = UserFactory()
    url = mint_at(
        monkeypatch,
        time.time() - 600,
        name=store("picture.png", PNG_BYTES),
        owner_id=owner.pk,
    )

    response = logged_in_client(owner).get(url)

    assert response.status_code == 200
    max_age = int(response["Cache-Control"].rsplit("=", 1)[1])
    assert 295 <= max_age <= 300
    assert body(response) == PNG_BYTES


# --- S3 ---------------------------------------------------------------------------------------

BUCKET = "elementsite-media-urls"
REGION = "us-east-1"
# urllib would route 127.0.0.1 through a proxy named in the environment.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    """The AWS_* variables of a bucket on moto's S3 server on 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": "moto-access-key",
        "AWS_SECRET_ACCESS_KEY": "moto-secret-key",
        "AWS_QUERYSTRING_EXPIRE": "600",
    }
    try:
        boto3.client(
            "s3",
            endpoint_url=env["AWS_S3_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        ).create_bucket(Bucket=BUCKET)
        yield env
    finally:
        server.stop()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with NO_PROXY_OPENER.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_on_s3_the_url_is_presigned_and_fetches_the_bytes(
    s3_env: dict[str, str], settings: Any
) -> None:
    # given: S3 as the default storage, built with the service's own options (the settings
    # fixture sends setting_changed, which resets default_storage, on set and on teardown)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_storage_options(s3_env),
        },
    }
    assert isinstance(default_storage, S3Storage)
    owner = UserFactory()
    name = default_storage.save(f"voices/{uuid.uuid4().hex}.mp3", ContentFile(MP3_BYTES))
    try:
        # when
        url = media_url(name, owner_id=owner.pk, request=RequestFactory().get("/"))

        # then: a signed, expiring URL on the bucket's endpoint, not our view
        parsed = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parsed.query)
        assert url.startswith(s3_env["AWS_S3_ENDPOINT_URL"])
        assert "/media-files/" not in url
        assert query.get("X-Amz-Algorithm") == ["AWS4-HMAC-SHA256"], url
        assert query.get("X-Amz-Signature"), url
        assert query.get("X-Amz-Expires") == ["600"], url
        assert fetch(url) == (200, MP3_BYTES)
    finally:
        default_storage.delete(name)
    assert not default_storage.exists(name)
