"""Stable error codes of bundles (export and import).

Media refused inside a bundle keep their own codes (`elements.media.errors`), under the
field of the file (`elements.3.images.1`); the tier's limit is `ELEMENT_LIMIT_REACHED`.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError

from elementsite.errors import field_error


class BundleErrorCode(StrEnum):
    # The file as a whole.
    BUNDLE_NOT_A_ZIP = "BUNDLE_NOT_A_ZIP"
    BUNDLE_CORRUPT = "BUNDLE_CORRUPT"
    BUNDLE_TOO_LARGE = "BUNDLE_TOO_LARGE"
    BUNDLE_ZIP_BOMB = "BUNDLE_ZIP_BOMB"
    BUNDLE_UNSAFE_PATH = "BUNDLE_UNSAFE_PATH"
    BUNDLE_SYMLINK = "BUNDLE_SYMLINK"
    # The manifest.
    BUNDLE_MANIFEST_MISSING = "BUNDLE_MANIFEST_MISSING"
    BUNDLE_MANIFEST_TOO_LARGE = "BUNDLE_MANIFEST_TOO_LARGE"
    BUNDLE_MANIFEST_INVALID = "BUNDLE_MANIFEST_INVALID"
    BUNDLE_UNKNOWN_VERSION = "BUNDLE_UNKNOWN_VERSION"
    BUNDLE_DUPLICATE_NAME = "BUNDLE_DUPLICATE_NAME"
    # The manifest against the files.
    BUNDLE_FILE_MISSING = "BUNDLE_FILE_MISSING"
    BUNDLE_FILE_UNEXPECTED = "BUNDLE_FILE_UNEXPECTED"
    BUNDLE_CHECKSUM_MISMATCH = "BUNDLE_CHECKSUM_MISMATCH"
    # Exports.
    EXPORT_NOTHING_SELECTED = "EXPORT_NOTHING_SELECTED"
    ELEMENT_NOT_EXPORTABLE = "ELEMENT_NOT_EXPORTABLE"
    EXPORT_FAILED = "EXPORT_FAILED"


def bundle_error(
    message: str, code: BundleErrorCode, field: str | None = "bundle"
) -> ValidationError:
    """A refusal of the bundle (or of one of its parts, `field`), with its code on the inner
    error so it reaches the client."""
    return field_error(field, message, code)
