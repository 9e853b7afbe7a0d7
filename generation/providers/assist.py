"""AI multi-view completion as a job: the views come from the element's assist provider
(`elements.assists`), the job machinery (claim, progress, cancel, refund) from generation.

The worker reads the main image the job pinned when it was requested (the same stored
file), asks for as many views as the element has free slots now, and writes them to its
scratch folder; `generation.multiview.multiview_store` adds them to the element
(through `elements.assists.services.element_views_add`).
"""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import default_storage
from PIL import Image

from elements.assists.base import AssistError
from elements.assists.registry import get_assist_provider
from elements.models import MAX_IMAGES, ReferenceImage
from generation.error_codes import GenerationErrorCode
from generation.models import GenerationJob, JobElementImage
from generation.providers.base import Progress, Provider, ProviderError, RenderedOutput


class AssistMultiviewProvider(Provider):
    def __init__(self, assist_name: str) -> None:
        self.assist = get_assist_provider(assist_name)
        self.name = f"assist:{self.assist.name}"

    def run(self, job: GenerationJob, *, workdir: Path, progress: Progress) -> list[RenderedOutput]:
        pinned = (
            JobElementImage.objects.filter(job_element__job=job, position=0)
            .select_related("job_element")
            .first()
        )
        if pinned is None:
            raise ProviderError(GenerationErrorCode.NO_MAIN_IMAGE, "The element had no main image.")
        element_id = pinned.job_element.element_id
        count = ReferenceImage.objects.filter(element_id=element_id).count() if element_id else 0
        wanted = max(1, min(MAX_IMAGES - 1, MAX_IMAGES - count))
        progress(10)
        with default_storage.open(pinned.file, "rb") as f:
            image = Image.open(f)
            image.load()
        progress(30)
        try:
            views = self.assist.multiview(image, count=wanted)
        except AssistError as exc:
            raise ProviderError(exc.code, exc.message) from exc
        progress(80)
        outputs = []
        for number, view in enumerate(views, start=1):
            picture = view.image
            transparent = picture.mode in ("RGBA", "LA")
            path = workdir / f"view-{number}.{'png' if transparent else 'jpg'}"
            if transparent:
                picture.save(path, format="PNG")
            else:
                picture.convert("RGB").save(path, format="JPEG", quality=92)
            outputs.append(
                RenderedOutput(
                    kind="image",
                    path=path,
                    poster=path,
                    thumbnail=path,
                    width=picture.width,
                    height=picture.height,
                )
            )
        progress(90)
        return outputs
