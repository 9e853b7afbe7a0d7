"""The AI assists as a client sees them: the queries and mutations, a member, an element
made from a real photograph, and the state a refused assist must leave alone."""

from __future__ import annotations

from typing import Any

from accounts.models import CreditLedgerEntry, FreeUseCounter
from accounts.selectors import credit_balance
from elements import services
from elements.models import Element, ReferenceImage
from generation.models import GenerationJob
from tests.factories import MembershipFactory, tier
from tests.support.media import image_upload, media_files
from tests.support.photos import photo_upload


def member() -> Any:
    """A user with a standard membership (free multi-view uses)."""
    return MembershipFactory(tier=tier("standard")).user


def element_of(
    owner: Any, *, extras: int = 1, name: str = "Astronaut", main: str = "astronaut"
) -> Element:
    """A character made through the service from a real photograph, so detection runs."""
    return services.element_create(
        owner=owner,
        name=name,
        element_type="character",
        main_image=photo_upload(main),
        extra_images=[image_upload(color=(10, 20 * i, 30)) for i in range(extras)],
    ).element


def state(user: Any) -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        credit_balance(user),
        CreditLedgerEntry.objects.filter(user=user).count(),
        sum(FreeUseCounter.objects.filter(user=user).values_list("used", flat=True)),
        GenerationJob.objects.filter(owner=user).count(),
        ReferenceImage.objects.filter(element__owner=user).count(),
        media_files(),
    )


DETECT = """
query ($image: Upload!) {
  subjectTypeDetect(image: $image) {
    __typename
    ... on SubjectTypeSuggestion { type confidence evidence }
    ... on OperationInfo { messages { field code } }
  }
}
"""


DESCRIBE = """
query ($id: ID!) {
  elementDescribe(elementId: $id) {
    __typename
    ... on ElementDescriptionSuggestion { description }
    ... on OperationInfo { messages { field code } }
  }
}
"""


UPDATE = """
mutation ($input: ElementUpdateInput!) {
  elementUpdate(input: $input) { ... on ElementResult { element { description version } } }
}
"""


COMPLETE = """
mutation ($input: ElementMultiViewCompleteInput!) {
  elementMultiViewComplete(input: $input) {
    __typename
    ... on MultiViewJobResult {
      freeUse creditsCharged
      job { id kind model status progress creditsCharged elements { name } }
    }
    ... on OperationInfo { messages { field code } }
  }
}
"""


ME = """
{ me { freeMultiviewUsesLeftToday freeMultiviewUsesPerDay multiviewPriceCredits creditBalance } }
"""
