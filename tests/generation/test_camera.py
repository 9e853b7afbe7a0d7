"""The one camera vocabulary (`generation.camera`): what the compiler reads from words, and
that the local renderer draws every move it can emit, checked on decoded frames (PyAV)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from generation.camera import MOVES, CameraMove, find_move
from generation.catalog import MODELS, ModelCode
from generation.prompts import LibraryElement, compile_prompt
from generation.providers.kling.requests import with_camera
from generation.providers.local_render import (
    CAMERA_MOVES,
    Layer,
    ShotSpec,
    camera_move,
    render_video,
)
from tests.support.readme import readme_prompts

REPO = Path(__file__).resolve().parents[2]
OMNI = MODELS[ModelCode.VIDEO_3_0_OMNI]
ANNA = LibraryElement(1, "Anna")
BO = LibraryElement(2, "Bo")
STREET = LibraryElement(3, "Street", type="scene")
LIBRARY = [ANNA, BO, STREET]
W, H, FPS = 160, 90, 12
RED, GREEN = (230, 20, 20), (0, 190, 0)


def shot_of(text: str, images: int = 1):
    plan = compile_prompt(text, model=OMNI, library=LIBRARY, attached_images=images)
    return plan.shots[0]


# --- Reading words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "move"),
    [
        ("The camera pushes in on [@Anna].", "push_in"),
        ("Zoom in on her face.", "push_in"),
        ("The camera pulls back over [@Street].", "pull_back"),
        ("Zoom out slowly.", "pull_back"),
        ("A wide reveal of the valley.", "pull_back"),
        ("The camera pans left across the room.", "pan_left"),
        ("Pan to the right.", "pan_right"),
        ("The camera pans from right to left.", "pan_left"),
        ("The camera tilts up to the sky.", "tilt_up"),
        ("Tilt down to her shoes.", "tilt_down"),
        ("The camera orbits [@Anna].", "orbit"),
        ("The camera gradually circles to the front of the girl.", "orbit"),
        ("Crane up over the crowd.", "crane_up"),
        ("The camera cranes down to the street.", "crane_down"),
        ("The camera follows [@Anna].", "follow"),
        ("Tracking shot along the river.", "follow"),
        ("The camera dollies in on [@Bo].", "dolly_in"),
        ("Dolly out from the table.", "dolly_out"),
        ("Handheld, a little shaky.", "handheld"),
        ("Static shot of the table.", "static"),
        ("镜头缓缓推进", "push_in"),
        ("镜头拉远，露出整座城市", "pull_back"),
        ("镜头环绕[@Anna]", "orbit"),
        ("镜头跟随[@Bo]", "follow"),
        ("向左摇镜头", "pan_left"),
        ("手持镜头", "handheld"),
        ("固定镜头", "static"),
        ("Pan left, then push in.", "pan_left"),  # the first move named wins
        ("The camera pushes in, revealing their moment.", "push_in"),  # "reveal" is weak
    ],
)
def test_the_compiler_reads_each_move(words: str, move: str) -> None:
    shot = shot_of(words)
    assert shot.camera_move == move
    assert shot.camera_note == ""
    assert camera_move(words) == move  # the renderer reads words with the same vocabulary


@pytest.mark.parametrize(
    "words",
    [
        "[@Anna] smiles at the camera.",
        "She tilts her head.",
        "A cat sleeps on a sofa.",
        "He cooks in a frying pan.",
        "Mid-close shot of [@Anna].",  # framing, no move
    ],
)
def test_words_that_move_no_camera_give_no_move(words: str) -> None:
    assert shot_of(words).camera_move is None


@pytest.mark.parametrize(
    "words", ["The camera swoops over [@Street].", "The camera crew waits.", "镜头慢慢地飞过城市"]
)
def test_unknown_camera_words_are_static_with_the_wording_kept(words: str) -> None:
    shot = shot_of(words)
    assert shot.camera_move == CameraMove.STATIC
    assert shot.camera  # the wording is kept
    assert "holds still" in shot.camera_note


@pytest.mark.parametrize(
    ("words", "move", "note"),
    [
        ("The camera pann left.", "pan_left", "Read “pann” as “pan”: pan left."),
        ("The camera tillts down.", "tilt_down", "Read “tillts” as “tilts”: tilt down."),
        ("The camera orbitts [@Anna].", "orbit", "Read “orbitts” as “orbits”: orbit."),
    ],
)
def test_a_misspelled_move_is_read_and_the_preview_says_so(words, move, note) -> None:
    shot = shot_of(words)
    assert (shot.camera_move, shot.camera_note) == (move, note)


def test_a_pan_without_direction_turns_toward_what_it_names_and_says_so() -> None:
    # Anna stands on the left (mentioned first): "pans to Anna" pans left.
    shot = shot_of("[@Anna] and [@Bo] talk. The camera pans to [@Anna].")
    assert shot.camera_move == CameraMove.PAN_LEFT
    assert shot.camera_note == "“pans” gives no direction: pan left, toward Anna."
    shot = shot_of("[@Anna] and [@Bo] talk. The camera pans over to [@Bo].")
    assert shot.camera_move == CameraMove.PAN_RIGHT
    shot = shot_of("摇镜头，[@Street]的夜景")
    assert shot.camera_move == CameraMove.PAN_RIGHT
    assert "the way the shot is laid out" in shot.camera_note


def test_stored_moves_of_any_vintage_read_back_without_error() -> None:
    assert CameraMove.read(None) is None
    assert CameraMove.read("orbit") is CameraMove.ORBIT
    assert CameraMove.read("pan") is CameraMove.PAN_RIGHT  # the old compiler's
    assert CameraMove.read("tilt") is CameraMove.TILT_UP
    assert CameraMove.read("barrel_roll") is CameraMove.STATIC
    assert set(CAMERA_MOVES) == set(CameraMove) == set(MOVES)


def test_kling_is_told_the_direction_the_preview_chose() -> None:
    shot = {"camera_move": "pan_left", "camera_note": "“pans” gives no direction: …"}
    assert with_camera("A street.", shot, 512) == "A street. The camera pans left."
    assert with_camera("x" * 500, shot, 512) == "x" * 500  # would pass Kling's limit
    said = {"camera_move": "pan_left", "camera_note": ""}
    assert with_camera("Pan left.", said, 512) == "Pan left."  # the words said it
    assert with_camera("Swoop.", {"camera_move": "static", "camera_note": "…"}, 512) == "Swoop."


# --- Every move renders -------------------------------------------------------------------


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> list[Layer]:
    d = tmp_path_factory.mktemp("camera")
    scene = Image.new("RGB", (400, 225), (90, 90, 110))
    ImageDraw.Draw(scene).rectangle((40, 30, 110, 90), fill=RED)  # a red mark, far
    scene.save(d / "scene.png")
    figure = Image.new("RGBA", (80, 160), (0, 0, 0, 0))
    ImageDraw.Draw(figure).rectangle((0, 0, 79, 159), fill=(*GREEN, 255))  # a green card, near
    figure.save(d / "figure.png")
    return [Layer(d / "scene.png", "background"), Layer(d / "figure.png", "subject")]


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


def mask(frame: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    return np.abs(frame - np.array(color)).max(axis=2) < 60


def box(frame: np.ndarray, color: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Centre x, centre y, width and height of the pixels of `color`."""
    ys, xs = np.nonzero(mask(frame, color))
    assert xs.size, f"no {color} in the frame"
    return (xs.mean(), ys.mean(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


@pytest.mark.parametrize("move", list(CameraMove))
def test_every_move_renders_a_shot_of_its_length(move, layers, tmp_path) -> None:
    result = render_video(
        [ShotSpec(1.5, "", layers, camera=move)], tmp_path / "v.mp4", width=W, height=H, fps=FPS
    )
    assert abs(duration(result.path) - 1.5) <= 1 / FPS
    video = frames(result.path)
    assert len(video) == 18
    first, middle, last = video[0], video[len(video) // 2], video[-1]
    change = np.abs(first - last).mean() + np.abs(first - middle).mean()
    if move == CameraMove.STATIC:
        assert change < 1.5
        return
    assert change > 2.0, f"{move} does not move"
    red0, red1 = box(first, RED), box(last, RED)
    green0, green1 = box(first, GREEN), box(last, GREEN)
    if move == CameraMove.PAN_LEFT:  # the view turns left: the scene slides right
        assert red1[0] - red0[0] > 5
    elif move == CameraMove.PAN_RIGHT:
        assert red0[0] - red1[0] > 5
    elif move == CameraMove.TILT_UP:  # the view rises: the scene sinks
        assert red1[1] - red0[1] > 3
    elif move == CameraMove.TILT_DOWN:
        assert red0[1] - red1[1] > 3
    elif move in (CameraMove.PUSH_IN, CameraMove.PULL_BACK):
        # A zoom: scene and subject grow (or shrink) alike (widths: the bottom crops heights).
        grow_scene, grow_subject = red1[2] / red0[2], green1[2] / green0[2]
        assert abs(grow_scene - grow_subject) < 0.1
        assert (grow_scene > 1.08) if move == CameraMove.PUSH_IN else (grow_scene < 0.92)
    elif move in (CameraMove.DOLLY_IN, CameraMove.DOLLY_OUT):
        # The camera travels: the near subject grows (shrinks) much more than the scene.
        grow_scene, grow_subject = red1[2] / red0[2], green1[2] / green0[2]
        if move == CameraMove.DOLLY_IN:
            assert grow_subject > grow_scene + 0.1
        else:
            assert grow_subject < grow_scene - 0.1
    elif move == CameraMove.FOLLOW:  # the subject stays, the scene slides past
        assert abs(green1[0] - green0[0]) < 3
        assert abs(red1[0] - red0[0]) > 5
    elif move in (CameraMove.CRANE_UP, CameraMove.CRANE_DOWN):
        # Everything sinks (rises) in the frame, the near subject faster.
        scene_dy, subject_top_dy = (
            red1[1] - red0[1],
            (green1[1] - green1[3] / 2) - (green0[1] - green0[3] / 2),
        )
        sign = 1 if move == CameraMove.CRANE_UP else -1
        assert sign * scene_dy > 3
        assert sign * subject_top_dy > sign * scene_dy + 3
    elif move == CameraMove.ORBIT:
        # The subject turns: narrowest at the ends, facing us in the middle; the scene sweeps.
        green_mid = box(middle, GREEN)
        assert green_mid[2] > green0[2] + 2 and green_mid[2] > green1[2] + 2
        assert abs(red1[0] - red0[0]) > 5
    elif move == CameraMove.HANDHELD:  # a small shake, no travel
        centres = [box(f, RED)[:2] for f in video]
        spread = np.ptp(np.array(centres), axis=0)
        assert 0.5 < spread.max() < W * 0.1


# --- Property: whatever the words, the compiler emits a move the renderer draws -----------

PHRASES = [
    "the camera pans",
    "pan left",
    "pans to the right",
    "tilt up",
    "the camera tilts down",
    "orbit around [@Anna]",
    "circles [@Bo]",
    "crane up",
    "cranes down",
    "follows [@Anna]",
    "tracking shot",
    "dolly in",
    "dolly out",
    "push in",
    "zoom in",
    "pull back",
    "zoom out",
    "reveal",
    "handheld",
    "static",
    "whip pan",
    "摇镜头",
    "推进",
    "环绕",
    "拉远",
    "跟拍",
    "上摇",
    "手持",
    "the camera",
    "camera swoops",
    "[@Image1]",
    "[@Street]",
]


def misspell(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(PHRASES))
    if not word:
        return word
    i = draw(st.integers(0, len(word) - 1))
    how = draw(st.sampled_from(["double", "drop", "swap", "keep"]))
    if how == "double":
        return word[: i + 1] + word[i:]
    if how == "drop":
        return word[:i] + word[i + 1 :]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


@st.composite
def shot_words(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(PHRASES),
                st.composite(misspell)(),
                st.text(max_size=12),
                st.sampled_from([",", ".", " then ", " and ", "，", "。"]),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return " ".join(parts)


@cache
def renders(move: CameraMove | None) -> float:
    """Render one short shot with `move` (once per move) and return its decoded length."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        result = render_video(
            [ShotSpec(0.5, "a shot", [], camera=move)],
            Path(d) / "v.mp4",
            width=64,
            height=36,
            fps=8,
        )
        return duration(result.path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shot_words(), min_size=1, max_size=6))
def test_every_move_the_compiler_emits_renders(shots: list[str]) -> None:
    text = " ".join(f"Shot {n} (2s): {words}" for n, words in enumerate(shots, 1))
    plan = compile_prompt(text, model=OMNI, library=LIBRARY, attached_images=1)
    for shot in plan.shots:
        assert shot.camera_move is None or shot.camera_move in CAMERA_MOVES
        assert abs(renders(shot.camera_move) - 0.5) <= 1 / 8


# --- Every camera phrasing of the README and the user guide renders -----------------------


def guide() -> Path | None:
    """The product's source user guide: `shared/seed/` beside the repository (where CI puts
    a copy of shared/), or the workplace's."""
    for base in (REPO.parent / "shared", Path("/work/shared")):
        path = base / "seed" / "element-library-user-guide.txt"
        if path.is_file():
            return path
    return None


def guide_prompts(path: Path) -> list[str]:
    """Table cells and lines of the guide that speak of the camera or of shots."""
    cells = [
        c.strip() for line in path.read_text(encoding="utf-8").splitlines() for c in line.split("|")
    ]
    return [c for c in cells if c and (find_move(c.lower()) or re.search(r"(?i)\bshot\b|镜头", c))]


def render_prompt(text: str, tmp_path: Path) -> None:
    names = set(re.findall(r"\[@([^\]\d][^\]]*)\]", text))
    library = [LibraryElement(n, name) for n, name in enumerate(sorted(names), 1)]
    plan = compile_prompt(text, model=OMNI, library=library, attached_images=3, duration=10)
    assert plan.shots, text
    specs = [ShotSpec(float(s.duration or 2), s.text, [], camera=s.camera_move) for s in plan.shots]
    result = render_video(specs, tmp_path / "v.mp4", width=64, height=36, fps=6)
    expected = sum(round(spec.duration * 6) for spec in specs) / 6
    assert abs(duration(result.path) - expected) <= 1 / 6, text


def test_every_camera_phrasing_in_the_readme_renders(tmp_path: Path) -> None:
    prompts = readme_prompts()
    assert prompts, "the README has example prompts"
    moves = [s.camera_move for p in prompts for s in shot_of_all(p)]
    assert CameraMove.PULL_BACK in moves  # "The camera pulls back over [@Tokyo Street]."
    for prompt in prompts:
        render_prompt(prompt, tmp_path)


def shot_of_all(text: str):
    names = set(re.findall(r"\[@([^\]\d][^\]]*)\]", text))
    library = [LibraryElement(n, name) for n, name in enumerate(sorted(names), 1)]
    return compile_prompt(text, model=OMNI, library=library, attached_images=3).shots


def test_every_camera_phrasing_in_the_user_guide_renders(tmp_path: Path) -> None:
    path = guide()
    if path is None:
        pytest.skip("shared/seed/element-library-user-guide.txt is not beside the repository")
    prompts = guide_prompts(path)
    moves = {s.camera_move for p in prompts for s in shot_of_all(p)}
    assert {CameraMove.FOLLOW, CameraMove.PUSH_IN, CameraMove.ORBIT} <= moves
    for prompt in prompts:
        render_prompt(prompt, tmp_path)


# --- Where a camera word can start ------------------------------------------------------------


def _starts(items: Any, boundary: bool = False) -> tuple[set[str], bool]:
    """The characters a match of the parsed `items` can start with, and whether it can
    be empty. An ASCII start must come after a word boundary (`\\b`) or be one of
    CAMERA_CUE_ANYWHERE: the compiler tries camera words only at such positions
    (`prompts._CAMERA_CUE`)."""
    from re import _constants as c  # type: ignore[attr-defined]

    from generation.prompts import CAMERA_CUE_ANYWHERE

    starts: set[str] = set()
    for op, arg in items:
        if op in (c.ASSERT, c.ASSERT_NOT):
            continue  # zero-width: what comes after it starts the match
        if op is c.AT:
            boundary = boundary or arg is c.AT_BOUNDARY
            continue
        if op is c.SUBPATTERN:
            found, empty = _starts(arg[3], boundary)
        elif op is c.BRANCH:
            found, empty = set(), False
            for branch in arg[1]:
                more, can_be_empty = _starts(branch, boundary)
                found |= more
                empty = empty or can_be_empty
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            found, empty = _starts(arg[2], boundary)
            empty = empty or arg[0] == 0
        elif op is c.LITERAL:
            found, empty = {chr(arg)}, False
        elif op is c.IN:
            found, empty = set(), False
            for kind, value in arg:
                if kind is c.LITERAL:
                    found.add(chr(value))
                elif kind is c.RANGE:
                    found |= {chr(n) for n in range(value[0], value[1] + 1)}
                else:
                    raise AssertionError(f"a camera word starts with a class: {kind}")
        else:
            raise AssertionError(f"a camera word starts with {op}")
        if op in (c.LITERAL, c.IN):
            for char in found:
                assert not char.isascii() or boundary or char in CAMERA_CUE_ANYWHERE, (
                    f"{char!r} can start a word without \\b"
                )
        starts |= found
        if not empty:
            return starts, False
    return starts, True


def test_every_camera_word_starts_where_the_compiler_looks_for_one():
    """The compiler tries the ~60 camera words only after a word boundary at one of
    CAMERA_CUE_STARTS, or at a character outside ASCII; a word added to the vocabulary
    with another first letter must be added there too, or it would never be found."""
    from re import _parser  # type: ignore[attr-defined]

    from generation.prompts import CAMERA_CUE_STARTS, CAMERA_CUE_WORDS

    starts, empty = _starts(_parser.parse(CAMERA_CUE_WORDS))

    assert not empty
    ascii_starts = {char for char in starts if char.isascii()}
    assert ascii_starts <= set(CAMERA_CUE_STARTS), sorted(ascii_starts - set(CAMERA_CUE_STARTS))
    assert set(CAMERA_CUE_STARTS) <= ascii_starts  # no letter tried for nothing


def test_the_camera_words_found_with_and_without_the_start_filter_are_the_same():
    from generation.prompts import _CAMERA_CUE, CAMERA_CUE_WORDS

    plain = re.compile(CAMERA_CUE_WORDS)
    texts = [p.lower() for p in readme_prompts()] + [
        spec.label.lower() + " " + spec.phrase.lower() for spec in MOVES.values()
    ]
    texts += [
        "the camera slowly tilts up; 镜头推进, then a 360° spin shot. frying pan, dark circles.",
        "环绕360度拍摄, a360度 orbit, x360 spin shot, 1360度.",
        "café panning éclair—whip-pan. she tilts her head; pans of bread. crane shot, jib up.",
    ]
    for text in texts:
        assert [m.span() for m in _CAMERA_CUE.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ], text
