"""The element page's image editing: reorder by keyboard, set main, replace, remove, add;
and a refused edit shown where it happened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from strawberry import relay

from elements import services
from elements.models import Element, ImageRole
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.media import image_upload
from tests.support.photos import photo_upload
from tests.web.media import write_media

pytestmark = pytest.mark.django_db(transaction=True)


def extras(element: Element) -> list[int]:
    return list(
        element.images.filter(role=ImageRole.EXTRA)
        .order_by("position")
        .values_list("pk", flat=True)
    )


def test_edit_images_by_keyboard_and_menus(page: Any, studio_url: str, tmp_path: Path, shoot: Any):
    media = write_media(tmp_path / "media")
    user = UserFactory()
    element = services.element_create(
        owner=user,
        name="Ada",
        element_type="character",
        main_image=photo_upload("astronaut"),
        extra_images=[image_upload(color=(200, 40, 40)), image_upload(color=(40, 200, 40))],
    ).element
    first, second = extras(element)
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile("/library"))
    page.goto(f"{studio_url}/elements/{relay.GlobalID('Element', str(element.pk))}")
    page.get_by_text("(3 of 4)").wait_for()

    # Keyboard reorder: focus the handle, Space to pick up, → to move, Space to drop.
    handle = page.get_by_role("button", name=re.compile("^Move extra image 1"))
    handle.focus()
    for key in ("Space", "ArrowRight", "Space"):
        page.keyboard.press(key)
        page.wait_for_timeout(300)  # dnd-kit measures and animates between keys
    expect(page.get_by_label(re.compile("^Version "))).to_have_accessible_name("Version 2")
    assert extras(element) == [second, first]

    # Set main from an image's menu.
    page.get_by_role("button", name="Actions for extra image 1").click()
    page.get_by_role("menuitem", name="Set as main").click()
    expect(page.get_by_label("Version 3")).to_be_visible()
    element.refresh_from_db()
    assert element.images.get(role=ImageRole.MAIN).pk == second

    # Replace with a file that isn't an image: the service's message, nothing changed.
    page.get_by_role("button", name="Actions for extra image 1").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("menuitem", name="Replace…").click()
    chooser.value.set_files(str(media["not-an-image.png"]))
    page.get_by_role("alert").filter(has_text=re.compile("image", re.I)).wait_for()
    shoot("element-page-error", widths=("desktop",))
    element.refresh_from_db()
    assert element.version == 3

    # Add a fourth image, then remove one.
    page.get_by_label("Add an image file").set_input_files(str(media["astronaut-close.jpg"]))
    page.get_by_text("(4 of 4)").wait_for()
    page.get_by_role("button", name="Actions for extra image 3").click()
    page.get_by_role("menuitem", name="Remove").click()
    page.get_by_text("(3 of 4)").wait_for()
    assert element.images.count() == 3


def test_over_the_limit_after_a_downgrade_editing_is_paused_with_the_reason(
    page: Any, studio_url: str
) -> None:
    from accounts.models import MembershipTier
    from accounts.selectors import user_entitlements

    user = UserFactory()
    made = [
        services.element_create(
            owner=user,
            name=name,
            element_type="prop",
            main_image=photo_upload("rocket"),
            extra_images=[image_upload()],
        ).element
        for name in ("One", "Two")
    ]
    tier = user_entitlements(user).tier
    MembershipTier.objects.filter(pk=tier.pk).update(element_limit=1)
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Element quota").filter(has_text="more than the 1").wait_for()
    expect(page.get_by_role("link", name="Create element")).to_have_attribute(
        "data-disabled", "true"
    )

    page.goto(f"{studio_url}/elements/{relay.GlobalID('Element', str(made[0].pk))}")
    page.get_by_role("alert").filter(has_text="Editing is paused").wait_for()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_be_disabled()
    expect(page.get_by_label("Add an image file")).to_have_count(0)
    # Deleting is still allowed: it is how the library gets back under the limit.
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete element").click()
    page.wait_for_url(re.compile(r"/library$"))
    assert Element.objects.filter(owner=user).count() == 1


def test_main_image_selected_from_history(page: Any, studio_url: str, shoot: Any) -> None:
    from accounts.services import credits_grant
    from generation.catalog import ModelCode
    from generation.models import GenerationOutput
    from generation.services import JobRequest, generation_submit

    user = UserFactory()
    credits_grant(user=user, amount=500, reason="top-up")
    # Submitted from this process, where tasks run inline: the job has its image now.
    generation_submit(
        owner=user,
        request=JobRequest(model=ModelCode.IMAGE_3_0_OMNI, prompt="A red apple on a table"),
    )
    output = GenerationOutput.objects.get(job__owner=user)
    page.goto(f"{studio_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))
    page.goto(f"{studio_url}/elements/new")
    page.get_by_role("button", name="Select from History").click()
    dialog = page.get_by_role("dialog", name="Your creation history")
    dialog.get_by_role("button", name=re.compile(r"^Use this image")).click()
    page.get_by_text(re.compile(r"^Looks like an? ")).wait_for()
    shoot("wizard-from-history", widths=("desktop",))
    page.get_by_role("button", name="Next").click()
    page.get_by_role("radio", name=re.compile("^Prop")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Extra images file").set_input_files(
        files=[{"name": "side.jpg", "mimeType": "image/jpeg", "buffer": _side_view()}]
    )
    page.get_by_role("button", name="Next").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Apple")
    page.get_by_role("button", name="Create element").click()
    page.get_by_text("Element created.").wait_for()
    element = Element.objects.get(owner=user, name="Apple")
    main = element.images.get(role=ImageRole.MAIN)
    assert main.origin == "history"
    assert (main.width, main.height) == (output.width, output.height)


def _side_view() -> bytes:
    return image_upload(color=(180, 30, 30)).read()
