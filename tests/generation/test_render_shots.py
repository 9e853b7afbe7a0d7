"""What the local provider renders for a prompt, through GraphQL and the worker (run inline),
checked on the decoded MP4 (PyAV): which shots show the attached image, where the line is
heard and how cleanly, every camera phrasing rendering at the length of its shots, and what
staff and the user see when the worker fails on our bug."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import webrtcvad
from django.test import Client

from accounts.models import CreditLedgerEntry
from elements import services as element_services
from generation.models import GenerationJob, JobStatus
from generation.providers import local, speech
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.media import image_upload
from tests.support.readme import readme_prompts
from tests.support.studio import JOB, PREVIEW, SUBMIT, studio_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    return studio_client(user)


REPO = Path(__file__).resolve().parents[2]
MAGENTA = (230, 20, 230)  # the attached image: a colour nothing else in the video has
RATE, FPS = 48_000, 24


def readme_example() -> str:
    """The README's generation example, as written there."""
    found = [p for p in readme_prompts() if "[@Image1]" in p]
    assert found, "the README's example prompt with [@Image1]"
    return found[0]


def submit(api, prompt: str, images: list[Any] | None = None, **extra) -> dict:
    files = {f"input.images.{n}": image for n, image in enumerate(images or [])}
    variables = {"input": {"model": "VIDEO_3_0_OMNI", "prompt": prompt, **extra}}
    if files:
        variables["input"]["images"] = [None] * len(files)
    submitted = api.upload(SUBMIT, variables, files)["generationSubmit"]
    assert submitted["__typename"] == "GenerationJobResult", submitted
    return submitted["job"]


def watch(api, submitted: dict) -> dict:
    return api(JOB, {"id": submitted["id"]})["generationJob"]


