"""What OpenCV's cascades really return on scikit-image's photographs.

These numbers are the detectors' honest output, recorded so a change of parameters or of the
OpenCV wheel shows up here; the closing notes quote them.
"""

import pytest
from PIL import Image, ImageOps
from skimage import data

from elements.assists import vision


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)())


def test_astronaut_has_one_frontal_face_where_her_face_is():
    found = vision.detect(photo("astronaut"))

    assert len(found.frontal_faces) == 1
    face = found.frontal_faces[0]
    # Her face sits in the upper middle of the 512 x 512 portrait.
    assert 150 < face.center[0] < 300
    assert 60 < face.center[1] < 170
    assert 60 < face.w < 140
    assert found.faces == [face]
    assert found.cat_faces == []


@pytest.mark.parametrize("name", ["coffee", "rocket"])
def test_no_face_in_photos_without_people(name):
    found = vision.detect(photo(name))

    assert found.faces == []
    assert found.cat_faces == []


def test_chelsea_fills_the_frame_and_the_cat_cascade_misses_her():
    # The cascade was trained on whole cat faces; Chelsea's face fills the photo and her ears
    # are cut off, so it finds nothing. Recorded so the subject detector doesn't rely on it.
    found = vision.detect(photo("chelsea"))

    assert found.faces == []
    assert found.cat_faces == []


def test_mirrored_profile_found_on_both_sides():
    # The profile cascade knows one direction only; detect() also searches the mirror image.
    image = photo("camera").convert("RGB")
    left = vision.detect(image, bodies=False, cats=False)
    right = vision.detect(ImageOps.mirror(image), bodies=False, cats=False)

    assert len(left.faces) == len(right.faces) == 1
    assert abs(left.faces[0].center[0] - (image.width - right.faces[0].center[0])) < 12


def test_large_images_are_analysed_on_a_small_copy_with_boxes_in_original_pixels():
    image = photo("astronaut").resize((2048, 2048))

    found = vision.detect(image, bodies=False, cats=False)

    assert len(found.frontal_faces) == 1
    assert 600 < found.frontal_faces[0].center[0] < 1200


def test_sharpness_drops_with_blur():
    from PIL import ImageFilter

    image = photo("astronaut")
    assert vision.sharpness(image) > 4 * vision.sharpness(image.filter(ImageFilter.GaussianBlur(4)))
