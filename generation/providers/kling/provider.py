"""The `kling` provider: jobs rendered by the Kling API (`shared/providers/kling-api.md`).

A job runs in the worker like any other (`generation.tasks.run_job` claims the row and keeps
its heartbeat); this provider, a `RemoteProvider`:

1. **syncs the library** the job pins (`prepare`): each pinned element *version* becomes a
   Kling element (`ProviderElement`: `image_refer` from its images, or `video_refer` from
   the clip a video character's pin keeps), its bound voice a Kling custom voice
   (`ProviderVoice`), on first use only. A sync row is claimed with a conditional update,
   so two jobs using one element create it once; the other waits for the first. Our ids
   are the `external_task_id`s. Older versions are deleted on Kling once no pending job
   pins them (`cleanup_old_versions`). An element's own `status` (`succeed`/`deleted`,
   apart from its task's) is checked when it is made and before a made one is reused; a
   `deleted` one is created again. A Voice Library preset that maps to one of Kling's
   presets (`KLING_PRESET_VOICES`) is bound by Kling's id, never uploaded. A voice its
   owner deletes or staff take down is deleted on Kling (`delete-voices`) from a task
   after the commit, or when the last job pinning it ends (`voices_delete_withdrawn`).
2. **builds the request** from the compiled plan kept on the job (`build_request`), after
   checking every documented limit with our own codes (`check_submit` runs the same checks
   at submit, before anything is charged);
3. submits, **polls with back-off** (a callback on `kling.views.kling_callback` only
   wakes the poll early: the task is fetched again before anything is believed), and
   **downloads the result into our storage** at once (Kling deletes it after 30 days).

The package, by concern: `client` (HTTP, JWT, error table, retry), `urls` (signed links of
ours Kling calls or fetches), `limits` (every documented limit), `requests` (create bodies),
`sync` (the library on Kling), `errors` (codes → ours, staff alerts), `tasks` (withdrawn
voices), `models`/`admin` (the sync state: the `kling` app), `views` (callback, media).

Errors (see `kling.client`): 1302/1303/5000–5002 are retried with exponential back-off,
1300/1301 end the job as CONTENT_POLICY with the reason shown, credentials/account/access
errors end it as PROVIDER_ACCOUNT_ERROR and raise a `ProviderAlert` for staff (and an
error-level log line). Every failure is refunded by the job-failure path
(`generation.services.job_finish`).

Unclear in the API notes → reading chosen:
- Token life maximum → 1800 s (the doc's example), re-minted 5 min before `exp`.
- `external_task_id` lookups on GET → never; tasks are queried by `task_id`. A job taken
  again after a crash between submit and save lists its recent tasks to adopt its own.
- Callback signature / shape for element and voice tasks → callbacks are unsigned hints:
  the URL carries our signed token, the body's `task_id` must match, and the task is
  fetched again; element/voice syncs rely on polling only.
- `element_voice_id` on `image_refer` → sent (the doc's own example does; our product binds
  voices to character elements made from images).
- `voice_url` vs `video_id` exclusivity → only `voice_url` is ever sent; its path ends
  with the sample's extension (`…/file.wav`: our samples are normalized to WAV).
- Which of our presets are Kling presets → none unless `KLING_PRESET_VOICES` maps the
  preset's name to a `voice_id` from `/v1/general/presets-voices`.
- Reading an element's own `status` on reuse → from its creating task (`GET` by
  `task_id`); a task Kling no longer has counts as `deleted`.
- Video elements "kling-video-o3 and later" → kling-v3-omni / kling-v3 only; any other
  model refuses a job with one at submit (PROVIDER_LIMIT; the compiler refuses it first as
  VIDEO_ELEMENT_NOT_SUPPORTED).
- `video_refer` "1080P, 16:9 or 9:16" → exactly 1920×1080 or 1080×1920. Our clip (3–8 s,
  any size up to the trim's cap) is scaled to fit and padded, never cropped, when it is not
  that already; a clip under 3 s, unreadable, not MP4/MOV or over 200 MB is refused at
  submit. Frame rate is not documented for element videos: the clip's own is kept.
- "A human voice in the audio makes Kling create a custom voice and bind it" → the clip is
  sent with its sound only while the bound voice is its own native voice (and then without
  `element_voice_id`: the native sample may be under the 5 s a custom voice needs); with
  another bound voice, or none, the sound is stripped and the bound voice, if any, goes as
  `element_voice_id` like for image elements.
- Where Kling fetches a `video_refer` clip → the signed media link (`media_url`), as for
  voices and input videos; a converted copy is kept only until its element task ends.
- QPS limit vs 1302 → 1302 is retried with back-off like 1303.
- Frame images counting toward `<<<image_N>>>` → attached images come first in
  `image_list`, frames after them, so `image_N` means the same under either reading.
- o1 with first + end frame → no elements allowed.
- `<<<element_N>>>` in omni-image → allowed (the compiler writes it; `element_list` is sent).
- Reference video `refer_type` → `feature` (a style/camera reference, as our product
  offers it), `keep_original_sound` "no", so `aspect_ratio` is sent and `duration` counts.
- Image-to-video with multi-shot (kling-v3) → allowed with a start frame; `aspect_ratio` is
  never sent with a first frame.
- Element name over 20 chars → shortened (a label only: prompts refer by position);
  description over 100 chars → refused with the reason (shortening would change what the
  model is told); an empty description → "<Type>: <name>" (the field is required).
- Output: the unwatermarked `url` is stored; `watermark_info` is not sent.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from PIL import Image

from elementsite.errors import field_error
from generation.catalog import ModelKind
from generation.error_codes import GenerationErrorCode
from generation.models import (
    GenerationJob,
)
from generation.providers import local_render as render
from generation.providers.base import (
    JobWaiter,
    ProviderError,
    RemoteProvider,
    RemoteStatus,
    RenderedOutput,
)
from generation.providers.kling.client import (
    ALERT_KINDS,
    OMNI_VIDEO,
    PROVIDER,
    KlingClient,
    KlingConfigError,
    KlingError,
    plain_sleep,
)
from generation.providers.kling.errors import alert, as_provider_error
from generation.providers.kling.limits import JobParts, check_job, preset_voice_id, sends_voice
from generation.providers.kling.models import ProviderElement, ProviderVoice, SyncState
from generation.providers.kling.requests import build_request
from generation.providers.kling.sync import (
    cleanup_old_versions,
    element_ready,
    provider_element_for,
    provider_element_key,
    task_status,
    voices_delete_withdrawn,
)
from generation.providers.kling.urls import media_url

logger = logging.getLogger("generation.kling")


class KlingProvider(RemoteProvider):
    name = PROVIDER

    def __init__(self, client: KlingClient | None = None) -> None:
        self.client = client or KlingClient.from_settings()
        config = self.client.config
        self.poll_interval = config.poll_interval
        self.max_poll_interval = config.poll_max_interval
        self.task_timeout = config.task_timeout
        self.hold_worker_for = config.hold_worker_for
        self.element_ids: dict[int, str] = {}

    # submit time

    def verify_credentials(self) -> None:
        """One free list call per key pair every few minutes: wrong keys are a configuration
        error at submit, before any job is charged. A service that does not answer is not
        (the job queues and its worker retries)."""
        key = f"kling-credentials-ok:{self.client.cache_key()}"
        if cache.get(key):
            return
        probe = KlingClient(self.client.config, wait=plain_sleep)
        try:
            probe.call_once("GET", f"{OMNI_VIDEO}?pageNum=1&pageSize=1", None, probe.token())
        except KlingError as exc:
            if exc.kind == "reauth":
                try:
                    probe.call_once(
                        "GET", f"{OMNI_VIDEO}?pageNum=1&pageSize=1", None, probe.token(fresh=True)
                    )
                except KlingError as again:
                    exc = again
                else:
                    cache.set(key, True, self._credentials_ttl())
                    return
            if exc.kind in ALERT_KINDS or exc.kind == "reauth":
                alert(exc)
                raise field_error(
                    "model",
                    "The Kling provider is misconfigured or unavailable (its credentials or "
                    "account were refused); staff were told. Nothing was charged.",
                    GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
                ) from exc
            return
        cache.set(key, True, self._credentials_ttl())

    @staticmethod
    def _credentials_ttl() -> int:
        return int(settings.KLING_CREDENTIALS_CHECK_SECONDS)

    def check_submit(self, job: GenerationJob) -> None:
        parts = JobParts.load(job)
        check_job(parts).raise_for_submit()
        fetched = [
            p.voice_file
            for p in parts.elements
            if sends_voice(p) and not preset_voice_id(p.voice_file)
        ]
        synced = set(
            ProviderVoice.objects.filter(
                provider=PROVIDER, voice_file__in=fetched, state=SyncState.READY
            ).values_list("voice_file", flat=True)
        )
        # Clips of video elements whose version is not on Kling yet: Kling fetches them.
        clips = [
            p.clip_file
            for p in parts.elements
            if p.clip_file
            and not ProviderElement.objects.filter(
                provider=PROVIDER,
                element_key=provider_element_key(p),
                version=p.version,
                state=SyncState.READY,
            ).exists()
        ]
        linked = [*([parts.video.file] if parts.video else []), *clips, *(set(fetched) - synced)]
        if linked:
            try:
                media_url(linked[0])
            except ProviderError as exc:
                raise field_error(
                    "model",
                    f"{exc.message} Nothing was charged.",
                    GenerationErrorCode.PROVIDER_NOT_CONFIGURED,
                ) from exc

    # worker

    def run(self, job: GenerationJob, *, workdir: Path, progress: Any) -> list[RenderedOutput]:
        try:
            return super().run(job, workdir=workdir, progress=progress)
        except KlingError as exc:
            raise as_provider_error(exc, job) from exc
        finally:
            # This job no longer pins its versions: older ones it was holding may go now.
            keys = ProviderElement.objects.filter(
                provider=PROVIDER,
                element_key__in=[
                    f"element:{e}"
                    for e in job.elements.exclude(element=None).values_list("element_id", flat=True)
                ],
            ).values_list("element_key", flat=True)
            try:
                cleanup_old_versions(self.client, list(keys), finishing_job=job.pk)
            except Exception:  # the job's outcome does not depend on the cleanup
                logger.exception("cleanup of old Kling elements failed")
            # Voices withdrawn (deleted, taken down) while this job pinned them may go now.
            voice_files = job.elements.exclude(voice_file="").values_list("voice_file", flat=True)
            try:
                voices_delete_withdrawn(self.client, list(voice_files), finishing_job=job.pk)
            except Exception:  # the job's outcome does not depend on the cleanup
                logger.exception("deleting withdrawn Kling voices failed")

    def prepare(self, job: GenerationJob, wait: JobWaiter) -> None:
        self.client.wait = wait
        parts = JobParts.load(job)
        check_job(parts).raise_for_job()
        rows = [(pinned, provider_element_for(pinned)) for pinned in parts.elements]
        for n, (pinned, row) in enumerate(rows):
            ready = element_ready(self.client, row.pk, pinned, wait)
            self.element_ids[pinned.position] = ready.provider_element_id
            wait.report(2 + 8 * (n + 1) // max(1, len(rows)))

    def new_external_id(self, job: GenerationJob) -> str:
        return f"job-{job.pk.hex}-{uuid.uuid4().hex[:8]}"

    def find_task(self, job: GenerationJob, external_id: str) -> str | None:
        parts = JobParts.load(job)
        try:
            listed = self.client.call("GET", f"{parts.route}?pageNum=1&pageSize=500") or []
        except KlingError:
            return None
        for item in listed:
            if (item.get("task_info") or {}).get("external_task_id") == external_id:
                return str(item["task_id"])
        return None

    def submit(self, job: GenerationJob) -> str:
        parts = JobParts.load(job)
        data = self.client.call("POST", parts.route, build_request(parts, self.element_ids))
        return str((data or {})["task_id"])

    def poll(self, job: GenerationJob, task_id: str) -> RemoteStatus:
        data = self.client.call("GET", f"{JobParts.load(job).route}/{task_id}") or {}
        status, message = task_status(data)
        progress = {"submitted": 10, "processing": 50}.get(status, 0)
        return RemoteStatus(state=status or "submitted", progress=progress, message=message)

    def failure(self, status: RemoteStatus) -> ProviderError:
        return ProviderError(
            GenerationErrorCode.RENDER_FAILED,
            f"Kling could not make it: {status.message or 'no reason given'}",
        )

    def fetch(self, job: GenerationJob, task_id: str, *, workdir: Path) -> list[RenderedOutput]:
        parts = JobParts.load(job)
        data = self.client.call("GET", f"{parts.route}/{task_id}") or {}
        result = data.get("task_result") or {}
        outputs: list[RenderedOutput] = []
        if parts.kind == ModelKind.IMAGE:
            for n, image in enumerate(result.get("images") or []):
                path = workdir / f"kling-{n}.png"
                with path.open("wb") as f:
                    self.client.download(str(image["url"]), f)
                normalized = _normalized_image(path, workdir / f"output-{n}.png")
                thumb = render.make_thumbnail(normalized.path, workdir / f"thumb-{n}.jpg")
                outputs.append(
                    RenderedOutput(
                        kind="image",
                        path=normalized.path,
                        poster=normalized.path,
                        thumbnail=thumb.path,
                        width=normalized.width,
                        height=normalized.height,
                    )
                )
        else:
            for n, video in enumerate((result.get("videos") or [])[:1]):
                path = workdir / f"output-{n}.mp4"
                with path.open("wb") as f:
                    self.client.download(str(video["url"]), f)
                outputs.append(_video_output(path, workdir, n))
        if not outputs:
            raise ProviderError(
                GenerationErrorCode.RENDER_FAILED, "Kling finished without a result."
            )
        return outputs


def _normalized_image(path: Path, out: Path) -> render.ImageResult:
    """The downloaded image re-encoded as PNG (metadata dropped), or RENDER_FAILED."""
    try:
        with Image.open(path, formats=["PNG", "JPEG", "WEBP"]) as image:
            image.load()
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError(
            GenerationErrorCode.RENDER_FAILED, f"Kling's result is not an image: {exc}"
        ) from exc
    converted.save(out, format="PNG")
    return render.ImageResult(path=out, width=converted.width, height=converted.height)


def _video_output(path: Path, workdir: Path, n: int) -> RenderedOutput:
    import av

    try:
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            width, height = stream.width, stream.height
            duration = float(container.duration or 0) / 1_000_000
            has_audio = bool(container.streams.audio)
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise ProviderError(
            GenerationErrorCode.RENDER_FAILED, f"Kling's result is not a video: {exc}"
        ) from exc
    poster = render.make_poster(path, workdir / f"poster-{n}.jpg")
    thumb = render.make_thumbnail(poster.path, workdir / f"thumb-{n}.jpg")
    return RenderedOutput(
        kind="video",
        path=path,
        poster=poster.path,
        thumbnail=thumb.path,
        width=width,
        height=height,
        duration_ms=round(duration * 1000),
        has_audio=has_audio,
    )


def make_provider() -> KlingProvider:
    try:
        return KlingProvider()
    except KlingConfigError as exc:
        raise field_error(
            "model", f"{exc} Nothing was charged.", GenerationErrorCode.PROVIDER_NOT_CONFIGURED
        ) from exc
