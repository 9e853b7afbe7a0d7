"""Likeness protection: a claim checked from a selfie video (each bad input refused with its
code, the video never kept), other users' elements that show the face held until the owner
allows them, withdrawn permissions, ELEMENT_HELD in a prompt, and nothing leaking across
users. Clips from tests/support/likeness.py (real faces, speech-like sound)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from elements.likeness import services
from elements.likeness.check import count_bursts
from elements.likeness.index import LikenessIndex, likeness_index
from elements.likeness.phrases import PHRASE_WORDS, WORDS
from elements.media.speech import speech_report
from elements.models import (
    Element,
    ElementStatus,
    Likeness,
    LikenessChallenge,
    LikenessMatch,
    LikenessStatus,
)
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.errors import error_codes
from tests.support.faces import lfw_face, upload_of
from tests.support.graphql import UploadClient, logged_in_client
from tests.support.likeness import phrase_pcm, selfie
from tests.support.media import media_files
from tests.support.photos import photo

pytestmark = pytest.mark.django_db

START = "mutation { likenessChallengeStart { __typename ... on LikenessChallenge { id phrase expiresAt } ... on OperationInfo { messages { code } } } }"  # noqa: E501
CLAIM = """
mutation ($input: LikenessClaimInput!) {
  likenessClaim(input: $input) {
    __typename
    ... on Likeness { status progress }
    ... on OperationInfo { messages { field code message } }
  }
}"""
MINE = "{ myLikeness { status progress failureCode failureMessage } }"
MATCHES = """
query ($state: LikenessMatchState) {
  likenessMatches(state: $state, first: 20) {
    edges { node { id state elementName elementStatus elementOwnerName elementThumbnailUrl
                   usage { jobs sharedWorks recreations } } }
  }
}"""
GRANTS = "{ likenessGrants(first: 20) { edges { node { id everyone granteeName } } } }"
ALLOW_USER = """
mutation ($id: ID!) {
  likenessAllowUser(input: {matchId: $id}) {
    __typename ... on LikenessGrant { id everyone granteeName }
    ... on OperationInfo { messages { field code } }
  }
}"""
ALLOW_ALL = "mutation { likenessAllowEveryone { __typename ... on LikenessGrant { id everyone } } }"
DECLINE = """
mutation ($id: ID!) {
  likenessDecline(input: {matchId: $id}) {
    __typename ... on LikenessMatch { state elementStatus }
    ... on OperationInfo { messages { field code } }
  }
}"""
WITHDRAW = """
mutation ($id: ID!) {
  likenessGrantWithdraw(input: {grantId: $id}) {
    __typename ... on LikenessWithdrawResult { heldAgain }
    ... on OperationInfo { messages { field code } }
  }
}"""
CREATE = """
mutation ($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename ... on ElementWithWarningsResult { element { id name status } }
    ... on OperationInfo { messages { code } }
  }
}"""
ELEMENT = "query ($id: ID!) { element(id: $id) { status } }"
PREVIEW = """
query ($prompt: String!) {
  generationPromptPreview(input: {model: IMAGE_O1, prompt: $prompt}) { ok issues { code } }
}"""
SUGGEST = "query ($q: String!) { mentionSuggestions(query: $q, first: 10) { name } }"


def phrase_syllables(user: Any) -> int:
    return LikenessChallenge.objects.filter(user=user).latest("created_at").syllables


def claim_saying_the_phrase(api: UploadClient, user: Any, kind: str, capture: Any) -> Any:
    """Claim with a `kind` selfie that says as many syllables as the phrase it is shown."""
    started = api(START)["likenessChallengeStart"]
    clip = selfie(kind, phrase_syllables(user))
    upload = SimpleUploadedFile("selfie.mp4", clip, content_type="video/mp4")
    with capture(execute=True):
        return api.upload(
            CLAIM, {"input": {"challengeId": started["id"], "video": None}}, {"input.video": upload}
        )["likenessClaim"]


def create_element(api: UploadClient, image: Any, capture: Any, name: str = "Commander") -> str:
    variables = {
        "input": {"name": name, "type": "CHARACTER", "mainImage": None, "extraImages": [None]}
    }
    files = {
        "input.mainImage": upload_of(image, "main"),
        "input.extraImages.0": upload_of(lfw_face(0), "extra"),
    }
    with capture(execute=True):
        created = api.upload(CREATE, variables, files)["elementCreate"]
    assert created["__typename"] == "ElementWithWarningsResult", created
    return created["element"]["id"]


def issue_codes(api: UploadClient, prompt: str) -> list[str]:
    preview = api(PREVIEW, {"prompt": prompt})["generationPromptPreview"]
    return [issue["code"] for issue in preview["issues"]]


@pytest.fixture
def ada(db: None) -> Any:
    return UserFactory(username="ada", display_name="Ada L.")


@pytest.fixture
def bob(db: None) -> Any:
    return UserFactory(username="bob", display_name="Bob B.")


# --- The claim ----------------------------------------------------------------------------


def test_each_challenge_is_a_fresh_phrase_of_common_words(ada):
    api = logged_in_client(ada)
    phrases = {api(START)["likenessChallengeStart"]["phrase"] for _ in range(5)}
    assert len(phrases) == 5
    for phrase in phrases:
        words = phrase.split()
        assert len(words) == PHRASE_WORDS and set(words) <= set(WORDS)


def test_the_burst_counter_hears_each_syllable():
    for syllables in (5, 8, 10):
        pcm = phrase_pcm(syllables, 4.0)
        report = speech_report(pcm, sample_rate=16_000)
        assert count_bursts(pcm, report.segments, 16_000) == syllables


@pytest.mark.parametrize(
    ("kind", "syllables", "seconds", "code"),
    [
        ("silent", 8, 4.0, "LIKENESS_NO_SPEECH"),
        ("astronaut", 26, 7.5, "LIKENESS_PHRASE_MISMATCH"),  # a long speech, not the phrase
        ("astronaut", 3, 4.0, "LIKENESS_PHRASE_MISMATCH"),  # three syllables, too few
        ("astronaut", 4, 2.0, "LIKENESS_DURATION"),
        ("two", None, 4.0, "LIKENESS_MULTIPLE_FACES"),
        ("still", None, 4.0, "LIKENESS_STILL_IMAGE"),
        ("coffee", None, 4.0, "LIKENESS_NO_FACE"),
    ],
)
def test_a_bad_selfie_fails_with_its_code_and_the_video_is_deleted(
    ada, kind, syllables, seconds, code, django_capture_on_commit_callbacks
):
    api = logged_in_client(ada)
    files = media_files()
    started = api(START)["likenessChallengeStart"]
    said = syllables if syllables is not None else phrase_syllables(ada)
    clip = selfie(kind, said, seconds)
    upload = SimpleUploadedFile("selfie.mp4", clip, content_type="video/mp4")
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.upload(
            CLAIM, {"input": {"challengeId": started["id"], "video": None}}, {"input.video": upload}
        )["likenessClaim"]
    assert answer == {"__typename": "Likeness", "status": "PROCESSING", "progress": 0}

    mine = api(MINE)["myLikeness"]
    assert (mine["status"], mine["failureCode"]) == ("FAILED", code), mine
    likeness = Likeness.objects.get(owner=ada)
    assert likeness.video.name == "" and bytes(likeness.descriptors) == b""
    assert media_files() == files  # the video is gone


def test_a_challenge_is_used_once_and_only_by_its_user(
    ada, bob, django_capture_on_commit_callbacks
):
    api, other = logged_in_client(ada), logged_in_client(bob)
    started = api(START)["likenessChallengeStart"]
    clip = selfie("silent", 8)
    files = media_files()

    def send(client: UploadClient) -> Any:
        upload = SimpleUploadedFile("selfie.mp4", clip, content_type="video/mp4")
        with django_capture_on_commit_callbacks(execute=True):
            return client.upload(
                CLAIM,
                {"input": {"challengeId": started["id"], "video": None}},
                {"input.video": upload},
            )["likenessClaim"]

    stolen = send(other)
    assert [m["code"] for m in stolen["messages"]] == ["NOT_FOUND"]
    assert not Likeness.objects.exists() and media_files() == files
    assert send(api)["__typename"] == "Likeness"  # fails its check (no speech)
    again = send(api)
    assert [m["code"] for m in again["messages"]] == ["CHALLENGE_EXPIRED"]


# --- The done-when: A's likeness holds B's element until A allows B -------------------------


def test_a_claimed_likeness_holds_another_users_element_until_allowed(
    ada, bob, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    alice, bobby = logged_in_client(ada), logged_in_client(bob)
    files = media_files()

    # given: Ada claims her likeness (the astronaut)
    answer = claim_saying_the_phrase(alice, ada, "astronaut", capture)
    assert answer["__typename"] == "Likeness"
    assert alice(MINE)["myLikeness"]["status"] == "ACTIVE"
    likeness = Likeness.objects.get(owner=ada)
    assert likeness.video.name == "" and len(bytes(likeness.descriptors)) % (128 * 4) == 0
    assert media_files() == files  # only descriptors are kept

    # when: Bob makes a character from Ada's photo
    element_id = create_element(bobby, photo("astronaut"), capture)

    # then: it is held: not usable, not offered, ELEMENT_HELD in a prompt
    assert bobby(ELEMENT, {"id": element_id})["element"]["status"] == "HELD"
    assert issue_codes(bobby, "[@Commander] on the moon") == ["ELEMENT_HELD"]
    assert bobby(SUGGEST, {"q": "Comm"})["mentionSuggestions"] == []
    # and a submit mentioning it is refused: no job, no credit moved
    from accounts import services as account_services
    from accounts.models import CreditLedgerEntry, CreditWallet
    from generation import services as generation_services
    from generation.catalog import ModelCode
    from generation.models import GenerationJob

    account_services.credits_grant(user=bob, amount=100, reason="test credits")
    ledger = CreditLedgerEntry.objects.count()
    balance = CreditWallet.objects.get(user=bob).balance
    with pytest.raises(ValidationError) as refused:
        generation_services.generation_submit(
            owner=bob,
            request=generation_services.JobRequest(
                model=ModelCode.IMAGE_O1, prompt="[@Commander] on the moon"
            ),
        )
    assert "ELEMENT_HELD" in error_codes(refused.value)
    assert not GenerationJob.objects.filter(owner=bob).exists()
    assert CreditLedgerEntry.objects.count() == ledger
    assert CreditWallet.objects.get(user=bob).balance == balance
    # and Ada sees it, with Bob's public name and a preview she may open
    (edge,) = alice(MATCHES, {"state": "HELD"})["likenessMatches"]["edges"]
    match = edge["node"]
    assert (match["elementName"], match["elementOwnerName"], match["elementStatus"]) == (
        "Commander",
        "Bob B.",
        "HELD",
    )
    assert match["usage"] == {"jobs": 0, "sharedWorks": 0, "recreations": 0}
    assert alice.client.get(match["elementThumbnailUrl"]).status_code == 200
    # Bob sees nothing of Ada's likeness
    assert bobby(MATCHES, {"state": None})["likenessMatches"]["edges"] == []
    assert bobby(MINE)["myLikeness"] is None

    # when: Ada allows Bob
    grant = alice(ALLOW_USER, {"id": match["id"]})["likenessAllowUser"]
    assert (grant["__typename"], grant["everyone"], grant["granteeName"]) == (
        "LikenessGrant",
        False,
        "Bob B.",
    )
    # then: usable
    assert bobby(ELEMENT, {"id": element_id})["element"]["status"] == "ACTIVE"
    assert issue_codes(bobby, "[@Commander] on the moon") == []
    assert bobby(SUGGEST, {"q": "Comm"})["mentionSuggestions"] == [{"name": "Commander"}]

    # when: Ada withdraws it: held again at once, ELEMENT_HELD again
    withdrawn = alice(WITHDRAW, {"id": grant["id"]})["likenessGrantWithdraw"]
    assert withdrawn == {"__typename": "LikenessWithdrawResult", "heldAgain": 1}
    assert bobby(ELEMENT, {"id": element_id})["element"]["status"] == "HELD"
    assert issue_codes(bobby, "[@Commander] on the moon") == ["ELEMENT_HELD"]

    # Ada's own element of her face is never held
    own = create_element(alice, photo("astronaut"), capture, name="Me")
    assert alice(ELEMENT, {"id": own})["element"]["status"] == "ACTIVE"

    # Bob can't decide on Ada's likeness: her ids read as unknown
    stolen = bobby(ALLOW_USER, {"id": match["id"]})["likenessAllowUser"]
    assert [m["code"] for m in stolen["messages"]] == ["NOT_FOUND"]
    allowed_all = alice(ALLOW_ALL)["likenessAllowEveryone"]
    assert allowed_all["everyone"] is True
    assert bobby(ELEMENT, {"id": element_id})["element"]["status"] == "ACTIVE"
    stolen = bobby(WITHDRAW, {"id": allowed_all["id"]})["likenessGrantWithdraw"]
    assert [m["code"] for m in stolen["messages"]] == ["NOT_FOUND"]
    assert bobby(GRANTS)["likenessGrants"]["edges"] == []
    assert len(alice(GRANTS)["likenessGrants"]["edges"]) == 1

    # A second claim of the same face by Bob goes to staff review
    claim_saying_the_phrase(bobby, bob, "astronaut", capture)
    mine = bobby(MINE)["myLikeness"]
    assert (mine["status"], mine["failureCode"]) == ("REVIEW", "LIKENESS_ALREADY_CLAIMED")
    assert Likeness.objects.get(owner=bob).conflict_with == likeness
    # …which staff see in the admin's review queue
    User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)
    staff = Client()
    assert staff.login(username="mod", password=TEST_PASSWORD)
    page = staff.get(reverse("admin:elements_likeness_changelist") + "?status__exact=review")
    assert page.status_code == 200 and "bob" in page.content.decode()


def test_a_declined_element_stays_held_and_reaches_the_moderation_queue(
    ada, bob, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    alice, bobby = logged_in_client(ada), logged_in_client(bob)
    _active_likeness(ada)
    element_id = create_element(bobby, photo("astronaut"), capture)
    (edge,) = alice(MATCHES, {"state": "HELD"})["likenessMatches"]["edges"]

    declined = alice(DECLINE, {"id": edge["node"]["id"]})["likenessDecline"]
    assert declined == {"__typename": "LikenessMatch", "state": "DECLINED", "elementStatus": "HELD"}
    again = alice(DECLINE, {"id": edge["node"]["id"]})["likenessDecline"]
    assert [m["code"] for m in again["messages"]] == ["MATCH_NOT_HELD"]
    assert bobby(ELEMENT, {"id": element_id})["element"]["status"] == "HELD"

    User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)
    staff = Client()
    assert staff.login(username="mod", password=TEST_PASSWORD)
    url = reverse("admin:elements_likenessmatch_changelist") + "?state__exact=declined"
    page = staff.get(url)
    assert page.status_code == 200 and "Commander" in page.content.decode()


def test_an_element_of_someone_else_is_not_held(ada, bob, django_capture_on_commit_callbacks):
    _active_likeness(ada)
    element_id = create_element(
        logged_in_client(bob), lfw_face(1), django_capture_on_commit_callbacks
    )
    assert logged_in_client(bob)(ELEMENT, {"id": element_id})["element"]["status"] == "ACTIVE"
    assert not LikenessMatch.objects.exists()


def test_unblocking_a_held_element_keeps_it_held(ada, bob, django_capture_on_commit_callbacks):
    from elements import services as element_services
    from tests.factories import StaffUserFactory

    _active_likeness(ada)
    element_id = create_element(
        logged_in_client(bob), photo("astronaut"), django_capture_on_commit_callbacks
    )
    element = Element.objects.get(name="Commander")
    staff = StaffUserFactory()
    element_services.element_block(staff=staff, element=element, reason="test")
    element_services.element_unblock(staff=staff, element=element)
    assert Element.objects.get(pk=element.pk).status == ElementStatus.HELD
    assert element_id


def test_deleting_the_likeness_releases_held_elements(ada, bob, django_capture_on_commit_callbacks):
    _active_likeness(ada)
    create_element(logged_in_client(bob), photo("astronaut"), django_capture_on_commit_callbacks)
    assert Element.objects.get(name="Commander").status == ElementStatus.HELD
    services.likeness_delete(user=ada)
    assert Element.objects.get(name="Commander").status == ElementStatus.ACTIVE
    assert not LikenessMatch.objects.exists()


def test_a_second_claim_while_one_is_active_is_refused(ada):
    _active_likeness(ada)
    with pytest.raises(Exception) as excinfo:
        services.likeness_challenge_start(user=ada)
    assert error_codes(excinfo.value) == ["LIKENESS_EXISTS"]


# --- The index ----------------------------------------------------------------------------


def test_the_index_finds_near_likenesses_and_never_the_owners():
    rng = np.random.default_rng(3)
    matrix = rng.normal(0, 0.1, (1000, 128)).astype(np.float32)
    index = LikenessIndex(np.arange(1000), np.arange(1000) + 10_000, matrix)
    face = matrix[7] + 0.01
    hits = index.search(face[None, :], 0.6)
    assert hits[0].likeness_id == 7 and hits[0].distance < 0.2
    assert all(h.likeness_id != 7 for h in index.search(face[None, :], 0.6, exclude_owner=10_007))


def test_the_process_index_follows_the_version(ada):
    assert len(likeness_index()) == 0
    _active_likeness(ada)
    assert len(likeness_index()) == 1


def _active_likeness(user: Any) -> Likeness:
    """A likeness made from the astronaut photo's descriptor (the claim check is tested above)."""
    from elements.identity.registry import get_identity_engine
    from elements.likeness.index import bump_version, descriptors_to_bytes

    engine = get_identity_engine()
    face = engine.describe(photo("astronaut")).described_faces[0]
    likeness = Likeness.objects.create(
        owner=user,
        status=LikenessStatus.ACTIVE,
        phrase="apple river green morning table",
        descriptors=descriptors_to_bytes(np.asarray([face.descriptor])),
        engine=engine.name,
        progress=100,
    )
    bump_version()
    return likeness


