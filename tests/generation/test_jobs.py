"""Jobs end to end through the services and a worker running inline (Q_CLUSTER sync)."""

from __future__ import annotations

import av
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from accounts import services as account_services
from accounts.models import CreditLedgerEntry
from accounts.selectors import credit_balance
from elements import services as element_services
from generation import services, tasks
from generation.catalog import ModelCode
from generation.models import GenerationJob, GenerationOutput, JobStatus
from tests.conftest import media_files
from tests.factories import UserFactory
from tests.support.jobs import library_owner, submit
from tests.support.media import image_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(user):
    return library_owner(user)


def codes(exc: ValidationError) -> list[str]:
    return [e.code for errors in exc.error_dict.values() for e in errors]


def test_video_job_renders_and_charges(owner, django_capture_on_commit_callbacks, settings):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(owner, aspect_ratio="16:9")

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, (job.error_code, job.error_message)
    assert job.progress == 100
    assert job.duration == 5
    assert credit_balance(owner) == 500 - job.credits_charged
    output = GenerationOutput.objects.get(job=job)
    assert output.kind == "video"
    assert output.duration_ms == 5000
    assert output.has_audio
    with default_storage.open(output.file.name) as f, av.open(f) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1280, 720)
        assert container.streams.audio


def test_a_submitted_job_pins_its_elements(owner, django_capture_on_commit_callbacks):
    job = submit(owner)  # left queued: the callbacks are not run
    scholar = job.elements.get(name="Little Scholar")
    pinned_files = set(scholar.images.values_list("file", flat=True))
    element = scholar.element
    assert element is not None
    element_services.element_update(owner=owner, element_id=element.pk, name="Renamed")
    with django_capture_on_commit_callbacks(execute=True):
        element_services.element_delete(owner=owner, element_id=element.pk)

    scholar.refresh_from_db()
    assert (scholar.name, scholar.version, scholar.element) == ("Little Scholar", 1, None)
    assert pinned_files <= media_files()  # shared files still pinned are kept
    assert scholar.voice_file in media_files()


def test_a_submit_takes_a_constant_number_of_queries(owner, django_assert_num_queries):
    # The library and the price; in the transaction the job row, the pins' read (elements,
    # voices and images in one statement), the pins and their images (two INSERTs), the
    # debit (its UPDATE returns the balance) and its entry, the job's link to it and the
    # outbox check: 12 with the savepoint's two statements (14 before the second pass of
    # issue 18), whatever the number of elements or images. The enqueue runs on commit,
    # not in this test's transaction.
    with django_assert_num_queries(12):
        submit(owner)
    element_services.element_create(
        owner=owner,
        name="Third",
        element_type="prop",
        main_image=image_upload(),
        extra_images=[image_upload(color=(9, 9, 9)), image_upload(color=(90, 9, 9))],
    )
    with django_assert_num_queries(12):
        submit(owner, prompt="[@Little Scholar] walks into [@Tokyo Street] with [@Third].")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"prompt": "[@Nobody] waves"}, "UNKNOWN_MENTION"),
        ({"prompt": "x" * 2501}, "PROMPT_TOO_LONG"),
        ({"duration": 9}, "SHOT_DURATIONS_MISMATCH"),
        (
            {"model": ModelCode.VIDEO_O1, "prompt": "[@Little Scholar] waves", "duration": 15},
            "DURATION_NOT_OFFERED",
        ),
        ({"mode": "turbo"}, "INVALID_MODE"),
    ],
)
def test_bad_jobs_are_refused_with_nothing_moved(owner, kwargs, code):
    before = (GenerationJob.objects.count(), CreditLedgerEntry.objects.count(), media_files())
    with pytest.raises(ValidationError) as excinfo:
        submit(owner, **kwargs)
    assert code in codes(excinfo.value)
    assert (
        GenerationJob.objects.count(),
        CreditLedgerEntry.objects.count(),
        media_files(),
    ) == before


def test_another_users_element_looks_unknown(owner):
    stranger = UserFactory()
    account_services.credits_grant(user=stranger, amount=500, reason="x")
    with pytest.raises(ValidationError) as excinfo:
        submit(stranger)
    assert set(codes(excinfo.value)) == {"UNKNOWN_MENTION"}


