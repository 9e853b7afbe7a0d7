from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import services as account_services
from elements import services
from elements.models import (
    Element,
    ImageRole,
    ModerationEvent,
    ReferenceImage,
    VoiceSource,
    VoiceStatus,
)
from tests.conftest import media_files
from tests.factories import MembershipFactory, StaffFactory, UserFactory, VoiceFactory, tier
from tests.support.elements import CONSENT, leaves_nothing_behind, refused
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db


def make(owner, name="Little Scholar", element_type="character", extras=2, **kwargs):
    return services.element_create(
        owner=owner,
        name=name,
        element_type=element_type,
        main_image=image_upload(),
        extra_images=[image_upload(color=(10, 20 * i, 30)) for i in range(extras)],
        **kwargs,
    ).element


def sample(**kwargs) -> services.VoiceUpload:
    return services.VoiceUpload(
        file=audio_upload(**kwargs), name="Scholar voice", consent_statement=CONSENT
    )


def test_create_character_with_three_images_and_an_uploaded_voice(user):
    before = media_files()

    # when
    result = services.element_create(
        owner=user,
        name="  Little Scholar ",
        element_type="character",
        description="A young scholar in a blue robe",
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 2, 3)), image_upload(color=(4, 5, 6))],
        voice_upload=sample(),
    )

    # then
    element = result.element
    assert element.name == "Little Scholar"
    assert element.version == 1
    images = list(element.images.order_by("position"))
    assert [(i.role, i.position) for i in images] == [("main", 0), ("extra", 1), ("extra", 2)]
    assert all(i.width == 640 and i.height == 800 and len(i.sha256) == 64 for i in images)
    voice = element.voice
    assert voice is not None
    assert voice.owner == user
    assert voice.source == VoiceSource.UPLOAD
    assert voice.consent_statement == CONSENT
    assert voice.consent_at is not None
    assert 7900 <= voice.duration_ms <= 8100
    # 3 images + 3 thumbnails + 1 voice, under random names
    added = media_files() - before
    assert len(added) == 7
    assert all(len(f.rsplit("/", 1)[-1].split(".")[0]) == 32 for f in added)


def test_name_taken_in_another_case_is_refused(user):
    make(user, name="Banana Cat")
    refused("NAME_TAKEN", make, user, name="banana cat")


def test_same_name_in_two_libraries_is_fine(user):
    make(user, name="Banana Cat")
    make(UserFactory(), name="Banana Cat")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Bad]Name", "NAME_INVALID_CHARACTERS"),
        ("[Bad", "NAME_INVALID_CHARACTERS"),
        ("a@b", "NAME_INVALID_CHARACTERS"),
        ("two\nlines", "NAME_INVALID_CHARACTERS"),
        ("   ", "NAME_REQUIRED"),
        ("x" * 41, "NAME_TOO_LONG"),
        ("Image 1", "NAME_RESERVED"),
        ("image2", "NAME_RESERVED"),
        ("VIDEO", "NAME_RESERVED"),
    ],
)
def test_bad_names_are_refused(user, name, code):
    refused(code, make, user, name=name)


def test_one_image_only_is_refused(user):
    refused("TOO_FEW_IMAGES", make, user, extras=0)


def test_five_images_are_refused(user):
    refused("TOO_MANY_IMAGES", make, user, extras=4)


def test_database_refuses_two_main_images(user):
    element = make(user)
    extra = element.images.filter(role=ImageRole.EXTRA).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferenceImage.objects.filter(pk=extra.pk).update(role=ImageRole.MAIN, position=0)


def test_voice_on_a_prop_is_refused(user):
    refused("VOICE_NOT_ALLOWED", make, user, element_type="prop", voice_upload=sample())


def test_two_second_voice_is_refused_and_nothing_is_left(user):
    refused("AUDIO_TOO_SHORT", make, user, voice_upload=sample(seconds=2))


def test_forty_second_voice_is_refused(user):
    refused("AUDIO_TOO_LONG", services.voice_upload, owner=user, upload=sample(seconds=40))


def test_voice_without_consent_is_refused(user):
    upload = services.VoiceUpload(file=audio_upload(), name="v", consent_statement=" ")
    refused("CONSENT_REQUIRED", services.voice_upload, owner=user, upload=upload)


