"""Generation jobs through the services: an owner with a two-element library and credits,
and a three-shot prompt that uses both elements."""

from __future__ import annotations

from typing import Any

from accounts import services as account_services
from elements import services as element_services
from generation import services
from generation.catalog import ModelCode
from generation.models import GenerationJob
from tests.support.elements import CONSENT
from tests.support.media import audio_upload, image_upload

__all__ = ["CONSENT", "PROMPT", "library_owner", "submit"]

PROMPT = (
    "Shot 1 (2s): [@Little Scholar] walks down [@Tokyo Street]. "
    'Shot 2 (2s): [@Little Scholar] says, "I see food and I eat it." '
    "Shot 3 (1s): The camera pulls back over [@Tokyo Street]."
)


def library_owner(user: Any, *, credits: int = 500) -> Any:
    """`user` with `credits` and two elements made through the service: the voiced character
    "Little Scholar" and the scene "Tokyo Street" that PROMPT names (no grant for 0)."""
    if credits:
        account_services.credits_grant(user=user, amount=credits, reason="test credits")
    element_services.element_create(
        owner=user,
        name="Little Scholar",
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload(color=(5, 5, 5))],
        voice_upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6), name="Scholar", consent_statement=CONSENT
        ),
    )
    element_services.element_create(
        owner=user,
        name="Tokyo Street",
        element_type="scene",
        main_image=image_upload(width=1280, height=720, color=(20, 40, 90)),
        extra_images=[image_upload(width=1280, height=720)],
    )
    return user


def submit(owner: Any, **kwargs: Any) -> GenerationJob:
    """`generation_submit` with PROMPT on the omni model unless told otherwise."""
    request = services.JobRequest(
        model=kwargs.pop("model", ModelCode.VIDEO_3_0_OMNI),
        prompt=kwargs.pop("prompt", PROMPT),
        **kwargs,
    )
    return services.generation_submit(owner=owner, request=request)