def test_insufficient_credits_makes_no_job(user):
    owner = user
    element_services.element_create(
        owner=owner,
        name="Little Scholar",
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload()],
    )
    with pytest.raises(ValidationError) as excinfo:
        submit(owner, prompt="[@Little Scholar] waves", duration=5)
    assert codes(excinfo.value) == ["INSUFFICIENT_CREDITS"]
    assert not GenerationJob.objects.exists()


def test_cancel_refunds_once_and_others_cannot_cancel(owner):
    job = submit(owner)
    charged = job.credits_charged
    with pytest.raises(ValidationError) as excinfo:
        services.generation_cancel(owner=UserFactory(), job_id=job.pk)
    assert codes(excinfo.value) == ["NOT_FOUND"]

    services.generation_cancel(owner=owner, job_id=job.pk)
    with pytest.raises(ValidationError):
        services.generation_cancel(owner=owner, job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert credit_balance(owner) == 500
    assert tasks.run_job(str(job.pk)) == "skipped"
    assert charged > 0


def test_a_failing_render_fails_and_refunds_once(owner, monkeypatch):
    from generation.providers import local

    def broken(*args, **kwargs):
        raise local.render.RenderError("ffmpeg exploded")

    monkeypatch.setattr(local.render, "render_video", broken)
    job = submit(owner)
    assert tasks.run_job(str(job.pk)) == "failed"
    assert tasks.run_job(str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "RENDER_FAILED")
    assert credit_balance(owner) == 500


def test_a_database_lost_mid_render_queues_the_job_again_without_a_refund(owner, monkeypatch):
    # A PostgreSQL restart under a worker is not the job's failure: it runs again, charged once.
    from django.db import OperationalError

    from generation.providers import local

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    job = submit(owner)
    charged = job.credits_charged
    with monkeypatch.context() as patch:
        patch.setattr(local.render, "render_video", lost)
        assert tasks.run_job(str(job.pk)) == "requeued"
    job.refresh_from_db()
    # given back: a few outages in a row must not use up the job's attempts
    assert (job.status, job.attempts, job.error_code) == (JobStatus.QUEUED, 0, "")
    assert credit_balance(owner) == 500 - charged

    assert tasks.run_job(str(job.pk)) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert credit_balance(owner) == 500 - charged


def test_a_job_that_keeps_meeting_database_errors_spends_its_attempts(owner, monkeypatch, settings):
    # Past the grace (here none), the same error every time is not an outage: the job fails
    # at its last attempt, refunded, instead of running for ever.
    from django.db import OperationalError

    from generation.providers import local

    def lost(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    settings.GENERATION_OUTAGE_GRACE_SECONDS = 0
    monkeypatch.setattr(local.render, "render_video", lost)
    job = submit(owner)
    for _ in range(settings.GENERATION_MAX_ATTEMPTS):
        assert tasks.run_job(str(job.pk)) == "requeued"
    assert tasks.run_job(str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "WORKER_LOST")
    assert credit_balance(owner) == 500


def test_duplicate_delivery_of_a_running_job_does_nothing(owner):
    from django.utils import timezone

    job = submit(owner)
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    assert tasks.run_job(str(job.pk)) == "skipped"


def test_stale_job_is_taken_again_and_fails_after_its_attempts(owner, settings):
    import datetime

    from django.utils import timezone

    job = submit(owner)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=long_ago, attempts=settings.GENERATION_MAX_ATTEMPTS
    )
    assert tasks.sweep_stale_jobs() == {"stale": 1, "waiting": 0}
    job.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.FAILED, "WORKER_LOST")
    assert credit_balance(owner) == 500


