"""Compute the identity descriptors of reference images that have none (or whose engine
changed): images stored before the identity engine existed, or whose task was never enqueued
(a broker that was down). Safe to run again: described images are skipped."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from elements.identity.registry import get_identity_engine
from elements.identity.services import image_descriptors_compute, images_without_descriptors
from elements.tasks import enqueue_image_descriptors


class Command(BaseCommand):
    help = "Compute the identity descriptors of reference images that have none."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=0, help="At most this many (0: all).")
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand them to the workers instead of now."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engine = get_identity_engine()
        ids = list(images_without_descriptors(engine).order_by("id").values_list("id", flat=True))
        if options["limit"]:
            ids = ids[: options["limit"]]
        done = 0
        for image_id in ids:
            if options["enqueue"]:
                enqueue_image_descriptors(image_id)
                done += 1
            elif image_descriptors_compute(image_id, engine=engine):
                done += 1
        verb = "enqueued" if options["enqueue"] else "described"
        self.stdout.write(f"{done} of {len(ids)} image(s) {verb} ({engine.name}).")
