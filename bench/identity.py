"""The identity engine's row of the benchmarks (issue 17): the descriptors of one 12 MP
reference image (`elements.identity`: decode, faces and their descriptors, perceptual hash,
colour histogram, ORB keypoints) against a Pillow decode + thumbnail of the same JPEG.

    .venv/bin/python bench/identity.py [--quick]

Also run by `bench/media.py --only identity`; see bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from run import compare, setup_django


def identity(quick: bool) -> dict[str, float]:
    from features import portrait_jpeg
    from PIL import Image

    from elements.identity.registry import get_identity_engine
    from elements.media.images import THUMBNAIL_SIZE, process_image

    repeats = 3 if quick else 5
    processed = process_image(io.BytesIO(portrait_jpeg()))
    jpeg = processed.content
    engine = get_identity_engine()

    def decode() -> Image.Image:
        image = Image.open(io.BytesIO(jpeg))
        image.load()
        return image

    def bare() -> None:
        decode().thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))

    # Also loads the models, outside the timing.
    found = engine.describe(Image.open(io.BytesIO(jpeg)))
    if len(found.described_faces) != 1:
        raise SystemExit(f"The benchmark portrait should show one face: {found.faces}")
    size = f"{processed.width}x{processed.height} JPEG ({len(jpeg) / 1e6:.1f} MB)"
    return {
        "image_descriptors": compare(
            f"identity descriptors of a {size} (decode included) vs Pillow decode + thumbnail",
            (
                "engine.describe(Image.open(jpeg)), decode included",
                lambda: engine.describe(Image.open(io.BytesIO(jpeg))),
            ),
            ("Image.open + load + thumbnail", bare),
            calls=1,
            repeats=repeats,
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = identity(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<24} {ratio:6.2f}x")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