def test_image_job(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(
            owner,
            model=ModelCode.IMAGE_3_0_OMNI,
            prompt="[@Little Scholar] reads in [@Tokyo Street] by [@Image1]",
            images=[image_upload(color=(200, 200, 10))],
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    output = job.outputs.get()
    assert output.kind == "image"
    assert job.inputs.count() == 1


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, bytes]:
    import subprocess

    import imageio_ffmpeg

    folder = tmp_path_factory.mktemp("videos")
    exe = imageio_ffmpeg.get_ffmpeg_exe()

    def make(name: str, size: str, seconds: int) -> bytes:
        out = folder / name
        subprocess.run(
            [
                exe,
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={size}:rate=24:duration={seconds}",
                "-pix_fmt",
                "yuv420p",
                str(out),
            ],
            check=True,
        )
        return out.read_bytes()

    return {
        "good": make("good.mp4", "1280x720", 4),
        "short": make("short.mp4", "1280x720", 2),
        "small": make("small.mp4", "640x360", 4),
    }


def video_upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("clip.mp4", data, content_type="video/mp4")


def test_job_with_an_input_video_renders(owner, videos, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = submit(
            owner,
            prompt="[@Little Scholar] dances like in [@Video]",
            duration=3,
            input_video=video_upload(videos["good"]),
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.inputs.get().kind == "video"
    assert job.outputs.get().duration_ms == 3000


@pytest.mark.parametrize(
    ("name", "code"), [("short", "VIDEO_TOO_SHORT"), ("small", "VIDEO_BAD_RESOLUTION")]
)
def test_bad_input_videos_are_refused(owner, videos, name, code):
    before = (GenerationJob.objects.count(), CreditLedgerEntry.objects.count(), media_files())
    with pytest.raises(ValidationError) as excinfo:
        submit(
            owner,
            prompt="[@Little Scholar] dances",
            duration=3,
            input_video=video_upload(videos[name]),
        )
    assert codes(excinfo.value) == [code]
    assert (
        GenerationJob.objects.count(),
        CreditLedgerEntry.objects.count(),
        media_files(),
    ) == before


def test_five_references_with_an_input_video_are_too_many(owner, videos):
    with pytest.raises(ValidationError) as excinfo:
        submit(
            owner,
            prompt="[@Little Scholar] [@Tokyo Street] [@Image1] [@Image2] [@Image3]",
            duration=3,
            images=[image_upload() for _ in range(3)],
            input_video=video_upload(videos["good"]),
        )
    assert "TOO_MANY_REFERENCES" in codes(excinfo.value)
    assert not GenerationJob.objects.exists()


def _many_elements(owner, count: int) -> list[str]:
    names = []
    for i in range(count):
        name = f"Prop {i}"
        element_services.element_create(
            owner=owner,
            name=name,
            element_type="prop",
            main_image=image_upload(color=(i * 20 % 255, 90, 90)),
            extra_images=[image_upload()],
        )
        names.append(name)
    return names


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("8 references on Video 3.0 Omni", "TOO_MANY_REFERENCES"),
        ("4 bound elements with a start frame", "TOO_MANY_BOUND_ELEMENTS"),
        ("an end frame without a start frame", "END_FRAME_WITHOUT_START_FRAME"),
        ("a 7th shot", "TOO_MANY_SHOTS"),
    ],
)
def test_more_bad_jobs_move_nothing(owner, case, code):
    props = _many_elements(owner, 6)
    mention = " ".join(f"[@{n}]" for n in props)
    kwargs: dict = {
        "8 references on Video 3.0 Omni": {
            "prompt": f"[@Little Scholar] [@Tokyo Street] {mention}",
            "duration": 5,
        },
        "4 bound elements with a start frame": {
            "model": ModelCode.VIDEO_3_0,
            "prompt": " ".join(f"[@{n}]" for n in props[:4]) + " spin",
            "duration": 5,
            "start_frame": image_upload(width=1280, height=720),
        },
        "an end frame without a start frame": {
            "model": ModelCode.VIDEO_3_0,
            "prompt": "a quiet street at dawn",
            "duration": 5,
            "end_frame": image_upload(width=1280, height=720),
        },
        "a 7th shot": {
            "prompt": " ".join(f"Shot {i} (1s): [@Little Scholar] waves." for i in range(1, 8)),
            "duration": 7,
        },
    }[case]
    before = (GenerationJob.objects.count(), CreditLedgerEntry.objects.count(), media_files())
    with pytest.raises(ValidationError) as excinfo:
        submit(owner, **kwargs)
    assert code in codes(excinfo.value), codes(excinfo.value)
    assert (
        GenerationJob.objects.count(),
        CreditLedgerEntry.objects.count(),
        media_files(),
    ) == before
