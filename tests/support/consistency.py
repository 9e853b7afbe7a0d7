"""The library the consistency tests render: two people and a prop that PROMPT mentions,
shot by shot."""

from __future__ import annotations

from typing import Any

from accounts import services as account_services
from elements import services as element_services
from tests.support.faces import OTHER_PEOPLE, astronaut_variant, lfw_face, upload_of
from tests.support.photos import photo

__all__ = ["PROMPT", "consistency_library"]

PROMPT = (
    "Shot 1 (2s): [@Alice] walks in. "
    "Shot 2 (2s): [@Bob] waves. "
    "Shot 3 (2s): [@Alice] smiles. "
    "Shot 4 (2s): [@Alice] and [@Mug] on the table."
)


def consistency_library(owner: Any, capture: Any) -> None:
    """Alice (the astronaut), Bob (an LFW face) and a mug, each with a second image, made
    through the service with their descriptors computed (`capture` runs the on-commit tasks)."""
    account_services.credits_grant(user=owner, amount=500, reason="test credits")
    with capture(execute=True):
        for name, kind, main, extra in (
            ("Alice", "character", photo("astronaut"), astronaut_variant("flipped")),
            ("Bob", "character", lfw_face(OTHER_PEOPLE[0]), lfw_face(OTHER_PEOPLE[0], 400)),
            ("Mug", "prop", photo("coffee"), photo("coffee").crop((40, 20, 560, 380))),
        ):
            element_services.element_create(
                owner=owner,
                name=name,
                element_type=kind,
                main_image=upload_of(main, name),
                extra_images=[upload_of(extra, f"{name}-2")],
            )
