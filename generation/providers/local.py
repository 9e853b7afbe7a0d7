"""The built-in provider: renders for real on the worker, no account anywhere.

Image models compose the attached images and the pinned elements' main images (a scene or
the first attached image behind, characters and props in front) with the prompt as caption.
Video models render one segment per shot with its parsed duration: what the shot mentions
(its scene element behind, its other elements and attached images in front; a shot that
names no scene keeps the previous shot's, at first the prompt's scene element), under the
camera move the compiler read from its words (`generation.camera`), dialogue burned in as
subtitles, and each line said (espeak-ng, `generation.providers.speech`) in its language,
shifted toward the median pitch and loudness of its speaker's pinned voice (a neutral default
voice without one), heard in that line's time only; a start or end frame opens or closes the
video.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from django.core.files.storage import default_storage

from generation.camera import CameraMove
from generation.catalog import MODELS, ModelCode, ModelKind
from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, InputKind, JobElement
from generation.providers import local_render as render
from generation.providers import speech
from generation.providers.base import Progress, Provider, ProviderError, RenderedOutput

VIDEO_SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}
IMAGE_SIZES = {
    "16:9": (1344, 756),
    "9:16": (756, 1344),
    "4:3": (1152, 864),
    "3:4": (864, 1152),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "21:9": (1512, 648),
}
SECONDS_PER_LINE_MIN = 1.0
LINE_LEAD_SECONDS = 0.25  # a breath before a line, at most
LINE_MIN_SECONDS = 0.8
SUBTITLE_LINGER_SECONDS = 0.3  # a subtitle stays this much longer than its line, in its slot


class _Files:
    """Copies stored files into the worker's scratch folder (storage may be S3)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.copied: dict[str, Path] = {}

    def local(self, name: str) -> Path:
        if name not in self.copied:
            target = self.workdir / f"in-{len(self.copied)}{Path(name).suffix}"
            with default_storage.open(name, "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            self.copied[name] = target
        return self.copied[name]


def _main_image(pinned: JobElement) -> str | None:
    images = sorted(pinned.images.all(), key=lambda i: i.position)
    return images[0].file if images else None


class LocalProvider(Provider):
    name = "local"
    backdrop: Path | None = None

    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        files = _Files(workdir)
        self.profiles: dict[str, speech.VoiceProfile] = {}  # bound voices measured, by file
        self.lines = 0  # lines said so far (names their WAVs)
        elements = list(job.elements.prefetch_related("images").order_by("position"))
        inputs = list(job.inputs.order_by("kind", "position"))
        attached = [files.local(i.file) for i in inputs if i.kind == InputKind.IMAGE]
        start = next((files.local(i.file) for i in inputs if i.kind == InputKind.START_FRAME), None)
        end = next((files.local(i.file) for i in inputs if i.kind == InputKind.END_FRAME), None)
        video = next((files.local(i.file) for i in inputs if i.kind == InputKind.VIDEO), None)
        if video is not None:
            # The input video is a reference for look and framing: its first frame stands
            # behind the elements unless a scene element provides the background.
            self.backdrop = render.extract_frame(video, 0.0, workdir / "input-video.png").path
        try:
            if MODELS[ModelCode(job.model)].kind == ModelKind.IMAGE:
                return [self._image(job, elements, attached, files, workdir, progress)]
            return [self._video(job, elements, attached, start, end, files, workdir, progress)]
        except (render.RenderError, speech.SpeechError) as exc:
            # The detail (a file name, ffmpeg's stderr) is for staff, not the user.
            raise ProviderError(
                GenerationErrorCode.RENDER_FAILED,
                "Rendering failed; your credits were refunded.",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc

    # --- images ---------------------------------------------------------------------------

    def _layers(
        self, elements: Sequence[JobElement], attached: Sequence[Path], files: _Files
    ) -> list[render.Layer]:
        background: Path | None = None
        subjects: list[Path] = []
        for pinned in elements:
            main = _main_image(pinned)
            if main is None:
                continue
            if pinned.type == "scene" and background is None:
                background = files.local(main)
            else:
                subjects.append(files.local(main))
        remaining = list(attached)
        if background is None and self.backdrop is not None:
            background = self.backdrop
        if background is None and remaining:
            background = remaining.pop(0)
        subjects.extend(remaining)
        layers = [render.Layer(path=background, role="background")] if background else []
        return layers + [render.Layer(path=p, role="subject") for p in subjects]

    def _image(
        self,
        job: GenerationJob,
        elements: Sequence[JobElement],
        attached: Sequence[Path],
        files: _Files,
        workdir: Path,
        progress: Progress,
    ) -> RenderedOutput:
        progress(10)
        width, height = IMAGE_SIZES.get(job.aspect_ratio, (1024, 1024))
        result = render.render_image(
            self._layers(elements, attached, files),
            _caption(job),
            workdir / "output.png",
            width=width,
            height=height,
        )
        progress(80)
        thumb = render.make_thumbnail(result.path, workdir / "thumb.jpg")
        return RenderedOutput(
            kind="image",
            path=result.path,
            poster=result.path,
            thumbnail=thumb.path,
            width=result.width,
            height=result.height,
        )

    # --- video ----------------------------------------------------------------------------

    def _video(
        self,
        job: GenerationJob,
        elements: Sequence[JobElement],
        attached: Sequence[Path],
        start: Path | None,
        end: Path | None,
        files: _Files,
        workdir: Path,
        progress: Progress,
    ) -> RenderedOutput:
        by_id = {p.element_id: p for p in elements if p.element_id is not None}
        plan = job.plan or {}
        # The plan names elements by the ids it was compiled with. A pin whose element was
        # deleted since, or a recreation's pin of another user's snapshot, has no element:
        # it is found by its position.
        by_position = {p.position: p for p in elements}
        unmentioned: list[JobElement] = []
        for ref in plan.get("elements") or []:
            pinned = by_position.get(ref.get("position"))
            if pinned is not None and ref.get("element_id") is not None:
                by_id.setdefault(ref["element_id"], pinned)
        shots = plan.get("shots") or []
        total = job.duration or plan.get("total_duration") or 5
        mentioned_ids = {i for shot in shots for i in shot.get("element_ids") or ()}
        unmentioned = [p for p in elements if p.element_id not in mentioned_ids]
        if not shots:
            shots = [{"index": 1, "duration": total, "text": job.prompt, "element_ids": []}]
        mentioned_images = {n for shot in shots for n in _image_numbers(shot)}
        unmentioned_images = [
            path for n, path in enumerate(attached, 1) if n not in mentioned_images
        ]
        dialogue = plan.get("dialogue") or []
        # The scene a shot that names none stands in: the previous shot's, at first the
        # prompt's scene element, else the input video's first frame.
        scene = next((p for p in elements if p.type == "scene" and _main_image(p)), None)
        carried: Path | None = files.local(_main_image(scene) or "") if scene else self.backdrop
        specs: list[render.ShotSpec] = []
        for shot in shots:
            duration = float(shot.get("duration") or total / len(shots))
            in_shot = [by_id[i] for i in shot.get("element_ids") or () if i in by_id]
            images = [attached[n - 1] for n in _image_numbers(shot) if 0 < n <= len(attached)]
            if not in_shot and not images:
                # Mentions nothing: the references attached without a mention, if any.
                in_shot, images = unmentioned, unmentioned_images
            layers, carried = self._shot_layers(in_shot, images, carried, files)
            lines = [d for d in dialogue if d.get("shot_index") == shot["index"]]
            subtitles, cues = self._speech(lines, duration, by_id, files)
            specs.append(
                render.ShotSpec(
                    duration=duration,
                    text=shot.get("text", ""),
                    layers=layers,
                    subtitles=subtitles,
                    voice_cues=cues,
                    # Read back through the vocabulary: a value it doesn't know is static.
                    camera=CameraMove.read(shot.get("camera_move")),
                )
            )
        width, height = VIDEO_SIZES.get(job.aspect_ratio, (1280, 720))
        result = render.render_video(
            specs,
            workdir / "output.mp4",
            width=width,
            height=height,
            start_frame=start,
            end_frame=end,
            progress=lambda fraction: progress(int(fraction * 95)),
        )
        poster = render.make_poster(result.path, workdir / "poster.jpg")
        thumb = render.make_thumbnail(poster.path, workdir / "thumb.jpg")
        return RenderedOutput(
            kind="video",
            path=result.path,
            poster=poster.path,
            thumbnail=thumb.path,
            width=result.width,
            height=result.height,
            duration_ms=round(result.duration * 1000),
            has_audio=result.has_audio,
        )

    def _shot_layers(
        self,
        in_shot: Sequence[JobElement],
        images: Sequence[Path],
        carried: Path | None,
        files: _Files,
    ) -> tuple[list[render.Layer], Path | None]:
        """A shot's layers and the scene it leaves for the next: its own scene element
        behind, else the carried scene; its other elements and its images in front, in
        mention order. With no scene at all, its first image stands behind (an image is a
        place as often as a thing), but an image is never carried to another shot."""
        background = carried
        subjects: list[Path] = []
        own_scene = False
        for pinned in in_shot:
            main = _main_image(pinned)
            if main is None:
                continue
            if pinned.type == "scene" and not own_scene:
                background, own_scene = files.local(main), True
            else:
                subjects.append(files.local(main))
        remaining = list(images)
        carried = background
        if background is None and remaining:
            background = remaining.pop(0)
        subjects.extend(remaining)
        layers = [render.Layer(path=background, role="background")] if background else []
        return layers + [render.Layer(path=p, role="subject") for p in subjects], carried

    def _speech(
        self,
        lines: Sequence[dict],
        duration: float,
        by_id: dict[int, JobElement],
        files: _Files,
    ) -> tuple[list[render.Subtitle], list[render.VoiceCue]]:
        """Each line gets an equal slot of the shot, and inside it the time it takes to say
        (`line_seconds`): its subtitle shows then and the line is said
        then, and nowhere else."""
        if not lines:
            return [], []
        slot = duration / len(lines)
        lead = min(LINE_LEAD_SECONDS, slot * 0.1)
        subtitles, cues = [], []
        for n, line in enumerate(lines):
            begin = n * slot + lead
            said = min(line_seconds(line["text"]), (n + 1) * slot - begin - lead)
            finish = begin + max(said, 0.0)
            speaker = by_id.get(line.get("speaker_element_id") or -1)
            subtitles.append(
                render.Subtitle(
                    start=begin,
                    end=min((n + 1) * slot, finish + SUBTITLE_LINGER_SECONDS),
                    text=line["text"],
                    speaker=speaker.name if speaker else None,
                )
            )
            if slot >= SECONDS_PER_LINE_MIN / 2 and finish > begin:
                # The line's words, said (espeak-ng) in its speaker's voice's pitch and
                # loudness; a speaker with no voice (or no speaker) in the neutral default.
                voice = speaker.voice_file if speaker is not None else ""
                profile = self._profile(voice, files) if voice else speech.NEUTRAL
                self.lines += 1
                spoken = speech.speak(
                    line["text"],
                    profile,
                    files.workdir / f"line-{self.lines}.wav",
                    max_seconds=finish - begin,
                )
                if spoken is not None:  # None: nothing to say (punctuation only)
                    cues.append(
                        render.VoiceCue(
                            audio_path=spoken.path, start=begin, end=finish, text=line["text"]
                        )
                    )
        return subtitles, cues

    def _profile(self, voice_file: str, files: _Files) -> speech.VoiceProfile:
        """A bound voice's measured median pitch and loudness, once per job."""
        if voice_file not in self.profiles:
            self.profiles[voice_file] = speech.profile_of(files.local(voice_file))
        return self.profiles[voice_file]


_IMAGE_TOKEN = re.compile(r"<<<image_(\d+)>>>")
_WIDE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3040-\u30ff]")


def _image_numbers(shot: dict) -> list[int]:
    """The attached images a planned shot mentions, in order. A plan kept before shots
    listed them has them in the provider's text, as `<<<image_N>>>`."""
    if "image_numbers" in shot:
        return [int(n) for n in shot["image_numbers"] or ()]
    numbers: list[int] = []
    for match in _IMAGE_TOKEN.finditer(shot.get("provider_text") or ""):
        if int(match.group(1)) not in numbers:
            numbers.append(int(match.group(1)))
    return numbers


def line_seconds(text: str) -> float:
    """About how long a line takes to say at a calm pace: 2.6 words a second, or 4.5
    characters a second in Chinese, Japanese and Korean; at least `LINE_MIN_SECONDS`."""
    wide = len(_WIDE.findall(text))
    words = len(_WIDE.sub(" ", text).split())
    return max(LINE_MIN_SECONDS, 0.3 + words / 2.6 + wide / 4.5)


def _caption(job: GenerationJob) -> str:
    text = " ".join(job.prompt.split())
    return text if len(text) <= 180 else text[:177] + "…"
