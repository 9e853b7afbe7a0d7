"""Team libraries in Chromium, two people in two browsers.

Ana creates the team "Studio Nine" (handle studio-nine) on /teams and invites Ben as a viewer;
Ben sees the invitation's badge in the nav and accepts it on his Teams page. Ana's element in
the team's library (made through the service: the wizard has its own tests) shows in Ben's
library once he switches to the team, without Edit or Delete and without its voice file, and
his `@` picker on /create offers it with its library. Ana removes Ben: his switcher no longer
lists the team, its library URL and its page are not found. Screenshots of each screen at
1400 and 390 px go to tests/web/screenshots/ (teams-*.png).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from elements import services as element_services
from elements.models import Element
from elements.teams.models import InvitationStatus, Team, TeamInvitation, TeamMembership
from elements.teams.policy import resolve_library
from tests.factories import UserFactory
from tests.support.elements import CONSENT
from tests.support.media import audio_upload, image_bytes, image_upload
from tests.web.conftest import SCREENSHOTS, WIDTHS
from tests.web.flows import log_in, preview, prompt_box

pytestmark = pytest.mark.django_db(transaction=True)

TEAM = "Studio Nine"
HANDLE = "studio-nine"


def shooter(page: Any) -> Callable[[str], None]:
    """Screenshots of `page` (either person's) at 1400 and 390 px, as the `shoot` fixture."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> None:
        original = page.viewport_size
        for label, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(250)
            page.screenshot(path=str(SCREENSHOTS / f"teams-{name}-{label}.png"), full_page=True)
        if original:
            page.set_viewport_size(original)

    return take


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(f"^{name}")
    ).click()


def choose_library(page: Any, label: str) -> None:
    page.get_by_role("combobox", name="Library").click()
    page.get_by_role("option", name=label, exact=True).click()


def library_options(page: Any) -> list[str]:
    page.get_by_role("combobox", name="Library").click()
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    names = listbox.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [n.strip() for n in names]


