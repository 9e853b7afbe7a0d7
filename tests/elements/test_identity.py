"""The identity engine (`elements.identity`) and the consistency of an element's images, on
real faces shipped in wheels (tests/support/faces.py)."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from strawberry import relay

from elements import services
from elements.identity import local
from elements.identity.base import MIN_FACE_SIDE, IdentityWarningCode, ImageDescriptors
from elements.identity.checks import identity_engine_ready
from elements.identity.local import LocalIdentityEngine
from elements.identity.registry import get_identity_engine
from elements.identity.services import element_identity_check, image_descriptors_compute
from elements.models import ImageDescriptor, ReferenceImage
from tests.factories import UserFactory
from tests.support.faces import OTHER_PEOPLE, astronaut_variant, lfw_face, small_face, upload_of
from tests.support.graphql import GraphQLClient
from tests.support.photos import photo, photo_upload

ENGINE = LocalIdentityEngine()
THREADS = 16


@pytest.fixture(scope="module")
def astronaut() -> ImageDescriptors:
    return ENGINE.describe(photo("astronaut"))


def test_the_astronaut_has_one_described_face(astronaut):
    assert len(astronaut.faces) == 1
    face = astronaut.faces[0]
    assert face.side >= MIN_FACE_SIDE
    assert face.descriptor is not None and len(face.descriptor) == 128
    left, top, width, height = face.box
    # Her face is in the upper middle of the 512 px photograph.
    assert 150 < left + width / 2 < 300 and 60 < top + height / 2 < 180


def test_threads_describing_at_once_get_what_one_thread_gets(astronaut):
    # dlib's detector and network are shared by the process and crashed it when two threads
    # ran one at once (tasks run in the request's thread under the ORM broker's sync mode).
    # A photo without a face is searched twice (as it is, then upsampled): the longest run.
    barrier = threading.Barrier(THREADS)
    plain = Image.new("RGB", (640, 480), (120, 90, 60))

    def describe(i: int) -> ImageDescriptors:
        barrier.wait()
        return ENGINE.describe(photo("astronaut") if i % 2 else plain.copy())

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(describe, range(THREADS)))
    assert {r.faces[0].descriptor for r in results[1::2]} == {astronaut.faces[0].descriptor}
    assert all(not r.faces for r in results[::2])


@pytest.mark.parametrize("kind", ["flipped", "cropped", "larger", "darker"])
def test_the_same_person_is_near(astronaut, kind):
    other = ENGINE.describe(astronaut_variant(kind))
    distance = ENGINE.face_distance(astronaut.faces[0], other.described_faces[0])
    assert distance < ENGINE.face_threshold, distance
    assert ENGINE.face_similarity(distance) > 0.5


def test_other_people_are_far(astronaut):
    faces = [ENGINE.describe(lfw_face(i)).described_faces[0] for i in OTHER_PEOPLE]
    for face in faces:
        assert ENGINE.face_distance(astronaut.faces[0], face) > ENGINE.face_threshold
        assert ENGINE.face_similarity(ENGINE.face_distance(astronaut.faces[0], face)) < 0.5


def test_a_face_under_40_px_is_found_but_not_described():
    found = ENGINE.describe(small_face())
    assert len(found.faces) == 1
    assert found.faces[0].side < MIN_FACE_SIDE
    assert found.described_faces == ()


def test_a_photo_without_people_has_no_face_but_an_appearance():
    found = ENGINE.describe(photo("coffee"))
    assert found.faces == ()
    assert len(found.phash) == 16
    assert abs(sum(found.histogram) - 1) < 1e-3
    assert len(found.keypoints) % 32 == 0 and len(found.keypoints) > 32 * 50


def test_appearance_tells_the_same_object_from_another():
    coffee = ENGINE.describe(photo("coffee"))
    crop = photo("coffee").crop((40, 20, 560, 380)).resize((700, 485))
    same = ENGINE.appearance_similarity(coffee, ENGINE.describe(crop))
    other = ENGINE.appearance_similarity(coffee, ENGINE.describe(photo("rocket")))
    assert same > ENGINE.appearance_threshold > other, (same, other)


def test_descriptors_survive_storage(astronaut):
    back = ImageDescriptors.from_dict(astronaut.as_dict())
    assert ENGINE.face_distance(back.faces[0], astronaut.faces[0]) < 1e-4
    assert back.keypoints == astronaut.keypoints and back.phash == astronaut.phash


def test_the_engine_runs_with_the_network_cut(monkeypatch):
    """Every model is inside a wheel: loading and running them opens no connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("the identity engine tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(local, "_models", {})
    found = LocalIdentityEngine().describe(photo("astronaut"))
    assert found.described_faces


def test_the_start_up_check_names_a_missing_model(monkeypatch, settings):
    assert identity_engine_ready() == []
    monkeypatch.setitem(local.MODEL_FILES, "descriptor", "models/gone.dat")
    errors = identity_engine_ready()
    assert [e.id for e in errors] == ["elements.E002"]
    assert "gone.dat" in errors[0].msg
    settings.IDENTITY_ENGINE = "no.such.Engine"
    assert [e.id for e in identity_engine_ready()] == ["elements.E001"]


def test_the_engine_is_chosen_by_the_setting(settings):
    settings.IDENTITY_ENGINE = "elements.identity.local.LocalIdentityEngine"
    assert isinstance(get_identity_engine(), LocalIdentityEngine)
    settings.IDENTITY_ENGINE = "elements.assists.local.LocalAssistProvider"
    with pytest.raises(LookupError):
        get_identity_engine()


# --- An element's images --------------------------------------------------------------------


def _create(owner, main: Image.Image, extras: list[Image.Image], capture, element_type="character"):
    with capture(execute=True):
        return services.element_create(
            owner=owner,
            name="Commander",
            element_type=element_type,
            main_image=upload_of(main, "main"),
            extra_images=[upload_of(image, f"extra{i}") for i, image in enumerate(extras)],
        ).element


@pytest.mark.django_db
def test_each_image_is_described_after_upload(django_capture_on_commit_callbacks):
    element = _create(
        UserFactory(),
        photo("astronaut"),
        [astronaut_variant("flipped")],
        django_capture_on_commit_callbacks,
    )
    rows = ImageDescriptor.objects.filter(image__element=element)
    assert rows.count() == 2
    assert {row.engine for row in rows} == {"local"}
    assert all(row.face_count == 1 for row in rows)
    # A second delivery of the task does nothing.
    assert image_descriptors_compute(rows[0].image_id) is False


@pytest.mark.django_db
def test_one_person_in_every_image_gives_no_warning(django_capture_on_commit_callbacks):
    element = _create(
        UserFactory(),
        photo("astronaut"),
        [astronaut_variant(k) for k in ("flipped", "cropped", "darker")],
        django_capture_on_commit_callbacks,
    )
    check = element_identity_check(element)
    assert check.pending is False
    assert check.warnings == ()


@pytest.mark.django_db
def test_four_images_of_four_people_warn_on_each_extra(django_capture_on_commit_callbacks):
    element = _create(
        UserFactory(),
        photo("astronaut"),
        [lfw_face(i) for i in OTHER_PEOPLE],
        django_capture_on_commit_callbacks,
    )
    check = element_identity_check(element)
    assert [w.code for w in check.warnings] == [IdentityWarningCode.IMAGES_DIFFERENT_IDENTITY] * 3
    assert [w.image.position for w in check.warnings] == [1, 2, 3]
    assert all(w.distance is not None and w.distance > 0.6 for w in check.warnings)
    assert "Image 2" in check.warnings[0].message


@pytest.mark.django_db
def test_the_warning_follows_the_main_image(django_capture_on_commit_callbacks):
    owner = UserFactory()
    element = _create(
        owner,
        photo("astronaut"),
        [astronaut_variant("flipped"), lfw_face(OTHER_PEOPLE[0])],
        django_capture_on_commit_callbacks,
    )
    stranger = element.images.get(position=2)
    assert [w.image.pk for w in element_identity_check(element).warnings] == [stranger.pk]
    # The stranger becomes the main image: now both pictures of the astronaut are off.
    services.element_image_set_main(owner=owner, element_id=element.pk, image_id=stranger.pk)
    warned = {w.image.pk for w in element_identity_check(element).warnings}
    assert warned == set(element.images.exclude(pk=stranger.pk).values_list("pk", flat=True))
    # Removing it (after making the astronaut main again) clears every warning.
    first = element.images.exclude(pk=stranger.pk).first()
    services.element_image_set_main(owner=owner, element_id=element.pk, image_id=first.pk)
    services.element_image_remove(owner=owner, element_id=element.pk, image_id=stranger.pk)
    assert element_identity_check(element).warnings == ()


@pytest.mark.django_db
def test_staff_see_the_warnings_on_the_element_page(
    admin_client, django_capture_on_commit_callbacks
):
    element = _create(
        UserFactory(),
        photo("astronaut"),
        [lfw_face(OTHER_PEOPLE[2])],
        django_capture_on_commit_callbacks,
    )
    page = admin_client.get(f"/admin/elements/element/{element.pk}/change/")
    assert page.status_code == 200
    assert "IMAGES_DIFFERENT_IDENTITY: Image 2 seems to show a different person" in (
        page.content.decode()
    )


@pytest.mark.django_db
def test_a_face_too_small_to_describe_is_named(django_capture_on_commit_callbacks):
    element = _create(
        UserFactory(), photo("astronaut"), [small_face()], django_capture_on_commit_callbacks
    )
    (warning,) = element_identity_check(element).warnings
    assert warning.code == IdentityWarningCode.FACE_TOO_SMALL
    assert warning.image.position == 1
    assert "40 px" in warning.message


@pytest.mark.django_db
def test_props_are_not_checked_for_faces(django_capture_on_commit_callbacks):
    element = _create(
        UserFactory(),
        photo("astronaut"),
        [lfw_face(OTHER_PEOPLE[0])],
        django_capture_on_commit_callbacks,
        element_type="prop",
    )
    assert element_identity_check(element).warnings == ()


@pytest.mark.django_db
def test_images_not_yet_described_are_pending(django_capture_on_commit_callbacks):
    owner = UserFactory()
    element = services.element_create(
        owner=owner,
        name="Later",
        element_type="character",
        main_image=photo_upload("astronaut"),
        extra_images=[upload_of(lfw_face(OTHER_PEOPLE[0]))],
    ).element  # no commit: the task has not run
    check = element_identity_check(element)
    assert check.pending is True and check.warnings == ()


IDENTITY_QUERY = """
query ($id: ID!) {
  node(id: $id) {
    ... on Element {
      identityCheck { pending warnings { code message distance image { id position } } }
      images { id position }
    }
  }
}"""

LIST_QUERY = """
{ elements { edges { node {
  name identityCheck { pending warnings { code image { position } } }
} } } }
"""


@pytest.mark.django_db
def test_graphql_shows_the_warning_never_the_descriptors(
    user, logged_in, django_capture_on_commit_callbacks
):
    element = _create(
        user,
        photo("astronaut"),
        [astronaut_variant("flipped"), lfw_face(OTHER_PEOPLE[1])],
        django_capture_on_commit_callbacks,
    )
    api: GraphQLClient = logged_in()
    data = api(IDENTITY_QUERY, {"id": str(relay.GlobalID("Element", str(element.pk)))})
    check = data["node"]["identityCheck"]
    assert check["pending"] is False
    (warning,) = check["warnings"]
    assert warning["code"] == "IMAGES_DIFFERENT_IDENTITY"
    assert warning["image"]["position"] == 2
    assert warning["distance"] > 0.6
    listed = api(LIST_QUERY)["elements"]["edges"]
    assert listed[0]["node"]["identityCheck"]["warnings"] == [
        {"code": "IMAGES_DIFFERENT_IDENTITY", "image": {"position": 2}}
    ]
    # Nothing of the descriptors is in the schema.
    schema = api('{ __type(name: "ReferenceImage") { fields { name } } }')
    names = {f["name"] for f in schema["__type"]["fields"]}
    assert not names & {"descriptor", "descriptors", "faces", "phash", "histogram"}
    assert ReferenceImage.objects.filter(element=element, descriptor__isnull=False).count() == 3


@pytest.mark.django_db
def test_a_broker_that_is_down_leaves_the_image_stored_and_pending(
    monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("elements.tasks.async_task", down)
    element = _create(
        UserFactory(), photo("astronaut"), [lfw_face(0)], django_capture_on_commit_callbacks
    )
    assert element.images.count() == 2
    assert not ImageDescriptor.objects.filter(image__element=element).exists()
    assert element_identity_check(element).pending is True


@pytest.mark.django_db
def test_describe_images_fills_in_what_is_missing():
    from io import StringIO

    from django.core.management import call_command

    services.element_create(
        owner=UserFactory(),
        name="Old",
        element_type="character",
        main_image=photo_upload("astronaut"),
        extra_images=[upload_of(astronaut_variant("flipped"))],
    )  # no commit: as if stored before the engine existed
    assert not ImageDescriptor.objects.exists()
    out = StringIO()
    call_command("describe_images", stdout=out)
    assert out.getvalue().strip() == "2 of 2 image(s) described (local)."
    assert ImageDescriptor.objects.count() == 2
    call_command("describe_images", stdout=out)
    assert "0 of 0 image(s)" in out.getvalue()
