"""The bundle format: `manifest.json` and the files it lists (README.md, "Portable bundles").

Version 1. The manifest is described by `manifest.schema.json` (JSON Schema 2020-12) and
checked against it with `jsonschema` before anything in it is used. A reader refuses any
other `formatVersion` (BUNDLE_UNKNOWN_VERSION): a newer exporter's bundle is never read
half-way.

Layout of a bundle:

    manifest.json
    elements/<nnnn>/<position>.<jpg|png>   the reference images, as stored
    voices/<key>.wav                        the bound voices' normalized samples

Voices are listed once and referenced by `key` from each element bound to them, so two
characters sharing a voice stay sharing one after an import.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from elements.bundles.errors import BundleErrorCode, bundle_error

FORMAT_NAME = "elementsite-element-bundle"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MANIFEST_MAX_BYTES = 1024 * 1024
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")


@dataclass(frozen=True)
class ManifestImage:
    role: str
    position: int
    file: str
    sha256: str
    origin: str = "upload"
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ManifestVoice:
    key: str
    name: str
    source: str
    consent_statement: str
    file: str | None
    sha256: str | None
    language: str = ""
    style_tags: tuple[str, ...] = ()
    consent_at: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True)
class ManifestElement:
    name: str
    type: str
    description: str
    images: tuple[ManifestImage, ...]
    voice: str | None
    version: int | None = None


@dataclass(frozen=True)
class Manifest:
    exported_at: str
    includes_voice_files: bool
    elements: tuple[ManifestElement, ...]
    voices: tuple[ManifestVoice, ...]

    def files(self) -> dict[str, str]:
        """Every file the manifest lists, with its SHA-256."""
        listed = {image.file: image.sha256 for e in self.elements for image in e.images}
        listed.update({v.file: v.sha256 for v in self.voices if v.file and v.sha256})
        return listed

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "formatVersion": FORMAT_VERSION,
            "exportedAt": self.exported_at,
            "includesVoiceFiles": self.includes_voice_files,
            "elements": [
                {
                    "name": e.name,
                    "type": e.type,
                    "description": e.description,
                    "version": e.version,
                    "images": [
                        {
                            "role": i.role,
                            "position": i.position,
                            "origin": i.origin,
                            "file": i.file,
                            "sha256": i.sha256,
                            "width": i.width,
                            "height": i.height,
                        }
                        for i in e.images
                    ],
                    "voice": e.voice,
                }
                for e in self.elements
            ],
            "voices": [
                {
                    "key": v.key,
                    "name": v.name,
                    "source": v.source,
                    "language": v.language,
                    "styleTags": list(v.style_tags),
                    "consentStatement": v.consent_statement,
                    "consentAt": v.consent_at,
                    "durationMs": v.duration_ms,
                    "file": v.file,
                    "sha256": v.sha256,
                }
                for v in self.voices
            ],
        }

    def dumps(self) -> bytes:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=1).encode()


def timestamp(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _invalid(message: str) -> Exception:
    return bundle_error(
        f"The bundle's manifest is not valid: {message}", BundleErrorCode.BUNDLE_MANIFEST_INVALID
    )


def _where(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(part) for part in error.absolute_path)
    return f"at /{path}: " if path else ""


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in `data` (UTF-8 JSON), checked against the schema; refused with
    BUNDLE_MANIFEST_TOO_LARGE, BUNDLE_MANIFEST_INVALID or BUNDLE_UNKNOWN_VERSION."""
    if len(data) > MANIFEST_MAX_BYTES:
        raise bundle_error(
            "The bundle's manifest is over 1 MB.", BundleErrorCode.BUNDLE_MANIFEST_TOO_LARGE
        )
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _invalid("it is not UTF-8 JSON.") from None
    if not isinstance(raw, dict):
        raise _invalid("it is not a JSON object.")
    if raw.get("format") != FORMAT_NAME:
        raise _invalid(f"its `format` is not {FORMAT_NAME!r}.")
    version = raw.get("formatVersion")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise bundle_error(
            f"The bundle is in format version {version!r}; this service reads version "
            f"{FORMAT_VERSION}.",
            BundleErrorCode.BUNDLE_UNKNOWN_VERSION,
        )
    error = jsonschema.exceptions.best_match(_validator().iter_errors(raw))
    if error is not None:
        raise _invalid(f"{_where(error)}{error.message[:200]}")
    return Manifest(
        exported_at=raw["exportedAt"],
        includes_voice_files=raw["includesVoiceFiles"],
        elements=tuple(
            ManifestElement(
                name=e["name"],
                type=e["type"],
                description=e["description"],
                version=e.get("version"),
                voice=e["voice"],
                images=tuple(
                    ManifestImage(
                        role=i["role"],
                        position=i["position"],
                        origin=i.get("origin", "upload"),
                        file=i["file"],
                        sha256=i["sha256"],
                        width=i.get("width"),
                        height=i.get("height"),
                    )
                    for i in e["images"]
                ),
            )
            for e in raw["elements"]
        ),
        voices=tuple(
            ManifestVoice(
                key=v["key"],
                name=v["name"],
                source=v["source"],
                language=v.get("language", ""),
                style_tags=tuple(v.get("styleTags", ())),
                consent_statement=v["consentStatement"],
                consent_at=v.get("consentAt"),
                duration_ms=v.get("durationMs"),
                file=v["file"],
                sha256=v["sha256"],
            )
            for v in raw["voices"]
        ),
    )
