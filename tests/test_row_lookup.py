"""A service reads the row a client named through one lookup (`elementsite.ids.row_or_not_found`):
a malformed key, a key the model can't hold, another user's row and no row at all get the
same NOT_FOUND, on the same field, with the same message, and never a database or parsing
error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import ApiToken
from accounts.services import api_token_create
from elementsite.ids import NO_ROW_INT, NO_ROW_UUID, row_key, row_or_not_found
from generation.models import GenerationJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_KEYS: list[Any] = [None, "", "abc", "12abc", -1, 0, "-5", 2**64, str(2**70), 1.5, True, []]


def refusal(call: Any) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as caught:
        call()
    ((field, errors),) = caught.value.error_dict.items()
    (error,) = errors
    return field, str(error.code), str(error.message)


@pytest.mark.parametrize("value", NOT_KEYS)
def test_a_value_no_integer_key_holds_becomes_a_key_no_row_has(value: Any) -> None:
    assert row_key(ApiToken, value) == NO_ROW_INT


@pytest.mark.parametrize("value", [*NOT_KEYS, "not-a-uuid", 7])
def test_a_value_no_uuid_key_holds_becomes_a_key_no_row_has(value: Any) -> None:
    assert row_key(GenerationJob, value) == NO_ROW_UUID


def test_a_key_is_read_as_the_model_stores_it() -> None:
    job_id = uuid.uuid4()
    assert row_key(ApiToken, "42") == 42
    assert row_key(GenerationJob, str(job_id)) == job_id


@pytest.mark.parametrize("value", NOT_KEYS)
def test_every_miss_is_the_same_not_found(value: Any) -> None:
    # given: a token of another user, the one row the lookup could find
    theirs, _ = api_token_create(user=UserFactory(), name="theirs")
    mine = UserFactory()
    lookup = ApiToken.objects.filter(user_id=mine.pk)

    def find(key: Any) -> Any:
        return lambda: row_or_not_found(
            lookup, key, field="id", message="No such token.", code="NOT_FOUND"
        )

    # when / then
    expected = ("id", "NOT_FOUND", "No such token.")
    assert refusal(find(value)) == expected
    assert refusal(find(theirs.pk)) == expected
    assert refusal(find(str(theirs.pk))) == expected


def test_the_row_is_found_by_its_key_as_a_number_or_text() -> None:
    user = UserFactory()
    token, _ = api_token_create(user=user, name="mine")

    for key in (token.pk, str(token.pk)):
        assert row_or_not_found(ApiToken, key, field="id", message="", code="NOT_FOUND") == token
