"""The AI assists through the services and GraphQL: subject type on upload and as a query,
auto-description, multi-view completion as a charged job."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from strawberry import relay

from accounts.models import CreditLedgerEntry, FreeUseCounter, LedgerKind
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from elements import services
from elements.assists.local import LocalAssistProvider
from elements.models import Element, ImageOrigin, ReferenceImage
from generation.models import GenerationJob, JobKind, JobStatus
from generation.multiview import multiview_job_create
from tests.conftest import media_files
from tests.factories import TEST_PASSWORD, StaffFactory, UserFactory
from tests.support.assists import COMPLETE, DESCRIBE, DETECT, ME, UPDATE, element_of, member, state
from tests.support.errors import error_codes
from tests.support.graphql import UploadClient
from tests.support.graphql import logged_in_client as client_for
from tests.support.media import image_upload
from tests.support.photos import photo_upload

pytestmark = pytest.mark.django_db


def gid(obj: Any, type_name: str = "Element") -> str:
    return str(relay.GlobalID(type_name, str(obj.pk)))


# --- Subject type ---------------------------------------------------------------------------


def test_upload_stores_the_suggestion_and_keeps_the_chosen_type(user):
    element = services.element_create(
        owner=user,
        name="Not a prop",
        element_type="prop",
        main_image=photo_upload("astronaut"),
        extra_images=[image_upload()],
    ).element

    assert element.type == "prop"  # the user's choice is what is stored as the type
    assert element.detected_type == "character"
    assert element.detected_confidence == 0.9
    assert element.detected_evidence == "1 frontal face"


def test_replacing_the_main_image_detects_again(user):
    element = element_of(user)
    main = element.images.get(role="main")

    services.element_image_replace(
        owner=user, element_id=element.pk, image_id=main.pk, file=photo_upload("rocket")
    )

    element.refresh_from_db()
    assert element.detected_type == "scene"
    assert element.detected_evidence.startswith("no face; wide image with a horizon-like line")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("astronaut", ("CHARACTER", 0.9)),
        ("rocket", ("SCENE", 0.71)),
        ("coffee", ("OTHER", 0.3)),
        ("chelsea", ("OTHER", 0.3)),
        ("coffee_on_white", ("PROP", 0.85)),
    ],
)
def test_subject_type_detect_query(user, name, expected):
    before = media_files()

    data = client_for(user).upload(DETECT, {"image": None}, {"image": photo_upload(name)})

    found = data["subjectTypeDetect"]
    assert (found["type"], found["confidence"]) == expected
    assert found["evidence"]
    assert media_files() == before  # nothing stored


def test_subject_type_detect_validates_like_a_reference_image(user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = client_for(user)
    not_image = SimpleUploadedFile("a.png", b"hello, not an image", "image/png")
    tiny = image_upload(width=100, height=100)

    for upload, code in [(not_image, "IMAGE_UNSUPPORTED_FORMAT"), (tiny, "IMAGE_TOO_SMALL")]:
        data = api.upload(DETECT, {"image": None}, {"image": upload})
        assert data["subjectTypeDetect"]["messages"] == [{"field": "image", "code": code}]


def test_subject_type_detect_needs_a_login():
    from tests.conftest import GraphQLClient

    data = UploadClient(GraphQLClient().client).upload(
        DETECT, {"image": None}, {"image": photo_upload("astronaut")}
    )

    assert data["subjectTypeDetect"]["__typename"] == "OperationInfo"


# --- Description ----------------------------------------------------------------------------


def test_describe_then_keep_it_with_element_update(user):
    element = element_of(user)
    api = client_for(user)

    text = api(DESCRIBE, {"id": gid(element)})["elementDescribe"]["description"]
    kept = api(UPDATE, {"input": {"id": gid(element), "description": text}})

    assert text == "Character, half-body, 1 face; gray, black and red; busy background; square"
    assert kept["elementUpdate"]["element"]["description"] == text
    element.refresh_from_db()
    assert element.description == text


def test_describe_another_users_element_is_not_found(user):
    theirs = element_of(UserFactory())

    data = client_for(user)(DESCRIBE, {"id": gid(theirs)})

    assert data["elementDescribe"]["messages"] == [{"field": "elementId", "code": "NOT_FOUND"}]


# --- Multi-view completion ------------------------------------------------------------------

JOBS = "{ generationJobs(first: 10) { edges { node { kind status progress model } } } }"

ELEMENT = """
query ($id: ID!) {
  element(id: $id) {
    detectedSubject { type confidence evidence }
    images { position role origin width height }
  }
}
"""


def test_member_completes_views_free_three_times_then_pays(django_capture_on_commit_callbacks):
    owner = member()
    credits_grant(user=owner, amount=12, reason="top-up")
    api = client_for(owner)
    elements = [element_of(owner, name=f"Astronaut {i}") for i in range(5)]

    assert api(ME)["me"] == {
        "freeMultiviewUsesLeftToday": 3,
        "freeMultiviewUsesPerDay": 3,
        "multiviewPriceCredits": 5,
        "creditBalance": 12,
    }
    results = []
    for element in elements:
        with django_capture_on_commit_callbacks(execute=True):
            data = api(COMPLETE, {"input": {"elementId": gid(element)}})
        results.append(data["elementMultiViewComplete"])

    assert [(r.get("freeUse"), r.get("creditsCharged")) for r in results[:4]] == [
        (True, 0),
        (True, 0),
        (True, 0),
        (False, 5),
    ]
    # 12 credits: the fifth (another 5) is still affordable, a sixth would not be.
    assert results[4]["creditsCharged"] == 5
    assert api(ME)["me"]["freeMultiviewUsesLeftToday"] == 0
    assert credit_balance(owner) == 2
    job = results[0]["job"]
    assert job["kind"] == "MULTIVIEW"
    assert job["model"] is None
    assert (job["status"], job["progress"]) == ("QUEUED", 0)  # as the request left it
    assert job["elements"] == [{"name": "Astronaut 0"}]
    # Each element had 2 images: its 2 free slots are filled with derived views.
    shown = api(ELEMENT, {"id": gid(elements[0])})["element"]
    assert shown["detectedSubject"] == {
        "type": "CHARACTER",
        "confidence": 0.9,
        "evidence": "1 frontal face",
    }
    assert [(i["position"], i["origin"]) for i in shown["images"]] == [
        (0, "UPLOAD"),
        (1, "UPLOAD"),
        (2, "MULTIVIEW"),
        (3, "MULTIVIEW"),
    ]
    assert [i["width"] for i in shown["images"][2:]] == [512, 300]  # mirrored, close-up
    history = api(JOBS)["generationJobs"]["edges"]
    assert [(e["node"]["kind"], e["node"]["status"], e["node"]["progress"]) for e in history] == [
        ("MULTIVIEW", "SUCCEEDED", 100)
    ] * 5
    # Another completion of a full element is refused without charging.
    before = state(owner)
    data = api(COMPLETE, {"input": {"elementId": gid(elements[0])}})
    assert data["elementMultiViewComplete"]["messages"] == [
        {"field": "elementId", "code": "ELEMENT_FULL"}
    ]
    assert state(owner) == before


def test_element_with_one_free_slot_gets_one_view(django_capture_on_commit_callbacks):
    owner = member()
    element = element_of(owner, extras=2)

    with django_capture_on_commit_callbacks(execute=True):
        job = multiview_job_create(owner=owner, element_id=element.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    added = list(element.images.filter(origin=ImageOrigin.MULTIVIEW))
    assert [i.position for i in added] == [3]
    assert job.plan["image_ids"] == [added[0].pk]
    element.refresh_from_db()
    assert element.version == 2


def test_non_member_pays_each_time():
    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    element = element_of(owner)

    job = multiview_job_create(owner=owner, element_id=element.pk)

    assert (job.credits_charged, job.free_use_day) == (5, None)
    assert job.debit is not None
    assert job.debit.amount == -5
    assert credit_balance(owner) == 0


def refused(code: str, owner: Any, element_id: Any) -> None:
    before = state(owner)
    with pytest.raises(ValidationError) as caught:
        multiview_job_create(owner=owner, element_id=element_id)
    assert error_codes(caught.value) == [code]
    assert state(owner) == before


def test_bad_requests_consume_nothing():
    owner = UserFactory()  # a non-member with no credits and no free uses
    mine = element_of(owner)
    refused("INSUFFICIENT_CREDITS", owner, mine.pk)

    rich = member()
    credits_grant(user=rich, amount=50, reason="top-up")
    refused("NOT_FOUND", rich, mine.pk)  # another user's element
    refused("NOT_FOUND", rich, "nonsense")
    full = element_of(rich, extras=3)
    refused("ELEMENT_FULL", rich, full.pk)
    blocked = element_of(rich, name="Blocked one")
    services.element_block(staff=StaffFactory(), element=blocked, reason="Not allowed here")
    refused("ELEMENT_BLOCKED", rich, blocked.pk)
    busy = element_of(rich, name="Busy one")
    multiview_job_create(owner=rich, element_id=busy.pk)  # queued, not run
    refused("MULTIVIEW_IN_PROGRESS", rich, busy.pk)


def test_a_failed_job_gives_back_the_free_use_and_the_credits(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broken(self, image, *, count):
        raise RuntimeError("the provider fell over")

    monkeypatch.setattr(LocalAssistProvider, "multiview", broken)
    owner = member()
    credits_grant(user=owner, amount=5, reason="top-up")
    FreeUseCounter.objects.create(user=owner, feature="multiview", day=_today(), used=2)
    free_element, paid_element = element_of(owner, name="A"), element_of(owner, name="B")
    files = media_files()

    with django_capture_on_commit_callbacks(execute=True):
        free_job = multiview_job_create(owner=owner, element_id=free_element.pk)
        paid_job = multiview_job_create(owner=owner, element_id=paid_element.pk)
    assert (free_job.credits_charged, paid_job.credits_charged) == (0, 5)

    for job in (free_job, paid_job):
        job.refresh_from_db()
        assert (job.status, job.error_code) == (JobStatus.FAILED, "INTERNAL_ERROR")
    assert FreeUseCounter.objects.get(user=owner).used == 2  # the third came back
    assert credit_balance(owner) == 5
    assert CreditLedgerEntry.objects.filter(user=owner, kind=LedgerKind.REFUND).count() == 1
    assert ReferenceImage.objects.filter(origin=ImageOrigin.MULTIVIEW).count() == 0
    assert media_files() == files


def test_views_for_an_element_filled_meanwhile_fail_and_refund(django_capture_on_commit_callbacks):
    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    element = element_of(owner, extras=2)
    job = multiview_job_create(owner=owner, element_id=element.pk)
    services.element_image_add(owner=owner, element_id=element.pk, file=image_upload())

    from generation.tasks import run_job

    assert run_job(str(job.pk)) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.error_code == "ELEMENT_FULL"
    assert credit_balance(owner) == 5


def test_multiview_jobs_cannot_be_retried_by_staff():
    from generation.services import generation_retry

    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    element = element_of(owner)
    job = multiview_job_create(owner=owner, element_id=element.pk)
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)

    with pytest.raises(ValidationError) as caught:
        generation_retry(staff=StaffFactory(), job=job)
    assert error_codes(caught.value) == ["JOB_NOT_RETRYABLE"]
    assert job.kind == JobKind.MULTIVIEW


def test_admin_shows_detection_and_multiview_jobs(admin_client):
    from django.urls import reverse

    owner = UserFactory()
    credits_grant(user=owner, amount=5, reason="top-up")
    element = element_of(owner)
    job = multiview_job_create(owner=owner, element_id=element.pk)

    page = admin_client.get(reverse("admin:elements_element_change", args=[element.pk]))
    jobs = admin_client.get(
        reverse("admin:generation_generationjob_changelist") + "?kind=multiview"
    )
    job_page = admin_client.get(reverse("admin:generation_generationjob_change", args=[job.pk]))

    assert page.status_code == jobs.status_code == job_page.status_code == 200
    assert "1 frontal face" in page.content.decode()
    assert str(job.pk) in jobs.content.decode()
    assert "AI multi-view completion" in job_page.content.decode()


def _today():
    from accounts.selectors import service_day

    return service_day()


def test_element_model_keeps_suggestion_empty_when_detection_fails(user, monkeypatch):
    def broken(self, image):
        raise RuntimeError("no detector today")

    monkeypatch.setattr(LocalAssistProvider, "detect_subject", broken)

    element = element_of(user)

    assert Element.objects.get(pk=element.pk).detected_type == ""


CANCEL = """
mutation ($id: ID!) {
  generationCancel(id: $id) { __typename ... on GenerationJobResult { job { status } } }
}
"""


def test_canceling_a_queued_completion_gives_the_free_use_back():
    owner = member()
    element = element_of(owner)
    api = client_for(owner)
    # Not run: the request's transaction commits only when the test ends (no on_commit).
    job = api(COMPLETE, {"input": {"elementId": gid(element)}})["elementMultiViewComplete"]["job"]
    assert api(ME)["me"]["freeMultiviewUsesLeftToday"] == 2

    data = api(CANCEL, {"id": job["id"]})

    assert data["generationCancel"]["job"]["status"] == "CANCELED"
    assert api(ME)["me"]["freeMultiviewUsesLeftToday"] == 3
    assert element.images.count() == 2


def test_a_new_user_through_graphql_alone(django_capture_on_commit_callbacks):
    """Registers, is told the astronaut is a character, creates the element, gets a
    description, and completes views paid in credits (a new user is not a member)."""
    from tests.conftest import GraphQLClient

    api = UploadClient(GraphQLClient().client)
    register = """
    mutation ($input: AccountRegisterInput!) {
      accountRegister(input: $input) { __typename }
    }"""
    from accounts.models import MembershipTier

    # Without the welcome credits (staff may set the signup grant to 0), so the first paid
    # completion is refused.
    MembershipTier.objects.filter(code="non_member").update(signup_grant=0)
    api(register, {"input": {"username": "newcomer", "password": TEST_PASSWORD}})
    suggestion = api.upload(DETECT, {"image": None}, {"image": photo_upload("astronaut")})
    assert suggestion["subjectTypeDetect"]["type"] == "CHARACTER"
    created = api.upload(
        """mutation ($input: ElementCreateInput!) {
          elementCreate(input: $input) { ... on ElementWithWarningsResult { element { id } } }
        }""",
        {
            "input": {
                "name": "Astronaut",
                "type": "CHARACTER",
                "mainImage": None,
                "extraImages": [None],
            }
        },
        {"input.mainImage": photo_upload("astronaut"), "input.extraImages.0": image_upload()},
    )
    element_id = created["elementCreate"]["element"]["id"]
    text = api(DESCRIBE, {"id": element_id})["elementDescribe"]["description"]
    assert text.startswith("Character, half-body, 1 face")

    refused = api(COMPLETE, {"input": {"elementId": element_id}})["elementMultiViewComplete"]
    assert refused["messages"] == [{"field": None, "code": "INSUFFICIENT_CREDITS"}]

    from accounts.models import User

    credits_grant(user=User.objects.get(username="newcomer"), amount=5, reason="top-up")
    with django_capture_on_commit_callbacks(execute=True):
        done = api(COMPLETE, {"input": {"elementId": element_id}})["elementMultiViewComplete"]
    assert (done["freeUse"], done["creditsCharged"]) == (False, 5)
    origins = [i["origin"] for i in api(ELEMENT, {"id": element_id})["element"]["images"]]
    assert origins == ["UPLOAD", "UPLOAD", "MULTIVIEW", "MULTIVIEW"]
