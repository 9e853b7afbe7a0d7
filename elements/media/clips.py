"""The analysis of a video element's clip: trim, sample frames, find the one person, pick
keyframes. Pure media work on temporary files; `elements.video_elements` stores the result.

- **Trim**: the ffmpeg binary of imageio-ffmpeg cuts the window and re-encodes it as H.264
  (long side at most `CLIP_MAX_SIDE`) and AAC in an MP4 with its index first, so browsers
  can play it while it loads. The demuxer is forced from the sniffed container.
- **Sample**: `SAMPLE_FPS` frames a second over the clip, decoded with PyAV.
- **One person**: each sampled frame is searched with dlib's HOG face detector
  (`identity.local.frame_faces`, at most `FRAME_SEARCH_SIDE` px: faces from about 80 px,
  frontal or moderately turned; about 9 ms a 480×360 frame). Where it finds exactly one
  face, that is the frame's reading (pose "frontal"). Where it finds none (a small face, a
  profile) or several, OpenCV's frontal and profile face cascades search the frame as they
  always did (`cascade_reading`, about 330 ms of CPU a 480×360 frame) and decide. Every
  `SWEEP_EVERY`-th frame (every 2 s) dlib searches the frame upsampled (faces from about
  40 px, four times the cost), so a second, smaller face beside a large one sends that
  frame to the cascades too. The clip passes when at least `MIN_FACE_SHARE` of the frames
  show a face and no frame shows two. What is not seen: a second person who is only in
  profile, or under 80 px and gone before the next sweep frame, beside a face dlib finds
  alone (the cascades found these on every frame). Haar cascades miss faces that are
  small, turned or blurred: "no face" means the detectors saw none, which is reported with
  the counts. They also fire now and then on background texture (on the astronaut zoom
  test clip: a box on the shuttle model in 3 of 18 frames, supported by 7–8 detection
  windows where the real face has 13–30), so a frame counts as showing two people only
  when two faces are each supported by `CONFIDENT_NEIGHBORS` windows
  (`vision.confident_faces`).
- **Keyframes**: among frames with exactly one face, the sharpest frontal face (variance of
  the Laplacian over the face box) is the main image; up to three more are chosen greedily,
  each the candidate farthest in time from those already chosen, with a bonus for the pose
  (frontal / profile) the chosen ones show least, and never closer than `MIN_KEYFRAME_GAP`
  seconds.
- **One identity**: the identity engine describes each keyframe's face (from a crop around
  the frame reading's face box, dlib's or the cascades', the face scaled to
  `IDENTITY_FACE_SIDE` px) and every one must be within its threshold of the main
  keyframe's face (`check_keyframe_identity`): the per-frame search counts faces per frame
  and can't see a cut from one person to another. A face under 40 px, or one the engine
  finds none in (a profile, for dlib), is not described: the per-frame verdict stands.
  Measured against the per-frame search alone in `bench/keyframe_identity.py`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import imageio_ffmpeg
import numpy as np
from PIL import Image

from elements.assists.vision import Box, detect, sharpness
from elements.error_codes import ElementErrorCode
from elements.identity.base import MIN_FACE_SIDE
from elements.identity.local import frame_faces
from elements.media.video import DEMUXERS

if TYPE_CHECKING:
    from elements.identity.base import Face, IdentityEngine

CLIP_MAX_SIDE = 1280
SAMPLE_FPS = 3.0
MIN_FACE_SHARE = 0.6
# dlib searches sampled frames at most this long side (faces from about 80 px of it).
FRAME_SEARCH_SIDE = 640
# Every SWEEP_EVERY-th sampled frame (the first, then every 2 s at 3 fps), dlib also
# searches the frame upsampled: faces from about 40 px.
SWEEP_EVERY = 6
MAX_KEYFRAMES = 4
MIN_KEYFRAME_GAP = 0.5  # seconds
POSE_BONUS = 0.5  # in units of the window's length
# The face side a keyframe's crop is scaled to before the identity engine describes it.
IDENTITY_FACE_SIDE = 120
TRIM_TIMEOUT = 300  # seconds; a 8 s window of a 4K video encodes in far less


class ClipError(Exception):
    """The clip could not be trimmed or decoded."""


def trim(source: Path, extension: str, start: float, end: float, out: Path) -> None:
    """Cut [start, end] of `source` into `out` as an H.264/AAC MP4."""
    scale = (
        f"scale='if(gte(iw,ih),min({CLIP_MAX_SIDE},iw),-2)'"
        f":'if(gte(iw,ih),-2,min({CLIP_MAX_SIDE},ih))'"
    )
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-protocol_whitelist", "file", "-f", DEMUXERS[extension]]
    cmd += ["-ss", f"{start:.3f}", "-i", str(source), "-t", f"{end - start:.3f}"]
    cmd += ["-map", "0:v:0", "-map", "0:a:0?", "-vf", scale]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-b:a", "128k", "-map_metadata", "-1"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(out)]
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=TRIM_TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise ClipError("trimming took too long") from exc
    if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise ClipError(result.stderr.decode(errors="replace")[-500:] or "ffmpeg failed")


@dataclass(frozen=True)
class ClipInfo:
    duration: float
    width: int
    height: int
    has_audio: bool


def clip_info(clip: Path) -> ClipInfo:
    try:
        with av.open(str(clip), format="mov") as container:
            stream = container.streams.video[0]
            return ClipInfo(
                duration=(container.duration or 0) / 1_000_000,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                has_audio=bool(container.streams.audio),
            )
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise ClipError(str(exc)) from exc


def sample_frames(
    clip: Path, fps: float = SAMPLE_FPS, *, demuxer: str = "mov"
) -> list[tuple[float, Image.Image]]:
    """Frames at 0, 1/fps, 2/fps… seconds: for each instant, the first frame at or after it.
    `demuxer`: ffmpeg's, forced (`video.DEMUXERS`); the trimmed clips are MP4 ("mov")."""
    frames: list[tuple[float, Image.Image]] = []
    step = 1 / fps
    try:
        with av.open(str(clip), format=demuxer) as container:
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 90_000)
            start = stream.start_time or 0
            wanted = 0.0
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float((frame.pts - start) * base)
                if t + 1e-3 >= wanted:
                    frames.append((round(t, 3), frame.to_image()))
                    while wanted <= t + 1e-3:
                        wanted += step
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise ClipError(str(exc)) from exc
    return frames


