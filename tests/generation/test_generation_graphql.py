"""The generation loop through GraphQL alone: preview, submit, watch, download, reuse."""

from __future__ import annotations

import io

import av
import pytest
from strawberry import relay

from accounts import services as account_services
from elements.models import ImageOrigin, ReferenceImage
from generation.models import GenerationJob
from tests.factories import UserFactory
from tests.support.graphql import UploadClient
from tests.support.media import audio_rms_by_second, image_upload
from tests.support.studio import JOB, PREVIEW, PROMPT, SUBMIT, studio_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user) -> UploadClient:
    return studio_client(user)


def test_preview_submit_watch_download_and_reuse_a_frame(
    api, user, django_capture_on_commit_callbacks
):
    preview = api(
        PREVIEW,
        {"input": {"model": "VIDEO_3_0_OMNI", "prompt": PROMPT, "attachedImages": 1}},
    )["generationPromptPreview"]
    assert preview["issues"] == []
    assert preview["ok"] is True
    assert (preview["referenceCount"], preview["referenceLimit"]) == (3, 7)
    assert preview["totalDuration"] == 5
    assert [s["duration"] for s in preview["shots"]] == [2, 2, 1]
    assert preview["dialogue"] == [
        {
            "shotIndex": 2,
            "text": "I see food, and I eat it.",
            "speaker": "Little Scholar",
            "hasVoice": True,
        }
    ]
    assert "<<<element_1>>>" in preview["providerPrompt"]

    with django_capture_on_commit_callbacks(execute=True):
        submitted = api.upload(
            SUBMIT,
            {"input": {"model": "VIDEO_3_0_OMNI", "prompt": PROMPT, "images": [None]}},
            {"input.images.0": image_upload(width=1000, height=700, color=(120, 60, 20))},
        )["generationSubmit"]
    assert submitted["__typename"] == "GenerationJobResult", submitted
    assert submitted["job"]["creditsCharged"] == preview["price"]

    job = api(JOB, {"id": submitted["job"]["id"]})["generationJob"]
    assert job["status"] == "SUCCEEDED", job
    assert job["progress"] == 100
    assert job["refunded"] is False
    assert [e["name"] for e in job["elements"]] == ["Little Scholar", "Tokyo Street"]
    assert job["elements"][0]["voiceName"] == "Scholar"
    output = job["outputs"][0]
    assert (output["kind"], output["durationMs"], output["hasAudio"]) == ("VIDEO", 5000, True)

    # Download the MP4 through its signed URL: 5 s, H.264 + AAC, the voice in shot 2.
    response = api.client.get(output["url"])
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    with av.open(io.BytesIO(data), mode="r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - 5.0) < 0.1
        loudness = audio_rms_by_second(container)
    assert loudness[2] > 10 * max(loudness[0], 1e-6)  # the line is spoken in shot 2 (2–4 s)

    # Reuse a frame of the video as an element image.
    add = """
    mutation ($input: ElementImageAddInput!) {
      elementImageAdd(input: $input) {
        __typename ... on ElementImageResult { image { origin width height } }
        ... on OperationInfo { messages { field code } }
      }
    }"""
    added = api(
        add,
        {
            "input": {
                "elementId": str(relay.GlobalID("Element", str(api.scholar.pk))),
                "fromHistory": {"outputId": output["id"], "at": 3.0},
            }
        },
    )["elementImageAdd"]
    assert added["image"] == {"origin": "HISTORY", "width": 1280, "height": 720}
    assert ReferenceImage.objects.filter(origin=ImageOrigin.HISTORY).count() == 1


def test_preview_reports_every_problem(api):
    preview = api(
        PREVIEW,
        {"input": {"model": "VIDEO_3_0_OMNI", "prompt": "[@Little Scholr] waves", "mode": "turbo"}},
    )["generationPromptPreview"]
    assert preview["ok"] is False
    codes = {i["code"] for i in preview["issues"]}
    assert codes == {"UNKNOWN_MENTION", "INVALID_MODE"}
    unknown = next(i for i in preview["issues"] if i["code"] == "UNKNOWN_MENTION")
    assert unknown["suggestions"] == ["Little Scholar"]


def test_submit_refusals_move_nothing(api, user):
    from accounts.selectors import credit_balance

    before = (GenerationJob.objects.count(), credit_balance(user))
    data = api.upload(
        SUBMIT,
        {
            "input": {
                "model": "IMAGE_O1",
                "prompt": " ".join(f"[@Image{i}]" for i in range(1, 12)),
                "images": [None] * 11,
            }
        },
        {f"input.images.{i}": image_upload() for i in range(11)},
    )["generationSubmit"]
    assert "TOO_MANY_REFERENCES" in [m["code"] for m in data["messages"]]
    assert (GenerationJob.objects.count(), credit_balance(user)) == before


def test_cancel_someone_elses_job_is_not_found(api, user):
    from generation import services
    from generation.catalog import ModelCode

    other = UserFactory()
    account_services.credits_grant(user=other, amount=100, reason="x")
    job = services.generation_submit(
        owner=other,
        request=services.JobRequest(model=ModelCode.IMAGE_O1, prompt="a cat on a sofa"),
    )
    data = api(
        "mutation ($id: ID!) { generationCancel(id: $id) "
        "{ __typename ... on OperationInfo { messages { code } } } }",
        {"id": str(relay.GlobalID("GenerationJob", str(job.pk)))},
    )["generationCancel"]
    assert [m["code"] for m in data["messages"]] == ["NOT_FOUND"]
    job.refresh_from_db()
    assert job.status == "queued"


SHOTS = (
    "Shot 1 (2s): [@Little Scholar] walks down [@Tokyo Street]. "
    "Shot 2 (2s): [@Little Scholar] waves. "
    "Shot 3 (1s): The camera pulls back over [@Tokyo Street]."
)


def test_a_job_shows_the_shots_it_was_compiled_with(api, django_capture_on_commit_callbacks):
    """The job's page shows the shots as submitted (the plan), not a recompile of the
    prompt against today's library."""
    with django_capture_on_commit_callbacks(execute=True):
        submitted = api(SUBMIT, {"input": {"model": "VIDEO_3_0_OMNI", "prompt": SHOTS}})[
            "generationSubmit"
        ]
    assert submitted["__typename"] == "GenerationJobResult", submitted
    query = (
        "query ($id: ID!) { generationJob(id: $id) "
        "{ shots { index duration text cameraMove camera cameraNote } } }"
    )
    shots = api(query, {"id": submitted["job"]["id"]})["generationJob"]["shots"]
    assert [(s["index"], s["duration"]) for s in shots] == [(1, 2), (2, 2), (3, 1)]
    assert "Little Scholar" in shots[0]["text"]
    assert shots[2]["cameraMove"] == "pull_back"
    GenerationJob.objects.update(plan={})  # a plan without shots: none, not an error
    assert api(query, {"id": submitted["job"]["id"]})["generationJob"]["shots"] == []
