"""A video element processed by a real django-q2 cluster (`manage.py qcluster` in its own
process, the configured broker, this run's test database and media folder); every other
test runs the job inline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.brokers import Broker
from django_q.tasks import async_task, fetch

from elements import video_elements
from elements.models import Element, ImageOrigin, VoiceSource
from tests.factories import UserFactory
from tests.support import clusters, videos

RESULT_TIMEOUT = 120.0


@pytest.mark.django_db(transaction=True)
def test_a_cluster_worker_makes_the_element_ready(
    cluster_name: str, broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the element, committed, its job not yet run (it goes through the broker below)
    enqueued: list[Any] = []
    monkeypatch.setattr(video_elements, "_enqueue", enqueued.append)
    element = video_elements.video_element_create(
        owner=UserFactory(),
        name="Astronaut",
        video=SimpleUploadedFile("clip.mp4", videos.astronaut_clip()),
        trim_start=0.0,
        trim_end=4.0,
        consent_statement="I am the person in this clip and I agree.",
    ).element
    assert enqueued == [element.pk]
    log_path = tmp_path / "qcluster.log"

    with log_path.open("wb") as log:
        process = clusters.start(clusters.cluster_env(cluster_name), log)
        try:
            # when
            task_id = async_task(
                "elements.tasks.process_video_element",
                element.pk,
                sync=False,
                broker=broker,
                save=True,
            )
            deadline = time.monotonic() + RESULT_TIMEOUT
            task = None
            while time.monotonic() < deadline:
                task = fetch(task_id)
                if task is not None or process.poll() is not None:
                    break
                time.sleep(0.25)
        finally:
            clusters.stop(process)

    output = log_path.read_text(errors="replace")
    assert task is not None, f"no result within {RESULT_TIMEOUT:.0f} s:\n{output}"
    assert task.success, f"{task.result}\n{output}"
    # then: the worker's writes are there
    element = Element.objects.get(pk=element.pk)
    assert (element.status, element.progress, element.processing_attempts) == ("active", 100, 1)
    assert {i.origin for i in element.images.all()} == {ImageOrigin.VIDEO_FRAME}
    assert element.images.count() == 4
    assert element.voice is not None and element.voice.source == VoiceSource.VIDEO