def test_a_team_library_from_invitation_to_removal(
    page: Any, second_page: Any, studio_url: str
) -> None:
    ana = UserFactory(username="ana")
    ben = UserFactory(username="ben")
    ben_page = second_page
    shoot_ana, shoot_ben = shooter(page), shooter(ben_page)

    # --- Ana creates the team ---------------------------------------------------------------
    log_in(page, studio_url, ana)
    nav(page, "Teams")
    page.get_by_role("heading", name="Teams", exact=True).wait_for()
    expect(page.get_by_text("You're not in a team yet")).to_be_visible()
    shoot_ana("1-empty")
    page.get_by_role("textbox", name="Team name").fill(TEAM)
    expect(page.get_by_role("textbox", name="Handle")).to_have_value(HANDLE)
    page.get_by_role("button", name="Create team").click()
    page.wait_for_url(re.compile(f"/teams/{HANDLE}"))
    expect(page.get_by_role("heading", name=TEAM, level=1)).to_be_visible()
    team = Team.objects.get(handle=HANDLE)
    assert team.name == TEAM
    assert TeamMembership.objects.get(team=team, user=ana).role == "owner"

    # --- and invites Ben as a viewer ------------------------------------------------------
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_role("textbox", name="Username").fill("ben")
    invite.get_by_role("combobox", name="Role").select_option("VIEWER")
    invite.get_by_role("button", name="Invite").click()
    expect(invite.get_by_text("ben is invited as viewer")).to_be_visible()
    pending = page.get_by_role("list", name="Pending invitations")
    expect(pending.get_by_role("listitem")).to_have_count(1)
    expect(pending).to_contain_text("ben")
    expect(pending).to_contain_text("Viewer")
    invitation = TeamInvitation.objects.get(team=team, invitee=ben)
    assert (invitation.role, invitation.status) == ("viewer", InvitationStatus.PENDING)
    shoot_ana("2-team-owner")

    # --- Ben, in his own browser, sees the badge and accepts -------------------------------
    log_in(ben_page, studio_url, ben)
    teams_link = ben_page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Teams")
    )
    expect(teams_link).to_contain_text("1")
    expect(teams_link.get_by_label("1 pending invitation")).to_be_visible()
    teams_link.click()
    offer = ben_page.get_by_role("listitem", name=f"Invitation to {TEAM}")
    expect(offer).to_contain_text("ana invited you")
    shoot_ben("3-invitation")
    offer.get_by_role("button", name=f"Accept the invitation to {TEAM}").click()
    ben_page.wait_for_url(re.compile(f"/teams/{HANDLE}"))
    expect(ben_page.get_by_text(f"You joined {TEAM} as viewer")).to_be_visible()
    members = ben_page.get_by_role("table", name="Members")
    expect(members.get_by_role("row")).to_have_count(3)  # the header, Ana and Ben
    # A viewer manages nothing: no role pickers, no Remove, no invite form.
    expect(members.get_by_role("combobox")).to_have_count(0)
    expect(members.get_by_role("button")).to_have_count(0)
    expect(ben_page.get_by_role("region", name="Invite someone")).to_have_count(0)
    expect(teams_link.get_by_label(re.compile("pending invitation"))).to_have_count(0)
    assert TeamMembership.objects.get(team=team, user=ben).role == "viewer"
    shoot_ben("4-team-viewer")

    # --- Ana's element in the team's library ----------------------------------------------
    element_services.element_create(
        owner=ana,
        name="Nova",
        element_type="character",
        main_image=image_upload(color=(200, 80, 40)),
        extra_images=[image_upload(color=(40, 80, 200))],
        voice_upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6), name="Nova's voice", consent_statement=CONSENT
        ),
        library=resolve_library(ana, HANDLE),
    )
    nova = Element.objects.get(name="Nova")
    assert nova.team_id == team.pk
    page.get_by_role("link", name="Open the team library").click()
    page.wait_for_url(re.compile(f"/library\\?library={HANDLE}$"))
    expect(page.get_by_role("combobox", name="Library")).to_have_value(f"{TEAM} (Owner)")
    expect(page.get_by_role("link", name="Nova, Character", exact=True)).to_be_visible()
    expect(page.get_by_label("Element quota")).to_have_text(re.compile(r"^1 of \d+ elements"))
    shoot_ana("5-library-owner")

    # --- Ben switches to the team's library: he sees it, with nothing to change -----------
    nav(ben_page, "Library")
    ben_page.get_by_role("heading", name="Your library is empty").wait_for()
    assert library_options(ben_page) == ["My library", f"{TEAM} (Viewer)"]
    choose_library(ben_page, f"{TEAM} (Viewer)")
    ben_page.wait_for_url(re.compile(f"/library\\?library={HANDLE}$"))
    card = ben_page.get_by_role("link", name="Nova, Character, view only")
    expect(card).to_be_visible()
    expect(card.get_by_label("Voice Nova's voice (your role can't play it)")).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("Play voice"))).to_have_count(0)
    expect(ben_page.get_by_role("link", name="Create element")).to_have_attribute(
        "data-disabled", "true"
    )
    expect(ben_page.get_by_role("alert", name="Your role")).to_contain_text(
        f"You are a viewer in {TEAM}"
    )
    expect(ben_page.get_by_role("button", name="Import")).to_be_disabled()
    expect(ben_page.get_by_role("button", name="Export")).to_be_enabled()
    # The choice is in the URL: a reload keeps it.
    ben_page.reload()
    expect(ben_page.get_by_role("combobox", name="Library")).to_have_value(f"{TEAM} (Viewer)")
    expect(card).to_be_visible()
    shoot_ben("6-library-viewer")

    card.click()
    ben_page.wait_for_url(re.compile("/elements/"))
    ben_page.get_by_role("heading", name="Nova", level=1).wait_for()
    expect(ben_page.get_by_label(f"Library: {TEAM}")).to_be_visible()
    expect(ben_page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(ben_page.get_by_role("alert", name="View only")).to_contain_text(
        "not change or delete it"
    )
    expect(ben_page.get_by_role("textbox", name="Name", exact=True)).to_be_disabled()
    expect(ben_page.get_by_role("button", name="Save changes")).to_be_disabled()
    expect(
        ben_page.get_by_role("button", name="Play voice Nova's voice (your role can't play it)")
    ).to_be_disabled()
    expect(ben_page.get_by_role("button", name="Replace")).to_have_count(0)
    shoot_ben("7-element-viewer")

    # --- Ben's @ picker offers it, with its library ---------------------------------------
    nav(ben_page, "Create")
    ben_page.get_by_role("heading", name="Create", exact=True).wait_for()
    prompt_box(ben_page).click()
    ben_page.keyboard.type("Shot 1 (3s): ")
    ben_page.keyboard.type("@Nov")
    listbox = ben_page.get_by_role("listbox", name="Elements")
    option = listbox.get_by_role("option", name=f"Nova ({TEAM})", exact=True)
    expect(option).to_be_visible()
    expect(option).to_contain_text(TEAM)
    shoot_ben("8-create-picker")
    ben_page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    # Nova is nowhere else Ben may look: the plain mention resolves to it.
    expect(prompt_box(ben_page)).to_have_value("Shot 1 (3s): [@Nova] ")

    # --- Ana removes Ben --------------------------------------------------------------------
    page.goto(f"{studio_url}/teams/{HANDLE}")
    page.get_by_role("button", name="Remove ben").click()
    dialog = page.get_by_role("dialog", name=f"Remove ben from {TEAM}?")
    expect(dialog).to_contain_text("They lose access to the team's library at once")
    shoot_ana("9-remove")
    dialog.get_by_role("button", name="Remove member").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("table", name="Members").get_by_role("row")).to_have_count(2)
    assert not TeamMembership.objects.filter(team=team, user=ben).exists()

    # --- Ben no longer has the team ---------------------------------------------------------
    ben_page.goto(f"{studio_url}/library")
    ben_page.get_by_role("heading", name="Your library is empty").wait_for()
    assert library_options(ben_page) == ["My library"]
    ben_page.goto(f"{studio_url}/library?library={HANDLE}")
    expect(ben_page.get_by_role("heading", name="This library isn't available")).to_be_visible()
    expect(ben_page.get_by_role("link", name=re.compile("^Nova"))).to_have_count(0)
    shoot_ben("10-library-gone")
    ben_page.goto(f"{studio_url}/teams/{HANDLE}")
    expect(ben_page.get_by_role("heading", name="No such team")).to_be_visible()
    shoot_ben("11-team-gone")
    nav(ben_page, "Teams")
    expect(ben_page.get_by_text("You're not in a team yet")).to_be_visible()
    # Nova stays with the team.
    assert Element.objects.filter(pk=nova.pk, team=team).exists()


