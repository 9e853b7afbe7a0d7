"""django-q2 tasks of the element library."""

from __future__ import annotations

from django_q.tasks import async_task


def enqueue_video_element(element_id: int) -> None:
    """Hand a new video element to the workers (after the transaction that created it)."""
    async_task(
        "elements.tasks.process_video_element",
        int(element_id),
        task_name=f"video-element-{element_id}",
    )


def process_video_element(element_id: int) -> None:
    """Trim, analyse and finish a video element; a duplicate delivery does nothing."""
    from elements.video_elements import video_element_process

    video_element_process(element_id=int(element_id))


def sweep_stale_video_elements() -> int:
    """Scheduled every minute: re-enqueue video elements whose job was lost."""
    from elements.video_elements import sweep_stale_video_elements as sweep

    return sweep()


def enqueue_image_descriptors(image_id: int) -> None:
    """Hand a new reference image to the workers for its identity descriptors (after the
    transaction that stored it)."""
    async_task(
        "elements.tasks.compute_image_descriptors",
        int(image_id),
        task_name=f"image-descriptors-{image_id}",
    )


def compute_image_descriptors(image_id: int) -> bool:
    """Compute one image's face and appearance descriptors; a duplicate delivery, or an
    image deleted meanwhile, does nothing."""
    from elements.identity.services import image_descriptors_compute
    from elements.likeness.services import element_likeness_check
    from elements.models import ReferenceImage

    computed = image_descriptors_compute(int(image_id))
    # Then the element's faces against the claimed likenesses (held if one matches).
    element_id = (
        ReferenceImage.objects.filter(pk=image_id).values_list("element_id", flat=True).first()
    )
    if element_id is not None:
        element_likeness_check(element_id)
    return computed


def enqueue_likeness_check(likeness_id: int) -> None:
    """Hand a likeness claim's selfie video to the workers (after its transaction)."""
    async_task(
        "elements.tasks.check_likeness",
        int(likeness_id),
        task_name=f"likeness-{likeness_id}",
    )


def check_likeness(likeness_id: int) -> None:
    """Check a likeness claim's selfie video, then delete it; a duplicate does nothing."""
    from elements.likeness.services import likeness_check

    likeness_check(int(likeness_id))


def enqueue_element_export(export_id: int) -> None:
    """Hand an element export to the workers (after the transaction that recorded it)."""
    async_task(
        "elements.tasks.process_element_export",
        int(export_id),
        task_name=f"element-export-{export_id}",
    )


def process_element_export(export_id: int) -> None:
    """Write an export's bundle; a duplicate delivery, or a finished export, does nothing."""
    from elements.bundles.export import element_export_process

    element_export_process(int(export_id))


def sweep_element_exports() -> dict[str, int]:
    """Scheduled every 5 minutes: delete expired bundles, re-enqueue exports whose job was
    lost (a Redis broker loses a killed worker's task)."""
    from elements.bundles.export import element_purge_expired_exports, stale_exports

    requeued = 0
    for export_id in stale_exports():
        enqueue_element_export(export_id)
        requeued += 1
    return {"purged": element_purge_expired_exports(), "requeued": requeued}
