"""Portable bundles (issue 16): export and re-import of a library of 150 elements (4
images and a voice each) against validating the same files as uploads, in one run.

    .venv/bin/python bench/bundles.py [--quick]

Also a row of `bench/media.py` (`--only bundles`); see bench/README.md.
"""

from __future__ import annotations

from run import Rows, compare, run_selected

ELEMENTS = 150
QUICK_ELEMENTS = 30


def _photo(seed: int) -> bytes:
    """A 1024×1024 JPEG with gradients and grain (flat colour decodes unrealistically fast)."""
    import io

    from PIL import Image

    side = 1024
    red = Image.linear_gradient("L").resize((side, side))
    green = red.rotate(90 + seed % 180)
    grain = Image.effect_noise((side, side), 20 + seed % 30)
    image = Image.merge("RGB", [Image.blend(band, grain, 0.2) for band in (red, green, grain)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def bundles(quick: bool) -> dict[str, float]:
    """Subject: `write_bundle` of the library, then `element_import` of that bundle into an
    empty library (every file re-validated, rows and files written in one transaction).
    Baseline: `process_image` of each of the same reference files and `process_audio` of
    each voice, what uploading them costs."""
    import io
    import itertools

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import MembershipTier, User
    from accounts.selectors import NON_MEMBER_TIER_CODE
    from elements import services
    from elements.bundles.export import exportable_elements, write_bundle
    from elements.bundles.importer import Outcome, element_import
    from elements.bundles.library import personal_library
    from elements.media.audio import process_audio
    from elements.media.images import process_image
    from elements.models import Element, ReferenceImage

    count = QUICK_ELEMENTS if quick else ELEMENTS
    # A scratch database: room for the library and each import of it.
    MembershipTier.objects.filter(code=NON_MEMBER_TIER_CODE).update(element_limit=10**6)
    owner = User.objects.create_user(username="bench-bundles")
    photos = [_photo(n) for n in range(8)]
    speech = _speech_wav()
    for n in range(count):
        services.element_create(
            owner=owner,
            name=f"Character {n}",
            element_type="character",
            main_image=io.BytesIO(photos[n % 8]),
            extra_images=[io.BytesIO(photos[(n + k) % 8]) for k in (1, 2, 3)],
            voice_upload=services.VoiceUpload(
                file=io.BytesIO(speech),
                name=f"Voice {n}",
                consent_statement="I recorded this myself and may use it.",
            ),
        )
    library = personal_library(owner)
    stored_images = [
        default_storage.open(name, "rb").read()
        for name in ReferenceImage.objects.filter(element__owner=owner).values_list(
            "image", flat=True
        )
    ]
    stored_voices = [
        default_storage.open(name, "rb").read()
        for name in Element.objects.filter(owner=owner).values_list("voice__audio", flat=True)
    ]
    importers = (User.objects.create_user(username=f"bench-import-{n}") for n in itertools.count())

    def round_trip() -> None:
        buffer = io.BytesIO()
        write_bundle(exportable_elements(library, None), buffer, include_voice_files=True)
        report = element_import(
            owner=next(importers), bundle=SimpleUploadedFile("b.zip", buffer.getvalue())
        )
        if report.count(Outcome.CREATED) != count:
            raise SystemExit("The bundle did not import every element.")

    def validate_as_uploads() -> None:
        for data in stored_images:
            process_image(io.BytesIO(data))
        for data in stored_voices:
            process_audio(io.BytesIO(data))

    return {
        "bundle_round_trip": compare(
            f"export + import of {count} elements (4 images, a voice each) vs validating "
            "the same files as uploads",
            ("write_bundle + element_import", round_trip),
            ("process_image x4 + process_audio, each element", validate_as_uploads),
            calls=1,
            repeats=3,
        )
    }


def _speech_wav() -> bytes:
    """8 s of speech-like sound (pitch pulses through changing formants) as a 16 kHz WAV."""
    import io
    import math
    import random
    import struct
    import wave

    rate, rng = 16000, random.Random(7)
    frames = bytearray()
    phase = 0.0
    for n in range(8 * rate):
        syllable = n // (rate // 4)
        voiced = (n % (rate // 4)) < rate // 6
        f0 = 130 + 20 * math.sin(syllable)
        phase += 2 * math.pi * f0 / rate
        formant = 500 + 300 * (syllable % 3)
        value = math.sin(phase) * math.sin(2 * math.pi * formant * n / rate) if voiced else 0.0
        value += rng.uniform(-0.01, 0.01)
        frames += struct.pack("<h", int(0.5 * value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def bundle_rows() -> Rows:
    return {"bundles": bundles}


def main() -> None:
    run_selected(
        __doc__.splitlines()[0],
        ("bundles",),
        bundle_rows,
        "summary (ratio to its baseline, lower is cheaper):",
    )


if __name__ == "__main__":
    main()