def test_another_users_voice_is_not_found(user):
    theirs = services.voice_upload(owner=UserFactory(), upload=sample()).voice
    refused("NOT_FOUND", make, user, voice_id=theirs.pk)


def test_preset_voice_can_be_bound(user):
    preset = VoiceFactory(preset=True, name="Warm narrator")
    element = make(user, voice_id=preset.pk)
    assert element.voice == preset


def test_element_limit_is_enforced_at_creation(user):
    non_member = tier("non_member")
    non_member.element_limit = 2
    non_member.save()
    make(user, name="one")
    make(user, name="two")
    refused("ELEMENT_LIMIT_REACHED", make, user, name="three")


def test_over_the_limit_after_a_downgrade_edits_are_refused_deletes_allowed(user):
    MembershipFactory(user=user, tier=tier("standard"))
    non_member = tier("non_member")
    non_member.element_limit = 1
    non_member.save()
    first = make(user, name="one")
    make(user, name="two")
    account_services.membership_set(user=user, tier=tier("non_member"), expires_at=None)

    refused(
        "OVER_ELEMENT_LIMIT", services.element_update, owner=user, element_id=first.pk, name="x"
    )
    refused("ELEMENT_LIMIT_REACHED", make, user, name="three")

    services.element_delete(owner=user, element_id=first.pk)
    assert Element.objects.filter(owner=user).count() == 1


def test_limit_messages_count_one_element_in_the_singular(user):
    from accounts.selectors import account_overview

    non_member = tier("non_member")
    non_member.element_limit = 1
    non_member.save()
    first = make(user, name="one")
    assert "(1 element for your" in (account_overview(user).element_quota_reason or "")

    with leaves_nothing_behind(), pytest.raises(ValidationError) as refusal:
        make(user, name="two")
    assert "Your library holds 1 element, the limit of your tier is 1:" in str(refusal.value)

    non_member.element_limit = 0
    non_member.save()
    reason = account_overview(user).element_quota_reason or ""
    assert "Your library holds 1 element, more than the 0 of your" in reason
    with leaves_nothing_behind(), pytest.raises(ValidationError) as refusal:
        services.element_update(owner=user, element_id=first.pk, name="x")
    assert "Your library holds 1 element, more than the 0 your tier" in str(refusal.value)


def test_limit_messages_count_several_elements_in_the_plural(user):
    from accounts.selectors import account_overview

    non_member = tier("non_member")
    non_member.element_limit = 2
    non_member.save()
    make(user, name="one")
    make(user, name="two")
    assert "(2 elements for your" in (account_overview(user).element_quota_reason or "")
    with leaves_nothing_behind(), pytest.raises(ValidationError) as refusal:
        make(user, name="three")
    assert "Your library holds 2 elements, the limit" in str(refusal.value)


def test_blocked_element_cannot_be_edited(user):
    element = make(user)
    services.element_block(staff=StaffFactory(), element=element, reason="Impersonation")
    refused("ELEMENT_BLOCKED", services.element_update, owner=user, element_id=element.pk, name="x")
    assert ModerationEvent.objects.get().reason == "Impersonation"


def test_other_users_element_is_not_found_in_every_service(user):
    theirs = make(UserFactory(), name="Theirs")
    image = theirs.images.filter(role=ImageRole.EXTRA).first()
    calls = [
        lambda: services.element_update(owner=user, element_id=theirs.pk, name="Mine"),
        lambda: services.element_delete(owner=user, element_id=theirs.pk),
        lambda: services.element_image_add(owner=user, element_id=theirs.pk, file=image_upload()),
        lambda: services.element_image_remove(owner=user, element_id=theirs.pk, image_id=image.pk),
        lambda: services.element_image_set_main(
            owner=user, element_id=theirs.pk, image_id=image.pk
        ),
        lambda: services.element_image_reorder(
            owner=user, element_id=theirs.pk, image_ids=[image.pk]
        ),
        lambda: services.voice_unbind(owner=user, element_id=theirs.pk),
        lambda: services.voice_bind(owner=user, element_id=theirs.pk, upload=sample()),
    ]
    for call in calls:
        refused("NOT_FOUND", call)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.version) == ("Theirs", 1)


