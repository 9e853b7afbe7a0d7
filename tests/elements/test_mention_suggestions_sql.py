"""`mention_suggestions` matches prefixes in SQL (the `elements_owner_name_prefix` index) and
ranks the rest in Python only when the prefixes do not fill the list: the same answers as
ranking every usable name in Python, in one query when the prefixes fill the list."""

from __future__ import annotations

import pytest

from elements import selectors
from elements.models import ElementStatus
from tests.factories import ElementFactory
from tests.support.mentions import ranked_in_python

pytestmark = pytest.mark.django_db

NAMES = [
    "Little Scholar",
    "Little Cat",
    "Lily",
    "Li",
    "Big Banana",
    "Banana Cat",
    "Bananas",
    "Tokyo Street",
    "Astra",
    "astrid",
    "Élan",
    "élise",
    "Straße",
    "Ökonom",
    "Coffee Cup",
    "100% Juice",
    "Under_score",
]
QUERIES = ["", "li", "LI", "lit", "ban", "Bnana Cat", "Cat", "é", "ÉL", "stras", "ö", "100%",
           "under_", "%", "_", "zzz", "astr", "@[Ba", "Tokio"]  # fmt: skip


@pytest.fixture
def library(user):
    elements = [ElementFactory(owner=user, name=name, images=0) for name in NAMES]
    ElementFactory(owner=user, name="Lisa Blocked", images=0, status=ElementStatus.PROCESSING)
    return [(e.pk, e.name, e.type) for e in elements]


@pytest.mark.parametrize("first", [1, 3, 10, 50])
def test_the_same_answers_as_ranking_every_name(user, library, first):
    for query in QUERIES:
        got = [
            (s.element_id, s.match)
            for s in selectors.mention_suggestions(owner=user, query=query, first=first)
        ]
        assert got == ranked_in_python(library, query, first), query


def test_a_list_filled_by_prefixes_is_one_query(user, library, django_assert_num_queries):
    with django_assert_num_queries(1):
        got = selectors.mention_suggestions(owner=user, query="li", first=3)
    assert [(s.name, s.match) for s in got] == [
        ("Li", "prefix"),
        ("Lily", "prefix"),
        ("Little Cat", "prefix"),
    ]
    # Not filled: the rest is read once to find names containing it and close ones.
    with django_assert_num_queries(2):
        got = selectors.mention_suggestions(owner=user, query="Bnana", first=10)
    assert [s.match for s in got][:1] == ["fuzzy"]


def test_only_the_owners_elements(user, library):
    ElementFactory(name="Little Stranger", images=0)

    names = {s.name for s in selectors.mention_suggestions(owner=user, query="lit", first=50)}

    assert "Little Stranger" not in names
    assert {"Little Scholar", "Little Cat"} <= names
