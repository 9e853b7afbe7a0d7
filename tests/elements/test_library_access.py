"""Team libraries through the element services: every access asks the policy. An editor
creates in the team's library; a viewer is refused with ROLE_FORBIDDEN and nothing moves; a
non-member, or a member of another team, is told NOT_FOUND exactly as for an unknown id."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError

from elements import selectors, services
from elements.bundles.export import element_export_start
from elements.bundles.importer import element_import
from elements.models import Element, ElementExport, ReferenceImage, Voice
from elements.teams.models import Team, TeamMembership, TeamRole
from elements.teams.policy import Library, personal_library
from elements.teams.selectors import team_element_limit
from tests.factories import MembershipFactory, UserFactory, VoiceFactory, tier
from tests.support.elements import CONSENT, leaves_nothing_behind, refused
from tests.support.errors import error_codes
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db


def make_team(handle: str) -> Team:
    """A team with no members yet (`join` adds them)."""
    return Team.objects.create(name=handle.replace("-", " ").title(), handle=handle)


def join(team: Team, user, role: str) -> TeamMembership:
    return TeamMembership.objects.create(team=team, user=user, role=role)


@pytest.fixture
def studio():
    """Team "studio-nine": Olive owns it, Ed edits, Vi views; Sam is a stranger."""
    team = make_team("studio-nine")
    people = {
        "olive": UserFactory(username="olive"),
        "ed": UserFactory(username="ed"),
        "vi": UserFactory(username="vi"),
        "sam": UserFactory(username="sam"),
    }
    join(team, people["olive"], TeamRole.OWNER)
    join(team, people["ed"], TeamRole.EDITOR)
    join(team, people["vi"], TeamRole.VIEWER)
    return team, people


def make(owner, name="Hero", library=None, extras=1, **kwargs) -> Element:
    return services.element_create(
        owner=owner,
        name=name,
        element_type="character",
        main_image=image_upload(),
        extra_images=[image_upload(color=(10, 20 * i, 30)) for i in range(extras)],
        library=library,
        **kwargs,
    ).element


def sample(name="Team voice") -> services.VoiceUpload:
    return services.VoiceUpload(file=audio_upload(), name=name, consent_statement=CONSENT)


def test_an_editor_creates_in_the_team_library(studio):
    team, p = studio
    library = Library(team=team)

    element = make(p["ed"], library=library, voice_upload=sample())

    assert (element.team_id, element.owner_id) == (team.pk, p["ed"].pk)
    # A voice uploaded with it is the team's too.
    voice = element.voice
    assert voice is not None
    assert (voice.team_id, voice.owner_id) == (team.pk, p["ed"].pk)
    assert selectors.element_count(library=library) == 1
    # The personal library counts only team-less rows.
    assert selectors.element_count(owner=p["ed"]) == 0
    # Every member sees it; the owner (not its creator) may edit it.
    for who in ("olive", "ed", "vi"):
        assert list(selectors.element_list(owner=p[who], library=library)) == [element]
    services.element_update(owner=p["olive"], element_id=element.pk, description="By Olive")
    assert list(selectors.element_list(owner=p["sam"], library=library)) == []


def test_names_are_unique_per_library(studio):
    team, p = studio
    make(p["ed"], name="Hero")  # personal
    make(p["ed"], name="Hero", library=Library(team=team))  # the same name in the team: fine
    refused("NAME_TAKEN", make, p["olive"], name="hero", library=Library(team=team))
    other = make(p["ed"], name="Villain", library=Library(team=team))
    refused("NAME_TAKEN", services.element_update, owner=p["ed"], element_id=other.pk, name="HERO")
    # Olive's personal library has no Hero.
    make(p["olive"], name="Hero")


def _viewer_refusals(p, element, voice):
    vi = p["vi"]
    team_library = Library(team=element.team)
    image = element.images.filter(role="extra").order_by("position").first()
    return [
        (make, (vi,), {"name": "Nope", "library": team_library}),
        (services.element_update, (), {"owner": vi, "element_id": element.pk, "name": "x"}),
        (services.element_delete, (), {"owner": vi, "element_id": element.pk}),
        (
            services.element_image_add,
            (),
            {"owner": vi, "element_id": element.pk, "file": image_upload()},
        ),
        (
            services.element_image_replace,
            (),
            {"owner": vi, "element_id": element.pk, "image_id": image.pk, "file": image_upload()},
        ),
        (
            services.element_image_remove,
            (),
            {"owner": vi, "element_id": element.pk, "image_id": image.pk},
        ),
        (
            services.element_image_set_main,
            (),
            {"owner": vi, "element_id": element.pk, "image_id": image.pk},
        ),
        (
            services.element_image_reorder,
            (),
            {"owner": vi, "element_id": element.pk, "image_ids": [image.pk]},
        ),
        (
            services.voice_bind,
            (),
            {"owner": vi, "element_id": element.pk, "voice_id": voice.pk},
        ),
        (services.voice_unbind, (), {"owner": vi, "element_id": element.pk}),
        (services.voice_upload, (), {"owner": vi, "upload": sample(), "library": team_library}),
        (services.voice_delete, (), {"owner": vi, "voice_id": voice.pk}),
    ]


def test_a_viewer_is_refused_every_change_with_role_forbidden_and_nothing_moves(studio):
    team, p = studio
    element = make(p["ed"], library=Library(team=team), extras=2)
    voice = services.voice_upload(owner=p["ed"], upload=sample(), library=Library(team=team)).voice

    for call, args, kwargs in _viewer_refusals(p, element, voice):
        refused("ROLE_FORBIDDEN", call, *args, **kwargs)

    element.refresh_from_db()
    assert (element.name, element.version, element.voice_id) == ("Hero", 1, None)
    assert element.images.count() == 3
    assert Voice.objects.filter(pk=voice.pk).exists()
    # The viewer sees and uses it all the same.
    assert selectors.element_get(owner=p["vi"], element_id=element.pk) == element


def test_a_stranger_and_another_teams_member_get_not_found_everywhere(studio):
    team, p = studio
    other_team = make_team("other-team")
    bea = UserFactory(username="bea")
    join(other_team, bea, TeamRole.OWNER)
    element = make(p["ed"], library=Library(team=team), extras=2)
    voice = services.voice_upload(owner=p["ed"], upload=sample(), library=Library(team=team)).voice
    beas = make(bea, name="Bea's", library=Library(team=other_team))
    for outsider in (p["sam"], bea):
        swapped = {**p, "vi": outsider}
        for call, args, kwargs in _viewer_refusals(swapped, element, voice):
            if call is services.voice_bind:
                continue  # below, with an element of the outsider's own
            with leaves_nothing_behind(), pytest.raises(ValidationError) as refusal:
                call(*args, **kwargs)
            assert error_codes(refusal.value) == ["NOT_FOUND"], call
        assert selectors.element_get(owner=outsider, element_id=element.pk) is None
        assert list(selectors.element_list(owner=outsider, library=Library(team=team))) == []
        assert list(selectors.voice_list(owner=outsider, library=Library(team=team))) == []
    # Bea binding team one's voice to her team's element: NOT_FOUND, not "another library".
    refused("NOT_FOUND", services.voice_bind, owner=bea, element_id=beas.pk, voice_id=voice.pk)
    # And Ed using Bea's team's element id.
    refused("NOT_FOUND", services.element_update, owner=p["ed"], element_id=beas.pk, name="x")
    element.refresh_from_db()
    assert element.version == 1


def test_a_voice_binds_only_within_its_library_or_a_preset(studio):
    team, p = studio
    ed = p["ed"]
    team_element = make(ed, library=Library(team=team))
    personal_voice = services.voice_upload(owner=ed, upload=sample("Mine")).voice
    team_voice = services.voice_upload(owner=ed, upload=sample(), library=Library(team=team)).voice
    preset = VoiceFactory(preset=True, name="Preset")

    # A personal voice on a team element would hand its audio to the team.
    refused(
        "VOICE_NOT_ALLOWED",
        services.voice_bind,
        owner=ed,
        element_id=team_element.pk,
        voice_id=personal_voice.pk,
    )
    refused(
        "VOICE_NOT_ALLOWED",
        make,
        ed,
        name="Other",
        library=Library(team=team),
        voice_id=personal_voice.pk,
    )
    # And the team's voice on a personal element.
    mine = make(ed, name="Mine")
    refused(
        "VOICE_NOT_ALLOWED",
        services.voice_bind,
        owner=ed,
        element_id=mine.pk,
        voice_id=team_voice.pk,
    )
    services.voice_bind(owner=ed, element_id=team_element.pk, voice_id=team_voice.pk)
    services.voice_bind(owner=ed, element_id=team_element.pk, voice_id=preset.pk)
    # A viewer lists the team's voices (and presets) to pick from.
    names = {v.name for v in selectors.voice_list(owner=p["vi"], library=Library(team=team))}
    assert names == {"Team voice", "Preset"}


def test_a_member_who_left_loses_access_at_once(studio):
    team, p = studio
    element = make(p["ed"], library=Library(team=team))
    TeamMembership.objects.filter(team=team, user=p["ed"]).delete()
    # Its creator, gone from the team, is a stranger to it now.
    refused("NOT_FOUND", services.element_update, owner=p["ed"], element_id=element.pk, name="x")
    refused("NOT_FOUND", services.element_delete, owner=p["ed"], element_id=element.pk)
    assert selectors.element_get(owner=p["ed"], element_id=element.pk) is None
    # The team keeps it.
    services.element_update(owner=p["olive"], element_id=element.pk, name="Kept")


def _set_limit(code: str, limit: int) -> None:
    row = tier(code)
    row.element_limit = limit
    row.save()


def test_the_team_limit_is_the_best_owners_tier_with_over_limit_rules(studio):
    team, p = studio
    _set_limit("non_member", 1)
    _set_limit("standard", 2)
    _set_limit("pro", 3)
    MembershipFactory(user=p["olive"], tier=tier("standard"))
    # Ed (an editor) pays for pro: an editor's tier does not count.
    MembershipFactory(user=p["ed"], tier=tier("pro"))
    assert team_element_limit(team) == 2
    second_owner = UserFactory()
    MembershipFactory(user=second_owner, tier=tier("pro"))
    join(team, second_owner, TeamRole.OWNER)
    assert team_element_limit(team) == 3

    library = Library(team=team)
    first = make(p["ed"], name="One", library=library)
    make(p["ed"], name="Two", library=library)
    make(p["olive"], name="Three", library=library)
    refused("ELEMENT_LIMIT_REACHED", make, p["ed"], name="Four", library=library)
    # Ed's own library is not touched by the team's rows: he may still create there.
    make(p["ed"], name="Personal")

    # The better owner leaves: 3 elements over a limit of 2. Edit refused, use/delete fine.
    TeamMembership.objects.filter(team=team, user=second_owner).delete()
    refused(
        "OVER_ELEMENT_LIMIT", services.element_update, owner=p["ed"], element_id=first.pk, name="x"
    )
    services.element_delete(owner=p["ed"], element_id=first.pk)
    assert selectors.element_count(library=library) == 2


def test_the_personal_limit_counts_only_team_less_rows(studio):
    team, p = studio
    _set_limit("non_member", 1)
    MembershipFactory(user=p["olive"], tier=tier("pro"))
    # Ed (no membership: a limit of 1) makes two of the team's elements (Olive's tier).
    make(p["ed"], name="Team one", library=Library(team=team))
    make(p["ed"], name="Team two", library=Library(team=team))
    # Ed's own library is empty: the one element his tier allows is still free.
    make(p["ed"], name="Own")
    refused("ELEMENT_LIMIT_REACHED", make, p["ed"], name="Own 2")


def _manifest(export: ElementExport) -> dict:
    with export.file.open("rb") as f, zipfile.ZipFile(io.BytesIO(f.read())) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
    manifest["_files"] = names
    return manifest


def test_a_viewer_exports_without_voice_files_an_editor_with(studio):
    team, p = studio
    library = Library(team=team)
    make(p["ed"], library=library, voice_upload=sample())

    by_viewer = element_export_start(owner=p["vi"], all_elements=True, library=library)
    by_editor = element_export_start(owner=p["ed"], all_elements=True, library=library)

    assert by_viewer.include_voice_files is False
    viewer_manifest = _manifest(by_viewer)
    assert viewer_manifest["includesVoiceFiles"] is False
    assert not any(n.startswith("voices/") for n in viewer_manifest["_files"])
    assert _manifest(by_editor)["includesVoiceFiles"] is True
    # By ids as well (no library named): the element's library decides.
    element = Element.objects.get(team=team)
    by_ids = element_export_start(owner=p["vi"], element_ids=[element.pk])
    assert by_ids.include_voice_files is False
    # A stranger: NOT_FOUND, nothing recorded.
    exports = ElementExport.objects.count()
    refused("NOT_FOUND", element_export_start, owner=p["sam"], all_elements=True, library=library)
    refused("NOT_FOUND", element_export_start, owner=p["sam"], element_ids=[element.pk])
    assert ElementExport.objects.count() == exports


def test_import_into_a_team_library_needs_edit(studio):
    team, p = studio
    make(p["ed"], name="Exported")
    export = element_export_start(owner=p["ed"], all_elements=True)
    data = export.file.open("rb").read()
    library = Library(team=team)

    refused(
        "ROLE_FORBIDDEN", element_import, owner=p["vi"], bundle=io.BytesIO(data), library=library
    )
    refused("NOT_FOUND", element_import, owner=p["sam"], bundle=io.BytesIO(data), library=library)
    report = element_import(owner=p["ed"], bundle=io.BytesIO(data), library=library)
    (row,) = report.rows
    assert row.element is not None
    assert (row.element.team_id, row.element.owner_id) == (team.pk, p["ed"].pk)
    assert ReferenceImage.objects.filter(element=row.element).count() == 2
    # Personal library untouched by it, and names per library: importing again skips.
    assert selectors.element_count(owner=p["ed"]) == 1
    again = element_import(owner=p["olive"], bundle=io.BytesIO(data), library=library)
    assert again.rows[0].outcome == "skipped"


def test_personal_library_is_the_default(user):
    element = make(user)
    assert element.team_id is None
    assert personal_library(user).owns(element)


def test_the_bundle_commands_take_a_library(studio, tmp_path):
    from django.core.management import CommandError, call_command

    team, p = studio
    make(p["ed"], library=Library(team=team), voice_upload=sample())
    path = tmp_path / "team.zip"
    out = io.StringIO()
    call_command(
        "elements_export",
        user="vi",
        library="studio-nine",
        all=True,
        output=str(path),
        stdout=out,
        stderr=io.StringIO(),
    )
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert manifest["includesVoiceFiles"] is False  # a viewer's export
    assert [e["name"] for e in manifest["elements"]] == ["Hero"]
    with pytest.raises(CommandError, match="No library"):
        call_command(
            "elements_export", user="sam", library="studio-nine", all=True, output=str(path)
        )
    with leaves_nothing_behind(), pytest.raises(CommandError, match="ROLE_FORBIDDEN"):
        call_command(
            "elements_import", str(path), user="vi", library="studio-nine", stderr=io.StringIO()
        )
    call_command(
        "elements_import",
        str(path),
        user="olive",
        library="me",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Element.objects.get(owner=p["olive"], team=None).name == "Hero"
