"""The likeness page: a phrase is shown, the selfie video that says it is checked, and the
likeness ends up protecting its owner; a failed check reads by its code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from elements.models import Likeness, LikenessChallenge, LikenessStatus
from tests.support.likeness import selfie
from tests.web.flows import sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_claim_a_likeness_from_the_studio(
    page: Any, studio_url: str, tmp_path: Path, shoot: Any
) -> None:
    sign_up(page, studio_url, "ada")
    page.get_by_role("link", name="Likeness").first.click()
    page.get_by_role("heading", name="Likeness", exact=True).wait_for()
    page.get_by_role("button", name="Show me a phrase").click()
    phrase = page.get_by_test_id("likeness-phrase")
    phrase.wait_for()
    challenge = LikenessChallenge.objects.get(user__username="ada")
    assert challenge.phrase in phrase.inner_text()
    shoot("likeness-phrase")

    clip = tmp_path / "selfie.mp4"
    clip.write_bytes(selfie("astronaut", challenge.syllables))
    page.get_by_label("Selfie video file").set_input_files(str(clip))
    page.get_by_role("button", name="Send for the check").click()
    page.get_by_text("Protecting you").wait_for(timeout=90_000)
    assert Likeness.objects.get(owner__username="ada").status == LikenessStatus.ACTIVE
    page.get_by_text("No one else's element shows your face.").wait_for()
    shoot("likeness-active")