def test_the_console_counts_jobs_and_reads_its_list_in_constant_queries(
    ada, bob, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import services as account_services
    from elements import services as element_services
    from generation import services as generation_services
    from generation.catalog import ModelCode

    capture = django_capture_on_commit_callbacks
    _active_likeness(ada)
    alice = logged_in_client(ada)

    def make(name: str) -> None:
        with capture(execute=True):
            element_services.element_create(
                owner=bob,
                name=name,
                element_type="character",
                main_image=upload_of(photo("astronaut"), "main"),
                extra_images=[upload_of(lfw_face(0), "extra")],
            )

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            alice(MATCHES, {"state": None})
        return len(queries)

    make("Commander")
    count_queries()  # the session's first request also writes the session
    one = count_queries()
    make("Pilot")
    make("Captain")
    assert count_queries() == one

    # Allowed, Bob uses one in a job: Ada sees it counted, not the job.
    (grant,) = [
        services.likeness_allow_user(user=ada, match_id=m.pk)
        for m in LikenessMatch.objects.filter(element__name="Commander")
    ]
    assert grant.grantee_id == bob.pk
    account_services.credits_grant(user=bob, amount=100, reason="test credits")
    with capture(execute=True):
        generation_services.generation_submit(
            owner=bob,
            request=generation_services.JobRequest(
                model=ModelCode.IMAGE_O1, prompt="[@Commander] on the moon"
            ),
        )
    usage = {
        e["node"]["elementName"]: e["node"]["usage"]
        for e in alice(MATCHES, {"state": None})["likenessMatches"]["edges"]
    }
    assert usage["Commander"] == {"jobs": 1, "sharedWorks": 0, "recreations": 0}
    assert usage["Pilot"] == {"jobs": 0, "sharedWorks": 0, "recreations": 0}
