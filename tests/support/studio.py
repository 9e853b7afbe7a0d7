"""The generation studio as a GraphQL client uses it: a logged-in user with a two-element
library, the preview/submit/job operations, and a submit that attaches an image when the
prompt asks for one."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from accounts import services as account_services
from accounts.models import CreditLedgerEntry
from elements import services as element_services
from generation.models import GenerationJob
from tests.support.elements import CONSENT
from tests.support.graphql import UploadClient, logged_in_client
from tests.support.media import audio_upload, image_upload, media_files

PROMPT = (
    "Shot 1 (2s): [@Little Scholar] stands in [@Tokyo Street] next to the sofa in [@Image1]. "
    'Shot 2 (2s): [@Little Scholar] says, "I see food, and I eat it." '
    "Shot 3 (1s): The camera pulls back from [@Tokyo Street]."
)

PREVIEW = """
query ($input: GenerationPreviewInput!) {
  generationPromptPreview(input: $input) {
    ok price referenceCount referenceLimit totalDuration providerPrompt
    elements { name position hasVoice }
    shots { index duration cameraMove }
    dialogue { shotIndex text speaker hasVoice }
    issues { code message field suggestions }
  }
}"""

SUBMIT = """
mutation ($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on GenerationJobResult { job { id status creditsCharged } }
    ... on OperationInfo { messages { field code message } }
  }
}"""

JOB = """
query ($id: ID!) {
  generationJob(id: $id) {
    status progress errorCode duration refunded
    elements { name version voiceName }
    outputs { id kind url durationMs hasAudio posterUrl thumbnailUrl }
  }
}"""


def studio_client(user: Any, *, description: str = "") -> UploadClient:
    """`user` logged in, with 300 credits, the voiced character "Little Scholar" (with
    `description`) and the scene "Tokyo Street"; the client carries `.user` and `.scholar`."""
    account_services.credits_grant(user=user, amount=300, reason="test credits")
    scholar = element_services.element_create(
        owner=user,
        name="Little Scholar",
        element_type="character",
        description=description,
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 1, 1))],
        voice_upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6, volume=0.8), name="Scholar", consent_statement=CONSENT
        ),
    ).element
    element_services.element_create(
        owner=user,
        name="Tokyo Street",
        element_type="scene",
        main_image=image_upload(width=1280, height=720, color=(10, 30, 80)),
        extra_images=[image_upload(width=1280, height=720)],
    )
    api = logged_in_client(user)
    api.user = user  # type: ignore[attr-defined]
    api.scholar = scholar  # type: ignore[attr-defined]
    return api


def submit(
    api: UploadClient, prompt: str = PROMPT, model: str = "VIDEO_3_0_OMNI", **extra: Any
) -> Any:
    """`generationSubmit`, uploading one image when the prompt names [@Image1]."""
    files = {"input.images.0": image_upload(width=1000, height=700, color=(120, 60, 20))}
    variables: dict[str, Any] = {
        "input": {"model": model, "prompt": prompt, "images": [None], **extra}
    }
    if "[@Image1]" not in prompt:
        files, variables["input"]["images"] = {}, []
    if files:
        return api.upload(SUBMIT, variables, files)["generationSubmit"]
    response = api.post(SUBMIT, variables).json()
    assert "errors" not in response, response
    return response["data"]["generationSubmit"]


def job_of(result: Any) -> GenerationJob:
    """The job row behind a `GenerationJobResult`."""
    return GenerationJob.objects.get(pk=relay.from_base64(result["job"]["id"])[1])


def nothing_moved(before_files: set[str]) -> None:
    """A refused submit: no job, no new file, no debit."""
    assert not GenerationJob.objects.exists()
    assert media_files() == before_files
    assert not CreditLedgerEntry.objects.filter(kind="debit").exists()
