"""factory-boy factories shared by the test modules: accounts, elements (with their images
and voices), generation jobs (with outputs), Explore works and webhook endpoints."""

from __future__ import annotations

import datetime
import hashlib
import io
import secrets
from typing import Any

import av
import factory
import numpy as np
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import CreditWallet, Membership, MembershipTier, User
from elements.models import (
    Element,
    ElementSource,
    ElementStatus,
    ElementType,
    ImageOrigin,
    ImageRole,
    ReferenceImage,
    Voice,
    VoiceSource,
)
from generation.catalog import ModelCode
from generation.explore.models import ExploreWork
from generation.models import GenerationJob, GenerationOutput, JobKind, JobStatus, OutputKind
from generation.webhooks.models import WebhookEndpoint
from tests.support.media import image_bytes, wav_bytes

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def wallet(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            CreditWallet.objects.get_or_create(user=self)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class StaffUserFactory(UserFactory):
    """Staff who are not superusers and hold only the permissions named by codename:
    `StaffUserFactory(permissions=["view_element"])`."""

    is_staff = True

    @factory.post_generation
    def permissions(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            found = list(Permission.objects.filter(codename__in=extracted))
            # Codenames are unique across our apps; a typo must not pass as "no permission".
            assert sorted(p.codename for p in found) == sorted(set(extracted)), extracted
            self.user_permissions.add(*found)


def tier(code: str) -> MembershipTier:
    return MembershipTier.objects.get(code=code)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tier = factory.LazyFunction(lambda: tier("standard"))
    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=365))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


# --- Elements ------------------------------------------------------------------------------
#
# Rows built directly through the models (no detection, no re-encoding), with real files in the
# test storage wherever the row points at one: the admin and the API serve them, and the
# janitor's tests count them.


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VoiceFactory(factory.django.DjangoModelFactory):
    """A user's uploaded voice with its consent recorded; `VoiceFactory(preset=True)` is a
    preset (no owner, no consent), as the seeded presets are."""

    class Meta:
        model = Voice

    class Params:
        seconds = 6.0
        data = factory.LazyAttribute(lambda v: wav_bytes(seconds=v.seconds))
        preset = factory.Trait(
            owner=None,
            source=VoiceSource.PRESET,
            consent_statement="",
            consent_at=None,
        )

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Voice {n}")
    audio = factory.LazyAttribute(lambda v: ContentFile(v.data, name="voice.wav"))
    duration_ms = factory.LazyAttribute(lambda v: int(v.seconds * 1000))
    sha256 = factory.LazyAttribute(lambda v: _sha256(v.data))
    source = VoiceSource.UPLOAD
    consent_statement = "I recorded this myself and may use it."
    consent_at = factory.LazyFunction(timezone.now)


class ElementFactory(factory.django.DjangoModelFactory):
    """An active character made from images, with a main image and one extra
    (`ElementFactory(images=0)` for the bare row; `images=n` for a main and n-1 extras)."""

    class Meta:
        model = Element
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Element {n}")
    type = ElementType.CHARACTER
    source = ElementSource.IMAGES
    status = ElementStatus.ACTIVE

    @factory.post_generation
    def images(self, create: bool, extracted: int | None, **kwargs: Any) -> None:
        count = 2 if extracted is None else extracted
        if create:
            for position in range(count):
                ReferenceImageFactory(element=self, position=position, **kwargs)


class ReferenceImageFactory(factory.django.DjangoModelFactory):
    """A reference image and its thumbnail as JPEG files; position 0 is the main image."""

    class Meta:
        model = ReferenceImage

    class Params:
        color = (200, 80, 40)
        data = factory.LazyAttribute(lambda i: image_bytes(i.width, i.height, color=i.color))

    element = factory.SubFactory(ElementFactory, images=0)
    position = 0
    role = factory.LazyAttribute(lambda i: ImageRole.MAIN if i.position == 0 else ImageRole.EXTRA)
    width = 640
    height = 800
    image = factory.LazyAttribute(lambda i: ContentFile(i.data, name="reference.jpg"))
    thumbnail = factory.LazyAttribute(
        lambda i: ContentFile(image_bytes(160, 200, color=i.color), name="reference.jpg")
    )
    sha256 = factory.LazyAttribute(lambda i: _sha256(i.data))
    origin = ImageOrigin.UPLOAD


# --- Generation jobs -----------------------------------------------------------------------


class GenerationJobFactory(factory.django.DjangoModelFactory):
    """A queued 5-second video job on the local provider, charged nothing. The `succeeded`
    trait finishes it with one MP4 output (`GenerationJobFactory(succeeded=True)`)."""

    class Meta:
        model = GenerationJob
        skip_postgeneration_save = True

    class Params:
        succeeded = factory.Trait(
            status=JobStatus.SUCCEEDED,
            progress=100,
            started_at=factory.LazyFunction(timezone.now),
            finished_at=factory.LazyFunction(timezone.now),
            output=factory.RelatedFactory(
                "tests.factories.GenerationOutputFactory", factory_related_name="job"
            ),
        )

    owner = factory.SubFactory(UserFactory)
    kind = JobKind.GENERATION
    model = ModelCode.VIDEO_3_0_OMNI
    mode = "std"
    prompt = "A kite rises over the beach."
    duration = 5
    aspect_ratio = "16:9"
    status = JobStatus.QUEUED
    provider = "local"


class GenerationOutputFactory(factory.django.DjangoModelFactory):
    """A job's video output: a real one-second MP4 with its poster and thumbnail."""

    class Meta:
        model = GenerationOutput

    job = factory.SubFactory(GenerationJobFactory, status=JobStatus.SUCCEEDED)
    owner = factory.SelfAttribute("job.owner")
    kind = OutputKind.VIDEO
    file = factory.LazyFunction(lambda: ContentFile(_tiny_mp4(), name="output.mp4"))
    poster = factory.LazyFunction(
        lambda: ContentFile(image_bytes(64, 36, color=(30, 60, 90)), name="poster.jpg")
    )
    thumbnail = factory.LazyFunction(
        lambda: ContentFile(image_bytes(32, 18, color=(30, 60, 90)), name="thumb.jpg")
    )
    width = 64
    height = 36
    duration_ms = 1000
    has_audio = False


def _tiny_mp4() -> bytes:
    """One second of 64×36 H.264 at 6 fps: small, and a real file a player can open."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=6)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for n in range(6):
            frame = av.VideoFrame.from_ndarray(
                np.full((36, 64, 3), 40 * n, dtype=np.uint8), format="rgb24"
            )
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


# --- Explore and webhooks ------------------------------------------------------------------


class ExploreWorkFactory(factory.django.DjangoModelFactory):
    """A work shared through the real service (`generation_share`) from a succeeded job, so
    its recipe and files are frozen as a user's share freezes them."""

    class Meta:
        model = ExploreWork

    job = factory.SubFactory(GenerationJobFactory, succeeded=True)
    title = factory.Sequence(lambda n: f"Work {n}")

    @classmethod
    def _create(cls, model_class: type[ExploreWork], *args: Any, **kwargs: Any) -> ExploreWork:
        from generation.explore import services as explore_services

        job = kwargs.pop("job")
        return explore_services.generation_share(
            owner=job.owner,
            job_id=job.pk,
            output_id=job.outputs.get().pk,
            title=kwargs.pop("title"),
            caption=kwargs.pop("caption", None),
        )


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint that wants every event type, with a secret in the production format."""

    class Meta:
        model = WebhookEndpoint

    owner = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    events: Any = factory.LazyFunction(list)
    secret = factory.LazyFunction(lambda: "whsec_" + secrets.token_hex(32))
