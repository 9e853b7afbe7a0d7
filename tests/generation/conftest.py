"""Fixtures the generation tests share."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.kling import FakeKling


@pytest.fixture
def kling(settings: Any, tmp_path: Path) -> Iterator[FakeKling]:
    """A fake Kling server on 127.0.0.1, with every model mapped to the `kling` provider."""
    access, secret = f"ak-{uuid.uuid4().hex}", f"sk-{uuid.uuid4().hex}"
    fake = FakeKling(access_key=access, secret_key=secret, workdir=tmp_path).start()
    settings.GENERATION_PROVIDERS = {"*": "kling"}
    settings.KLING_ACCESS_KEY = access
    settings.KLING_SECRET_KEY = secret
    settings.KLING_BASE_URL = fake.url
    settings.KLING_CALLBACK_BASE_URL = "http://testserver"
    # Production backs off from ≥ 1 s; the same code runs here with the clock shrunk.
    settings.KLING_RETRY_BASE_SECONDS = 0.01
    settings.KLING_RETRY_MAX_SECONDS = 0.05
    settings.KLING_POLL_SECONDS = 0.01
    settings.KLING_POLL_MAX_SECONDS = 0.02
    yield fake
    fake.stop()
