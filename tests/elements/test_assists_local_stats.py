"""The statistics of the local assists shrink an opaque image before converting it to RGBA
(`local._shrunk_rgba`): the same pixels as converting the whole image first, which it
replaced."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from elements.assists import local
from tests.support.videos import photo


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "LA"])
@pytest.mark.parametrize("size", [(96, 96), (256, 192), (256, 341)])
def test_shrinking_first_gives_the_pixels_of_converting_first(
    mode: str, size: tuple[int, int]
) -> None:
    astronaut = photo("astronaut").resize((1000, 750))
    grain = Image.effect_noise(astronaut.size, 40).convert("RGB")
    image = Image.blend(astronaut, grain, 0.2).convert(mode)

    ours = local._shrunk_rgba(image, size)
    converted_first = image.convert("RGBA").resize(size, Image.Resampling.BILINEAR)

    assert ours.mode == "RGBA"
    assert np.array_equal(np.asarray(ours), np.asarray(converted_first))
