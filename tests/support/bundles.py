"""Bundles made in the tests: a real export of a small library, and the same bundle taken
apart and put back together with one thing wrong (`rebuild`)."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Callable
from typing import Any

from elements import services as element_services
from elements.bundles.export import exportable_elements, write_bundle
from elements.bundles.library import personal_library
from tests.support.elements import CONSENT
from tests.support.media import audio_upload, image_upload

Entries = dict[str, bytes]


def make_character(owner: Any, name: str, *, color: tuple[int, int, int] = (200, 80, 40)) -> Any:
    """A character with a main image, one extra and its own voice, through the services."""
    return element_services.element_create(
        owner=owner,
        name=name,
        element_type="character",
        main_image=image_upload(color=color),
        extra_images=[image_upload(color=(color[2], color[1], color[0]))],
        voice_upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6), name=f"{name} voice", consent_statement=CONSENT
        ),
    ).element


def export_bytes(owner: Any, ids: list[int] | None = None) -> bytes:
    """The bundle of the owner's elements (all usable ones when `ids` is None)."""
    library = personal_library(owner)
    buffer = io.BytesIO()
    write_bundle(exportable_elements(library, ids), buffer, include_voice_files=True)
    return buffer.getvalue()


def entries(bundle: bytes) -> Entries:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def manifest_of(bundle: bytes) -> dict[str, Any]:
    return json.loads(entries(bundle)["manifest.json"])


def zip_of(files: Entries, *, deflate: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, method)
    return buffer.getvalue()


def rebuild(
    bundle: bytes,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    files: Callable[[Entries], None] | None = None,
) -> bytes:
    """The bundle with its manifest (a dict, changed in place) and files (a dict of name to
    bytes, changed in place) edited, re-zipped."""
    found = entries(bundle)
    data = json.loads(found.pop("manifest.json"))
    if manifest is not None:
        manifest(data)
    if files is not None:
        files(found)
    return zip_of({**found, "manifest.json": json.dumps(data).encode()})


def with_entry(
    bundle: bytes, info: zipfile.ZipInfo, data: bytes, method: int = zipfile.ZIP_STORED
) -> bytes:
    """The bundle with one more entry, written exactly as `info` says."""
    buffer = io.BytesIO(bundle)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(info, data, method)
    return buffer.getvalue()
