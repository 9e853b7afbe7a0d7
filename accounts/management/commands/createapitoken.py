"""Create a personal API token for a user and print its secret.

The secret is the only thing written to stdout, so a script can capture it:
`TOKEN=$(python manage.py createapitoken alice)`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services
from accounts.error_codes import AccountErrorCode
from accounts.models import User


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a personal API token (Authorization: Bearer <token>) and print it once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="The user the token acts as (case-insensitive).")
        parser.add_argument(
            "--name", help='A label for the token (default: "cli-<timestamp>").', default=None
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive: a token would not work.")

        token, secret = self._create(user, options["name"])
        self.stderr.write(
            f"Created API token {token.name!r} ({token.prefix}…) for {user.username}. "
            "It is shown only now:",
            style_func=lambda text: text,
        )
        self.stdout.write(secret)

    def _create(self, user: User, name: str | None) -> tuple[Any, str]:
        if name is not None:
            try:
                return services.api_token_create(user=user, name=name)
            except ValidationError as exc:
                raise CommandError(_messages(exc)) from None
        base = timezone.now().strftime("cli-%Y%m%d-%H%M%S")
        # Two tokens created in the same second would share the default name.
        for attempt in range(1, 100):
            candidate = base if attempt == 1 else f"{base}-{attempt}"
            try:
                return services.api_token_create(user=user, name=candidate)
            except ValidationError as exc:
                codes = {error.code for error in exc.error_dict.get("name", [])}
                if AccountErrorCode.TOKEN_NAME_TAKEN not in codes:
                    raise CommandError(_messages(exc)) from None
        raise CommandError("Could not find a free token name; pass --name.")
