"""The consistency pass's benchmark (issue 17): measuring a 10 s, 4-shot 720p output against
the elements its shots mention (`generation.consistency`: a frame sampled per shot, described
by the identity engine, scored against the references; no shot drifts, so none is looked at
again) vs the local render of that video
(`render_video`). Target: ≤ 0.5×.

    .venv/bin/python bench/consistency.py [--rounds N]

The video shows real faces (scikit-image's astronaut and a face of its LFW subset) over a
photo-like scene; the references are described once, before the timing (they are stored with
the images in the service). The database part of the pass (a few rows) is left out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from run import setup_django

ROOT = Path(__file__).resolve().parent.parent


def run_consistency(rounds: int) -> dict[str, float]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PIL import Image

    from elements.identity.registry import get_identity_engine
    from generation.consistency import SAMPLE_POINTS, sample_frames, score_pair, shot_windows
    from generation.providers import local_render as lr
    from tests.support.faces import OTHER_PEOPLE, lfw_face
    from tests.support.photos import photo

    engine = get_identity_engine()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-consistency-") as workdir:
        d = Path(workdir)
        photo("coffee").resize((1920, 1080), Image.Resampling.BICUBIC).save(d / "scene.png")
        photo("astronaut").save(d / "alice.png")
        lfw_face(OTHER_PEOPLE[0], 512).save(d / "bob.png")
        scene = lr.Layer(d / "scene.png", "background")
        alice, bob = lr.Layer(d / "alice.png", "subject"), lr.Layer(d / "bob.png", "subject")
        shots = [
            lr.ShotSpec(2.5, "Slow push in on her", [scene, alice]),
            lr.ShotSpec(2.5, "Pan left to him", [scene, bob]),
            lr.ShotSpec(2.5, "The two of them", [scene, alice, bob]),
            lr.ShotSpec(2.5, "Pull back to reveal the room", [scene, alice]),
        ]
        mentions = [["alice"], ["bob"], ["alice", "bob"], ["alice"]]
        references = {
            "alice": [engine.describe(Image.open(d / "alice.png"))],
            "bob": [engine.describe(Image.open(d / "bob.png"))],
        }
        plan = {"shots": [{"index": n, "duration": 2.5} for n in range(1, 5)]}
        video = d / "video.mp4"

        def render() -> None:
            lr.render_video(shots, video, width=1280, height=720, fps=24)

        def measure() -> list[float]:
            windows = shot_windows(plan, 10.0)
            times = [a + (b - a) * p for _, a, b in windows for p in SAMPLE_POINTS]
            frames = [engine.describe(f, frame=True) for f in sample_frames(video, times)]
            scores = []
            for n, names in enumerate(mentions):
                chunk = frames[n * len(SAMPLE_POINTS) : (n + 1) * len(SAMPLE_POINTS)]
                for name in names:
                    scores.append(
                        score_pair(engine, references[name], chunk, element_type="character")[1]
                    )
            return scores

        render()
        scores = measure()  # warm-up; also checks every pair is recognised
        if min(scores) < 0.5:
            raise SystemExit(f"A mentioned face was not recognised: {scores}")
        render_s: list[float] = []
        measure_s: list[float] = []
        sides = [(render, render_s), (measure, measure_s)]
        for n in range(rounds):
            for call, out in sides if n % 2 == 0 else sides[::-1]:
                started = time.perf_counter()
                call()
                out.append(time.perf_counter() - started)
        ratio = statistics.median(m / r for m, r in zip(measure_s, render_s, strict=True))
        print(
            "consistency pass of a 10 s 4-shot 720p video vs its local render\n"
            f"  render_video          median {statistics.median(render_s):.3f} s "
            f"(min {min(render_s):.3f}, max {max(render_s):.3f})\n"
            f"  consistency pass      median {statistics.median(measure_s):.3f} s "
            f"(min {min(measure_s):.3f}, max {max(measure_s):.3f})\n"
            f"  ratio (median of the rounds' ratios) {ratio:.2f}x; scores {scores}"
        )
        return {"consistency_pass": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        ratios = run_consistency(args.rounds)
    for name, ratio in ratios.items():
        print(f"  {name:<24} {ratio:6.2f}x")


if __name__ == "__main__":
    main()
