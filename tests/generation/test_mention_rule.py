"""One rule for which elements a user may mention: the prompt preview's "did you mean"
suggestions and `mentionSuggestions` leave out the same elements (failed video elements and
elements staff blocked; processing ones too), and offer the same usable ones."""

from __future__ import annotations

import pytest

from elements.models import ElementSource, ElementStatus
from elements.selectors import element_is_mentionable
from tests.conftest import GraphQLClient
from tests.factories import TEST_PASSWORD, ElementFactory

pytestmark = pytest.mark.django_db

PREVIEW = """
query ($input: GenerationPreviewInput!) {
  generationPromptPreview(input: $input) { ok issues { code field suggestions } }
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
        ElementFactory(
            owner=user,
            name=name,
            images=0,
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


# --- Another user's element in `elementIds`: one code, one field, in preview and submit ------

SUBMIT = """
mutation ($input: GenerationSubmitInput!) {
  generationSubmit(input: $input) {
    __typename
    ... on OperationInfo { messages { field code } }
  }
}"""


@pytest.fixture
def elsewhere_ids(db) -> list[str]:
    from strawberry import relay

    from tests.factories import UserFactory

    other = UserFactory()
    theirs = ElementFactory(owner=other, name="Their Cat", type="animal", images=0)
    return [
        str(relay.GlobalID("Element", str(theirs.pk))),  # another user's
        str(relay.GlobalID("Element", "987654")),  # nobody's
        str(relay.GlobalID("Element", "not-a-number")),  # no element's at all
        str(relay.GlobalID("GenerationJob", "1")),  # not an element
    ]


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_an_element_id_not_yours_is_not_found_on_element_ids_in_preview_and_submit(
    client, user, elsewhere_ids, index
):
    from accounts import services as account_services
    from accounts.selectors import credit_balance
    from generation.models import GenerationJob

    account_services.credits_grant(user=user, amount=100, reason="test")
    request = {
        "model": "IMAGE_O1",
        "prompt": "A cat on a sofa.",
        "elementIds": [elsewhere_ids[index]],
    }

    preview = client(PREVIEW, {"input": request})["generationPromptPreview"]
    before = (GenerationJob.objects.count(), credit_balance(user))
    submitted = client(SUBMIT, {"input": request})["generationSubmit"]

    assert preview["ok"] is False
    assert [(i["code"], i["field"]) for i in preview["issues"]] == [("NOT_FOUND", "elementIds")]
    assert submitted == {
        "__typename": "OperationInfo",
        "messages": [{"field": "elementIds", "code": "NOT_FOUND"}],
    }
    assert (GenerationJob.objects.count(), credit_balance(user)) == before