def test_image_add_remove_set_main_reorder_each_make_a_version(user):
    element = make(user, extras=1)
    added = services.element_image_add(owner=user, element_id=element.pk, file=image_upload())
    third = services.element_image_add(owner=user, element_id=element.pk, file=image_upload())
    refused(
        "TOO_MANY_IMAGES",
        services.element_image_add,
        owner=user,
        element_id=element.pk,
        file=image_upload(),
    )
    extras = list(element.images.filter(role=ImageRole.EXTRA).order_by("position"))
    services.element_image_reorder(
        owner=user, element_id=element.pk, image_ids=[e.pk for e in reversed(extras)]
    )
    assert [i.pk for i in element.images.filter(role="extra").order_by("position")] == [
        e.pk for e in reversed(extras)
    ]
    old_main = element.images.get(role=ImageRole.MAIN)
    services.element_image_set_main(owner=user, element_id=element.pk, image_id=added.pk)
    assert element.images.get(role=ImageRole.MAIN).pk == added.pk
    assert element.images.get(pk=old_main.pk).role == ImageRole.EXTRA
    refused(
        "CANNOT_REMOVE_MAIN_IMAGE",
        services.element_image_remove,
        owner=user,
        element_id=element.pk,
        image_id=added.pk,
    )
    services.element_image_remove(owner=user, element_id=element.pk, image_id=third.pk)
    assert sorted(element.images.values_list("position", flat=True)) == [0, 1, 2]
    element.refresh_from_db()
    assert element.version == 6


def test_removing_below_two_images_is_refused(user):
    element = make(user, extras=1)
    extra = element.images.get(role=ImageRole.EXTRA)
    refused(
        "TOO_FEW_IMAGES",
        services.element_image_remove,
        owner=user,
        element_id=element.pk,
        image_id=extra.pk,
    )


def test_replace_keeps_the_place_and_deletes_the_old_file(user, django_capture_on_commit_callbacks):
    element = make(user, extras=1)
    extra = element.images.get(role=ImageRole.EXTRA)
    old_name = extra.image.name
    with django_capture_on_commit_callbacks(execute=True):
        new = services.element_image_replace(
            owner=user, element_id=element.pk, image_id=extra.pk, file=image_upload(color=(9, 9, 9))
        )
    assert (new.role, new.position) == ("extra", 1)
    assert old_name not in media_files()


def test_delete_removes_the_files(user, django_capture_on_commit_callbacks):
    before = media_files()
    element = make(user)
    assert len(media_files() - before) == 6
    with django_capture_on_commit_callbacks(execute=True):
        services.element_delete(owner=user, element_id=element.pk)
    assert media_files() == before


def test_retyping_a_voiced_character_is_refused(user):
    element = make(user, voice_upload=sample())
    refused(
        "VOICE_NOT_ALLOWED",
        services.element_update,
        owner=user,
        element_id=element.pk,
        element_type="prop",
    )


def test_voice_take_down_unbinds_everywhere_and_tells_the_owners(user):
    voice = services.voice_upload(owner=user, upload=sample()).voice
    first = make(user, name="one", voice_id=voice.pk)
    second = make(user, name="two", voice_id=voice.pk)

    affected = services.voice_take_down(staff=StaffFactory(), voice=voice, reason="Not consented")

    assert affected == 2
    for element in (first, second):
        element.refresh_from_db()
        assert element.voice is None
        assert "Not consented" in element.voice_notice
        assert element.version == 2
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.TAKEN_DOWN
    event = ModerationEvent.objects.get()
    assert (event.affected, event.voice, event.reason) == (2, voice, "Not consented")
    refused("VOICE_TAKEN_DOWN", make, user, name="three", voice_id=voice.pk)


def test_silent_sample_is_refused_as_too_little_speech(user):
    refused("TOO_LITTLE_SPEECH", services.voice_upload, owner=user, upload=sample(volume=0.0))


def test_quiet_sample_is_accepted_with_a_warning_and_its_speech_ratio(user):
    result = services.voice_upload(owner=user, upload=sample(volume=0.01))
    assert [w.code for w in result.warnings] == ["TOO_QUIET"]
    assert result.voice.quality["speech_ratio"] > 0.8
