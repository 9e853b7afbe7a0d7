"""`ErrorCode`: every stable error code a client can meet, as one GraphQL enum.

The codes live in the apps' `StrEnum`s (`error_codes.py`, `PromptErrorCode`, `MediaErrorCode`…);
this module merges them, so a code added to a domain enum reaches `schema.graphql` (and the web
studio's generated types) by itself, and a code that is in no enum cannot be sent at all. Only
the schema imports this module: it reaches into every app, which no app may do.

Where the codes surface:
- `OperationMessage.code` of a mutation's `OperationInfo` and `PreviewIssue.code`: typed with
  the enum here (`type_code_fields`);
- `extensions.code` of a GraphQL error and of an HTTP-level JSON error (elementsite.errors):
  extensions have no type in GraphQL, but their codes are the same enum's values.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional, get_object_definition
from strawberry_django.fields.types import OperationInfo, OperationMessage

from accounts.error_codes import AccountErrorCode, CreditErrorCode
from elements.bundles.errors import BundleErrorCode
from elements.error_codes import ElementErrorCode
from elements.likeness.error_codes import LikenessErrorCode
from elements.media.errors import MediaErrorCode
from elements.teams.error_codes import TeamErrorCode
from elementsite.error_codes import ListErrorCode, RequestErrorCode
from elementsite.storage import StorageErrorCode
from generation.error_codes import GenerationErrorCode
from generation.explore.error_codes import ExploreErrorCode
from generation.prompts import PromptErrorCode
from generation.webhooks.error_codes import WebhookErrorCode

logger = logging.getLogger("elementsite.errors")

# Each domain enum, with the words a client author reads in a code's description.
DOMAIN_ENUMS: dict[type[StrEnum], str] = {
    RequestErrorCode: "the request as a whole",
    ListErrorCode: "lists and their pages",
    StorageErrorCode: "file storage",
    AccountErrorCode: "accounts, sign-in and API tokens",
    CreditErrorCode: "credits",
    ElementErrorCode: "the element library",
    MediaErrorCode: "uploaded images, audio and video",
    LikenessErrorCode: "likeness protection",
    TeamErrorCode: "teams, their members and invitations",
    BundleErrorCode: "element bundles (export and import)",
    PromptErrorCode: "the prompt",
    GenerationErrorCode: "generation jobs",
    ExploreErrorCode: "the Explore feed",
    WebhookErrorCode: "webhooks",
}


def merged_codes(enums: dict[type[StrEnum], str]) -> dict[str, list[str]]:
    """Every code value (what clients see) with the areas that use it, in the enums' order."""
    codes: dict[str, list[str]] = {}
    for enum_cls, area in enums.items():
        for member in enum_cls:
            codes.setdefault(member.value, []).append(area)
    return codes


_CODES = merged_codes(DOMAIN_ENUMS)

# Built from the domain enums, never retyped: the value is the code a client receives.
ErrorCode: type[StrEnum] = StrEnum("ErrorCode", [(code, code) for code in _CODES])  # type: ignore[misc]
ErrorCode.__module__ = __name__
strawberry.enum(
    ErrorCode,
    description="A stable error code: what a mutation's `OperationMessage.code`, a preview's "
    "issue and an error's `extensions.code` carry. Compare codes, never messages.",
)
for _value in ErrorCode.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = "Used by " + "; ".join(_CODES[_value.value]) + "."

# What a code outside every enum (a Django validator's own, e.g. `max_length`) is sent as: the
# input was refused, and the message says why.
FALLBACK_CODE = RequestErrorCode.INVALID_INPUT


def as_error_code(code: object) -> StrEnum | None:
    """`code` as an `ErrorCode` member; one in no domain enum becomes FALLBACK_CODE (and is
    logged, so it gets its own enum entry), None stays None."""
    if code is None or code == "":
        return None
    try:
        return ErrorCode(str(code))
    except ValueError:
        logger.warning("error code %r is in no error code enum; sent as %s", code, FALLBACK_CODE)
        return ErrorCode(FALLBACK_CODE.value)


class _CodeCoercion(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        return as_error_code(next_(source, info, **kwargs))

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        return as_error_code(await next_(source, info, **kwargs))


def type_code_fields(*types: type, field: str = "code") -> None:
    """Type the `code` field of each of `types` with `ErrorCode`, keeping its nullability.

    strawberry-django's `OperationMessage.code` is declared `str | None`; its values are our
    codes (or Django's own, see FALLBACK_CODE). Retyping the field of the library's type, once,
    before the schema is built, keeps `handle_django_errors` as it is and gives clients an
    enum instead of a string.
    """
    for type_ in types:
        definition = get_object_definition(type_, strict=True)
        target = next(f for f in definition.fields if f.python_name == field)
        if getattr(target, "_typed_error_code", False):
            continue
        optional = isinstance(target.type, StrawberryOptional)
        annotation: Any = ErrorCode | None if optional else ErrorCode
        target.type_annotation = StrawberryAnnotation(annotation)
        target.extensions.append(_CodeCoercion())
        target._typed_error_code = True  # type: ignore[attr-defined]


# strawberry-django's types carry docstrings, which strawberry does not publish.
_OPERATION_DESCRIPTIONS = {
    OperationInfo: "Why a mutation did nothing: one message per problem found.",
    OperationMessage: "One problem a mutation found: its kind, the input field and a stable code.",
}
_KIND_DESCRIPTIONS = {
    "INFO": "Information; nothing is wrong.",
    "WARNING": "Done, with a remark.",
    "ERROR": "Refused: not found, or failed.",
    "PERMISSION": "Refused: not allowed to the viewer.",
    "VALIDATION": "Refused: the input breaks a rule; `field` names the input.",
}


def type_operation_messages() -> None:
    """`OperationMessage.code` (every mutation's refusal) typed with `ErrorCode`, and
    strawberry-django's `OperationInfo` types described for client authors."""
    type_code_fields(OperationMessage)
    for type_, description in _OPERATION_DESCRIPTIONS.items():
        get_object_definition(type_, strict=True).description = description
    kind = OperationMessage.Kind.__strawberry_definition__  # type: ignore[attr-defined]
    kind.description = "How a mutation's message is to be read."
    for value in kind.values:
        value.description = _KIND_DESCRIPTIONS[value.name]