def _join(owner: Any, member: Any, name: str, handle: str) -> Team:
    """A team of `owner` with `member` in it as an editor, through the services."""
    from elements.teams import services as team_services

    team = team_services.team_create(user=owner, name=name, handle=handle)
    invitation = team_services.team_invite(
        user=owner, team_id=team.pk, username=member.username, role="editor"
    )
    team_services.invitation_accept(user=member, invitation_id=invitation.pk)
    return team


def test_an_ambiguous_mention_is_fixed_with_one_click(page: Any, studio_url: str) -> None:
    """A name in two of Ben's teams (and not his own): the preview's AMBIGUOUS_MENTION offers
    each qualified form, and one click writes it into the prompt."""
    ana = UserFactory(username="ana")
    ben = UserFactory(username="ben")
    for name, handle in ((TEAM, HANDLE), ("Night Shift", "night-shift")):
        _join(ana, ben, name, handle)
        element_services.element_create(
            owner=ana,
            name="Hero",
            element_type="character",
            main_image=image_upload(),
            extra_images=[image_upload(color=(9, 9, 9))],
            library=resolve_library(ana, handle),
        )

    log_in(page, studio_url, ben)
    nav(page, "Create")
    page.get_by_role("heading", name="Create", exact=True).wait_for()
    prompt_box(page).click()
    page.keyboard.type("Shot 1 (3s): @Her")
    listbox = page.get_by_role("listbox", name="Elements")
    # Both are offered, each with its library and the qualified text to insert.
    expect(listbox.get_by_role("option", name=f"Hero ({TEAM})", exact=True)).to_be_visible()
    expect(listbox.get_by_role("option", name="Hero (Night Shift)", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    prompt_box(page).fill("Shot 1 (3s): [@Hero] waves at the camera.")
    issues = preview(page).get_by_role("list", name="Issues")
    expect(issues).to_contain_text("in more than one of your team libraries")
    fix = issues.get_by_role("button", name=f"Use [@Hero@{HANDLE}]")
    expect(fix).to_be_visible()
    expect(issues.get_by_role("button", name="Use [@Hero@night-shift]")).to_be_visible()
    shooter(page)("12-ambiguous")
    fix.click()
    expect(prompt_box(page)).to_have_value(f"Shot 1 (3s): [@Hero@{HANDLE}] waves at the camera.")
    expect(preview(page).get_by_text("in more than one")).to_have_count(0)


def test_a_team_element_is_bound_to_the_start_frame_beside_ones_own(
    page: Any, studio_url: str
) -> None:
    """Video 3.0's bound elements come from any library Ben may use: he binds his own element
    and one of the team's, switching libraries in between, and the preview counts both."""
    ana = UserFactory(username="ana")
    ben = UserFactory(username="ben")
    _join(ana, ben, TEAM, HANDLE)
    for owner, name, library in ((ana, "Hero", HANDLE), (ben, "Scout", None)):
        element_services.element_create(
            owner=owner,
            name=name,
            element_type="character",
            main_image=image_upload(),
            extra_images=[image_upload(color=(9, 9, 9))],
            library=resolve_library(owner, library) if library else None,
        )

    log_in(page, studio_url, ben)
    nav(page, "Create")
    page.get_by_role("heading", name="Create", exact=True).wait_for()
    page.get_by_label("Model").select_option("VIDEO_3_0")
    prompt_box(page).fill("They stand together in the morning light.")
    page.get_by_label("Start frame file").set_input_files(
        {"name": "start.jpg", "mimeType": "image/jpeg", "buffer": image_bytes(640, 360)}
    )
    frames = page.get_by_role("group", name="Start and end frame")
    bound = frames.get_by_role("combobox", name="Bound elements")
    bound.click()
    page.get_by_role("option", name="Scout", exact=True).click()
    page.keyboard.press("Escape")
    frames.get_by_role("combobox", name="Bind from library").click()
    page.get_by_role("option", name=f"{TEAM} (Editor)", exact=True).click()
    bound.click()
    # The team's list is shown; what is already bound stays bound (a chip, not an option).
    expect(page.get_by_role("option", name="Scout", exact=True)).to_have_count(0)
    page.get_by_role("option", name=f"Hero ({TEAM})", exact=True).click()
    page.keyboard.press("Escape")
    expect(frames.get_by_text("Scout", exact=True)).to_be_visible()
    elements = preview(page)
    expect(elements.get_by_text("Scout (bound)")).to_be_visible()
    expect(elements.get_by_text("Hero (bound)")).to_be_visible()
    expect(elements.get_by_text("Ready to generate.")).to_be_visible()
    shooter(page)("13-bound-from-a-team")
