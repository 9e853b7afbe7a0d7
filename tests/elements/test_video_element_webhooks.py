"""A video element's processing result reaches the owner's webhook receiver, signed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from strawberry.relay import to_base64

from elements.models import Element
from elements.video_elements import video_element_process
from generation.webhooks import services as webhook_services
from generation.webhooks.models import WebhookEvent
from tests.support import videos
from tests.support.graphql import logged_in_client
from tests.support.video_elements import video_element_create as create
from tests.support.webhooks import readme_verify_function, start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user: Any) -> Any:
    return logged_in_client(user)


@pytest.fixture
def listening(settings: Any, user: Any) -> Any:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    running = start_receiver(["200", "200"])
    receiver = next(running)
    _, secret = webhook_services.webhook_endpoint_create(
        owner=user, url=receiver.url(), events=["element.ready", "element.failed"]
    )
    yield receiver, secret
    running.close()


@pytest.mark.parametrize(
    ("make", "ok", "code"),
    [(videos.astronaut_clip, True, ""), (videos.coffee_clip, False, "NO_FACE")],
)
def test_processing_result_is_sent_as_a_signed_element_event(
    api: Any,
    listening: Any,
    make: Any,
    ok: bool,
    code: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = create(api, make(), 0.0, 4.0)
    assert created["__typename"] == "ElementResult", created

    receiver, secret = listening
    element = Element.objects.get()
    [request] = receiver.requests
    assert readme_verify_function()(secret, request.headers, request.body)
    event = json.loads(request.body)
    assert event["type"] == ("element.ready" if ok else "element.failed")
    data = event["data"]
    assert data["element"]["id"] == to_base64("Element", element.pk) == created["element"]["id"]
    assert data["element"]["status"] == element.status
    assert data["error"] == (None if ok else {"code": code, "message": element.failure_message})
    # Written once, with the result: a duplicate delivery of the job changes nothing.
    video_element_process(element_id=element.pk)
    assert WebhookEvent.objects.count() == 1
    assert len(receiver.requests) == 1
