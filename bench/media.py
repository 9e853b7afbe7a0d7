"""The media rows of the benchmarks alone (issue 18): image ingest and voice validation
(`bench/run.py`), subject detection, the speech analysis and video element processing
(`bench/features.py`), identity descriptors (`bench/identity.py`), each against its
baseline measured in the same run.

    .venv/bin/python bench/media.py [--quick] [--only process_image,detect_subject,...]

`make bench` runs the same cases among the others; see bench/README.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from run import setup_django

CASES = ("process_image", "assists", "identity", "voice", "video_element")


def run_media(quick: bool, only: set[str]) -> dict[str, float]:
    from features import assists, video_element, voice
    from identity import identity
    from run import media

    runs = {"process_image": media, "assists": assists, "identity": identity, "voice": voice}
    runs["video_element"] = video_element
    ratios: dict[str, float] = {}
    for name in CASES:
        if not only or name in only:
            ratios.update(runs[name](quick))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    parser.add_argument(
        "--only", default="", help=f"comma-separated, among {', '.join(CASES)} (default: all)"
    )
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    if unknown := only - set(CASES):
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = run_media(args.quick, only)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<24} {ratio:6.2f}x")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
