"""The voices page: upload (quality warnings shown), play, delete with confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from elements.models import Voice
from tests.support.media import pcm_wav_bytes, speechlike_pcm
from tests.web.flows import sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_play_and_delete_a_voice(
    page: Any, studio_url: str, tmp_path: Path, shoot: Any
) -> None:
    sample = tmp_path / "narrator.wav"
    sample.write_bytes(pcm_wav_bytes(speechlike_pcm(9.0)))
    sign_up(page, studio_url, "zoe")
    page.get_by_role("link", name="Voices").first.click()
    page.get_by_text("No voices of your own yet").wait_for()
    shoot("voices-empty")

    page.get_by_label("Voice sample file").set_input_files(str(sample))
    page.get_by_label("Voice name").fill("Narrator")
    page.get_by_label("I have the right to use this voice", exact=False).check()
    page.get_by_role("button", name="Upload voice").click()
    card = page.get_by_role("article", name="Voice Narrator")
    card.wait_for()
    assert Voice.objects.filter(owner__username="zoe", name="Narrator").count() == 1

    play = card.get_by_role("button", name="Play voice Narrator")
    play.click()
    expect(card.get_by_role("button", name="Pause voice Narrator")).to_have_attribute(
        "aria-pressed", "true"
    )
    shoot("voices")

    card.get_by_role("button", name="Delete voice Narrator").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    dialog.get_by_role("button", name="Delete voice").click()
    page.get_by_text("No voices of your own yet").wait_for()
    assert not Voice.objects.filter(owner__username="zoe").exists()
