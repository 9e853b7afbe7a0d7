"""Explore end to end, through GraphQL alone (and the admin for staff): user A shares a
video made with a voiced character; user B sees it, recreates it in one call and gets an MP4
with the same character and voice, and can't read A's element; staff hide the work and it
leaves the feed."""

from __future__ import annotations

import io

import av
import pytest
from django.test import Client
from strawberry import relay

from accounts.models import User
from generation.explore.models import (
    ExploreModerationEvent,
    ExploreRecreation,
    ExploreWork,
    WorkStatus,
)
from generation.explore.services import recipe_files
from generation.models import GenerationJob, JobElementImage, JobInput
from tests.factories import TEST_PASSWORD
from tests.support.explore import (
    FEED,
    JOB,
    PROMPT,
    RECREATE,
    codes,
    create_voiced_character,
    register,
    share,
    submit_video,
)
from tests.support.media import audio_rms_by_second

pytestmark = pytest.mark.django_db

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    ... on Element { id name images { url } voice { audioUrl } }
    ... on Voice { id audioUrl }
    ... on GenerationJob { id prompt }
    ... on MySharedWork { id job { id } }
  }
}"""

ELEMENT = """
query Element($id: ID!) { element(id: $id) { id name } }"""

USAGE = """
query Usage($id: ID!) {
  node(id: $id) {
    ... on Element {
      usage {
        jobs { totalCount edges { node { id } } }
        sharedWorks { totalCount edges { node { id title status recreateCount } } }
        recreationCount
      }
      voice { usage { jobs { totalCount } sharedWorks { totalCount } recreationCount } }
    }
  }
}"""

MY_WORKS = """
query ExploreMyWorks {
  exploreMyWorks(first: 10) { edges { node { id title status hiddenReason public { id } } } }
}"""

WORK = """
query ExploreWork($id: ID!) { exploreWork(id: $id) { id title } }"""


def _pinned_files(job: GenerationJob) -> set[str]:
    names = set(JobElementImage.objects.filter(job_element__job=job).values_list("file", flat=True))
    names |= {v for v in job.elements.values_list("voice_file", flat=True) if v}
    names |= set(JobInput.objects.filter(job=job).values_list("file", flat=True))
    return names


def test_share_see_recreate_hide(django_capture_on_commit_callbacks):
    commits = django_capture_on_commit_callbacks
    # given: A makes a video with a voiced character and shares it
    a = register("ada")
    scholar = create_voiced_character(a)
    a_job = submit_video(a, commits)
    assert a_job["outputs"][0]["hasAudio"] is True
    mine = share(a, a_job, title="Lunch")
    assert mine["status"] == "APPROVED"  # post-moderation, the default
    work_id = mine["public"]["id"]

    # when: B sees it in the feed
    b = register("bob")
    feed = b(FEED, {})["exploreFeed"]
    assert feed["totalCount"] == 1
    seen = feed["edges"][0]["node"]
    assert seen["id"] == work_id
    assert (seen["title"], seen["caption"], seen["authorName"]) == ("Lunch", "He means it.", "ada")
    assert (seen["model"], seen["outputKind"]) == ("VIDEO_3_0_OMNI", "VIDEO")
    assert seen["promptText"] == PROMPT  # mentions are names, nothing more
    assert seen["output"]["hasAudio"] is True
    assert b.client.get(seen["output"]["url"]).status_code == 200  # B may watch it

    # and recreates it in one call
    balance_before = b.user.wallet.balance
    with commits(execute=True):
        made = b(RECREATE, {"workId": work_id})["exploreRecreate"]
    assert made["__typename"] == "ExploreRecreateResult", made
    b_job = b(JOB, {"id": made["job"]["id"]})["generationJob"]

    # then: an MP4 with the same character and voice, charged to B, linked to the work
    assert b_job["status"] == "SUCCEEDED", b_job
    assert b_job["recreatedFrom"] == {"id": work_id, "title": "Lunch"}
    # the same pinned snapshot, shown by name only: the author's library stays private
    assert [e["name"] for e in b_job["elements"]] == [e["name"] for e in a_job["elements"]]
    assert {(e["version"], e["voiceName"]) for e in b_job["elements"]} == {(None, None)}
    output = b_job["outputs"][0]
    assert (output["kind"], output["hasAudio"], output["durationMs"]) == ("VIDEO", True, 4000)
    response = b.client.get(output["url"])
    assert response.status_code == 200
    with av.open(io.BytesIO(b"".join(response.streaming_content))) as container:
        assert container.format.name.startswith("mov,mp4")
        assert container.streams.audio[0].codec_context.name == "aac"
        loudness = audio_rms_by_second(container)
    assert loudness[2] > 10 * max(loudness[0], 1e-6)  # the line, in A's voice, in shot 2
    b.user.wallet.refresh_from_db()
    assert b.user.wallet.balance == balance_before - b_job["creditsCharged"]
    assert b_job["creditsCharged"] > 0

    work = ExploreWork.objects.get()
    new_job = GenerationJob.objects.get(pk=relay.GlobalID.from_id(made["job"]["id"]).node_id)
    a_db_job = GenerationJob.objects.get(pk=relay.GlobalID.from_id(a_job["id"]).node_id)
    assert new_job.owner == b.user
    assert _pinned_files(new_job) == recipe_files(work.recipe) == _pinned_files(a_db_job)
    assert new_job.elements.get().element_id is None  # no link into A's library
    assert ExploreRecreation.objects.get().job == new_job
    assert work.recreate_count == 1

    # and B can in no way read A's element, its voice, A's job or A's own view of the work
    a_element = scholar["id"]
    a_voice = scholar["voice"]["id"]
    for gid in (a_element, a_voice, a_job["id"], mine["id"]):
        assert b(NODE, {"id": gid})["node"] is None
    assert b(ELEMENT, {"id": a_element})["element"] is None
    assert b(USAGE, {"id": a_element})["node"] is None

    # A's usage record: the job, the shared work, one recreation
    usage = a(USAGE, {"id": a_element})["node"]
    assert usage["usage"]["jobs"]["totalCount"] == 1
    assert usage["usage"]["sharedWorks"]["edges"][0]["node"]["recreateCount"] == 1
    assert usage["usage"]["recreationCount"] == 1
    assert usage["voice"]["usage"] == {
        "jobs": {"totalCount": 1},
        "sharedWorks": {"totalCount": 1},
        "recreationCount": 1,
    }

    # when: staff hide it in the admin
    staff = User.objects.create_superuser("mod", "mod@example.com", TEST_PASSWORD)
    admin = Client()
    assert admin.login(username=staff.username, password=TEST_PASSWORD)
    queue = admin.get("/admin/explore/explorework/")
    assert queue.status_code == 200
    assert b"Lunch" in queue.content
    response = admin.post(
        "/admin/explore/explorework/",
        {
            "action": "hide_works",
            "_selected_action": [work.pk],
            "apply": "1",
            "reason": "Shows a trademarked mascot.",
        },
    )
    assert response.status_code == 302, response.content

    # then: it leaves the feed, can't be reached or recreated; A sees why
    assert b(FEED, {})["exploreFeed"]["totalCount"] == 0
    assert b(WORK, {"id": work_id})["exploreWork"] is None
    assert codes(b(RECREATE, {"workId": work_id})["exploreRecreate"]) == ["WORK_HIDDEN"]
    own = a(MY_WORKS)["exploreMyWorks"]["edges"][0]["node"]
    assert (own["status"], own["hiddenReason"], own["public"]) == (
        "HIDDEN",
        "Shows a trademarked mascot.",
        None,
    )
    work.refresh_from_db()
    assert work.status == WorkStatus.HIDDEN
    event = ExploreModerationEvent.objects.get()
    assert (event.action, event.staff, event.work) == ("hidden", staff, work)


def test_usage_jobs_mean_the_same_for_an_element_and_its_voice(
    django_capture_on_commit_callbacks,
):
    commits = django_capture_on_commit_callbacks
    # given: A makes a video with a voiced character, shares it, and recreates it herself
    a = register("ada")
    scholar = create_voiced_character(a)
    a_job = submit_video(a, commits)
    work_id = share(a, a_job)["public"]["id"]
    with commits(execute=True):
        made = a(RECREATE, {"workId": work_id})["exploreRecreate"]
    assert made["__typename"] == "ExploreRecreateResult", made

    # when
    usage = a(USAGE, {"id": scholar["id"]})["node"]

    # then: the library job counts for both; the recreation counts as a recreation for both
    element = usage["usage"]
    assert element["jobs"] == {"totalCount": 1, "edges": [{"node": {"id": a_job["id"]}}]}
    assert element["recreationCount"] == 1
    assert usage["voice"]["usage"] == {
        "jobs": {"totalCount": 1},
        "sharedWorks": {"totalCount": 1},
        "recreationCount": 1,
    }