@dataclass(frozen=True)
class FrameReading:
    """What the face cascades found in one sampled frame."""

    index: int
    time: float
    frontal: int
    profile: int
    faces: int  # frontal and profile merged: heads
    confident: int  # faces supported by CONFIDENT_NEIGHBORS windows (counted when faces ≥ 2)
    face: Box | None  # the face when there is exactly one
    pose: str  # "frontal", "profile" or ""
    sharpness: float  # over the face box; 0 without exactly one face
    # How the frame was searched: "hog" (dlib at the frame's size), "hog_upsampled" (a
    # sweep frame) or "cascades" (OpenCV's, where dlib found no face or more than one).
    search: str = "cascades"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["face"] = asdict(self.face) if self.face else None
        data["sharpness"] = round(self.sharpness, 1)
        return data


def read_frame(index: int, time: float, image: Image.Image, *, sweep: bool = False) -> FrameReading:
    """One frame's faces: dlib's HOG first (a few ms); the face cascades (a few hundred)
    only where it finds no face or more than one (see the module's docstring). `sweep`:
    dlib searches the frame upsampled too, for a second, smaller face."""
    gray, back = _search_copy(image)
    found = frame_faces(gray, upsample=sweep)
    if len(found) != 1:
        return cascade_reading(index, time, image)
    (x, y, w, h), _ = found[0]
    face = Box(round(x * back), round(y * back), round(w * back), round(h * back))
    return FrameReading(
        index=index,
        time=time,
        frontal=1,
        profile=0,
        faces=1,
        confident=1,
        face=face,
        pose="frontal",
        sharpness=sharpness(image, face),
        search="hog_upsampled" if sweep else "hog",
    )


