"""The consistency pass's benchmark (issue 17): measuring a 10 s, 4-shot 720p output against
the elements its shots mention (`generation.consistency.measure_video`, the pass itself: a
frame sampled per shot, described by the identity engine, scored against the references; no
shot drifts, so none is looked at again) vs the local render of that video (`render_video`).
Target: ≤ 0.5×.

    .venv/bin/python bench/consistency.py [--quick] [--rounds N] [--profile]

Also run by `bench/media.py --only consistency`; see bench/README.md. The video shows real
faces (scikit-image's astronaut and a face of its LFW subset) over a photo-like scene; the
references are described once, before the timing (they are stored with the images in the
service). The database part of the pass (a few rows) is left out. Both sides' CPU time is
printed beside the wall time, the render's including its ffmpeg process. `--profile` prints
where one pass spends its time (cProfile over three passes) instead of timing the rounds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from run import setup_django

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the render's ffmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _scenario(folder: Path) -> tuple[Callable[[], None], Callable[[], list[float]]]:
    """The render and the pass of the benchmark's video, as two calls."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PIL import Image

    from elements.identity.registry import get_identity_engine
    from generation.consistency import measure_video, shot_windows
    from generation.models import JobElement
    from generation.providers import local_render as lr
    from tests.support.faces import OTHER_PEOPLE, lfw_face
    from tests.support.photos import photo

    engine = get_identity_engine()
    photo("coffee").resize((1920, 1080), Image.Resampling.BICUBIC).save(folder / "scene.png")
    photo("astronaut").save(folder / "alice.png")
    lfw_face(OTHER_PEOPLE[0], 512).save(folder / "bob.png")
    scene = lr.Layer(folder / "scene.png", "background")
    alice, bob = lr.Layer(folder / "alice.png", "subject"), lr.Layer(folder / "bob.png", "subject")
    shots = [
        lr.ShotSpec(2.5, "Slow push in on her", [scene, alice]),
        lr.ShotSpec(2.5, "Pan left to him", [scene, bob]),
        lr.ShotSpec(2.5, "The two of them", [scene, alice, bob]),
        lr.ShotSpec(2.5, "Pull back to reveal the room", [scene, alice]),
    ]
    # The pinned elements as the pass sees them (never saved: no database in the timing).
    pinned = {
        name: JobElement(pk=n, position=n, name=name, type="character", version=1)
        for n, name in enumerate(("alice", "bob"), 1)
    }
    references = {
        pinned["alice"].pk: [engine.describe(Image.open(folder / "alice.png"))],
        pinned["bob"].pk: [engine.describe(Image.open(folder / "bob.png"))],
    }
    mentions = [["alice"], ["bob"], ["alice", "bob"], ["alice"]]
    plan = {"shots": [{"index": n, "duration": 2.5} for n in range(1, 5)]}
    windows = {int(shot["index"]): (a, b) for shot, a, b in shot_windows(plan, 10.0)}
    mentioned = [(n, [pinned[name] for name in names]) for n, names in enumerate(mentions, 1)]
    video = folder / "video.mp4"

    def render() -> None:
        lr.render_video(shots, video, width=1280, height=720, fps=24)

    def measure() -> list[float]:
        scores = measure_video(engine, video, mentioned, windows, lambda p: references[p.pk])
        return [s.score for s in scores]

    return render, measure


def consistency(quick: bool, *, rounds: int | None = None) -> dict[str, float]:
    rounds = rounds or (3 if quick else 7)
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-consistency-") as workdir:
        render, measure = _scenario(Path(workdir))
        render()
        scores = measure()  # warm-up (the dlib models load); also checks every pair is seen
        if min(scores) < 0.5:
            raise SystemExit(f"A mentioned face was not recognised: {scores}")
        wall: dict[str, list[float]] = {"render": [], "pass": []}
        cpu: dict[str, list[float]] = {"render": [], "pass": []}
        sides: list[tuple[str, Callable[[], object]]] = [("render", render), ("pass", measure)]
        for n in range(rounds):
            for name, call in sides if n % 2 == 0 else sides[::-1]:
                started, cpu_started = time.perf_counter(), _cpu()
                call()
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(_cpu() - cpu_started)
    ratios = [p / r for p, r in zip(wall["pass"], wall["render"], strict=True)]
    cpu_ratios = [p / r for p, r in zip(cpu["pass"], cpu["render"], strict=True)]

    def spread(values: list[float]) -> str:
        return (
            f"median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"
        )

    print(
        f"\nconsistency pass of a 10 s 4-shot 720p video vs its local render ({rounds} rounds)\n"
        f"  render_video      wall s {spread(wall['render'])}; CPU s {spread(cpu['render'])}\n"
        f"  consistency pass  wall s {spread(wall['pass'])}; CPU s {spread(cpu['pass'])}\n"
        f"  ratio (median of the rounds' ratios) wall {statistics.median(ratios):.2f}x "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}); CPU {statistics.median(cpu_ratios):.2f}x"
        f"\n  scores {[round(s, 4) for s in scores]}"
    )
    return {
        "consistency_pass": statistics.median(ratios),
        "consistency_pass_cpu": statistics.median(cpu_ratios),
    }


def profile() -> None:
    """Where the pass spends its time: cProfile over three passes, the costliest functions."""
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-consistency-") as workdir:
        render, measure = _scenario(Path(workdir))
        render()
        measure()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            measure()
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\nthe consistency pass, three runs (tottime: in the function itself)")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, a rough answer")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 7)")
    parser.add_argument("--profile", action="store_true", help="profile one pass, no timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        if args.profile:
            profile()
            return
        ratios = consistency(args.quick, rounds=args.rounds)
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<24} {ratio:6.2f}x")


if __name__ == "__main__":
    main()
