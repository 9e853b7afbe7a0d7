"""Byte ranges and file names on the media view (`elementsite.ranged_files`): what a
`<video>` element sends to seek, and what a download needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.test import Client

from elements.media_urls import media_url
from elementsite.ranged_files import Unsatisfiable, parse_range
from tests.factories import UserFactory

# Every byte value, so a slice taken from the wrong offset can't pass by accident.
VIDEO = bytes(range(256)) * 40  # 10,240 bytes
SIZE = len(VIDEO)

pytestmark = pytest.mark.django_db


@pytest.fixture
def video() -> Iterator[tuple[Client, str, str]]:
    """A logged-in owner's client, the media URL of their 'clip.mp4', and its stored name."""
    assert isinstance(default_storage, FileSystemStorage)
    owner = UserFactory()
    name = default_storage.save(f"ranges-{uuid.uuid4().hex}/clip.mp4", ContentFile(VIDEO))
    client = Client()
    client.force_login(owner)
    yield client, media_url(name, owner_id=owner.pk), name
    default_storage.delete(name)
    default_storage.delete(name.rsplit("/", 1)[0])


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes: what a player asks for to read the header
        ("bytes=4000-4999", 4000, 4999),  # the middle: a seek
        ("bytes=5000-", 5000, SIZE - 1),  # from a point to the end
        ("bytes=-300", SIZE - 300, SIZE - 1),  # the suffix: where an MP4 may keep its index
        ("bytes=10000-99999", 10000, SIZE - 1),  # a last byte past the end is cut to the end
        ("bytes=-99999", 0, SIZE - 1),  # a suffix longer than the file is the whole file
    ],
)
def test_a_range_answers_206_with_exactly_those_bytes(
    video: tuple[Client, str, str], header: str, first: int, last: int
) -> None:
    client, url, _ = video

    response = client.get(url, headers={"Range": header})

    assert response.status_code == 206
    assert body(response) == VIDEO[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"].startswith("private, max-age=")


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0"])
def test_a_range_outside_the_file_is_416_with_the_size_and_no_bytes(
    video: tuple[Client, str, str], header: str
) -> None:
    client, url, _ = video

    response = client.get(url, headers={"Range": header})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response.content == b""


@pytest.mark.parametrize(
    "header", ["bytes=0-9,20-29", "items=0-9", "bytes=50-10", "bytes=-", "bytes=a-b"]
)
def test_several_ranges_or_a_malformed_header_get_the_whole_file(
    video: tuple[Client, str, str], header: str
) -> None:
    client, url, _ = video

    response = client.get(url, headers={"Range": header})

    assert response.status_code == 200
    assert body(response) == VIDEO
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert "Content-Range" not in response


def test_if_range_with_the_current_etag_gets_the_range_and_a_stale_one_the_whole_file(
    video: tuple[Client, str, str],
) -> None:
    client, url, _ = video
    whole = client.get(url)
    etag, last_modified = whole["ETag"], whole["Last-Modified"]
    body(whole)

    current = client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    by_date = client.get(url, headers={"Range": "bytes=10-19", "If-Range": last_modified})
    stale = client.get(url, headers={"Range": "bytes=10-19", "If-Range": '"another-file"'})
    weak = client.get(url, headers={"Range": "bytes=10-19", "If-Range": "W/" + etag})

    assert current.status_code == 206 and body(current) == VIDEO[10:20]
    assert by_date.status_code == 206 and body(by_date) == VIDEO[10:20]
    assert stale.status_code == 200 and body(stale) == VIDEO
    assert weak.status_code == 200 and body(weak) == VIDEO


def test_a_download_is_an_attachment_with_the_file_name(video: tuple[Client, str, str]) -> None:
    client, url, _ = video

    shown = client.get(url)
    saved = client.get(url + "?download=1", headers={"Range": "bytes=0-9"})

    assert shown["Content-Disposition"] == 'inline; filename="clip.mp4"'
    assert body(shown) == VIDEO
    assert saved["Content-Disposition"] == 'attachment; filename="clip.mp4"'
    assert saved.status_code == 206 and body(saved) == VIDEO[:10]


def test_a_range_on_another_users_file_is_the_same_bare_404(
    video: tuple[Client, str, str],
) -> None:
    _, url, _ = video
    stranger = Client()
    stranger.force_login(UserFactory())

    response = stranger.get(url, headers={"Range": "bytes=0-99"})

    assert response.status_code == 404
    assert VIDEO[:100] not in response.content


def test_a_file_that_shrank_after_the_headers_gives_a_short_body_not_other_bytes(
    video: tuple[Client, str, str],
) -> None:
    client, url, name = video
    response = client.get(url, headers={"Range": "bytes=100-199"})

    # the file is cut to 150 bytes after the response was made, before its body is read
    with open(default_storage.path(name), "r+b") as handle:
        handle.truncate(150)

    assert response.status_code == 206
    assert body(response) == VIDEO[100:150]


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 1, (0, 0)),
        ("bytes = 3 - 5", 10, (3, 5)),
        ("BYTES=3-", 10, (3, 9)),
        ("bytes=-1", 10, (9, 9)),
        ("", 10, None),
        ("bytes=0-1, 3-4", 10, None),
        ("bytes=5-4", 10, None),
    ],
)
def test_parse_range(header: str, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=0-", 0), ("bytes=-5", 0), ("bytes=10-", 10)])
def test_parse_range_refuses_a_range_with_no_byte_in_it(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)
