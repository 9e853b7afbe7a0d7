"""The clip analysis on its own: sampling, the face cascades per frame, keyframe choice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from elements.assists.vision import Box
from elements.media import clips
from tests.support import videos


@pytest.fixture
def clip_file(tmp_path: Path):
    def write(data: bytes) -> Path:
        path = tmp_path / "clip.mp4"
        path.write_bytes(data)
        return path

    return write


def test_keyframes_spread_over_time_and_poses(clip_file) -> None:
    frames = clips.sample_frames(clip_file(videos.frontal_then_profile_clip()))
    verdict = clips.analyse(frames)

    # 6 s at 3 fps; the astronaut's face is frontal, the cameraman's in profile.
    assert verdict.ok and verdict.frames == 18 and verdict.with_face == 18
    poses = [r.pose for r in verdict.readings]
    assert poses == ["frontal"] * 9 + ["profile"] * 9
    chosen = clips.pick_keyframes(verdict.readings, 6.0)
    frontal = [r for r in verdict.readings if r.pose == "frontal"]
    assert chosen[0] == max(frontal, key=lambda r: r.sharpness)
    assert [r.pose for r in chosen].count("profile") == 2
    assert [r.pose for r in chosen].count("frontal") == 2
    assert [r.time for r in chosen[1:]] == sorted(r.time for r in chosen[1:])
    gaps = [abs(a.time - b.time) for a in chosen for b in chosen if a is not b]
    assert min(gaps) >= clips.MIN_KEYFRAME_GAP


def test_a_sporadic_second_box_is_not_a_second_person(clip_file) -> None:
    # The astronaut zoom: in a few frames the frontal cascade also fires on the shuttle
    # model behind her, with few agreeing windows; the confident pass keeps only her face.
    # The analysis runs the cascades only where dlib's HOG finds no face or several, so
    # they are run here on every frame.
    frames = clips.sample_frames(clip_file(videos.silent_astronaut_clip()))
    readings = [clips.cascade_reading(i, t, image) for i, (t, image) in enumerate(frames)]

    sporadic = [r for r in readings if r.faces >= 2]
    assert sporadic, "the cascade's false box is what this test is about"
    assert all(r.confident == 1 and r.face is not None for r in sporadic)
    cascades = clips.judge(readings)
    assert cascades.ok and cascades.with_several == 0
    # dlib finds her face alone in every frame: the cascades are not needed at all.
    verdict = clips.analyse(frames)
    assert verdict.ok and verdict.with_face == 18 and verdict.with_several == 0
    assert {r.search for r in verdict.readings} == {"hog", "hog_upsampled"}
    assert all(r.faces == 1 and r.pose == "frontal" for r in verdict.readings)


def test_a_second_smaller_face_is_found_on_the_sweep_frames(clip_file) -> None:
    # Two people in every frame; at the frame's size dlib finds only the larger face.
    frames = clips.sample_frames(clip_file(videos.astronaut_beside_another_clip()))
    verdict = clips.analyse(frames)

    sweeps = [r for r in verdict.readings if r.index % clips.SWEEP_EVERY == 0]
    others = [r for r in verdict.readings if r.index % clips.SWEEP_EVERY]
    assert len(sweeps) == 3 and {r.search for r in others} == {"hog"}
    # Upsampled, dlib sees both faces; the cascades confirm two people there.
    assert all(r.search == "cascades" and r.confident == 2 for r in sweeps)
    assert not verdict.ok and verdict.code == "MULTIPLE_PEOPLE"
    assert verdict.with_several == 3 and "3 of 18 sampled frames" in verdict.message


def test_sampling_takes_three_frames_a_second(clip_file) -> None:
    frames = clips.sample_frames(clip_file(videos.coffee_clip()))

    assert [t for t, _ in frames][:4] == [0.0, 0.333, 0.667, 1.0]
    assert len(frames) == 18
    assert {image.size for _, image in frames} == {(videos.WIDTH, videos.HEIGHT)}


def _keyframes(clip: Path) -> tuple[clips.Verdict, list[tuple[clips.FrameReading, object]]]:
    frames = clips.sample_frames(clip)
    verdict = clips.analyse(frames)
    chosen = clips.pick_keyframes(verdict.readings, frames[-1][0])
    return verdict, [(r, frames[r.index][1]) for r in chosen]


def test_keyframes_of_one_person_are_one_identity(clip_file) -> None:
    from elements.identity.local import LocalIdentityEngine

    verdict, keyframes = _keyframes(clip_file(videos.astronaut_clip()))
    check = clips.check_keyframe_identity(LocalIdentityEngine(), keyframes)

    assert verdict.ok and len(keyframes) == 4
    assert check.ok and check.decided and check.message == ""
    assert check.distances[0] == 0.0
    assert all(d is not None and d < check.threshold / 2 for d in check.distances)


def test_a_cut_to_another_person_is_seen_by_the_descriptors_not_the_cascades(clip_file) -> None:
    from elements.identity.local import LocalIdentityEngine

    verdict, keyframes = _keyframes(clip_file(videos.person_change_clip()))
    check = clips.check_keyframe_identity(LocalIdentityEngine(), keyframes)

    # One face in every frame: the cascades pass it.
    assert verdict.ok and verdict.with_several == 0
    assert not check.ok and check.decided
    times = [r.time for r, _ in keyframes]
    far = [t for t, d in zip(times, check.distances, strict=True) if d and d > check.threshold]
    near = [t for t, d in zip(times, check.distances, strict=True) if d is not None and d <= 0.3]
    # The astronaut's frames (before 3 s) are near the main keyframe, the other face's far.
    assert far and min(far) >= 3.0 and near and max(near) < 3.0
    assert f"{min(far):.1f} s" in check.message


def test_faces_the_engine_cannot_describe_leave_the_cascades_verdict(clip_file) -> None:
    from elements.identity.local import LocalIdentityEngine

    # The same frames with the cascades' face boxes shrunk under 40 px: nothing described.
    _, keyframes = _keyframes(clip_file(videos.person_change_clip()))
    small = [
        (replace(r, face=Box(r.face.x, r.face.y, 30, 30)), image)
        for r, image in keyframes
        if r.face is not None
    ]
    check = clips.check_keyframe_identity(LocalIdentityEngine(), small)

    assert check.ok and not check.decided
    assert check.distances == [None] * len(small)
