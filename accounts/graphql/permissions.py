"""Authentication checks for resolvers, with stable error codes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from strawberry.permission import BasePermission
from strawberry.types import Info

from accounts.error_codes import AccountErrorCode
from accounts.models import User


class NotAuthenticated(PermissionDenied):
    """Raised in mutations; `handle_django_errors` turns it into an OperationInfo message."""

    code = AccountErrorCode.NOT_AUTHENTICATED.value

    def __init__(self, message: str = "Log in or send an API token first.") -> None:
        super().__init__(message)
        self.msg = message


def current_user(info: Info) -> User | None:
    user = info.context.request.user
    if user is not None and user.is_authenticated and user.is_active:
        return user
    return None


def require_user(info: Info) -> User:
    user = current_user(info)
    if user is None:
        raise NotAuthenticated
    return user


class IsAuthenticated(BasePermission):
    """For queries: a GraphQL error with `extensions.code = NOT_AUTHENTICATED`."""

    message = "Log in or send an API token first."
    error_extensions = {"code": AccountErrorCode.NOT_AUTHENTICATED.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return current_user(info) is not None
