"""Shared steps of the Explore tests: users through GraphQL, a voiced video, its share."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts import services as account_services
from accounts.models import User
from accounts.selectors import credit_balance
from elements import services as element_services
from elements.models import Element
from generation.explore import services as explore_services
from generation.explore.models import ExploreWork
from generation.models import GenerationJob, JobStatus
from generation.services import JobRequest, generation_submit
from tests.support.graphql import UploadClient
from tests.support.media import audio_upload, image_upload

CONSENT = "I recorded this myself and may use it."
PROMPT = (
    "Shot 1 (2s): [@Little Scholar] walks next to the sofa in [@Image1]. "
    'Shot 2 (2s): [@Little Scholar] says, "I see food, and I eat it."'
)

REGISTER = """
mutation Register($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    __typename
    ... on AccountRegisterResult { user { username } }
    ... on OperationInfo { messages { code } }
  }
}"""

ELEMENT_CREATE = """
mutation ElementCreate($input: ElementCreateInput!) {
  elementCreate(input: $input) {
    __typename
    ... on ElementWithWarningsResult { element { id name voice { id } } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

SUBMIT = """
mutation GenerationSubmit($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

JOB = """
query GenerationJob($id: ID!) {
  generationJob(id: $id) {
    id status creditsCharged
    elements { name version voiceName }
    outputs { id kind url durationMs hasAudio }
    recreatedFrom { id title }
  }
}"""

SHARE = """
mutation GenerationShare($jobId: ID!, $outputId: ID!, $title: String!, $caption: String) {
  generationShare(jobId: $jobId, outputId: $outputId, title: $title, caption: $caption) {
    __typename
    ... on ExploreShareResult { work { id status title hiddenReason public { id } } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

FEED = """
query ExploreFeed($order: ExploreOrder, $model: GenerationModel, $kind: OutputKind) {
  exploreFeed(order: $order, model: $model, outputKind: $kind, first: 50) {
    totalCount
    edges { node {
      id title caption authorName model outputKind promptText recreateCount createdAt
      output { kind width height durationMs hasAudio url posterUrl thumbnailUrl }
    } }
  }
}"""

RECREATE = """
mutation ExploreRecreate($workId: ID!, $overrides: ExploreRecreateOverrides) {
  exploreRecreate(workId: $workId, overrides: $overrides) {
    __typename
    ... on ExploreRecreateResult { job { id status creditsCharged duration aspectRatio prompt } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

REPORT = """
mutation ExploreReport($workId: ID!, $reason: String!) {
  exploreReport(workId: $workId, reason: $reason) {
    __typename
    ... on ExploreReportResult { reported }
    ... on OperationInfo { messages { field code message } }
  }
}"""

UNSHARE = """
mutation ExploreUnshare($id: ID!) {
  exploreUnshare(id: $id) {
    __typename
    ... on ExploreShareResult { work { id unsharedAt public { id } } }
    ... on OperationInfo { messages { field code message } }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    assert payload["__typename"] == "OperationInfo", payload
    return [m["code"] for m in payload["messages"]]


def register(username: str, credits: int = 300) -> UploadClient:
    """A new user, registered (and so logged in) through GraphQL, with a balance of exactly
    `credits` (the signup grant topped up, or taken back down)."""
    api = UploadClient(Client(enforce_csrf_checks=True))
    data = api(REGISTER, {"input": {"username": username, "password": "analytical-engine-1843"}})
    assert data["accountRegister"]["__typename"] == "AccountRegisterResult", data
    user = User.objects.get(username=username)
    api.user = user  # type: ignore[attr-defined]
    # Credits come from staff or a membership, not from a GraphQL call.
    difference = credits - credit_balance(user)
    if difference > 0:
        account_services.credits_grant(user=user, amount=difference, reason="test credits")
    elif difference < 0:
        account_services.credits_debit(user=user, amount=-difference, reason="test: start lower")
    return api


def element_create_payload(api: UploadClient, name: str = "Little Scholar") -> dict[str, Any]:
    """`elementCreate` of a voiced character (2 images, a 6 s sample): the raw payload, which
    may be a refusal."""
    return api.upload(
        ELEMENT_CREATE,
        {
            "input": {
                "name": name,
                "type": "CHARACTER",
                "mainImage": None,
                "extraImages": [None],
                "voice": {"sample": {"file": None, "name": "Scholar", "consentStatement": CONSENT}},
            }
        },
        {
            "input.mainImage": image_upload(),
            "input.extraImages.0": image_upload(color=(1, 1, 1)),
            "input.voice.sample.file": audio_upload(seconds=6, volume=0.8),
        },
    )["elementCreate"]


def create_voiced_character(api: UploadClient, name: str = "Little Scholar") -> dict[str, Any]:
    payload = element_create_payload(api, name)
    assert payload["__typename"] == "ElementWithWarningsResult", payload
    return payload["element"]


def submit_video(api: UploadClient, commits: Any, prompt: str = PROMPT) -> dict[str, Any]:
    """Submit and return the finished job. `commits` is pytest-django's
    `django_capture_on_commit_callbacks`: the job is enqueued on commit and runs inline."""
    with commits(execute=True):
        submitted = api.upload(
            SUBMIT,
            {"input": {"model": "VIDEO_3_0_OMNI", "prompt": prompt, "images": [None]}},
            {"input.images.0": image_upload(width=1000, height=700, color=(120, 60, 20))},
        )["generationSubmit"]
    assert submitted["__typename"] == "GenerationJobResult", submitted
    job = api(JOB, {"id": submitted["job"]["id"]})["generationJob"]
    assert job["status"] == "SUCCEEDED", job
    return job


def share(api: UploadClient, job: dict[str, Any], title: str = "Lunch") -> dict[str, Any]:
    payload = api(
        SHARE,
        {
            "jobId": job["id"],
            "outputId": job["outputs"][0]["id"],
            "title": title,
            "caption": "He means it.",
        },
    )["generationShare"]
    assert payload["__typename"] == "ExploreShareResult", payload
    return payload["work"]


def make_job(
    owner: User,
    commits: Any,
    *,
    prompt: str = PROMPT,
    model: str = "VIDEO_3_0_OMNI",
    run: bool = True,
    name: str = "Little Scholar",
) -> GenerationJob:
    """A job of `owner`'s through `generation_submit`, run inline when `run`; the voiced
    character `name` is made first if the owner has none."""
    if not Element.objects.filter(owner=owner, name=name).exists():
        element_services.element_create(
            owner=owner,
            name=name,
            element_type="character",
            main_image=image_upload(),
            extra_images=[image_upload(color=(1, 1, 1))],
            voice_upload=element_services.VoiceUpload(
                file=audio_upload(seconds=6, volume=0.8), name="Scholar", consent_statement=CONSENT
            ),
        )
    with commits(execute=run):
        job = generation_submit(
            owner=owner,
            request=JobRequest(
                model=model,  # type: ignore[arg-type]
                prompt=prompt,
                images=[image_upload(width=1000, height=700, color=(120, 60, 20))]
                if "[@Image1]" in prompt
                else [],
            ),
        )
    job.refresh_from_db()
    return job


def make_work(owner: User, commits: Any, title: str = "Lunch", **kwargs: Any) -> ExploreWork:
    """A rendered job shared to Explore, with the recipe a real share freezes."""
    job = make_job(owner, commits, **kwargs)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    return explore_services.generation_share(
        owner=owner, job_id=job.pk, output_id=job.outputs.get().pk, title=title
    )
