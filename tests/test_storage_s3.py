"""Media through the S3 backend, against moto's S3 server on 127.0.0.1: a real S3 API over
HTTP, so the request signing, the presigned URL and the name handling are django-storages'
and botocore's own, not an in-process mock's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from elementsite.settings import s3_storage_options

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "elementsite-media"
REGION = "us-east-1"
ACCESS_KEY = "moto-access-key"
SECRET_KEY = "moto-secret-key"

# urllib would route 127.0.0.1 through a proxy named in the environment.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_QUERYSTRING_EXPIRE": "600",
    }


def media_storage_from_settings(env: dict[str, str]) -> dict:
    """STORAGES["default"] as elementsite.settings builds it from `env`, read in a fresh
    interpreter so this process's configured settings stay as they are."""
    script = "import json, elementsite.settings as s; print(json.dumps(s.STORAGES['default']))"
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "DJANGO_SETTINGS_MODULE"
    }
    child_env.update(env, DEBUG="1")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with NO_PROXY_OPENER.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_settings_choose_s3_with_the_shared_options(s3_endpoint: str) -> None:
    env = s3_env(s3_endpoint)

    media = media_storage_from_settings(env)

    assert media["BACKEND"] == "storages.backends.s3.S3Storage"
    assert media["OPTIONS"] == s3_storage_options(env)
    assert media["OPTIONS"]["file_overwrite"] is False
    assert media["OPTIONS"]["querystring_auth"] is True


def test_media_file_round_trip_through_s3(s3_endpoint: str) -> None:
    # given: the storage the service would build from these variables
    options = media_storage_from_settings(s3_env(s3_endpoint))["OPTIONS"]
    storage = S3Storage(**options)
    payload = b"\x89PNG\r\n\x1a\n not really a picture, but bytes all the same"

    # when: a file is saved, then another one under the same name
    first = storage.save("elements/ref/picture.png", ContentFile(payload))
    second = storage.save("elements/ref/picture.png", ContentFile(b"another upload"))

    # then: the second upload got a name of its own and the first is intact
    assert first == "elements/ref/picture.png"
    assert second != first
    assert second.startswith("elements/ref/picture") and second.endswith(".png")
    assert storage.exists(first) and storage.exists(second)
    with storage.open(first, "rb") as handle:
        assert handle.read() == payload
    assert storage.size(first) == len(payload)

    # a presigned URL: signed, expiring, and served over HTTP by the S3 server
    url = storage.url(first)
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query)
    assert url.startswith(s3_endpoint)
    # Signature Version 4 (moto's server serves it without checking the signature)
    assert query.get("X-Amz-Algorithm") == ["AWS4-HMAC-SHA256"], url
    assert query.get("X-Amz-Signature"), url
    assert query.get("X-Amz-Expires") == [str(options["querystring_expire"])], url
    assert fetch(url) == (200, payload)

    # deleting removes the object
    storage.delete(first)
    storage.delete(second)
    assert not storage.exists(first)
    assert not storage.exists(second)
    status, _ = fetch(storage.url(first))
    assert status == 404
