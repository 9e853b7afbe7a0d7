"""The likeness row of the benchmarks (issue 17): matching one new element (3 described
faces) against 100,000 claimed likenesses (`elements.likeness.index`: the version read from
the database, then one matrix product over the cached float32 matrix), against one face
distance of the identity engine (`engine.face_distance`, one pair) as the baseline. The
budget is 50 ms a match; the absolute time is printed with the ratio.

    .venv/bin/python bench/likeness.py [--quick]

Also run by `bench/media.py --only likeness`; see bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from run import compare, setup_django

LIKENESSES = 100_000


def likeness(quick: bool) -> dict[str, float]:
    import numpy as np

    from elements.identity.base import Face
    from elements.identity.registry import get_identity_engine
    from elements.likeness.index import LikenessIndex, current_version

    engine = get_identity_engine()
    rng = np.random.default_rng(17)
    # dlib descriptors have a norm near 1 and components of about ±0.1.
    matrix = rng.normal(0, 0.09, (LIKENESSES, 128)).astype(np.float32)
    started = time.perf_counter()
    index = LikenessIndex(np.arange(LIKENESSES), np.arange(LIKENESSES) + 1, matrix)
    built = time.perf_counter() - started
    faces = matrix[[11, 5_000, 99_000]] + rng.normal(0, 0.01, (3, 128)).astype(np.float32)
    hits = index.search(faces, engine.face_threshold, exclude_owner=0)
    if {h.likeness_id for h in hits} < {11, 5_000, 99_000}:
        raise SystemExit(f"The index missed a planted likeness: {hits[:5]}")
    one, two = (Face((0, 0, 80, 80), 1.0, tuple(map(float, v))) for v in faces[:2])

    def match() -> None:
        current_version()
        index.search(faces, engine.face_threshold, exclude_owner=0)

    ratio = compare(
        f"one element (3 faces) against {LIKENESSES:,} likenesses vs one face distance",
        ("version read + index.search (3 faces)", match),
        ("engine.face_distance (one pair)", lambda: engine.face_distance(one, two)),
        calls=20 if quick else 50,
        repeats=3 if quick else 5,
    )
    walls, cpus = [], []
    for _ in range(20 if quick else 50):
        wall, cpu = time.perf_counter(), time.process_time()
        match()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    walls.sort()
    print(
        f"  absolute, one match: wall min {walls[0] * 1e3:.1f} / median "
        f"{statistics.median(walls) * 1e3:.1f} ms, CPU median {statistics.median(cpus) * 1e3:.1f} "
        f"ms (budget 50 ms); index of {LIKENESSES:,} built in {built * 1e3:.0f} ms, "
        f"{index.columns.nbytes / 1e6:.0f} MB"
    )
    return {"likeness_match": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = likeness(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<24} {ratio:6.2f}x")


if __name__ == "__main__":
    main()