def download(api, job: dict) -> bytes:
    assert job["status"] == "SUCCEEDED", job
    response = api.client.get(job["outputs"][0]["url"])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def decoded(data: bytes) -> tuple[list[np.ndarray], np.ndarray, float]:
    """The frames (RGB), the sound (mono float at 48 kHz) and the video stream's length."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        length = float(stream.duration * stream.time_base)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    sound = []
    with av.open(io.BytesIO(data), mode="r") as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            sound += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
        sound += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return frames, np.concatenate(sound), length


def magenta_share(frame: np.ndarray) -> float:
    near = np.abs(frame.astype(np.int16) - np.array(MAGENTA)).max(axis=2) < 40
    return float(near.mean())


def levels(sound: np.ndarray, step: float = 0.1) -> list[float]:
    """RMS level of each `step` seconds, in dBFS (-120 for digital silence)."""
    n = round(step * RATE)
    out = []
    for i in range(0, len(sound) - n + 1, n):
        rms = math.sqrt(float(np.mean(np.square(sound[i : i + n], dtype=np.float64))))
        out.append(20 * math.log10(rms) if rms > 1e-6 else -120.0)
    return out


def test_readme_example_shows_the_image_where_mentioned_and_the_line_where_said(
    api,
    django_capture_on_commit_callbacks,
) -> None:
    # given: the README's example: Shot 1 (3s) mentions [@Image1], shot 2 (4s) has the line
    prompt = readme_example()
    sofa = image_upload(width=900, height=600, color=MAGENTA)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(api, prompt, [sofa])
    job = watch(api, submitted)
    frames, sound, length = decoded(download(api, job))

    # then: 10 s, the sum of the shots
    assert abs(length - 10.0) <= 1 / FPS
    assert len(frames) == 240
    # the attached image is seen in shot 1, which mentions it, and in no other shot
    shares = [magenta_share(f) for f in frames]
    shots = {1: shares[0:72], 2: shares[72:168], 3: shares[168:240]}
    assert min(shots[1]) > 0.05, min(shots[1])
    assert max(shots[2]) == 0.0 and max(shots[3]) == 0.0
    # and the line is heard in shot 2 only: fitted to its time, the other shots silent
    db = levels(sound)
    assert len(db) == 100
    print("\nshots with the image (share of magenta pixels, min-max):")
    for n, values in shots.items():
        print(f"  shot {n}: {min(values):.3f}-{max(values):.3f}")
    print("audio RMS per 100 ms (dBFS), from 0.0 s:")
    for row in range(0, 100, 10):
        print(f"  {row / 10:4.1f} s " + " ".join(f"{v:6.1f}" for v in db[row : row + 10]))
    assert max(db[0:30]) < -80  # shot 1: silent
    assert max(db[72:100]) < -80  # shot 3, and shot 2 after the line: silent
    loud = [i for i, v in enumerate(db) if v > -30]
    assert loud, "the line is heard"
    assert 32 <= loud[0] <= 34 and loud[-1] <= 66  # 0.25 s into shot 2, about 3 s long
    # the line's words are heard as speech exactly during the line, in the bound voice's
    # pitch (its sample: a 220 Hz voice, `audio_upload(seconds=6, volume=0.8)`)
    begin = 3.0 + local.LINE_LEAD_SECONDS
    finish = begin + local.line_seconds("I see food, and I eat it.")
    heard_speech = speech_times(sound)
    print(f"speech (VAD) from {heard_speech[0]:.2f} s to {heard_speech[-1]:.2f} s")
    assert begin - 0.03 <= heard_speech[0] <= begin + 0.15
    assert heard_speech[-1] <= finish + 0.03
    assert 0.03 * len(heard_speech) >= 0.5 * (finish - begin)
    bound = speech.median_pitch(speech.decode_mono(Path(api.scholar.voice.audio.path), RATE), RATE)
    said = speech.median_pitch(sound[round(begin * RATE) : round(finish * RATE)], RATE)
    assert bound is not None and said is not None
    print(f"median pitch: bound voice {bound:.1f} Hz, the line {said:.1f} Hz")
    assert abs(bound - 220) < 3
    assert abs(12 * math.log2(said / bound)) <= 2
    # no click at either edge: the first and last 10 ms of the line ramp up and down
    heard = np.nonzero(np.abs(sound) > 1e-4)[0]
    first, last = heard[0], heard[-1]
    peak = float(np.abs(sound[first:last]).max())
    assert float(np.abs(sound[first : first + 240]).max()) < 0.5 * peak
    assert float(np.abs(sound[last - 240 : last + 1]).max()) < 0.5 * peak
    edge = np.abs(np.diff(sound[first - 480 : first + 480])).max()
    assert edge < 0.1 * peak  # no step into the line


def speech_times(sound: np.ndarray) -> list[float]:
    """Start times of the 30 ms frames WebRTC's detector (aggressiveness 3) hears as speech."""
    vad = webrtcvad.Vad(3)
    pcm = np.round(np.clip(sound, -1, 1) * 32767).astype("<i2")
    step = round(0.03 * RATE)
    return [
        i / RATE
        for i in range(0, len(pcm) - step + 1, step)
        if vad.is_speech(pcm[i : i + step].tobytes(), RATE)
    ]


def near(frame: np.ndarray, color: tuple[int, int, int]) -> float:
    return float((np.abs(frame.astype(np.int16) - np.array(color)).max(axis=2) < 40).mean())


def test_each_shot_shows_what_it_mentions_and_keeps_the_scene(
    api,
    django_capture_on_commit_callbacks,
) -> None:
    # given: shot 1 mentions nothing, shot 2 the character in the street, shot 3 adds the
    # image (its only mention)
    prompt = (
        "Shot 1 (1s): Night falls. "
        "Shot 2 (1s): [@Little Scholar] walks down [@Tokyo Street]. "
        "Shot 3 (1s): [@Little Scholar] sits on the sofa in [@Image1]."
    )
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(api, prompt, [image_upload(width=900, height=600, color=MAGENTA)])
    frames, _, length = decoded(download(api, watch(api, submitted)))
    assert abs(length - 3.0) <= 1 / FPS
    street, scholar = (10, 30, 80), (200, 80, 40)  # the fixture's main images
    shots = [frames[0:24], frames[24:48], frames[48:72]]
    # the image only where it is mentioned
    assert [max(magenta_share(f) for f in shot) > 0 for shot in shots] == [False, False, True]
    # the character where it is mentioned
    assert [min(near(f, scholar) for f in shot) > 0.02 for shot in shots] == [False, True, True]
    assert max(near(f, scholar) for f in shots[0]) == 0.0
    # the street behind every shot: the prompt's scene element in shot 1, carried to shot 3
    # (measured: at least 100 %, 71 % and 25 % of each shot's frames; shot 3's subjects are wide)
    assert all(near(f, street) > 0.15 for shot in shots for f in shot)