def _search_copy(image: Image.Image) -> tuple[np.ndarray, float]:
    """The frame in grey, its long side at most FRAME_SEARCH_SIDE, and the factor back."""
    scale = min(1.0, FRAME_SEARCH_SIDE / max(image.size))
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image.convert("L")), 1.0 / scale


def cascade_reading(index: int, time: float, image: Image.Image) -> FrameReading:
    """The frame through OpenCV's frontal, profile and mirrored-profile cascades."""
    found = detect(image, bodies=False, cats=False)
    faces = found.faces
    confident = len(faces)
    if len(faces) >= 2:
        # The stricter pass, only where two faces were seen: from the windows of the search
        # just made (the same boxes as `confident_faces(image)`, without searching again).
        sure = found.confident_faces()
        confident = len(sure)
        if len(sure) == 1:
            # One face the detector is sure of, the others sporadic: that one is the person.
            faces = [max(faces, key=lambda f: f.iou(sure[0]))]
    face = faces[0] if len(faces) == 1 else None
    pose = ""
    if face is not None:
        pose = "frontal" if any(face.iou(f) >= 0.3 for f in found.frontal_faces) else "profile"
    return FrameReading(
        index=index,
        time=time,
        frontal=len(found.frontal_faces),
        profile=len(found.profile_faces),
        faces=len(found.faces),
        confident=confident,
        face=face,
        pose=pose,
        sharpness=sharpness(image, face) if face is not None else 0.0,
    )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str  # "" when ok, else NO_FACE or MULTIPLE_PEOPLE
    message: str
    frames: int
    with_face: int
    with_several: int
    readings: list[FrameReading] = field(default_factory=list)


def judge(readings: list[FrameReading]) -> Verdict:
    """One person: a face in at least MIN_FACE_SHARE of the frames, never two in one."""
    frames = len(readings)
    with_face = sum(r.faces >= 1 for r in readings)
    several = [r for r in readings if r.confident >= 2]
    common = {"frames": frames, "with_face": with_face, "with_several": len(several)}
    if several:
        first = several[0]
        return Verdict(
            False,
            ElementErrorCode.MULTIPLE_PEOPLE,
            f"{len(several)} of {frames} sampled frames show more than one face (first at "
            f"{first.time:.1f} s, {first.confident} faces): a character is made from a clip of "
            "one person.",
            readings=readings,
            **common,
        )
    if frames == 0 or with_face / frames < MIN_FACE_SHARE:
        return Verdict(
            False,
            ElementErrorCode.NO_FACE,
            f"A face was found in {with_face} of {frames} sampled frames; at least "
            f"{MIN_FACE_SHARE:.0%} are needed: choose a window where the person's face is "
            "clearly visible.",
            readings=readings,
            **common,
        )
    return Verdict(True, "", "", readings=readings, **common)


def pick_keyframes(readings: list[FrameReading], window: float) -> list[FrameReading]:
    """Up to MAX_KEYFRAMES frames, the main one first (see the module's docstring)."""
    candidates = [r for r in readings if r.face is not None]
    if not candidates:
        return []
    frontal = [r for r in candidates if r.pose == "frontal"]
    main = max(frontal or candidates, key=lambda r: (r.sharpness, -r.time))
    chosen = [main]
    span = max(window, 1e-3)

    poses = {r.pose for r in candidates}

    def score(r: FrameReading) -> tuple[float, float]:
        distance = min(abs(r.time - c.time) for c in chosen) / span
        counts = {pose: sum(c.pose == pose for c in chosen) for pose in poses}
        # The pose the chosen frames show least gets the bonus: a balance, when both exist.
        rarer = counts[r.pose] < max(counts.values())
        return (distance + (POSE_BONUS if rarer else 0.0), r.sharpness)

    while len(chosen) < MAX_KEYFRAMES:
        left = [
            r for r in candidates if all(abs(r.time - c.time) >= MIN_KEYFRAME_GAP for c in chosen)
        ]
        if not left:
            break
        chosen.append(max(left, key=score))
    return [main, *sorted(chosen[1:], key=lambda r: r.time)]


