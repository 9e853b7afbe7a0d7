"""factory-boy factories shared by the test modules."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from accounts.models import CreditWallet, Membership, MembershipTier, User

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


def tier(code: str) -> MembershipTier:
    return MembershipTier.objects.get(code=code)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tier = factory.LazyFunction(lambda: tier("standard"))
    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=365))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