def test_a_line_whose_speaker_has_no_voice_is_said_in_the_neutral_voice(
    api,
    user,
    django_capture_on_commit_callbacks,
) -> None:
    element_services.element_create(
        owner=user,
        name="Mute Mo",
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload(color=(9, 9, 9))],
    )
    prompt = 'Shot 1 (2s): [@Mute Mo] says, "Hello there." Shot 2 (1s): The camera pans.'
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(api, prompt)
    job = watch(api, submitted)
    _frames, sound, length = decoded(download(api, job))
    assert abs(length - 3.0) <= 1 / FPS
    begin = min(local.LINE_LEAD_SECONDS, 2.0 * 0.1)  # the lead: a tenth of the 2 s slot
    finish = begin + local.line_seconds("Hello there.")
    heard_speech = speech_times(sound)
    assert heard_speech, "the line is said"
    assert begin - 0.03 <= heard_speech[0] and heard_speech[-1] <= finish + 0.03
    assert max(levels(sound)[20:]) < -80  # shot 2: silent
    said = speech.median_pitch(sound[: round(finish * RATE)], RATE)
    assert said is not None and 70 < said < 140  # espeak-ng's own voice, untouched


# Every phrasing of the camera list, alone, combined, misspelled and in Chinese; six
# one-second shots a job (the model's most), each job's length the sum of its shots.
PHRASINGS: list[tuple[str, str | None]] = [
    ("The camera pushes in on [@Little Scholar].", "push_in"),
    ("Zoom in on [@Little Scholar].", "push_in"),
    ("The camera pulls back over [@Tokyo Street].", "pull_back"),
    ("Zoom out from [@Tokyo Street].", "pull_back"),
    ("A wide reveal of [@Tokyo Street].", "pull_back"),
    ("The camera pans left across [@Tokyo Street].", "pan_left"),
    ("The camera pans right to [@Little Scholar].", "pan_right"),
    ("The camera tilts up from [@Little Scholar].", "tilt_up"),
    ("The camera tilts down to the floor.", "tilt_down"),
    ("The camera orbits [@Little Scholar].", "orbit"),
    ("Crane up over [@Tokyo Street].", "crane_up"),
    ("The camera cranes down to [@Little Scholar].", "crane_down"),
    ("The camera follows [@Little Scholar].", "follow"),
    ("Tracking shot of [@Little Scholar].", "follow"),
    ("The camera dollies in on [@Little Scholar].", "dolly_in"),
    ("Dolly out from [@Little Scholar].", "dolly_out"),
    ("Handheld: [@Little Scholar] runs.", "handheld"),
    ("Static shot of [@Tokyo Street].", "static"),
    ("The camera pans over [@Tokyo Street].", "pan_right"),  # no direction: chosen
    ("The camera pann left over [@Tokyo Street].", "pan_left"),  # misspelled: read as pan
    ("The camera swoops over [@Tokyo Street].", "static"),  # unknown: static, words kept
    ("Pan left, then push in on [@Little Scholar].", "pan_left"),  # combined: the first
    ("摇镜头，[@Tokyo Street]的夜景。", "pan_right"),
    ("镜头推进[@Little Scholar]。", "push_in"),
    ("镜头环绕[@Little Scholar]。", "orbit"),
    ("镜头拉远，[@Tokyo Street]全景。", "pull_back"),
    ("跟拍[@Little Scholar]。", "follow"),
    ("The camera tillts down to [@Little Scholar].", "tilt_down"),  # misspelled
    ("Tilt up, then pan right over [@Tokyo Street].", "tilt_up"),  # combined: the first
    ("[@Little Scholar] smiles at the camera.", None),  # no move said: the renderer's default
]
assert len(PHRASINGS) % 6 == 0  # six one-second shots a job


