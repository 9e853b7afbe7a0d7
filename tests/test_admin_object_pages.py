"""What staff noticed in the admin: the plural of webhook deliveries, "View site", the
moderation actions as buttons on an object's own page, and the bound voice playing on the
element's page. (List pages at 1400 px: tests/test_admin_width.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from elements.admin import voice_audio_url
from elements.models import Element, ElementStatus, ModerationEvent, Voice, VoiceStatus
from generation.explore.models import ExploreModerationEvent, ExploreWork, WorkStatus
from tests.factories import TEST_PASSWORD, ElementFactory, StaffUserFactory, VoiceFactory
from tests.support.explore import make_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db: None) -> Client:
    User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)
    client = Client()
    assert client.login(username="mod", password=TEST_PASSWORD)
    return client


@pytest.fixture
def author(db: None) -> User:
    from accounts import services as account_services
    from tests.factories import UserFactory

    user: Any = UserFactory(username="ada")
    account_services.credits_grant(user=user, amount=1000, reason="test credits")
    return user


def buttons(page: Any) -> list[str]:
    return [label for label, _ in page.context["object_action_buttons"]]


def act_url(kind: str, pk: int, action: str) -> str:
    app, model = kind.split(".")
    return reverse(f"admin:{app}_{model}_object_action", args=[pk, action])


def test_webhook_deliveries_are_spelled_right(admin):
    index = admin.get("/admin/").content.decode()

    assert "Webhook deliveries" in index
    assert "deliverys" not in index.lower()
    assert admin.get("/admin/webhooks/webhookdelivery/").status_code == 200


def test_view_site_points_at_the_web_studio(admin):
    page = admin.get("/admin/").content.decode()

    assert '<a href="/">View site</a>' in page


def test_an_element_is_blocked_and_unblocked_from_its_own_page(admin):
    # given
    element = ElementFactory()
    change = reverse("admin:elements_element_change", args=[element.pk])
    page = admin.get(change)
    assert buttons(page) == ["Block…"]
    assert act_url("elements.element", element.pk, "block_elements") in page.content.decode()

    # when: the button, then the reason form it answers with
    form = admin.post(act_url("elements.element", element.pk, "block_elements"))
    assert form.status_code == 200 and b'name="reason"' in form.content
    element.refresh_from_db()
    assert element.status == ElementStatus.ACTIVE  # nothing yet
    done = admin.post(
        act_url("elements.element", element.pk, "block_elements"),
        {"apply": "yes", "reason": "Looks like a real person"},
    )

    # then: blocked, logged, and back on the element's page with the other button
    assert done.status_code == 302 and done["Location"] == change
    element.refresh_from_db()
    assert (element.status, element.blocked_reason) == (
        ElementStatus.BLOCKED,
        "Looks like a real person",
    )
    assert ModerationEvent.objects.filter(reason="Looks like a real person").count() == 1
    assert buttons(admin.get(change)) == ["Unblock"]

    # and unblocked with one click
    assert (
        admin.post(act_url("elements.element", element.pk, "unblock_elements")).status_code == 302
    )
    element.refresh_from_db()
    assert element.status == ElementStatus.ACTIVE


def test_a_button_refuses_a_get_an_unknown_action_and_staff_without_the_permission(admin):
    element = ElementFactory()
    url = act_url("elements.element", element.pk, "block_elements")

    assert admin.get(url).status_code == 405
    assert admin.post(act_url("elements.element", element.pk, "delete_selected")).status_code == 404
    assert admin.post(act_url("elements.element", 999999, "block_elements")).status_code == 404
    viewer = StaffUserFactory(permissions=["view_element"])
    client = Client()
    client.force_login(viewer)
    assert buttons(client.get(reverse("admin:elements_element_change", args=[element.pk]))) == []
    refused = client.post(url, {"apply": "yes", "reason": "x"})

    assert refused.status_code == 403
    element.refresh_from_db()
    assert element.status == ElementStatus.ACTIVE
    assert not ModerationEvent.objects.exists()


def test_the_bound_voice_plays_on_the_element_page(admin):
    voice = VoiceFactory()
    element = ElementFactory(owner=voice.owner, voice=voice)

    page = admin.get(reverse("admin:elements_element_change", args=[element.pk])).content.decode()

    assert "<audio controls" in page
    assert voice_audio_url(voice).replace("&", "&amp;") in page
    silent = ElementFactory(owner=voice.owner, name="Butterfly Perfume", type="prop")
    other = admin.get(reverse("admin:elements_element_change", args=[silent.pk])).content.decode()
    assert "<audio controls" not in other


def test_a_voice_is_taken_down_and_restored_from_its_own_page(admin):
    voice = VoiceFactory()
    change = reverse("admin:elements_voice_change", args=[voice.pk])
    assert buttons(admin.get(change)) == ["Take down…"]

    admin.post(
        act_url("elements.voice", voice.pk, "take_down_voices"),
        {"apply": "yes", "reason": "Not the uploader's voice"},
    )
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.TAKEN_DOWN
    assert buttons(admin.get(change)) == ["Restore"]

    admin.post(act_url("elements.voice", voice.pk, "restore_voices"))
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.ACTIVE


def test_a_work_is_approved_hidden_and_restored_from_its_own_page(
    admin, author, django_capture_on_commit_callbacks, settings
):
    # given: pre-moderation, so the work waits for approval
    settings.EXPLORE_MODERATION = "pre"
    work = make_work(author, django_capture_on_commit_callbacks)
    assert work.status == WorkStatus.PENDING
    change = reverse("admin:explore_explorework_change", args=[work.pk])
    assert buttons(admin.get(change)) == ["Approve", "Hide…"]

    # approve
    assert admin.post(act_url("explore.explorework", work.pk, "approve_works"))["Location"] == (
        change
    )
    work.refresh_from_db()
    assert work.status == WorkStatus.APPROVED
    assert buttons(admin.get(change)) == ["Hide…"]

    # hide, with a reason
    admin.post(
        act_url("explore.explorework", work.pk, "hide_works"),
        {"apply": "yes", "reason": "Spam"},
    )
    work.refresh_from_db()
    assert (work.status, work.hidden_reason) == (WorkStatus.HIDDEN, "Spam")
    assert buttons(admin.get(change)) == ["Restore"]

    # restore
    admin.post(act_url("explore.explorework", work.pk, "restore_works"))
    work.refresh_from_db()
    assert work.status == WorkStatus.APPROVED
    actions = list(ExploreModerationEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["approved", "hidden", "restored"]
    assert ExploreWork.objects.count() == 1
    assert Element.objects.count() == 1
    assert Voice.objects.filter(status=VoiceStatus.ACTIVE).count() == 1
