"""Real faces for the identity tests, from files shipped in wheels only.

- `astronaut`: scikit-image's photograph of Eileen Collins (one frontal face, 91 px box);
- `lfw_face(i)`: face `i` of scikit-image's LFW subset (`lfw_subset.npy`, 25×25 grey crops of
  Labeled Faces in the Wild, no names), enlarged onto a grey canvas so it is an acceptable
  upload. Faces 0, 1 and 18 are found with a detector score above 1 (they survive a JPEG
  re-encode) and are, to dlib's descriptor, far from the astronaut (> 0.75) and from each
  other (> 0.7): four different people.
- `small_face`: the astronaut shrunk until her face box is about 35 px, on a 600 px canvas.
"""

from __future__ import annotations

import io

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageEnhance, ImageOps
from skimage import data

from tests.support.photos import photo

OTHER_PEOPLE = (0, 1, 18)


def lfw_face(index: int, side: int = 320) -> Image.Image:
    grey = (data.lfw_subset()[index] * 255).astype(np.uint8)
    face = Image.fromarray(grey).resize((side * 3 // 4, side * 3 // 4), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (side, side), (128, 128, 128))
    canvas.paste(face.convert("RGB"), (side // 8, side // 8))
    return canvas


def small_face() -> Image.Image:
    shrunk = photo("astronaut").resize((175, 175), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (600, 600), (180, 180, 180))
    canvas.paste(shrunk, (200, 200))
    return canvas


def astronaut_variant(kind: str) -> Image.Image:
    """The astronaut flipped, cropped, rescaled or relit: the same person."""
    image = photo("astronaut")
    if kind == "flipped":
        return ImageOps.mirror(image)
    if kind == "cropped":
        return image.crop((60, 0, 420, 360))
    if kind == "larger":
        return image.resize((900, 900), Image.Resampling.BICUBIC)
    if kind == "darker":
        return ImageEnhance.Brightness(image).enhance(0.6)
    raise ValueError(kind)


def upload_of(image: Image.Image, name: str = "face") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return SimpleUploadedFile(f"{name}.jpg", buffer.getvalue(), content_type="image/jpeg")