@pytest.mark.parametrize("batch", range(0, len(PHRASINGS), 6))
def test_every_camera_phrasing_renders_the_sum_of_its_shots(
    api,
    batch,
    django_capture_on_commit_callbacks,
) -> None:
    chosen = PHRASINGS[batch : batch + 6]
    prompt = " ".join(f"Shot {n} (1s): {words}" for n, (words, _) in enumerate(chosen, 1))
    preview = api(PREVIEW, {"input": {"model": "VIDEO_3_0_OMNI", "prompt": prompt}})
    preview = preview["generationPromptPreview"]
    assert preview["ok"], preview["issues"]
    assert [s["cameraMove"] for s in preview["shots"]] == [move for _, move in chosen]
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(api, prompt)
    job = watch(api, submitted)
    frames, _, length = decoded(download(api, job))
    assert job["outputs"][0]["durationMs"] == 1000 * len(chosen)
    assert abs(length - len(chosen)) <= 1 / FPS
    assert len(frames) == FPS * len(chosen)


PREVIEW_CAMERA = """
query ($input: GenerationPreviewInput!) {
  generationPromptPreview(input: $input) { ok shots { cameraMove camera cameraNote } }
}"""


def test_the_preview_says_which_way_a_pan_goes_and_what_it_read(api) -> None:
    prompt = (
        "Shot 1 (2s): The camera pans over [@Tokyo Street]. Shot 2 (2s): The camera swoops. "
        "Shot 3 (2s): The camera pann left."
    )
    preview = api(PREVIEW_CAMERA, {"input": {"model": "VIDEO_3_0_OMNI", "prompt": prompt}})
    shots = preview["generationPromptPreview"]["shots"]
    assert shots[0]["cameraMove"] == "pan_right"
    assert "pan right" in shots[0]["cameraNote"]
    assert shots[1] == {
        "cameraMove": "static",
        "camera": "The camera swoops",
        "cameraNote": "No camera move we know in “The camera swoops”: the camera holds still.",
    }
    assert shots[2] == {
        "cameraMove": "pan_left",
        "camera": "The camera pann left",
        "cameraNote": "Read “pann” as “pan”: pan left.",
    }


def test_a_worker_failure_that_is_our_bug_is_told_to_staff_not_to_the_user(
    api,
    user,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:
    def broken(self, *args, **kwargs):
        raise KeyError("shot_index")

    monkeypatch.setattr(local.LocalProvider, "_video", broken)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(api, "Shot 1 (3s): [@Little Scholar] waves.")
    job = watch(api, submitted)

    # the user: a generic message, refunded
    assert (job["status"], job["errorCode"], job["refunded"]) == ("FAILED", "INTERNAL_ERROR", True)
    row = GenerationJob.objects.get()
    assert row.status == JobStatus.FAILED
    assert "shot_index" not in row.error_message
    assert CreditLedgerEntry.objects.filter(refund_of=row.debit).count() == 1
    # staff: the exception's class and message on the job, on its admin page
    assert row.staff_error == "builtins.KeyError: 'shot_index'"
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    assert admin.login(username=staff.username, password=TEST_PASSWORD)
    page = admin.get(f"/admin/generation/generationjob/{row.pk}/change/")
    assert page.status_code == 200
    assert "builtins.KeyError: &#x27;shot_index&#x27;" in page.content.decode()
    # and never in the API
    schema = (REPO / "schema.graphql").read_text(encoding="utf-8")
    assert "staffError" not in schema and "staff_error" not in schema
