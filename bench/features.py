"""Benchmarks of the hot paths of the newer features, each against a bare baseline doing the
irreducible part of the same work, measured in the same run (see bench/README.md):

- subject detection and auto-description of a 12 MP photo (`elements.assists`, local
  provider) and the raw cascades (`elements.assists.vision.detect`) vs a Pillow decode;
- a voice sample through `process_audio` with its speech analysis (WebRTC's detector and the
  pitch clusters) vs a pydub decode, and the speech analysis alone;
- the webhook outbox on job finish with 0 and 2 subscribed endpoints vs none registered;
- the GraphQL `exploreFeed(first: 50)` vs a hand-written JSON view of the same rows;
- the webhook signature vs the stdlib's HMAC on the same bytes;
- a video element's processing (trim, frames, faces, keyframes, native voice) vs ffmpeg
  decoding the same clip.

    .venv/bin/python bench/features.py [--quick]   # alone
    make bench                                     # bench/run.py runs these too

The test media builders (`tests/support/media.py`, `tests/support/videos.py`) make the
speech-like audio and the clip, so the benchmark measures what the tests check.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run import ROOT, compare, photo_jpeg, print_spread, setup_django

FEED_WORKS = 60
FEED_PAGE = 50
FEED_JSON_PATH = "/bench/explore.json"
FEED_QUERY = """
query Feed($first: Int!) {
  exploreFeed(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title caption model outputKind recreateCount createdAt promptText authorName
      output { kind width height durationMs hasAudio url posterUrl thumbnailUrl }
    } }
  }
}
"""


def _print_seconds(title: str, lines: list[tuple[str, float, str]], note: str) -> None:
    print(f"\n{title}")
    for label, seconds, tag in lines:
        print(f"  {label:<44} {seconds:>10.2f} s/call{tag}")
    print(f"  {note}")


# --- Subject detection and description of an upload (elements.assists) --------------------


def portrait_jpeg() -> bytes:
    """A 12-megapixel (4000×3000) JPEG with a person in it: scikit-image's astronaut,
    enlarged, over the gradients of `photo_jpeg`, with the same sensor-like grain, so the face
    cascade has a face to find and the decoder a photo's entropy."""
    from PIL import Image
    from skimage import data

    background = Image.open(io.BytesIO(photo_jpeg()))
    astronaut = Image.fromarray(data.astronaut()).resize((2600, 2600), Image.Resampling.BICUBIC)
    background.paste(astronaut, (700, 400))
    grain = Image.effect_noise(background.size, 30)
    image = Image.merge("RGB", [Image.blend(band, grain, 0.12) for band in background.split()])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def assists(quick: bool) -> dict[str, float]:
    """What an upload adds for the subject-type suggestion (`detected_fields`: decode the
    normalized image, cascades, statistics), what `describe` costs on the same image, and the
    cascades alone on an already decoded image, each vs a Pillow decode + thumbnail of the
    same normalized JPEG (what any use of the image costs at least)."""
    from PIL import Image

    from elements.assists import vision
    from elements.assists.registry import get_assist_provider
    from elements.assists.services import detected_fields
    from elements.media.images import THUMBNAIL_SIZE, process_image

    repeats = 3 if quick else 5
    processed = process_image(io.BytesIO(portrait_jpeg()))
    jpeg = processed.content
    provider = get_assist_provider()
    found = detected_fields(processed)
    if found["detected_type"] != "character":
        raise SystemExit(f"The benchmark portrait isn't seen as a character: {found}")

    def decode() -> Image.Image:
        image = Image.open(io.BytesIO(jpeg))
        image.load()
        return image

    def bare() -> None:
        decode().thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))

    baseline = ("Image.open + load + thumbnail", bare)
    size = f"{processed.width}x{processed.height} JPEG ({len(jpeg) / 1e6:.1f} MB)"
    ratios = {
        "detect_subject": compare(
            f"subject type of an uploaded {size} (detected_fields) vs Pillow decode + thumbnail",
            ("detected_fields(processed)", lambda: detected_fields(processed)),
            baseline,
            calls=1,
            repeats=repeats,
        ),
        "describe": compare(
            f"local describe of the same {size} (decode included) vs Pillow decode + thumbnail",
            (
                "decode + describe(image, 'character')",
                lambda: provider.describe(decode(), element_type="character"),
            ),
            baseline,
            calls=1,
            repeats=repeats,
        ),
    }
    decoded = decode()

    def every_cascade() -> object:
        # The cat and body cascades run when asked for: ask, so all five are timed.
        found = vision.detect(decoded)
        return found.cat_faces, found.upper_bodies, found.full_bodies

    ratios["vision_detect"] = compare(
        f"vision.detect on the decoded image (5 cascades at {vision.ANALYSIS_SIDE} px) "
        "vs Pillow decode + thumbnail",
        ("vision.detect(image), all 5 cascades", every_cascade),
        baseline,
        calls=1,
        repeats=repeats,
    )
    return ratios


