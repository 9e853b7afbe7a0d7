"""One identity across a video character's keyframes (issue 17): the face cascades' "two
confident faces" heuristic against the identity engine's descriptors, on labelled clips.

    .venv/bin/python bench/keyframe_identity.py

The clips are made like the tests' (`tests/support/videos.py`: 480×360, 12 fps, from
scikit-image's photographs; the LFW subset's 25×25 grey faces enlarged as in
`bench/identity_calibration.py`). Each is labelled `one` (should pass) or `two` (should fail:
two people at once, or a cut from one person to another). Three methods:

- cascade: `clips.analyse` alone, the per-frame search (dlib's HOG, the cascades where it
  finds no face or several; MULTIPLE_PEOPLE when two confident faces share a frame);
- descriptor alone: `clips.check_keyframe_identity` on the keyframes the cascades' readings
  give (frames with exactly one face), whatever their verdict: each keyframe's face,
  described by the identity engine from a crop around the reading's face box, within the
  threshold of the main keyframe's face. A clip whose main face can't be described
  (< 40 px, or one dlib does not find) or that has no one-face frame passes; a clip the
  cascades find no face in fails (NO_FACE is not the descriptors' question);
- both: the cascade's verdict first, then the descriptor check on its keyframes (what
  `elements.video_elements` runs).

Prints the table in bench/README.md ("Keyframe identity") and the time the descriptor check
adds per clip. Deterministic; about a minute.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from run import setup_django


def lfw_face(index: int) -> Image.Image:
    from skimage import data

    grey = data.lfw_subset()[index]
    face = Image.fromarray((grey * 255).astype(np.uint8)).resize(
        (240, 240), Image.Resampling.BICUBIC
    )
    return face.convert("RGB")


def clips_to_judge() -> list[tuple[str, str, Callable[[], bytes]]]:
    from tests.support import videos

    w, h = videos.WIDTH, videos.HEIGHT

    def framed(image: Image.Image) -> Callable[[float], Image.Image]:
        canvas = Image.new("RGB", (w, h), (128, 128, 128))
        canvas.paste(image, ((w - image.width) // 2, (h - image.height) // 2))
        return lambda t: canvas

    def mirrored(frame: Callable[[float], Image.Image]) -> Callable[[float], Image.Image]:
        return lambda t: ImageOps.mirror(frame(t))

    def cut(a, b, at: float = 3.0) -> Callable[[float], Image.Image]:
        return lambda t: a(t) if t < at else b(t)

    def pair(a: Image.Image, b: Image.Image) -> Callable[[float], Image.Image]:
        canvas = Image.new("RGB", (w, h), (30, 30, 30))
        for x, image in ((0, a), (w // 2, b)):
            half = image.resize((w // 2, round(image.height * (w // 2) / image.width)))
            canvas.paste(half, (x, (h - half.height) // 2))
        return lambda t: canvas

    astro = videos.zoom_and_pan("astronaut", 6.0)
    astro_photo = videos.photo("astronaut")
    # The astronaut's face at about 50 px: too small for dlib's HOG in the whole frame,
    # described from the crop around the cascades' face.
    small_astro = astro_photo.resize((240, 240))
    small_lfw = lfw_face(1).resize((80, 80))
    lfw = [lfw_face(i) for i in (0, 1, 2, 5)]
    camera = videos.letterboxed("camera")
    small = framed(small_astro)

    def video(frame, seconds: float = 6.0) -> Callable[[], bytes]:
        return lambda: videos.make_video(frame, seconds, audio=None)

    return [
        ("one", "astronaut, zoom and pan", video(astro)),
        ("one", "astronaut, mirrored zoom", video(mirrored(astro))),
        ("one", "astronaut, still", video(videos.still("astronaut"))),
        ("one", "astronaut, whole photo letterboxed", video(videos.letterboxed("astronaut"))),
        ("one", "astronaut, zoom then its mirror", video(cut(astro, mirrored(astro)))),
        ("one", "astronaut, small (face ≈ 50 px)", video(small)),
        ("one", "LFW face 0, still", video(framed(lfw[0]))),
        ("two", "two astronauts side by side", video(videos.side_by_side("astronaut"))),
        ("two", "astronaut and LFW face side by side", video(pair(astro_photo, lfw[1]))),
        ("two", "LFW faces 0 and 1 side by side", video(pair(lfw[0], lfw[1]))),
        ("two", "cut: astronaut → cameraman (profile)", video(cut(astro, camera))),
        ("two", "cut: astronaut → LFW face 1", video(cut(astro, framed(lfw[1])))),
        ("two", "cut: LFW face 0 → LFW face 2", video(cut(framed(lfw[0]), framed(lfw[2])))),
        ("two", "cut: LFW face 5 → astronaut", video(cut(framed(lfw[3]), astro))),
        ("two", "cut: small astronaut → small LFW face 1", video(cut(small, framed(small_lfw)))),
        ("two", "cut at 5 s: astronaut → LFW face 1", video(cut(astro, framed(lfw[1]), 5.0))),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-keyframes-") as workdir:
        setup_django(Path(workdir))
        judge_clips()


def judge_clips() -> None:
    from elements.identity.registry import get_identity_engine
    from elements.media import clips

    engine = get_identity_engine()
    rows = []
    added: list[float] = []
    for label, name, build in clips_to_judge():
        with tempfile.TemporaryDirectory() as workdir:
            path = Path(workdir) / "clip.mp4"
            path.write_bytes(build())
            frames = clips.sample_frames(path)
        verdict = clips.analyse(frames)
        # What the descriptor check sees: the keyframes the cascade's readings give, whether
        # or not the cascade's own verdict passed.
        chosen = clips.pick_keyframes(verdict.readings, frames[-1][0] if frames else 0.0)
        started = time.process_time()
        identity = clips.check_keyframe_identity(engine, [(r, frames[r.index][1]) for r in chosen])
        added.append(time.process_time() - started)
        cascade = verdict.ok
        # A clip the cascades find no face in is refused by every method (the descriptor
        # check is about whose face, not whether there is one).
        no_face = verdict.code == "NO_FACE"
        descriptor = identity.ok and not no_face
        both = verdict.ok and identity.ok
        rows.append((label, name, cascade, descriptor, both, verdict.code, identity))

    def mark(ok: bool, label: str) -> str:
        right = ok == (label == "one")
        return ("pass" if ok else "FAIL") + (" ✓" if right else " ✗")

    print(
        "| clip | truth | cascade (code) | descriptor alone | both (shipped) "
        "| distances to the main keyframe |"
    )
    print("|---|---|---|---|---|---|")
    for label, name, cascade, descriptor, both, _code, identity in rows:
        distances = (
            ", ".join("–" if d is None else f"{d:.2f}" for d in identity.distances)
            or "no keyframes"
        )
        if identity.distances and not identity.decided:
            distances += " (main face not described)"
        print(
            f"| {name} | {label} | {mark(cascade, label)} ({_code or 'ok'}) "
            f"| {mark(descriptor, label)} | {mark(both, label)} | {distances} |"
        )
    for column, title in ((2, "cascade"), (3, "descriptor alone"), (4, "both")):
        right = sum(r[column] == (r[0] == "one") for r in rows)
        print(f"{title}: {right} right, {len(rows) - right} wrong of {len(rows)}")
    print(
        f"descriptor check: {1000 * sum(added) / len(added):.0f} ms of CPU a clip on average "
        f"(max {1000 * max(added):.0f} ms), engine {engine.name}, threshold "
        f"{engine.face_threshold}"
    )


if __name__ == "__main__":
    main()
