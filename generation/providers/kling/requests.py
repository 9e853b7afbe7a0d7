"""The create bodies Kling gets, built from the compiled plan kept on the job."""

from __future__ import annotations

import base64
import io
from typing import Any

from django.core.files.storage import default_storage
from PIL import Image

from generation.camera import MOVES, CameraMove
from generation.catalog import ModelKind
from generation.error_codes import GenerationErrorCode
from generation.models import (
    GenerationJob,
)
from generation.providers.base import (
    ProviderError,
)
from generation.providers.kling.client import (
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
)
from generation.providers.kling.limits import IMAGE_MAX_BYTES, PROMPT_MAX, SHOT_PROMPT_MAX, JobParts
from generation.providers.kling.urls import callback_url, media_url


def image_b64(name: str) -> str:
    """A stored image as bare Base64 (no `data:` prefix), converted to PNG unless it is a
    JPEG or PNG already."""
    with default_storage.open(name, "rb") as f:
        data = f.read()
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, format="PNG")
            data = out.getvalue()
    if len(data) > IMAGE_MAX_BYTES:
        raise ProviderError(GenerationErrorCode.PROVIDER_LIMIT, "An image is over 10 MB.")
    return base64.b64encode(data).decode("ascii")


def build_request(parts: JobParts, element_ids: dict[int, str]) -> dict[str, Any]:
    """The create body for this job (`element_ids`: pinned position → Kling element id)."""
    job, plan = parts.job, parts.job.plan or {}
    shots = plan.get("shots") or []
    multi_shot = bool(plan.get("multi_shot")) and len(shots) > 1
    body: dict[str, Any] = {
        "model_name": parts.model_name,
        "external_task_id": external_task_id(job),
    }
    url = callback_url("job", str(job.pk))
    if url:
        body["callback_url"] = url
    # 64-bit ids as Python ints: json writes them exactly (a float would round them).
    element_list = [{"element_id": int(element_ids[p.position])} for p in parts.elements]
    if parts.kind == ModelKind.IMAGE:
        body.update(
            prompt=plan.get("provider_prompt") or job.prompt,
            image_list=[{"image": image_b64(i.file)} for i in parts.attached],
            n=1,
            resolution="1k",
            aspect_ratio=job.aspect_ratio or "auto",
        )
        if element_list:
            body["element_list"] = element_list
        return body

    body["mode"] = job.mode
    body["duration"] = str(job.duration or 5)
    if multi_shot:
        body.update(
            multi_shot=True,
            shot_type="customize",
            multi_prompt=[
                {
                    "index": int(s["index"]),
                    "prompt": with_camera(
                        s.get("provider_text") or s.get("text") or "", s, SHOT_PROMPT_MAX
                    ),
                    "duration": str(int(s["duration"])),
                }
                for s in shots
            ],
        )
    else:
        prompt = plan.get("provider_prompt") or job.prompt
        body["prompt"] = with_camera(prompt, shots[0], PROMPT_MAX) if len(shots) == 1 else prompt
    speaks = any(d.get("has_voice") for d in plan.get("dialogue") or [])
    body["sound"] = "on" if speaks and parts.video is None else "off"

    if parts.route == IMAGE_TO_VIDEO:
        assert parts.start is not None
        body["image"] = image_b64(parts.start.file)
        if parts.end is not None:
            body["image_tail"] = image_b64(parts.end.file)
        if element_list:
            body["element_list"] = element_list
        return body
    if parts.route == TEXT_TO_VIDEO:
        body["aspect_ratio"] = job.aspect_ratio
        return body

    # Omni video: attached images first (so `<<<image_N>>>` is position N under either
    # reading of whether frames count), then frames.
    image_list: list[dict[str, str]] = [{"image_url": image_b64(i.file)} for i in parts.attached]
    if parts.start is not None:
        image_list.append({"image_url": image_b64(parts.start.file), "type": "first_frame"})
    if parts.end is not None:
        image_list.append({"image_url": image_b64(parts.end.file), "type": "end_frame"})
    if image_list:
        body["image_list"] = image_list
    if element_list:
        body["element_list"] = element_list
    if parts.video is not None:
        body["video_list"] = [
            {
                "video_url": media_url(parts.video.file),
                "refer_type": "feature",
                "keep_original_sound": "no",
            }
        ]
    if parts.start is None:
        body["aspect_ratio"] = job.aspect_ratio
    return body


def with_camera(text: str, shot: dict[str, Any], limit: int) -> str:
    """A shot's words as Kling gets them. Where the compiler chose the camera's direction
    (a pan the words gave none; the preview said which), the chosen move is added in words
    from the camera vocabulary, so Kling makes the move the user was shown; when that would
    pass Kling's `limit`, the words go as written. A move the compiler did not know (kept as
    static for our own renderer) goes as written too: Kling may well understand it."""
    move = CameraMove.read(shot.get("camera_move"))
    if move not in (CameraMove.PAN_LEFT, CameraMove.PAN_RIGHT) or not shot.get("camera_note"):
        return text
    told = f"{text.rstrip()} {MOVES[move].phrase}"
    return told if len(told) <= limit else text


def external_task_id(job: GenerationJob) -> str:
    return job.provider_external_id or f"job-{job.pk}"
