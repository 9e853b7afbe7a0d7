"""Calibration of the identity engine on the real photographs available offline (issue 17).

    .venv/bin/python bench/identity_calibration.py [faces] [objects]

Faces: scikit-image's astronaut (one person) under crops, flips, rescales, rotations,
lighting changes and JPEG re-encodes are the genuine pairs (every pair of versions, the
original included); the impostor pairs are each version against the 100 faces of
scikit-image's LFW subset (`lfw_subset.npy`: 25×25 grey crops, no names, enlarged to be
found), and the LFW faces against each other (their identities are not given, so a same-person
pair there counts as a false match: an upper bound). Objects: ten photographs of things and
places against each other, and each against its own versions, by appearance similarity.

Prints the false-match rate (FMR: impostor pairs taken for one) and false-non-match rate
(FNMR: genuine pairs taken for two) at several thresholds; README's Identity section has the
table of a run. Deterministic (no random numbers); takes about 2 minutes.
"""

from __future__ import annotations

import io
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from run import setup_django

FACE_THRESHOLDS = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
APPEARANCE_THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
OBJECTS = (
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "coins",
    "horse",
    "immunohistochemistry",
    "brick",
    "hubble_deep_field",
    "retina",
)


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def versions(image: Image.Image) -> dict[str, Callable[[], Image.Image]]:
    """The transforms a reference image plausibly undergoes, by name."""
    w, h = image.size
    return {
        "original": lambda: image,
        "flip": lambda: ImageOps.mirror(image),
        "crop 80 % centre": lambda: image.crop((w // 10, h // 10, w - w // 10, h - h // 10)),
        "crop 70 % top-left": lambda: image.crop((0, 0, int(w * 0.7), int(h * 0.7))),
        "crop 70 % bottom-right": lambda: image.crop((int(w * 0.3), int(h * 0.3), w, h)),
        "rescale 0.6": lambda: image.resize((int(w * 0.6), int(h * 0.6)), Image.Resampling.LANCZOS),
        "rescale 1.8": lambda: image.resize((int(w * 1.8), int(h * 1.8)), Image.Resampling.BICUBIC),
        "rotate 10°": lambda: image.rotate(10, Image.Resampling.BICUBIC, expand=True),
        "darker 0.5": lambda: ImageEnhance.Brightness(image).enhance(0.5),
        "brighter 1.5": lambda: ImageEnhance.Brightness(image).enhance(1.5),
        "low contrast 0.5": lambda: ImageEnhance.Contrast(image).enhance(0.5),
        "warm cast": lambda: Image.merge(
            "RGB",
            [
                band.point(lambda v, k=k: min(255, int(v * k)))
                for band, k in zip(image.split(), (1.2, 1.0, 0.8), strict=True)
            ],
        ),
        "greyscale": lambda: ImageOps.grayscale(image).convert("RGB"),
        "JPEG q30": lambda: jpeg(image, 30),
        "JPEG q10": lambda: jpeg(image, 10),
        "flip + darker + JPEG q50": lambda: jpeg(
            ImageEnhance.Brightness(ImageOps.mirror(image)).enhance(0.7), 50
        ),
    }


def lfw_faces() -> list[Image.Image]:
    from skimage import data

    faces = []
    for grey in data.lfw_subset()[:100]:
        face = Image.fromarray((grey * 255).astype(np.uint8)).resize(
            (240, 240), Image.Resampling.BICUBIC
        )
        canvas = Image.new("RGB", (320, 320), (128, 128, 128))
        canvas.paste(face.convert("RGB"), (40, 40))
        faces.append(canvas)
    return faces


def rates(genuine: list[float], impostor: list[float], thresholds, *, higher_is_same: bool):
    rows = []
    g, i = np.asarray(genuine), np.asarray(impostor)
    for t in thresholds:
        if higher_is_same:
            fnmr, fmr = float((g < t).mean()), float((i >= t).mean())
        else:
            fnmr, fmr = float((g > t).mean()), float((i <= t).mean())
        rows.append((t, fmr, fnmr))
    return rows


def print_table(title: str, rows, genuine, impostor, unit: str) -> None:
    print(f"\n{title}: {len(genuine)} genuine pairs, {len(impostor)} impostor pairs")
    print(f"| {unit} | FMR | FNMR |\n|---|---|---|")
    for t, fmr, fnmr in rows:
        print(f"| {t:.2f} | {100 * fmr:.2f} % | {100 * fnmr:.2f} % |")
    print(
        f"genuine: min {min(genuine):.3f} median {np.median(genuine):.3f} max {max(genuine):.3f}; "
        f"impostor: min {min(impostor):.3f} median {np.median(impostor):.3f} "
        f"max {max(impostor):.3f}"
    )


def faces(engine) -> None:
    from tests.support.photos import photo

    astronaut = versions(photo("astronaut"))
    described = {}
    for name, make in astronaut.items():
        found = engine.describe(make())
        if found.described_faces:
            described[name] = found.described_faces[0]
        else:
            print(f"  astronaut, {name}: no face found ({len(found.faces)} too small)")
    print(f"astronaut versions with a described face: {len(described)} of {len(astronaut)}")
    lfw = []
    for face in lfw_faces():
        found = engine.describe(face).described_faces
        if found:
            lfw.append(found[0])
    print(f"LFW subset faces found and described (enlarged 9.6x): {len(lfw)} of 100")
    genuine = [engine.face_distance(a, b) for a, b in itertools.combinations(described.values(), 2)]
    impostor_astronaut = [engine.face_distance(a, b) for a in described.values() for b in lfw]
    impostor_lfw = [engine.face_distance(a, b) for a, b in itertools.combinations(lfw, 2)]
    for title, impostor in (
        ("Faces, astronaut versions vs LFW faces", impostor_astronaut),
        ("Faces, LFW faces vs each other (unnamed: upper bound)", impostor_lfw),
    ):
        rows = rates(genuine, impostor, FACE_THRESHOLDS, higher_is_same=False)
        print_table(title, rows, genuine, impostor, "distance threshold")
    # The smallest face that is still described, and how far its descriptor drifts.
    original = described["original"]
    print("\nFace size (astronaut shrunk on a 600 px canvas): box side, distance to original")
    for size in (120, 150, 175, 200, 240, 300):
        canvas = Image.new("RGB", (600, 600), (180, 180, 180))
        canvas.paste(photo("astronaut").resize((size, size), Image.Resampling.LANCZOS), (200, 200))
        found = engine.describe(canvas)
        if not found.faces:
            print(f"  {size} px photo: no face found")
            continue
        face = found.faces[0]
        distance = engine.face_distance(original, face) if face.described else None
        shown = f"{distance:.3f}" if distance is not None else "not described (< 40 px)"
        print(f"  {size} px photo: face box {face.side} px, {shown}")


def objects(engine) -> None:
    from tests.support.photos import photo

    described = {}
    for name in OBJECTS:
        for version, make in versions(photo(name)).items():
            described[(name, version)] = engine.describe(make())
    genuine, impostor = [], []
    for (a, da), (b, db) in itertools.combinations(described.items(), 2):
        similarity = engine.appearance_similarity(da, db)
        if a[0] == b[0]:
            genuine.append(similarity)
        elif a[1] == "original" or b[1] == "original":
            impostor.append(similarity)
    rows = rates(genuine, impostor, APPEARANCE_THRESHOLDS, higher_is_same=True)
    print_table(
        f"Objects ({len(OBJECTS)} photos x {len(versions(photo('coffee')))} versions)",
        rows,
        genuine,
        impostor,
        "similarity threshold",
    )
    worst: dict[str, list[float]] = {}
    for (a, da), (b, db) in itertools.combinations(described.items(), 2):
        if a[0] == b[0] and a[1] == "original":
            worst.setdefault(b[1], []).append(engine.appearance_similarity(da, db))
    print("\nObjects: lowest similarity to the original, by version")
    for version, values in worst.items():
        print(f"  {version:<26} min {min(values):.3f} median {np.median(values):.3f}")


def main() -> None:
    parts = sys.argv[1:] or ["faces", "objects"]
    started = time.perf_counter()
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from elements.identity.registry import get_identity_engine

        engine = get_identity_engine()
        print(
            f"engine {engine.name}: face threshold {engine.face_threshold}, "
            f"appearance threshold {engine.appearance_threshold}"
        )
        if "faces" in parts:
            faces(engine)
        if "objects" in parts:
            objects(engine)
    print(f"\ntook {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
