"""`generationModels`: the catalog's rules as the prompt studio's model picker reads them."""

from __future__ import annotations

import pytest

from generation.catalog import MODELS
from tests.support.studio import studio_client

pytestmark = pytest.mark.django_db

MODELS_QUERY = """
query {
  generationModels {
    code label outputKind maxReferences maxReferencesWithInputVideo acceptsInputVideo
    inputVideoMinSeconds inputVideoMaxSeconds acceptsReferenceImages takesFrames
    maxBoundElements durations defaultDuration aspectRatios multiShot elementVoices modes
  }
}
"""


def test_every_model_with_its_rules_in_catalog_order(user):
    models = studio_client(user)(MODELS_QUERY)["generationModels"]
    assert [m["code"] for m in models] == [code.value for code in MODELS]
    by_code = {m["code"]: m for m in models}

    omni = by_code["VIDEO_3_0_OMNI"]
    assert (omni["label"], omni["outputKind"]) == ("Video 3.0 Omni", "VIDEO")
    assert (omni["maxReferences"], omni["maxReferencesWithInputVideo"]) == (7, 4)
    assert (omni["inputVideoMinSeconds"], omni["inputVideoMaxSeconds"]) == (3.0, 10.0)
    assert omni["durations"] == list(range(3, 16))
    assert omni["multiShot"] is True and omni["takesFrames"] is False
    assert omni["maxBoundElements"] is None

    video3 = by_code["VIDEO_3_0"]
    assert video3["takesFrames"] is True and video3["maxBoundElements"] == 3
    assert video3["acceptsInputVideo"] is False and video3["acceptsReferenceImages"] is False
    assert video3["inputVideoMaxSeconds"] is None

    o1 = by_code["VIDEO_O1"]
    assert o1["multiShot"] is False and o1["durations"] == list(range(3, 11))

    image = by_code["IMAGE_O1"]
    assert image["outputKind"] == "IMAGE"
    assert image["durations"] == [] and image["defaultDuration"] is None
    assert image["modes"] == [] and "auto" in image["aspectRatios"]
