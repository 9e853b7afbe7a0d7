"""What OpenCV's cascades really return on scikit-image's photographs.

These numbers are the detectors' honest output, recorded so a change of parameters or of the
OpenCV wheel shows up here; the closing notes quote them.
"""

import pytest
from PIL import Image, ImageOps
from skimage import data

from elements.assists import vision
from elements.identity.local import frame_faces


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


@pytest.mark.parametrize("min_neighbors", [6, 8, 10, 14])
def test_the_confident_faces_of_a_search_are_those_of_a_stricter_search(min_neighbors):
    # The video analysis takes the stricter pass from the first search's windows instead of
    # searching again; it must give exactly what OpenCV's own stricter search returns.
    from tests.support.videos import side_by_side, zoom_and_pan

    frames = [
        photo("astronaut"),
        photo("camera").convert("RGB"),
        side_by_side("astronaut")(0.0),
        *(zoom_and_pan("astronaut", 6.0)(t) for t in (0.0, 2.0, 4.0)),
    ]
    for image in frames:
        found = vision.detect(image, bodies=False, cats=False)
        assert found.confident_faces(min_neighbors) == vision.confident_faces(
            image, min_neighbors=min_neighbors
        )
    assert len(vision.confident_faces(frames[2])) == 2


def test_cat_and_body_cascades_run_only_when_asked_for(monkeypatch):
    ran: list[str] = []
    original = vision._run

    def counted(kind, *args, **kwargs):
        ran.append(kind)
        return original(kind, *args, **kwargs)

    monkeypatch.setattr(vision, "_run", counted)

    found = vision.detect(photo("astronaut"))
    assert ran == []
    assert found.full_bodies == [] and ran == ["full_body"]
    assert found.cat_faces == [] and ran == ["full_body", "cat_face"]
    found.cat_faces  # noqa: B018 (computed once)
    assert ran == ["full_body", "cat_face"]


def test_hog_first_finds_the_astronaut_without_the_face_cascades(monkeypatch):
    searched: list[str] = []
    original = vision._search

    def counted(kind, *args, **kwargs):
        searched.append(kind)
        return original(kind, *args, **kwargs)

    monkeypatch.setattr(vision, "_search", counted)
    cascades = vision.detect(photo("astronaut"), bodies=False, cats=False)
    searched.clear()

    found = vision.detect(photo("astronaut"), bodies=False, cats=False, hog_first=True)

    assert searched == []
    assert found.search == "hog"
    assert len(found.frontal_faces) == 1 and found.profile_faces == []
    # dlib's box is the cascade's face, a little tighter (88 px against 93).
    assert found.frontal_faces[0].iou(cascades.frontal_faces[0]) > 0.6
    assert found.faces == found.frontal_faces
    with pytest.raises(ValueError):
        found.confident_faces()


@pytest.mark.parametrize("name", ["camera", "coffee", "rocket", "chelsea"])
def test_hog_first_falls_back_to_the_cascades_where_dlib_finds_no_face(name):
    # The cameraman is a profile dlib's filters don't know; the others have no face.
    image = photo(name).convert("RGB")

    found = vision.detect(image, bodies=False, cats=False, hog_first=True)
    cascades = vision.detect(image, bodies=False, cats=False)

    assert found.search == "cascades"
    assert (found.frontal_faces, found.profile_faces) == (
        cascades.frontal_faces,
        cascades.profile_faces,
    )
    assert len(found.profile_faces) == (1 if name == "camera" else 0)


def test_hog_first_searches_upsampled_for_a_smaller_face():
    # The astronaut at 2/3 size: her face about 63 px of the 512 px copy, below what dlib
    # finds at the copy's own size (at 3/4 size it does, scoring 0.41), found upsampled.
    small = photo("astronaut").resize((340, 340))
    canvas = Image.new("RGB", (512, 512), (128, 128, 128))
    canvas.paste(small, (86, 86))
    gray, _ = vision.analysis_copy(canvas)
    assert frame_faces(gray) == []

    found = vision.detect(canvas, bodies=False, cats=False, hog_first=True)

    assert found.search == "hog"
    assert len(found.frontal_faces) == 1
    face = found.frontal_faces[0]
    assert 200 < face.center[0] < 270 and 140 < face.center[1] < 200
