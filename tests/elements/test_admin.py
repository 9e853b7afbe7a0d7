"""The staff admin of the element library: moderation through actions that write the audit
log, read-only content, presets added through the same audio validation as users' samples,
staff-only previews of stored files, and a changelist that reads a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from elements import services
from elements.admin import image_preview_url, voice_audio_url
from elements.models import (
    Element,
    ElementStatus,
    ImageRole,
    ModerationAction,
    ModerationEvent,
    ReferenceImage,
    Voice,
    VoiceSource,
    VoiceStatus,
)
from tests.conftest import media_files
from tests.factories import (
    ElementFactory,
    MembershipFactory,
    StaffUserFactory,
    UserFactory,
    VoiceFactory,
    tier,
)
from tests.support.media import audio_upload, wav_bytes

pytestmark = pytest.mark.django_db

ELEMENT_CHANGELIST = reverse("admin:elements_element_changelist")
VOICE_CHANGELIST = reverse("admin:elements_voice_changelist")
VOICE_ADD = reverse("admin:elements_voice_add")
CONSENT = "I recorded this myself and may use it."


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_action(client: Client, url: str, action: str, objects: list[Any], **extra: Any) -> Any:
    return client.post(
        url,
        {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra},
        follow=True,
    )


# --- Blocking elements --------------------------------------------------------------------


def test_block_first_asks_for_a_reason_and_changes_nothing(admin_client: Client) -> None:
    element = ElementFactory(name="Little Scholar")

    response = admin_client.post(
        ELEMENT_CHANGELIST,
        {"action": "block_elements", ACTION_CHECKBOX_NAME: [str(element.pk)], "index": "0"},
    )

    assert response.status_code == 200
    assert "admin/moderation_reason.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert 'name="reason"' in content
    assert f'name="{ACTION_CHECKBOX_NAME}" value="{element.pk}"' in content
    element.refresh_from_db()
    assert element.status == ElementStatus.ACTIVE
    assert not ModerationEvent.objects.exists()


def test_block_with_a_reason_blocks_and_writes_the_audit_log(
    admin_client: Client, admin_user: User
) -> None:
    # given
    first, second = ElementFactory(name="Little Scholar"), ElementFactory(name="Tokyo Street")
    version = first.version

    # when
    response = run_action(
        admin_client,
        ELEMENT_CHANGELIST,
        "block_elements",
        [first, second],
        apply="yes",
        reason="  Depicts a real person without consent  ",
    )

    # then
    assert response.status_code == 200
    assert "Blocked 2 elements." in messages_of(response)
    for element in (first, second):
        element.refresh_from_db()
        assert element.status == ElementStatus.BLOCKED
        assert element.blocked_reason == "Depicts a real person without consent"
    assert first.version == version + 1  # a block is a change: generation sees a new version
    events = ModerationEvent.objects.filter(action=ModerationAction.ELEMENT_BLOCKED)
    assert {(e.element_id, e.subject, e.staff_id) for e in events} == {
        (first.pk, first.name, admin_user.pk),
        (second.pk, second.name, admin_user.pk),
    }
    assert {e.reason for e in events} == {"Depicts a real person without consent"}


@pytest.mark.parametrize("reason", ["", "   "])
def test_block_without_a_reason_is_refused(admin_client: Client, reason: str) -> None:
    element = ElementFactory(name="Little Scholar")

    response = run_action(
        admin_client, ELEMENT_CHANGELIST, "block_elements", [element], apply="yes", reason=reason
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    element.refresh_from_db()
    assert (element.status, element.blocked_reason) == (ElementStatus.ACTIVE, "")
    assert not ModerationEvent.objects.exists()


def test_blocking_a_blocked_element_again_leaves_it_as_it_was(
    admin_client: Client, admin_user: User
) -> None:
    element = ElementFactory(name="Little Scholar")
    services.element_block(staff=admin_user, element=element, reason="First reason")

    response = run_action(
        admin_client, ELEMENT_CHANGELIST, "block_elements", [element], apply="yes", reason="Again"
    )

    element.refresh_from_db()
    assert element.blocked_reason == "First reason"
    assert ModerationEvent.objects.count() == 1
    assert any("already blocked" in m for m in messages_of(response))


def test_unblock_makes_elements_active_and_writes_the_audit_log(
    admin_client: Client, admin_user: User
) -> None:
    # given
    blocked, active = ElementFactory(name="Little Scholar"), ElementFactory(name="Tokyo Street")
    services.element_block(staff=admin_user, element=blocked, reason="Spam")

    # when
    response = run_action(admin_client, ELEMENT_CHANGELIST, "unblock_elements", [blocked, active])

    # then
    assert "Unblocked 1 element." in messages_of(response)
    blocked.refresh_from_db()
    assert (blocked.status, blocked.blocked_reason) == (ElementStatus.ACTIVE, "")
    event = ModerationEvent.objects.get(action=ModerationAction.ELEMENT_UNBLOCKED)
    assert (event.element_id, event.staff_id) == (blocked.pk, admin_user.pk)


def test_staff_who_may_only_view_cannot_block(client: Client) -> None:
    # given
    staff = StaffUserFactory(permissions=["view_element"])
    element = ElementFactory(name="Little Scholar")
    client.force_login(staff)

    # when
    listing = client.get(ELEMENT_CHANGELIST)
    run_action(client, ELEMENT_CHANGELIST, "block_elements", [element], apply="yes", reason="No")

    # then
    assert listing.status_code == 200
    actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert "block_elements" not in actions
    element.refresh_from_db()
    assert element.status == ElementStatus.ACTIVE
    assert not ModerationEvent.objects.exists()


# --- Element pages are read-only ------------------------------------------------------------


def test_element_page_shows_images_and_refuses_edits(admin_client: Client) -> None:
    # given
    element = ElementFactory(name="Little Scholar")
    url = reverse("admin:elements_element_change", args=[element.pk])
    images = list(element.images.all())

    # when
    page = admin_client.get(url)
    post = admin_client.post(url, {"name": "Renamed", "status": "blocked"})

    # then
    assert page.status_code == 200
    content = page.content.decode()
    for image in images:
        assert image_preview_url(image) in content
        assert image_preview_url(image, full=True) in content
        # Never the storage name, nor a MEDIA_URL address.
        assert image.image.name not in content
    assert '<input type="text" name="name"' not in content
    assert post.status_code == 403
    element.refresh_from_db()
    assert (element.name, element.status) == ("Little Scholar", ElementStatus.ACTIVE)
    assert admin_client.get(reverse("admin:elements_element_add")).status_code == 403


def test_deleting_an_element_in_admin_removes_its_files(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    element = ElementFactory(name="Little Scholar")
    names = [n for i in element.images.all() for n in (i.image.name, i.thumbnail.name)]
    assert all(default_storage.exists(n) for n in names)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:elements_element_delete", args=[element.pk]), {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Element.objects.filter(pk=element.pk).exists()
    assert not any(default_storage.exists(n) for n in names)


# --- The changelist -------------------------------------------------------------------------


def quick_elements(count: int, *, start: int = 0) -> list[Element]:
    """Elements with a main image row each, made without the media pipeline: the changelist
    reads rows and makes URLs, it never opens a file."""
    preset = Voice.objects.create(
        name=f"Preset {start}",
        audio="voices/none.wav",
        duration_ms=8000,
        sha256="0" * 64,
        source=VoiceSource.PRESET,
    )
    elements = []
    for i in range(start, start + count):
        owner = UserFactory()
        character = i % 2 == 0
        elements.append(
            Element.objects.create(
                owner=owner,
                name=f"Element {i}",
                type="character" if character else "prop",
                voice=preset if character else None,
            )
        )
    ReferenceImage.objects.bulk_create(
        ReferenceImage(
            element=element,
            role=role,
            position=position,
            image=f"elements/{element.pk}-{position}.jpg",
            thumbnail=f"elements/thumbs/{element.pk}-{position}.jpg",
            width=640,
            height=800,
            sha256="0" * 64,
        )
        for element in elements
        for role, position in ((ImageRole.MAIN, 0), (ImageRole.EXTRA, 1))
    )
    return elements


def changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ELEMENT_CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_changelist_reads_a_fixed_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    # given
    quick_elements(3)
    few = changelist_queries(admin_client)
    quick_elements(27, start=3)

    # when
    with django_assert_max_num_queries(8):
        response = admin_client.get(ELEMENT_CHANGELIST)

    # then
    assert len(response.context["cl"].result_list) == 30
    assert changelist_queries(admin_client) == few
    content = response.content.decode()
    main = ReferenceImage.objects.filter(role=ImageRole.MAIN)
    assert all(image_preview_url(image) in content for image in main)


def names_listed(client: Client, query: str) -> set[str]:
    response = client.get(f"{ELEMENT_CHANGELIST}?{query}")
    assert response.status_code == 200
    return {element.name for element in response.context["cl"].result_list}


def test_owner_tier_filter_uses_the_tier_in_force(admin_client: Client) -> None:
    # given
    now = timezone.now()
    pro = MembershipFactory(tier=tier("pro")).user
    standard = MembershipFactory(tier=tier("standard")).user
    expired_ultra = MembershipFactory(
        tier=tier("ultra"),
        started_at=now - datetime.timedelta(days=60),
        expires_at=now - datetime.timedelta(days=1),
    ).user
    not_started = MembershipFactory(
        tier=tier("pro"),
        started_at=now + datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(days=30),
    ).user
    never = UserFactory()
    for owner, name in [
        (pro, "Pro"),
        (standard, "Standard"),
        (expired_ultra, "Expired"),
        (not_started, "Not yet"),
        (never, "Never"),
    ]:
        Element.objects.create(owner=owner, name=name)

    # then
    assert names_listed(admin_client, "owner_tier=pro") == {"Pro"}
    assert names_listed(admin_client, "owner_tier=standard") == {"Standard"}
    assert names_listed(admin_client, "owner_tier=ultra") == set()
    assert names_listed(admin_client, "owner_tier=non_member") == {"Expired", "Not yet", "Never"}
    assert names_listed(admin_client, "owner_tier=non_member&type=other") == {
        "Expired",
        "Not yet",
        "Never",
    }
    page = admin_client.get(ELEMENT_CHANGELIST).content.decode()
    assert "?owner_tier=premier" in page


def test_changelist_filters_by_type_and_status_and_searches_owners(
    admin_client: Client, admin_user: User
) -> None:
    alice = UserFactory(username="alice")
    Element.objects.create(owner=alice, name="Hat", type="costume")
    blocked = Element.objects.create(owner=UserFactory(), name="Bad", type="prop")
    services.element_block(staff=admin_user, element=blocked, reason="Spam")

    assert names_listed(admin_client, "type__exact=costume") == {"Hat"}
    assert names_listed(admin_client, "status__exact=blocked") == {"Bad"}
    assert names_listed(admin_client, "q=alice") == {"Hat"}


# --- Voices: take down and restore -------------------------------------------------------


def test_take_down_unbinds_every_element_and_reports_how_many(
    admin_client: Client, admin_user: User
) -> None:
    # given: a voice bound to two characters, and a preset bound to one
    owner = UserFactory()
    voice = VoiceFactory(owner=owner, name="Scholar voice")
    first = ElementFactory(owner=owner, name="First", voice=voice)
    second = ElementFactory(owner=owner, name="Second", voice=voice)
    versions = (first.version, second.version)

    # when: the intermediate page, then the confirmation
    ask = run_action(admin_client, VOICE_CHANGELIST, "take_down_voices", [voice])
    response = run_action(
        admin_client,
        VOICE_CHANGELIST,
        "take_down_voices",
        [voice],
        apply="yes",
        reason="Cloned from a celebrity",
    )

    # then
    assert "2 elements" in ask.content.decode()
    assert "Took down 1 voice; 2 elements lost their voice." in messages_of(response)
    voice.refresh_from_db()
    assert (voice.status, voice.taken_down_reason) == (
        VoiceStatus.TAKEN_DOWN,
        "Cloned from a celebrity",
    )
    for element, version in zip((first, second), versions, strict=True):
        element.refresh_from_db()
        assert element.voice is None
        assert "Cloned from a celebrity" in element.voice_notice
        assert element.version == version + 1
    event = ModerationEvent.objects.get(action=ModerationAction.VOICE_TAKEN_DOWN)
    assert (event.voice_id, event.affected, event.staff_id) == (voice.pk, 2, admin_user.pk)


def test_take_down_without_a_reason_is_refused(admin_client: Client) -> None:
    owner = UserFactory()
    voice = VoiceFactory(owner=owner, name="Scholar voice")
    element = ElementFactory(owner=owner, name="Little Scholar", voice=voice)

    response = run_action(
        admin_client, VOICE_CHANGELIST, "take_down_voices", [voice], apply="yes", reason=" "
    )

    assert response.context["form"].errors["reason"]
    voice.refresh_from_db()
    element.refresh_from_db()
    assert voice.status == VoiceStatus.ACTIVE
    assert element.voice_id == voice.pk
    assert not ModerationEvent.objects.exists()


def test_restore_makes_a_voice_usable_again(admin_client: Client, admin_user: User) -> None:
    voice = VoiceFactory(name="Scholar voice")
    services.voice_take_down(staff=admin_user, voice=voice, reason="Mistake?")

    response = run_action(admin_client, VOICE_CHANGELIST, "restore_voices", [voice])

    assert any(m.startswith("Restored 1 voice") for m in messages_of(response))
    voice.refresh_from_db()
    assert (voice.status, voice.taken_down_reason) == (VoiceStatus.ACTIVE, "")
    assert ModerationEvent.objects.filter(action=ModerationAction.VOICE_RESTORED).count() == 1


def test_voice_page_has_a_player_and_the_quality_report(admin_client: Client) -> None:
    owner = cast(User, UserFactory())
    voice = services.voice_upload(
        owner=owner,
        upload=services.VoiceUpload(
            file=audio_upload(volume=0.01), name="Whisper", consent_statement=CONSENT
        ),
    ).voice
    assert voice.quality["warnings"]

    page = admin_client.get(reverse("admin:elements_voice_change", args=[voice.pk]))
    listing = admin_client.get(VOICE_CHANGELIST)

    content = page.content.decode()
    assert f'<audio controls preload="none" src="{voice_audio_url(voice)}"' in content
    assert "Noise floor" in content
    assert "<th>Speech</th>" in content
    for warning in voice.quality["warnings"]:
        assert warning["code"] in content
        assert warning["code"] in listing.content.decode()
    assert voice.audio.name not in content
    assert owner.username in listing.content.decode()


# --- Presets --------------------------------------------------------------------------------


def add_preset(client: Client, file: SimpleUploadedFile, **data: str) -> Any:
    return client.post(
        VOICE_ADD,
        {"name": "Warm Narrator", "language": "en", "tags": "calm, warm,, ", "audio_file": file}
        | data,
    )


def test_staff_add_a_preset_through_the_admin_form(admin_client: Client) -> None:
    # when
    response = add_preset(admin_client, audio_upload(name="narrator.wav", seconds=8))

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    voice = Voice.objects.get()
    assert (voice.owner, voice.source, voice.status) == (None, VoiceSource.PRESET, "active")
    assert (voice.name, voice.language, voice.style_tags) == (
        "Warm Narrator",
        "en",
        ["calm", "warm"],
    )
    assert 7900 <= voice.duration_ms <= 8100
    assert voice.audio.name.startswith("voices/") and voice.audio.name.endswith(".wav")
    assert default_storage.exists(voice.audio.name)
    listing = admin_client.get(VOICE_CHANGELIST).content.decode()
    assert "Voice Library preset" in listing


def test_the_add_form_has_the_preset_fields_and_uploads_files(admin_client: Client) -> None:
    page = admin_client.get(VOICE_ADD).content.decode()

    assert 'enctype="multipart/form-data"' in page
    for name in ("name", "language", "tags", "audio_file"):
        assert f'name="{name}"' in page


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("voice.wav", b"just some text\n" * 40, "audio/wav"), "not a supported"),
        (SimpleUploadedFile("short.wav", wav_bytes(seconds=2), "audio/wav"), "2 s long"),
        (SimpleUploadedFile("long.wav", wav_bytes(seconds=40), "audio/wav"), "40 s long"),
    ],
    ids=["text", "too-short", "too-long"],
)
def test_a_bad_preset_file_shows_the_error_and_stores_nothing(
    admin_client: Client, file: SimpleUploadedFile, message: str
) -> None:
    # given
    files = media_files()

    # when
    response = add_preset(admin_client, file)

    # then
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors["audio_file"])
    assert message in response.content.decode()
    assert not Voice.objects.exists()
    assert media_files() == files


def test_a_bad_preset_name_shows_the_error_and_stores_nothing(admin_client: Client) -> None:
    files = media_files()

    response = add_preset(admin_client, audio_upload(), name="   ")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]
    assert not Voice.objects.exists()
    assert media_files() == files


def test_presets_cannot_be_edited_or_deleted_in_admin(
    admin_client: Client, admin_user: User
) -> None:
    preset = services.voice_preset_create(
        staff=admin_user, file=audio_upload(), name="Deep Elder", language="zh"
    )
    change = reverse("admin:elements_voice_change", args=[preset.pk])

    assert admin_client.post(change, {"name": "Renamed"}).status_code == 403
    delete = reverse("admin:elements_voice_delete", args=[preset.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    preset.refresh_from_db()
    assert preset.name == "Deep Elder"


def test_voice_preset_create_refuses_non_staff() -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.voice_preset_create(
            staff=UserFactory(), file=audio_upload(), name="Sneaky", language="en"
        )
    assert not Voice.objects.exists()


# --- Staff previews -------------------------------------------------------------------------


def test_previews_stream_stored_files_to_staff(admin_client: Client) -> None:
    # given
    owner = UserFactory()
    voice = VoiceFactory(owner=owner, name="Scholar voice")
    element = ElementFactory(owner=owner, name="Little Scholar", voice=voice)
    image = element.images.get(role=ImageRole.MAIN)

    # when
    thumb = admin_client.get(image_preview_url(image))
    full = admin_client.get(image_preview_url(image, full=True))
    audio = admin_client.get(voice_audio_url(voice))

    # then
    with default_storage.open(image.thumbnail.name, "rb") as stored:
        assert b"".join(thumb.streaming_content) == stored.read()
    with default_storage.open(image.image.name, "rb") as stored:
        assert b"".join(full.streaming_content) == stored.read()
    with default_storage.open(voice.audio.name, "rb") as stored:
        assert b"".join(audio.streaming_content) == stored.read()
    assert thumb["Content-Type"].startswith("image/")
    assert audio["Content-Type"] in ("audio/wav", "audio/x-wav")
    for response in (thumb, full, audio):
        assert response["Cache-Control"].startswith("private")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_previews_refuse_anyone_but_staff(client: Client, admin_client: Client) -> None:
    # given
    owner = UserFactory()
    voice = VoiceFactory(owner=owner, name="Scholar voice")
    element = ElementFactory(owner=owner, name="Little Scholar", voice=voice)
    urls = [
        image_preview_url(element.images.get(role=ImageRole.MAIN)),
        voice_audio_url(voice),
    ]

    # when / then: anonymous, and the owner themself, are sent to the admin login
    for user in (None, owner):
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))

    # staff without permission to see elements or voices: refused
    no_perms = Client()
    no_perms.force_login(StaffUserFactory())
    assert all(no_perms.get(url).status_code == 403 for url in urls)

    # and nothing but a safe GET, and nothing that doesn't exist
    assert admin_client.post(urls[0]).status_code == 405
    assert admin_client.get(reverse("admin:elements_voice_audio_file", args=[0])).status_code == 404
    main = element.images.get(role=ImageRole.MAIN)
    bad_size = reverse("admin:elements_element_image_file", args=[main.pk, "x"])
    assert admin_client.get(bad_size).status_code == 404


# --- The moderation log -------------------------------------------------------------------


def test_moderation_log_is_read_only_and_linked_from_the_element(
    admin_client: Client, admin_user: User
) -> None:
    element = ElementFactory(name="Little Scholar")
    other = ElementFactory(name="Other")
    services.element_block(staff=admin_user, element=element, reason="Spam")
    services.element_block(staff=admin_user, element=other, reason="Spam too")
    event = ModerationEvent.objects.get(element=element)
    log = reverse("admin:elements_moderationevent_changelist")

    listing = admin_client.get(f"{log}?element__id__exact={element.pk}")
    page = admin_client.get(reverse("admin:elements_element_change", args=[element.pk]))

    assert [e.pk for e in listing.context["cl"].result_list] == [event.pk]
    assert f"{log}?element__id__exact={element.pk}" in page.content.decode()
    assert admin_client.get(reverse("admin:elements_moderationevent_add")).status_code == 403
    change = reverse("admin:elements_moderationevent_change", args=[event.pk])
    assert admin_client.post(change, {"reason": "Tampered"}).status_code == 403
    delete = reverse("admin:elements_moderationevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == "Spam"
