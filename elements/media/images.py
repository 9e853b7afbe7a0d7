"""Validation and normalization of uploaded reference images.

An upload is decoded for real with Pillow (JPEG, PNG and WebP decoders only), checked against
a byte cap, a pixel cap read from the header before any pixel is decoded, a minimum side and
the aspect ratios the remote provider accepts, then re-encoded: EXIF orientation applied,
colours converted to sRGB, and no metadata kept (no EXIF, GPS, XMP, comments or profile).
The client's file name and content type are never looked at.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from elements.media._upload import read_capped
from elements.media.errors import MediaErrorCode, media_error

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A 12-megapixel phone photo (4032×3024) and a 48-megapixel one (8064×6048, 48.8 Mpx) pass;
# decoding one costs at most 50M × 4 bytes = 200 MB of memory. Below Pillow's own warning
# threshold (~89 Mpx), so our cap is the one that bites.
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MIN_SIDE = 300
# The remote provider refuses reference images outside 1:2.5 … 2.5:1.
MAX_ASPECT_RATIO = 2.5
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 85

ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP"]
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


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


def _max_bytes() -> int:
    return int(getattr(settings, "ELEMENT_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _max_pixels() -> int:
    return int(getattr(settings, "ELEMENT_IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _min_side() -> int:
    return int(getattr(settings, "ELEMENT_IMAGE_MIN_SIDE", DEFAULT_MIN_SIDE))


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


def _decode(data: bytes) -> Image.Image:
    max_pixels = _max_pixels()
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
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(image.size, max_pixels) from None
        except Exception:
            raise _corrupt() from None
    return image


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
    image = _decode(data)
    del data
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
