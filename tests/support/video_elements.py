"""Video character elements as a client makes them: `videoElementCreate` over multipart."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.graphql import UploadClient

CREATE = """
mutation ($input: VideoElementCreateInput!) {
  videoElementCreate(input: $input) {
    __typename
    ... on ElementResult { element { id name type source status progress trimStart trimEnd
                                     clipUrl images { id } voice { id } } }
    ... on OperationInfo { messages { field code message } }
  }
}
"""


VIDEO_CONSENT = "I am the person in this clip and I agree to its use."


def video_element_create(
    api: UploadClient, data: bytes, start: float, end: float, **fields: Any
) -> Any:
    """`videoElementCreate` with the clip `data` trimmed to [start, end] seconds."""
    variables = {
        "input": {
            "name": fields.get("name", "Astronaut"),
            "video": None,
            "trimStart": start,
            "trimEnd": end,
            "consentStatement": fields.get("consent", VIDEO_CONSENT),
        }
    }
    upload = SimpleUploadedFile("clip.mp4", data, content_type="video/mp4")
    return api.upload(CREATE, variables, {"input.video": upload})["videoElementCreate"]
