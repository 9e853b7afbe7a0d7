"""Reading a bundle's zip without trusting it.

Every entry is checked before any is read: its name (relative, `/`-separated, already
normal: no `..`, no empty or `.` part, no backslash, no drive, no NUL, at most once in the
archive), its kind (a regular file or a folder: a symlink, device or fifo in the Unix mode
bits of `external_attr` is refused), no encryption, stored or deflated only, a ratio of
unpacked to packed size of at most `MAX_RATIO` per entry and for the whole archive, and a
sum of declared sizes under `ELEMENT_BUNDLE_MAX_UNPACKED_BYTES`. Reading an entry then
streams it under its declared size: an entry that unpacks to more than it declared (a
forged header) is refused as a zip bomb, one that gives less, or fails its CRC, as corrupt.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.conf import settings

from elements.bundles.errors import BundleErrorCode, bundle_error

MAX_RATIO = 100
MAX_ENTRIES = 10_000
CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def max_bundle_bytes() -> int:
    return int(settings.ELEMENT_BUNDLE_MAX_BYTES)


def max_unpacked_bytes() -> int:
    return int(settings.ELEMENT_BUNDLE_MAX_UNPACKED_BYTES)


def _unsafe(name: str) -> Exception:
    shown = name[:80].encode("unicode_escape").decode()
    return bundle_error(
        f"The bundle holds an entry named “{shown}”: entries must be relative paths inside "
        "the bundle, each once.",
        BundleErrorCode.BUNDLE_UNSAFE_PATH,
    )


def _corrupt(
    message: str = "The bundle is damaged or uses zip features we don't read.",
) -> Exception:
    return bundle_error(message, BundleErrorCode.BUNDLE_CORRUPT)


def _bomb(message: str) -> Exception:
    return bundle_error(message, BundleErrorCode.BUNDLE_ZIP_BOMB)


def _too_large(cap: int) -> Exception:
    from elements.media.errors import human_size

    return bundle_error(
        f"The bundle unpacks to more than {human_size(cap)}, the limit.",
        BundleErrorCode.BUNDLE_TOO_LARGE,
    )


def _safe_name(info: zipfile.ZipInfo) -> str:
    """The entry's name, or BUNDLE_UNSAFE_PATH. `info.orig_filename` is the raw name:
    zipfile already rewrote backslashes in `filename` on some platforms."""
    name = info.orig_filename
    folder = name.endswith("/")
    bare = name[:-1] if folder else name
    parts = bare.split("/")
    if (
        not bare
        or "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or _DRIVE.match(name)
        or any(part in ("", ".", "..") for part in parts)
        or posixpath.normpath(bare) != bare
        or not name.isprintable()
    ):
        raise _unsafe(name)
    return name


def _check_kind(info: zipfile.ZipInfo, name: str) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise bundle_error(
            f"The bundle holds a symbolic link (“{name[:80]}”): bundles hold files only.",
            BundleErrorCode.BUNDLE_SYMLINK,
        )
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise _unsafe(name)


class Bundle:
    """An opened, checked bundle: `names` are its files (folders left out)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.unpacked = 0
        self._check()

    def _check(self) -> None:
        infos = self.archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _corrupt(f"The bundle holds more than {MAX_ENTRIES} entries.")
        seen: set[str] = set()
        declared = packed = 0
        cap = max_unpacked_bytes()
        for info in infos:
            name = _safe_name(info)
            if name.rstrip("/").lower() in seen:
                raise _unsafe(name)
            seen.add(name.rstrip("/").lower())
            _check_kind(info, name)
            if info.flag_bits & 0x1:
                raise _corrupt("The bundle is encrypted: export it again without a password.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _corrupt()
            if info.is_dir():
                continue
            if info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _bomb(
                    f"The entry “{name[:80]}” unpacks to more than {MAX_RATIO} times its "
                    "packed size: refused as a zip bomb."
                )
            declared += info.file_size
            packed += info.compress_size
            if declared > cap:
                raise _too_large(cap)
            self.entries[name] = info
        if declared > MAX_RATIO * max(packed, 1):
            raise _bomb(
                f"The bundle unpacks to more than {MAX_RATIO} times its size: refused as a "
                "zip bomb."
            )

    @property
    def names(self) -> set[str]:
        return set(self.entries)

    def size(self, name: str) -> int:
        return self.entries[name].file_size

    def read(self, name: str) -> bytes:
        """The entry's bytes, streamed under its declared size and the archive's cap."""
        info = self.entries[name]
        cap = max_unpacked_bytes()
        chunks: list[bytes] = []
        total = 0
        try:
            with self.archive.open(info) as handle:
                while True:
                    # zipfile stops at the declared size itself; one byte more is asked to
                    # catch a reader that would not.
                    chunk = handle.read(min(CHUNK, info.file_size + 1 - total))
                    if not chunk:
                        break
                    total += len(chunk)
                    self.unpacked += len(chunk)
                    if total > info.file_size:
                        raise _bomb(
                            f"The entry “{name[:80]}” unpacks to more than it declares: "
                            "refused as a zip bomb."
                        )
                    if self.unpacked > cap:
                        raise _too_large(cap)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise _corrupt() from None
        if total != info.file_size:
            raise _corrupt()
        return b"".join(chunks)


def _declared_size(upload: Any) -> int | None:
    size = getattr(upload, "size", None)
    return size if isinstance(size, int) else None


@contextmanager
def open_bundle(upload: IO[bytes] | Any) -> Iterator[Bundle]:
    """The bundle in `upload` (a seekable file: Django's UploadedFile, an open file), checked;
    BUNDLE_TOO_LARGE over `ELEMENT_BUNDLE_MAX_BYTES`, BUNDLE_NOT_A_ZIP for anything else."""
    cap = max_bundle_bytes()
    size = _declared_size(upload)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > cap:
        from elements.media.errors import human_size

        raise bundle_error(
            f"The bundle is larger than {human_size(cap)}, the limit.",
            BundleErrorCode.BUNDLE_TOO_LARGE,
        )
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError):
        raise bundle_error(
            "This file is not a bundle: upload the .zip an element export made.",
            BundleErrorCode.BUNDLE_NOT_A_ZIP,
        ) from None
    with archive:
        yield Bundle(archive)
