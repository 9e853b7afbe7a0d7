"""Validation and normalization of uploaded reference images.

An upload is decoded for real with Pillow (JPEG, PNG and WebP decoders only), checked against
a byte cap, a pixel cap read from the header before any pixel is decoded, a minimum side and
the aspect ratios the remote provider accepts, then re-encoded: EXIF orientation applied,
colours converted to sRGB, and no metadata kept (no EXIF, GPS, XMP, comments or profile).
The client's file name and content type are never looked at.

A JPEG that needs none of that work (upright, no colour profile other than sRGB, 8-bit YCbCr,
Huffman-coded) keeps its own coded picture: its quantization and Huffman tables, frame and
scans are copied into a new file, with every other segment and anything after the end marker
dropped. That is lossless where a re-encode would lose a generation, and it spares the full
decode and re-encode, about half of the cost of a 12 MP photo: the pixels are then decoded
once, at a reduced scale (libjpeg's DCT scaling still reads every coefficient, so damaged data
is refused exactly as by a full decode), for the thumbnail and the `preview` that subject
detection uses.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from elements.media._upload import read_capped
from elements.media.errors import MediaErrorCode, media_error

# The byte, pixel and side limits are settings (ELEMENT_IMAGE_*, elementsite/env.py).
# The remote provider refuses reference images outside 1:2.5 … 2.5:1.
MAX_ASPECT_RATIO = 2.5
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 85

ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP"]
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


# The decoded copy handed to analysis (subject detection) is at least this long on its long
# side: what `elements.assists.vision` analyses (640 px) and twice the thumbnail.
PREVIEW_SIDE = 640


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    extension: str
    content_type: str
    width: int
    height: int
    sha256: str
    thumbnail: bytes
    thumbnail_extension: str
    # `content` decoded at a reduced scale (long side at least PREVIEW_SIDE, or the full
    # image when smaller), when that decode was done anyway: the same pixels a decode of
    # `content` with `preview_of` would give, so analysis needn't decode the file again.
    preview: Image.Image | None = field(default=None, compare=False, repr=False)


def _max_bytes() -> int:
    return int(settings.ELEMENT_IMAGE_MAX_BYTES)


def _max_pixels() -> int:
    return int(settings.ELEMENT_IMAGE_MAX_PIXELS)


def _min_side() -> int:
    return int(settings.ELEMENT_IMAGE_MIN_SIDE)


def _looks_like_accepted_format(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def _unsupported() -> Exception:
    return media_error(
        "This file is not a supported image: upload a JPEG, PNG or WebP picture.",
        MediaErrorCode.IMAGE_UNSUPPORTED_FORMAT,
    )


def _corrupt() -> Exception:
    return media_error(
        "The image could not be read: the file is damaged or incomplete.",
        MediaErrorCode.IMAGE_CORRUPT,
    )


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> Exception:
    found = " has too many pixels"
    if size is not None:
        found = f" is {size[0]}×{size[1]} pixels ({_megapixels(size[0] * size[1])} megapixels)"
    return media_error(
        f"The image{found}: the limit is {_megapixels(max_pixels)} megapixels.",
        MediaErrorCode.IMAGE_TOO_MANY_PIXELS,
    )


def _check_geometry(width: int, height: int) -> None:
    min_side = _min_side()
    if min(width, height) < min_side:
        raise media_error(
            f"The image is {width}×{height} pixels: each side must be at least {min_side} pixels.",
            MediaErrorCode.IMAGE_TOO_SMALL,
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        shape = "wide" if width > height else "tall"
        raise media_error(
            f"The image is {width}×{height} pixels, too {shape}: the aspect ratio must be "
            f"between 1:{MAX_ASPECT_RATIO:g} and {MAX_ASPECT_RATIO:g}:1.",
            MediaErrorCode.IMAGE_BAD_ASPECT_RATIO,
        )


def _open(data: bytes) -> Image.Image:
    """Parses the header only: no pixel is decoded yet."""
    try:
        return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, _max_pixels()) from None
    except UnidentifiedImageError:
        # Accepted magic bytes that Pillow can't parse: a damaged file, not a wrong format.
        raise (_corrupt() if _looks_like_accepted_format(data) else _unsupported()) from None
    except Exception:
        raise _corrupt() from None


def _decode(data: bytes) -> tuple[Image.Image, bytes | None, tuple[int, int]]:
    """The decoded image, the upload's coded picture without its metadata when it can be
    stored as it is (then the image is decoded at preview scale), and the full size."""
    max_pixels = _max_pixels()
    coded = None
    # The warning filter is process-wide state; with our cap below Pillow's threshold it only
    # matters when a deployment raises ELEMENT_IMAGE_MAX_PIXELS above ~89 Mpx.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(image.size, max_pixels)
        _check_geometry(image.width, image.height)  # rotation keeps both: refuse before decoding
        try:
            image.verify()
        except Exception:
            raise _corrupt() from None
        # verify() leaves the image unusable: decode from a fresh parse.
        image = _open(data)
        size = image.size
        if _stored_as_is(image):
            coded = coded_picture(data)
        if coded is not None:
            image.draft("RGB", _preview_request(image.size))
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(image.size, max_pixels) from None
        except Exception:
            raise _corrupt() from None
    return image, coded, size


def _preview_request(size: tuple[int, int]) -> tuple[int, int]:
    """The size to ask `Image.draft` for: it picks the smallest DCT scale at least this big."""
    width, height = size
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    return (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))


def preview_of(image: Image.Image) -> Image.Image:
    """Decode an opened, not yet loaded image at preview scale (only JPEG can: others are
    decoded whole)."""
    image.draft("RGB", _preview_request(image.size))
    image.load()
    return image


def _is_srgb(icc: bytes) -> bool:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return True  # a broken profile is ignored (see _to_srgb): the pixels stay as they are
    return description.strip().lower().startswith("srgb")


def _stored_as_is(image: Image.Image) -> bool:
    """A JPEG whose pixels need no change: no rotation to apply, already sRGB, three
    channels that `coded_picture` can carry over."""
    if image.format not in ("JPEG", "MPO") or image.mode != "RGB":
        return False
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        orientation = 1  # unreadable EXIF: process_image keeps the pixels as they are too
    if orientation != 1:
        return False
    icc = image.info.get("icc_profile")
    return not icc or _is_srgb(icc)


# Segments of a JPEG's coded picture; everything else (APPn: JFIF, EXIF, XMP, ICC, MPF,
# Photoshop…; COM) is metadata, and any marker not named here sends the file to a re-encode.
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_FRAMES = (0xC0, 0xC1, 0xC2)  # baseline, extended sequential, progressive; Huffman-coded
_TABLES = (0xC4, 0xDB, 0xDD)  # Huffman tables, quantization tables, restart interval
_ADOBE = 0xEE
# What Pillow writes for an image without metadata: JFIF 1.01, no density, no thumbnail. It
# also tells decoders that three channels are YCbCr, as they are in every file kept here.
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# In entropy-coded data 0xFF is followed by 0x00 (a stuffed byte), a restart marker or another
# 0xFF (fill): anything else ends the scan.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def coded_picture(data: bytes) -> bytes | None:
    """The JPEG's tables, frame and scans after a fresh JFIF header, up to its end marker;
    None when it holds anything else than one 8-bit three-channel YCbCr frame coded with
    Huffman tables (arithmetic coding, 12-bit, lossless, CMYK, Adobe colour transforms,
    RGB-labelled channels…), which go through a re-encode instead."""
    if not data.startswith(b"\xff\xd8"):
        return None
    parts = [data[:2], _JFIF]
    pos, end = 2, len(data)
    frame = scanned = False
    while pos < end:
        if data[pos] != 0xFF:
            return None
        while pos < end and data[pos] == 0xFF:  # fill bytes may precede any marker
            pos += 1
        if pos >= end:
            return None
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            return b"".join([*parts, b"\xff\xd9"]) if frame and scanned else None
        if marker == _SOI or 0xD0 <= marker <= 0xD7 or pos + 2 > end:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            return None
        body = data[pos + 2 : pos + length]
        segment = bytes((0xFF, marker)) + data[pos : pos + length]
        pos += length
        if marker == _ADOBE and body.startswith(b"Adobe"):
            return None  # its transform flag says how to read the channels
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            continue
        if marker in _FRAMES:
            # precision, height, width, channels, then (id, sampling, table) per channel
            if frame or len(body) != 6 + 3 * 3 or body[0] != 8 or body[5] != 3:
                return None
            if (body[6], body[9], body[12]) == (ord("R"), ord("G"), ord("B")):
                return None  # channels labelled RGB are decoded as RGB, not YCbCr
            frame = True
        elif marker == _SOS:
            if not frame:
                return None
            found = _SCAN_END.search(data, pos)
            if found is None:
                return None
            segment += data[pos : found.start()]
            pos = found.start()
            scanned = True
        elif marker not in _TABLES:
            return None
        parts.append(segment)
    return None


def _has_transparency(image: Image.Image) -> bool:
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return False
    alpha = image.convert("RGBA").getchannel("A")
    # An alpha channel that is opaque everywhere is no transparency: such images go to JPEG.
    low, _ = alpha.getextrema()
    return bool(low < 255)  # type: ignore[operator]


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Converts to `mode` ("RGB" or "RGBA") in sRGB. Phone photos often carry a Display P3
    profile: dropping it without converting would dull their colours."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in {"RGB", "RGBA", "CMYK"}:
        output_mode = "RGB" if image.mode == "CMYK" else image.mode
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, _srgb_profile(), outputMode=output_mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile: keep the pixels as they are
        if converted is not None:
            image = converted
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow's direct conversion clips 16-bit values at 255: scale them down instead.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "La":
        image = image.convert("LA")
    return image if image.mode == mode else image.convert(mode)


def _encode(image: Image.Image, *, transparent: bool, quality: int) -> bytes:
    buffer = io.BytesIO()
    if transparent:
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
    else:
        image.save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


def process_image(upload: Any) -> ProcessedImage:
    """Validates an uploaded image and returns its normalized copy and thumbnail.

    Raises `ValidationError(message, code=MediaErrorCode.X)` on the first rule broken:
    EMPTY_FILE, FILE_TOO_LARGE, IMAGE_UNSUPPORTED_FORMAT, IMAGE_CORRUPT,
    IMAGE_TOO_MANY_PIXELS, IMAGE_TOO_SMALL, IMAGE_BAD_ASPECT_RATIO.
    """
    data = read_capped(upload, max_bytes=_max_bytes(), kind="image")
    image, coded, (width, height) = _decode(data)
    del data
    if coded is not None:
        # Upright and sRGB already: stored as it came, minus its metadata; `image` is the
        # preview-scale decode.
        thumbnail = image.copy()
        thumbnail.info = {}
        thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
        return ProcessedImage(
            content=coded,
            extension="jpg",
            content_type="image/jpeg",
            width=width,
            height=height,
            sha256=hashlib.sha256(coded).hexdigest(),
            thumbnail=_encode(thumbnail, transparent=False, quality=THUMBNAIL_QUALITY),
            thumbnail_extension="jpg",
            preview=image,
        )
    # Unreadable EXIF: the orientation is unknown, but the pixels are still good.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)
    # A quarter turn swaps the sides, so the geometry checked from the header still holds.
    width, height = image.size

    transparent = _has_transparency(image)
    image = _to_srgb(image, "RGBA" if transparent else "RGB")
    # Nothing of the original's metadata may reach the encoder (Pillow's JPEG encoder copies
    # a comment from `info`, its PNG encoder an ICC profile).
    image.info = {}

    content = _encode(image, transparent=transparent, quality=JPEG_QUALITY)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    extension = "png" if transparent else "jpg"
    return ProcessedImage(
        content=content,
        extension=extension,
        content_type="image/png" if transparent else "image/jpeg",
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        thumbnail=_encode(image, transparent=transparent, quality=THUMBNAIL_QUALITY),
        thumbnail_extension=extension,
    )
