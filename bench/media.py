"""The media rows of the benchmarks alone (issue 18): image ingest and voice validation
(`bench/run.py`), subject detection, the speech analysis and video element processing
(`bench/features.py`), identity descriptors (`bench/identity.py`), the consistency pass
against the local render (`bench/consistency.py`), the export and re-import of a bundle
(`bench/bundles.py`), likeness matching (`bench/likeness.py`), each against its baseline
measured in the same run.

    .venv/bin/python bench/media.py [--quick] [--only process_image,detect_subject,...]

`make bench` runs the same cases among the others; see bench/README.md.
"""

from __future__ import annotations

from run import Rows, run_selected

CASES = (
    "process_image",
    "assists",
    "identity",
    "likeness",
    "voice",
    "video_element",
    "consistency",
    "bundles",
)


def media_rows() -> Rows:
    from bundles import bundles
    from consistency import consistency
    from features import assists, video_element, voice
    from identity import identity
    from likeness import likeness
    from run import media

    return {
        "process_image": media,
        "assists": assists,
        "identity": identity,
        "likeness": likeness,
        "voice": voice,
        "video_element": video_element,
        "consistency": consistency,
        "bundles": bundles,
    }


def main() -> None:
    run_selected(
        __doc__.splitlines()[0],
        CASES,
        media_rows,
        "summary (ratio to its baseline, lower is cheaper):",
    )


if __name__ == "__main__":
    main()