def analyse(
    frames: list[tuple[float, Image.Image]],
    progress: Callable[[float], None] | None = None,
) -> Verdict:
    readings = []
    for index, (time, image) in enumerate(frames):
        readings.append(read_frame(index, time, image, sweep=index % SWEEP_EVERY == 0))
        if progress is not None:
            progress((index + 1) / len(frames))
    return judge(readings)


@dataclass(frozen=True)
class IdentityCheck:
    """Whether the keyframes show one person, by the identity engine's face descriptors.

    `distances`: for each keyframe (the main one first, at 0), the distance of its face to
    the main keyframe's face, None where that face could not be described. `decided`: the
    main keyframe's face was described; when not (a face under `MIN_FACE_SIDE`, or one the
    engine's detector does not find, such as a profile), the check says nothing and the
    per-frame verdict stands."""

    ok: bool
    decided: bool
    distances: list[float | None]
    threshold: float
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "decided": self.decided,
            "threshold": self.threshold,
            "distances": [None if d is None else round(d, 3) for d in self.distances],
        }


def _face_crop(image: Image.Image, face: Box) -> tuple[Image.Image, Box]:
    """The keyframe around the frame reading's face (one face side of margin each way), scaled so
    the face is about IDENTITY_FACE_SIDE px, and that face's box in the crop's pixels. The
    engine then searches a small image (fast) in which the face is big enough for its
    detector without upsampling (dlib's HOG finds faces from about 80 px)."""
    side = max(face.w, face.h)
    left, top = max(0, face.x - side), max(0, face.y - side)
    right = min(image.width, face.x + face.w + side)
    bottom = min(image.height, face.y + face.h + side)
    scale = IDENTITY_FACE_SIDE / side
    crop = image.crop((left, top, right, bottom)).convert("RGB")
    crop = crop.resize(
        (max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
        Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BILINEAR,
    )
    box = Box(
        round((face.x - left) * scale),
        round((face.y - top) * scale),
        round(face.w * scale),
        round(face.h * scale),
    )
    return crop, box


def keyframe_face(engine: IdentityEngine, reading: FrameReading, image: Image.Image) -> Face | None:
    """The descriptor of the face the frame's reading found in this keyframe: the described
    face of the crop around it that overlaps that box best. None when that face is under
    MIN_FACE_SIDE px or the engine finds and describes none there (a profile, for dlib)."""
    if reading.face is None or min(reading.face.w, reading.face.h) < MIN_FACE_SIDE:
        return None
    crop, box = _face_crop(image, reading.face)
    described = engine.describe(crop, frame=True).described_faces
    if not described:
        return None
    best, face = max(((box.iou(Box(*f.box)), f) for f in described), key=lambda p: p[0])
    return face if best >= 0.3 else None


def check_keyframe_identity(
    engine: IdentityEngine, keyframes: list[tuple[FrameReading, Image.Image]]
) -> IdentityCheck:
    """Every keyframe's face within the engine's threshold of the main keyframe's face.
    Only the (at most MAX_KEYFRAMES) chosen frames are described, each from a crop around
    the face the cascades found in it, not every sampled frame."""
    threshold = engine.face_threshold
    faces = [keyframe_face(engine, reading, image) for reading, image in keyframes]
    if not faces or faces[0] is None:
        return IdentityCheck(True, False, [None] * len(faces), threshold)
    main = faces[0]
    distances = [None if f is None else engine.face_distance(main, f) for f in faces]
    far = [
        (reading.time, d)
        for (reading, _), d in zip(keyframes, distances, strict=True)
        if d is not None and d > threshold
    ]
    if not far:
        return IdentityCheck(True, True, distances, threshold)
    time, distance = far[0]
    message = (
        f"The face at {time:.1f} s is not the person of the main keyframe (at "
        f"{keyframes[0][0].time:.1f} s; descriptor distance {distance:.2f}, one person is "
        f"within {threshold:.2f}): a character is made from a clip of one person."
    )
    return IdentityCheck(False, True, distances, threshold, message)
