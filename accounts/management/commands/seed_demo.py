"""Create the demo accounts of a local run. Their passwords are published in README and in
`manage.py serve`'s banner, so the command does nothing unless DEBUG is on."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import MembershipTier, User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - a published demo credential
STAFF_USERNAME = "staff"
STAFF_PASSWORD = "staff-password-2026"  # noqa: S105 - a published demo credential
DEMO_TIER_CODE = "standard"
DEMO_MEMBERSHIP_DAYS = 30
DEMO_CREDITS = 500
DEMO_CREDITS_KEY = "seed-demo:credits"


def seed_demo() -> list[str]:
    """Create whichever demo account is missing; returns the usernames created.

    An existing account is left as it is: its password, membership and credits may have been
    changed on purpose since.
    """
    created: list[str] = []
    with transaction.atomic():
        demo = User.objects.filter(username__iexact=DEMO_USERNAME).first()
        if demo is None:
            demo = services.user_register(
                username=DEMO_USERNAME, password=DEMO_PASSWORD, email="demo@example.com"
            )
            services.membership_set(
                user=demo,
                tier=MembershipTier.objects.get(code=DEMO_TIER_CODE),
                expires_at=timezone.now() + datetime.timedelta(days=DEMO_MEMBERSHIP_DAYS),
            )
            services.credits_grant(
                user=demo,
                amount=DEMO_CREDITS,
                reason="Demo account starting credits",
                reference="seed_demo",
                idempotency_key=DEMO_CREDITS_KEY,
            )
            created.append(demo.username)

        if not User.objects.filter(username__iexact=STAFF_USERNAME).exists():
            staff = services.user_register(
                username=STAFF_USERNAME, password=STAFF_PASSWORD, email="staff@example.com"
            )
            staff.is_staff = True
            staff.is_superuser = True
            staff.save(update_fields=["is_staff", "is_superuser"])
            created.append(staff.username)
    return created


class Command(BaseCommand):
    help = (
        f"Create the demo user {DEMO_USERNAME!r} (Standard membership, {DEMO_CREDITS} credits) "
        f"and the staff superuser {STAFF_USERNAME!r}. Only with DEBUG on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has any user.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            # A superuser with a password printed in README must never reach a real server.
            self.stderr.write("seed_demo does nothing with DEBUG off (its passwords are public).")
            return
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Users exist already: no demo data loaded.")
            return
        created = seed_demo()
        if created:
            self.stdout.write(f"Created demo accounts: {', '.join(created)}.")
        else:
            self.stdout.write("Demo accounts exist already.")
