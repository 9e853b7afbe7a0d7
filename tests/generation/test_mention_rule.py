"""One rule for which elements a user may mention: the prompt preview's "did you mean"
suggestions and `mentionSuggestions` leave out the same elements (failed video elements and
elements staff blocked; processing ones too), and offer the same usable ones."""

from __future__ import annotations

import pytest

from elements.models import Element, ElementSource, ElementStatus
from elements.selectors import element_is_mentionable
from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PREVIEW = """
query ($input: GenerationPreviewInput!) {
  generationPromptPreview(input: $input) { ok issues { code suggestions } }
}"""
SUGGEST = "query ($q: String!) { mentionSuggestions(query: $q, first: 10) { name } }"


@pytest.fixture
def client(user) -> GraphQLClient:
    gql = GraphQLClient()
    assert gql.client.login(username=user.username, password=TEST_PASSWORD)
    for name, status, source in [
        ("Coffee Vid", ElementStatus.FAILED, ElementSource.VIDEO),
        ("Coffee Cup", ElementStatus.ACTIVE, ElementSource.IMAGES),
        ("Astro", ElementStatus.BLOCKED, ElementSource.IMAGES),
        ("Astra", ElementStatus.ACTIVE, ElementSource.IMAGES),
        ("Astrid", ElementStatus.PROCESSING, ElementSource.VIDEO),
    ]:
        Element.objects.create(
            owner=user,
            name=name,
            type="character",
            status=status,
            source=source,
            failure_code="NO_FACE" if status == ElementStatus.FAILED else "",
            blocked_reason="Test block" if status == ElementStatus.BLOCKED else "",
        )
    return gql


def preview_suggestions(client: GraphQLClient, mention: str) -> set[str]:
    preview = client(
        PREVIEW, {"input": {"model": "IMAGE_O1", "prompt": f"[@{mention}] on a table"}}
    )["generationPromptPreview"]
    assert preview["ok"] is False
    (unknown,) = [i for i in preview["issues"] if i["code"] == "UNKNOWN_MENTION"]
    return set(unknown["suggestions"])


def picker(client: GraphQLClient, query: str) -> set[str]:
    return {row["name"] for row in client(SUGGEST, {"q": query})["mentionSuggestions"]}


@pytest.mark.parametrize(
    ("typed", "usable"),
    [("Cofee Vid", {"Coffee Cup"}), ("Astr", {"Astra"}), ("Astroo", {"Astra"})],
)
def test_preview_and_picker_offer_the_same_usable_elements(client, typed, usable):
    from_preview = preview_suggestions(client, typed)
    from_picker = picker(client, typed)

    assert from_preview == usable
    assert from_picker >= usable
    for name in ("Coffee Vid", "Astro", "Astrid"):
        assert name not in from_preview | from_picker


def test_the_rule_is_active_only():
    assert [s for s in ElementStatus if element_is_mentionable(s)] == [ElementStatus.ACTIVE]


def test_a_blocked_element_named_exactly_is_still_reported_as_blocked(client):
    preview = client(PREVIEW, {"input": {"model": "IMAGE_O1", "prompt": "[@Astro] on a table"}})
    codes = {i["code"] for i in preview["generationPromptPreview"]["issues"]}

    assert codes == {"ELEMENT_BLOCKED"}
