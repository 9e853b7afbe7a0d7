"""scikit-image's real photographs as test inputs, and composites made from them."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from skimage import data


def photo(name: str) -> Image.Image:
    """`astronaut`, `chelsea`, `coffee`, `rocket`, `camera`; or `<name>_on_white`: the photo
    at half size in the middle of a plain light-gray canvas of its own size."""
    if name.endswith("_on_white"):
        source = photo(name.removesuffix("_on_white"))
        canvas = Image.new("RGB", source.size, (245, 245, 245))
        small = source.resize((source.width // 2, source.height // 2))
        canvas.paste(
            small, ((source.width - small.width) // 2, (source.height - small.height) // 2)
        )
        return canvas
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def photo_bytes(name: str, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    photo(name).save(buffer, fmt, quality=92)
    return buffer.getvalue()


def photo_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.jpg", photo_bytes(name), content_type="image/jpeg")