# --- Voice samples: process_audio with the speech analysis --------------------------------


def voice(quick: bool) -> dict[str, float]:
    """A 30 s speech-like stereo MP3 (the tests' glottal pulse train through changing vowel
    formants, which WebRTC's detector calls speech) through `process_audio` vs the pydub
    decode it can't do without, and the speech analysis alone (detector over 30 ms frames,
    pitch track over the speech segments, two-means of the pitches) on the normalized PCM."""
    import wave
    from unittest import mock

    import imageio_ffmpeg

    from elements.media import audio
    from elements.media.audio import AudioSegment, process_audio
    from elements.media.speech import pitch_clusters, pitch_track, speech_report
    from tests.support.media import pcm_wav_bytes, speechlike_pcm

    repeats = 3 if quick else 5
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-voice-") as workdir:
        source = Path(workdir) / "speech.wav"
        source.write_bytes(pcm_wav_bytes(speechlike_pcm(30.0)))
        path = Path(workdir) / "voice.mp3"
        encode = ["-i", str(source), "-ar", "44100", "-ac", "2", "-c:a", "libmp3lame"]
        encode += ["-b:a", "128k", str(path)]
        subprocess.run(  # noqa: S603 (our own arguments)
            [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *encode],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        mp3 = path.read_bytes()
        processed = process_audio(io.BytesIO(mp3))
        with wave.open(io.BytesIO(processed.content)) as wav:
            pcm, rate = wav.readframes(wav.getnframes()), wav.getframerate()

        def bare_audio() -> None:
            AudioSegment.from_file(str(path), format="mp3", codec="mp3float")

        def speech() -> object:
            report = speech_report(pcm, sample_rate=rate)
            return pitch_clusters(pitch_track(pcm, sample_rate=rate, segments=report.segments))

        baseline = ("AudioSegment.from_file(path, codec=…)", bare_audio)
        ratios["process_audio_speech"] = compare(
            f"process_audio of a 30 s speech-like stereo MP3 ({len(mp3) / 1e3:.0f} kB, "
            f"speech ratio {processed.quality.speech_ratio:.2f}) vs pydub decode",
            ("process_audio(upload)", lambda: process_audio(io.BytesIO(mp3))),
            baseline,
            calls=2,
            repeats=repeats,
        )
        with mock.patch.object(audio, "_speech", lambda pcm: audio._Speech(1.0, False)):
            ratios["process_audio_no_speech"] = compare(
                "the same without the speech analysis (`_speech` stubbed here: the pipeline "
                "before it) vs pydub decode",
                (
                    "process_audio(upload), no speech analysis",
                    lambda: process_audio(io.BytesIO(mp3)),
                ),
                baseline,
                calls=2,
                repeats=repeats,
            )
        ratios["speech_analysis"] = compare(
            "the speech analysis alone (VAD + pitch track + clusters, 30 s at 24 kHz) "
            "vs pydub decode",
            ("speech_report + pitch_track + pitch_clusters", speech),
            baseline,
            calls=2,
            repeats=repeats,
        )
    return ratios


# --- Webhook outbox on job finish, and the signature ----------------------------------------


def outbox(quick: bool) -> dict[str, float]:
    """`job_finish(job, SUCCEEDED)` in its own transaction (the outbox write and, after the
    commit, the deliveries enqueued on the ORM broker) for an owner with 2 endpoints that
    want other events, and with 2 that want this one, vs an owner with no endpoint. Also the
    emit alone (`job_event_emit`) when nobody listens vs the bare endpoint SELECT it runs."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from generation.models import GenerationJob, JobStatus
    from generation.services import job_finish
    from generation.webhooks import sender
    from generation.webhooks.models import WebhookEndpoint
    from generation.webhooks.services import job_event_emit

    def owner_with(name: str, events: list[list[str]]) -> GenerationJob:
        owner = User.objects.create_user(username=f"bench-outbox-{name}")
        for n, wanted in enumerate(events):
            WebhookEndpoint.objects.create(  # the service would resolve the host: rows only
                owner=owner,
                url=f"https://hooks-{n}.example.com/element-library",
                events=wanted,
                secret=sender.new_secret(),
            )
        return GenerationJob.objects.create(
            owner=owner,
            model="VIDEO_3_0_OMNI",
            mode="std",
            prompt="A benchmark job",
            provider="local",
            status=JobStatus.RUNNING,
        )

    jobs = {
        "none": owner_with("none", []),
        "other": owner_with("other", [["element.ready"], ["generation.failed"]]),
        "two": owner_with("two", [["generation.succeeded"], []]),
    }

    def finish(key: str) -> Callable[[], object]:
        job = jobs[key]

        def call() -> object:
            with transaction.atomic():
                return job_finish(job, JobStatus.SUCCEEDED)

        return call

    queries: dict[str, int] = {}
    connection.queries_log.clear()  # DEBUG keeps the last 9,000: a full log counts 0 new ones
    for key in jobs:
        with CaptureQueriesContext(connection) as captured:
            finish(key)()
        queries[key] = len(captured)
    with CaptureQueriesContext(connection) as captured:
        job_event_emit(jobs["none"])
    emit_queries = len(captured)
    if emit_queries != 1 or queries["other"] != queries["none"]:
        raise SystemExit(f"The outbox isn't one query when nobody listens: {queries}")

    calls, repeats = (20, 3) if quick else (100, 7)
    baseline = (f"job_finish, no endpoint ({queries['none']} queries)", finish("none"))
    owner_id = jobs["none"].owner_id
    ratios = {
        "outbox_0_of_2": compare(
            "job_finish: 2 endpoints that want other events vs none registered",
            (f"job_finish, 0 of 2 subscribed ({queries['other']} queries)", finish("other")),
            baseline,
            calls=calls,
            repeats=repeats,
        ),
        "outbox_2_of_2": compare(
            "job_finish: 2 subscribed endpoints (event, deliveries, 2 enqueued) vs none",
            (f"job_finish, 2 subscribed ({queries['two']} queries)", finish("two")),
            baseline,
            calls=calls,
            repeats=repeats,
        ),
        "outbox_2_of_2_write": _without_enqueue(
            lambda: compare(
                "the same, the 2 deliveries not enqueued (`_enqueue` stubbed here): the write",
                ("job_finish, 2 subscribed, no enqueue", finish("two")),
                baseline,
                calls=calls,
                repeats=repeats,
            )
        ),
        "emit_nobody": compare(
            "job_event_emit when nobody listens vs the bare endpoint SELECT",
            (f"job_event_emit(job) ({emit_queries} query)", lambda: job_event_emit(jobs["none"])),
            (
                "list(WebhookEndpoint.filter(owner_id=…))",
                lambda: list(WebhookEndpoint.objects.filter(owner_id=owner_id)),
            ),
            calls=calls * 2,
            repeats=repeats,
        ),
    }
    return ratios


def _without_enqueue(call: Callable[[], float]) -> float:
    from unittest import mock

    from generation.webhooks import services as webhook_services

    with mock.patch.object(webhook_services, "_enqueue", lambda ids: None):
        return call()


def signature(quick: bool) -> dict[str, float]:
    """`sender.signature` of a job event's body vs `hmac.new(...).hexdigest()` of the same
    `timestamp.body` bytes: a sanity check that the header costs the HMAC and little else."""
    import hashlib
    import hmac

    from generation.webhooks import sender

    secret = sender.new_secret()
    body = json.dumps(
        {
            "id": "8f0c6a1e-1111-2222-3333-444455556666",
            "type": "generation.succeeded",
            "created_at": "2026-11-24T06:45:00Z",
            "data": {
                "job": {
                    "id": "R2VuZXJhdGlvbkpvYjo4ZjBjNmExZQ==",
                    "status": "succeeded",
                    "outputs": [{"url": "https://example.com/media/" + "x" * 200, "kind": "video"}]
                    * 3,
                }
            },
        },
        separators=(",", ":"),
    ).encode()
    timestamp = 1_795_000_000
    key = secret.encode()

    def bare() -> str:
        return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()

    if sender.signature(secret, timestamp, body) != f"v1={bare()}":
        raise SystemExit("sender.signature is not HMAC-SHA256 of timestamp.body")
    return {
        "webhook_signature": compare(
            f"sender.signature of a {len(body)}-byte event vs hmac.new(…).hexdigest()",
            (
                "sender.signature(secret, ts, body)",
                lambda: sender.signature(secret, timestamp, body),
            ),
            ("hmac.new(key, ts.body, sha256).hexdigest()", bare),
            calls=20_000 // (4 if quick else 1),
            repeats=5 if quick else 9,
        )
    }


# --- Explore feed: GraphQL vs a hand-written JSON view --------------------------------------


def explore_feed_view(request: Any) -> Any:
    """The baseline: what a careful hand-written endpoint would do for the same page: the same
    selector, one query with the author and output joined (`only()` the shown columns), the
    same signed absolute URLs, the same enum names and global ids, JSON out."""
    from django.http import JsonResponse
    from strawberry.relay import to_base64

    from elements.media_urls import media_url
    from generation.explore import selectors as explore_selectors

    if not (request.user.is_authenticated and request.user.is_active):
        return JsonResponse({"error": "Log in first."}, status=401)
    first = min(int(request.GET.get("first", FEED_PAGE)), 100)
    rows = list(
        explore_selectors.explore_feed()
        .select_related("author", "output")
        .only(
            "title",
            "caption",
            "model",
            "output_kind",
            "recreate_count",
            "created_at",
            "prompt",
            "author__display_name",
            "author__username",
            "output__kind",
            "output__file",
            "output__poster",
            "output__thumbnail",
            "output__width",
            "output__height",
            "output__duration_ms",
            "output__has_audio",
        )[: first + 1]
    )

    def url(name: str) -> str:
        return media_url(name, owner_id=None, request=request)

    works = [
        {
            "id": to_base64("ExploreWork", work.pk),
            "title": work.title,
            "caption": work.caption,
            "model": work.model.upper(),
            "outputKind": work.output_kind.upper(),
            "recreateCount": work.recreate_count,
            "createdAt": work.created_at.isoformat(),
            "promptText": work.prompt,
            "authorName": work.author.shown_name,
            "output": {
                "kind": work.output.kind.upper(),
                "width": work.output.width,
                "height": work.output.height,
                "durationMs": work.output.duration_ms,
                "hasAudio": work.output.has_audio,
                "url": url(work.output.file.name),
                "posterUrl": url(work.output.poster.name),
                "thumbnailUrl": url(work.output.thumbnail.name),
            },
        }
        for work in rows[:first]
    ]
    return JsonResponse({"works": works, "hasNextPage": len(rows) > first})


def _feed_urlconf() -> str:
    from django.urls import path

    from elementsite.urls import urlpatterns

    name = "bench_feature_urls"
    module = types.ModuleType(name)
    # Ahead of the app's routes: the last one answers every other path with the studio.
    module.urlpatterns = [  # type: ignore[attr-defined]
        path(FEED_JSON_PATH.lstrip("/"), explore_feed_view, name="bench-explore-feed"),
        *urlpatterns,
    ]
    sys.modules[name] = module
    return name


def _seed_feed(prefix: str = "bench") -> Any:
    """FEED_WORKS approved works by 6 authors (videos and images), a few hidden or unshared
    ones that the feed must skip; rows only, URLs are signed, not fetched. Returns a viewer."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from generation.explore.models import ExploreWork
    from generation.models import GenerationJob, GenerationOutput, JobStatus

    authors = [
        User.objects.create_user(username=f"{prefix}-author-{n}", display_name=f"Author {n}")
        for n in range(6)
    ]
    now = timezone.now()
    for n in range(FEED_WORKS + 6):
        author = authors[n % len(authors)]
        video = n % 3 != 0
        job = GenerationJob.objects.create(
            owner=author,
            model="VIDEO_3_0_OMNI",
            mode="std",
            prompt=f"Shot 1 (5s): [@Little Scholar] walks through the rain, take {n}.",
            provider="local",
            status=JobStatus.SUCCEEDED,
        )
        output = GenerationOutput.objects.create(
            job=job,
            owner=author,
            kind="video" if video else "image",
            file=f"outputs/bench-{n}.{'mp4' if video else 'png'}",
            poster=f"outputs/posters/bench-{n}.jpg",
            thumbnail=f"outputs/thumbs/bench-{n}.jpg",
            width=1280,
            height=720,
            duration_ms=5000 if video else None,
            has_audio=video,
        )
        hidden = n >= FEED_WORKS and n % 2 == 0
        ExploreWork.objects.create(
            author=author,
            job=job,
            output=output,
            title=f"Rainy walk {n}",
            caption="A quiet street after rain." if n % 2 else "",
            model="VIDEO_3_0_OMNI",
            output_kind=output.kind,
            prompt=job.prompt,
            recipe={"model": "VIDEO_3_0_OMNI"},
            status="hidden" if hidden else "approved",
            hidden_reason="Benchmark" if hidden else "",
            created_at=now - timedelta(minutes=n),
            unshared_at=now if n >= FEED_WORKS and not hidden else None,
        )
    return User.objects.create_user(username=f"{prefix}-feed-viewer")


def _url_key(url: str) -> tuple[str, Any]:
    """What a signed media URL grants (its prefix and signed payload): their timestamps
    differ from one request to the next."""
    import urllib.parse

    from django.core import signing

    from elements.media_urls import MEDIA_TOKEN_SALT

    parts = urllib.parse.urlsplit(url)
    prefix, token = parts.path.rsplit("/", 1)
    payload = signing.loads(urllib.parse.unquote(token), salt=MEDIA_TOKEN_SALT)
    return f"{parts.scheme}://{parts.netloc}{prefix}/", payload


def _comparable(work: dict[str, Any]) -> dict[str, Any]:
    output = dict(work["output"])
    for key in ("url", "posterUrl", "thumbnailUrl"):
        output[key] = _url_key(output[key])
    created = work["createdAt"].replace("Z", "+00:00")
    return {**work, "output": output, "createdAt": created}


def explore(quick: bool) -> dict[str, float]:
    """`exploreFeed(first: 50)` through Django's test client vs the hand-written JSON view
    above through the same client, after checking both return the same works."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    viewer = _seed_feed()
    client = Client()
    client.force_login(viewer)
    body = json.dumps({"query": FEED_QUERY, "variables": {"first": FEED_PAGE}})

    def graphql() -> Any:
        response = client.post("/graphql", data=body, content_type="application/json")
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
        return response

    def view() -> Any:
        response = client.get(FEED_JSON_PATH, {"first": FEED_PAGE})
        if response.status_code != 200:
            raise SystemExit(f"The JSON view failed: {response.content[:500]!r}")
        return response

    with override_settings(ROOT_URLCONF=_feed_urlconf()):
        # DEBUG keeps the last 9,000 queries: a full log would count 0 new ones.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as gql_queries:
            feed = graphql().json()["data"]["exploreFeed"]
        with CaptureQueriesContext(connection) as json_queries:
            page = view().json()
        via_graphql = [edge["node"] for edge in feed["edges"]]
        if not (
            len(via_graphql) == FEED_PAGE
            and feed["pageInfo"]["hasNextPage"] == page["hasNextPage"] is True
            and [_comparable(w) for w in via_graphql] == [_comparable(w) for w in page["works"]]
        ):
            raise SystemExit("exploreFeed and the JSON view don't return the same works.")
        if len(gql_queries) != len(json_queries):
            raise SystemExit(
                f"exploreFeed runs {len(gql_queries)} queries, the JSON view "
                f"{len(json_queries)}: {[q['sql'][:80] for q in gql_queries]}"
            )
        # The session and user lookups are the same on both sides; the rest is the listing.
        ratio = compare(
            f"GraphQL `exploreFeed(first: {FEED_PAGE})` of {FEED_WORKS} visible works vs a "
            "hand-written JSON view (same client, selector, signed URLs)",
            (f"exploreFeed(first: 50) ({len(gql_queries)} queries)", graphql),
            (f"JSON view GET {FEED_JSON_PATH} ({len(json_queries)} queries)", view),
            calls=4 if quick else 20,
            repeats=3 if quick else 7,
        )
        # The relay `id` alone: strawberry-django looks for a NodeID annotation on every
        # call (see bench/README.md).
        without_id = json.dumps(
            {
                "query": FEED_QUERY.replace("node {\n      id ", "node {\n      "),
                "variables": {"first": FEED_PAGE},
            }
        )

        def graphql_without_id() -> Any:
            response = client.post("/graphql", data=without_id, content_type="application/json")
            if (
                response.status_code != 200
                or "id" in response.json()["data"]["exploreFeed"]["edges"][0]["node"]
            ):
                raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
            return response

        id_ratio = compare(
            f"GraphQL `exploreFeed(first: {FEED_PAGE})` with the works' `id` vs without it",
            ("exploreFeed(first: 50) { … id … }", graphql),
            ("exploreFeed(first: 50) { … } without id", graphql_without_id),
            calls=4 if quick else 20,
            repeats=3 if quick else 7,
        )
    return {"exploreFeed": ratio, "exploreFeed_id": id_ratio}


# --- Video elements: processing vs decoding the clip ------------------------------------------


def video_element(quick: bool) -> dict[str, float]:
    """`video_element_process` of a 6 s 480×360 12 fps H.264/AAC clip of one person
    (zooming and panning over the astronaut photo, speech-like sound; the tests' builder),
    trimmed to all 6 s: trim (re-encode), probe, 18 sampled frames through the face cascades,
    the identity check of the 4 keyframes' faces, 4 keyframes through the image pipeline,
    the native voice through the voice pipeline, the rows and files in one transaction; vs
    ffmpeg decoding the same clip, picture and sound, to nowhere (`-f null`). A run takes
    seconds, so single calls in alternating rounds (the element is created before each
    round, untimed), medians."""
    import imageio_ffmpeg
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from elements.models import Element, ElementStatus
    from elements.video_elements import video_element_create, video_element_process
    from tests.support.videos import make_video, zoom_and_pan

    seconds = 6.0
    clip = make_video(zoom_and_pan("astronaut", seconds), seconds)
    owner = User.objects.create_user(username="bench-video")
    repeats = 1 if quick else 3

    def create(n: int) -> int:
        return video_element_create(
            owner=owner,
            name=f"Bench video {n}",
            video=SimpleUploadedFile("clip.mp4", clip, content_type="video/mp4"),
            trim_start=0,
            trim_end=seconds,
            consent_statement="I am the person in this video and I agree.",
        ).element.pk

    subject_s: list[float] = []
    baseline_s: list[float] = []
    # CPU of this process (every thread) and of the children it waited for (ffmpeg): load
    # on the shared machine inflates it far less than wall time.
    subject_cpu: list[float] = []
    baseline_cpu: list[float] = []
    keyframes = voice = 0
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-video-") as workdir:
        path = Path(workdir) / "clip.mp4"
        path.write_bytes(clip)
        decode = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path)]
        decode += ["-f", "null", "-"]
        for n in range(repeats):
            started, cpu = time.perf_counter(), _cpu_seconds()
            subprocess.run(decode, check=True, stdin=subprocess.DEVNULL)  # noqa: S603
            baseline_s.append(time.perf_counter() - started)
            baseline_cpu.append(_cpu_seconds() - cpu)
            element_id = create(n)
            started, cpu = time.perf_counter(), _cpu_seconds()
            video_element_process(element_id=element_id)
            subject_s.append(time.perf_counter() - started)
            subject_cpu.append(_cpu_seconds() - cpu)
            element = Element.objects.get(pk=element_id)
            if element.status != ElementStatus.ACTIVE:
                raise SystemExit(f"The benchmark clip failed: {element.video_report}")
            keyframes = element.images.count()
            voice = int(element.voice_id is not None)
            Element.objects.filter(pk=element_id).delete()  # the tier limit; files stay
        stages = _video_stages(path, seconds)
    s, b = statistics.median(subject_s), statistics.median(baseline_s)
    _print_seconds(
        f"video_element_process of a 6 s 480x360 clip ({len(clip) / 1e3:.0f} kB; "
        f"{keyframes} keyframes, native voice: {'yes' if voice else 'no'}) vs ffmpeg decoding it",
        [
            ("ffmpeg -i clip.mp4 -f null -", b, "  (baseline)"),
            ("video_element_process(element_id=…)", s, ""),
        ],
        f"ratio {s / b:.2f}x  (1 call x {repeats} rounds, medians)\n  where the time goes "
        "(one pass of the same steps): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages),
    )
    print_spread(baseline_s, subject_s, unit="ms")
    sc, bc = statistics.median(subject_cpu), statistics.median(baseline_cpu)
    print(
        f"  CPU (process + children): {sc * 1e3:.0f} ms against {bc * 1e3:.0f} ms, "
        f"ratio {sc / bc:.2f}x"
    )
    print_spread(baseline_cpu, subject_cpu, unit="ms")
    return {"video_element": s / b, "video_element_cpu": sc / bc}


def _cpu_seconds() -> float:
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _video_stages(clip: Path, seconds: float) -> list[tuple[str, float]]:
    """The steps of `video_element_process`'s analysis, timed once each (no database)."""
    from elements import video_elements
    from elements.media import clips
    from elements.media.images import process_image

    stages: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-stages-") as workdir:
        trimmed = Path(workdir) / "clip.mp4"

        def step(name: str, call: Callable[[], Any]) -> Any:
            started = time.perf_counter()
            result = call()
            stages.append((name, time.perf_counter() - started))
            return result

        step("trim", lambda: clips.trim(clip, "mp4", 0.0, seconds, trimmed))
        info = step("probe", lambda: clips.clip_info(trimmed))
        frames = step("sample frames", lambda: clips.sample_frames(trimmed))
        verdict = step(f"faces in {len(frames)} frames", lambda: clips.analyse(frames))
        chosen = clips.pick_keyframes(verdict.readings, info.duration)
        images = {index: image for index, (_, image) in enumerate(frames)}
        engine = video_elements.get_identity_engine()
        engine.describe(images[chosen[0].index], frame=True)  # models loaded once a worker
        step(
            f"identity of {len(chosen)} keyframes",
            lambda: clips.check_keyframe_identity(engine, [(r, images[r.index]) for r in chosen]),
        )
        step(
            f"{len(chosen)} keyframes through process_image",
            lambda: [process_image(video_elements._jpeg(images[r.index])) for r in chosen],
        )
        step(
            "native voice",
            lambda: video_elements._native_voice(trimmed, info.duration),
        )
    return stages


def run_features(quick: bool) -> dict[str, float]:
    """Django must be set up, with a migrated database."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    ratios: dict[str, float] = {}
    for case in (assists, voice, outbox, signature, explore, video_element):
        ratios.update(case(quick))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, a rough answer")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = run_features(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<22} {ratio:6.2f}x")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
