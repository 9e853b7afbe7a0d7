"""The admin shows teams and their libraries in moderation: the team list with its counts and
links, a team's page with its members and invitations, and the element and voice lists'
library column and filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from elements.models import Element, Voice
from elements.teams import services
from elements.teams.models import Team, TeamMembership
from tests.conftest import media_files
from tests.factories import ElementFactory, UserFactory, VoiceFactory

pytestmark = pytest.mark.django_db

TEAMS = reverse("admin:elements_team_changelist")
ELEMENTS = reverse("admin:elements_element_changelist")
VOICES = reverse("admin:elements_voice_changelist")


@pytest.fixture
def library() -> dict[str, Any]:
    olga = UserFactory(username="olga")
    team = services.team_create(user=olga, name="Studio Nine", handle="studio-nine")
    ben = UserFactory(username="ben")
    TeamMembership.objects.create(team=team, user=ben, role="editor")
    services.team_invite(user=olga, team_id=team.pk, username=UserFactory().username, role="viewer")
    other = services.team_create(user=ben, name="Other", handle="other")
    return {
        "team": team,
        "other": other,
        "team_element": ElementFactory(owner=ben, team=team, name="Team hero"),
        "other_element": ElementFactory(owner=ben, team=other, name="Other hero"),
        "personal": ElementFactory(owner=olga, name="Own hero"),
        "team_voice": VoiceFactory(owner=olga, team=team, name="Team voice"),
        "personal_voice": VoiceFactory(owner=olga, name="Own voice"),
    }


def names(response: Any) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def test_team_list_counts_members_and_links_to_the_library(admin_client, library):
    team = library["team"]
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(TEAMS)
    assert response.status_code == 200
    rows = {t.handle: t for t in response.context["cl"].result_list}
    assert (rows["studio-nine"].member_count, rows["studio-nine"].pending_count) == (2, 1)
    assert (rows["studio-nine"].element_count, rows["studio-nine"].voice_count) == (1, 1)
    content = response.content.decode()
    assert f'href="{ELEMENTS}?library={team.pk}"' in content
    assert f'href="{VOICES}?library={team.pk}"' in content
    few = len(queries)
    for i in range(5):
        services.team_create(user=UserFactory(), name=f"More {i}", handle=f"more-{i}")
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(TEAMS)
    assert len(queries) == few


def test_team_page_shows_members_and_invitations(admin_client, library):
    team = library["team"]
    response = admin_client.get(reverse("admin:elements_team_change", args=[team.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "olga" in content and "ben" in content
    assert "Pending" in content
    response = admin_client.get(TEAMS, {"q": "ben"})
    assert {t.handle for t in response.context["cl"].result_list} == {"studio-nine", "other"}


def test_element_and_voice_lists_filter_by_library(admin_client, library):
    team = library["team"]
    response = admin_client.get(ELEMENTS)
    assert response.status_code == 200
    assert names(response) == {"Team hero", "Other hero", "Own hero"}
    assert "@studio-nine" in response.content.decode()
    assert names(admin_client.get(ELEMENTS, {"library": team.pk})) == {"Team hero"}
    assert names(admin_client.get(ELEMENTS, {"library": "personal"})) == {"Own hero"}
    assert names(admin_client.get(ELEMENTS, {"q": "other"})) == {"Other hero"}

    response = admin_client.get(VOICES, {"library": team.pk})
    assert response.status_code == 200
    assert names(response) == {"Team voice"}
    assert "Own voice" in names(admin_client.get(VOICES, {"library": "personal"}))
    response = admin_client.get(
        reverse("admin:elements_element_change", args=[library["team_element"].pk])
    )
    assert response.status_code == 200
    assert "@studio-nine" in response.content.decode()


def test_staff_deleting_a_team_removes_its_library_and_files(
    admin_client, library, django_capture_on_commit_callbacks
):
    team: Team = library["team"]
    files = {
        name
        for image in library["team_element"].images.all()
        for name in (image.image.name, image.thumbnail.name)
    }
    assert files <= media_files()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:elements_team_delete", args=[team.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Element.objects.filter(name="Team hero").exists()
    assert not Voice.objects.filter(name="Team voice").exists()
    assert not (files & media_files())
    assert Element.objects.filter(name="Own hero").exists()
