"""40 parallel creates at the tier limit end exactly at the limit, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from elements import services
from elements.models import Element, ReferenceImage
from tests.factories import UserFactory
from tests.support.concurrency import run_in_parallel
from tests.support.media import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_creates_stop_exactly_at_the_limit():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import MembershipTier

    MembershipTier.objects.filter(code="non_member").update(element_limit=5)
    user = UserFactory()
    for i in range(3):
        Element.objects.create(owner=user, name=f"existing {i}")
    main, extra = image_bytes(), image_bytes(color=(1, 2, 3))

    def create(i: int) -> object:
        return services.element_create(
            owner=user,
            name=f"parallel {i}",
            element_type="prop",
            main_image=SimpleUploadedFile("a.jpg", main),
            extra_images=[SimpleUploadedFile("b.jpg", extra)],
        )

    results = run_in_parallel(create)

    created = [r for r in results if isinstance(r, services.ElementResult)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    others = [r for r in results if r not in created and r not in refused]
    assert others == []
    assert len(created) == 2
    assert {e.code for r in refused for e in r.error_list} == {"ELEMENT_LIMIT_REACHED"}
    assert Element.objects.filter(owner=user).count() == 5
    assert ReferenceImage.objects.filter(element__owner=user).count() == 4


def test_parallel_creates_by_different_members_stop_exactly_at_the_team_limit():
    """Each member's own row can't serialise a team's creates: the team's row does."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import MembershipTier
    from elements.teams.models import Team, TeamMembership, TeamRole
    from elements.teams.policy import Library

    MembershipTier.objects.filter(code="non_member").update(element_limit=5)
    team = Team.objects.create(name="Crew", handle="crew")
    owner = UserFactory()
    TeamMembership.objects.create(team=team, user=owner, role=TeamRole.OWNER)
    editors = [UserFactory() for _ in range(4)]
    for editor in editors:
        TeamMembership.objects.create(team=team, user=editor, role=TeamRole.EDITOR)
    for i in range(3):
        Element.objects.create(owner=owner, team=team, name=f"existing {i}")
    main, extra = image_bytes(), image_bytes(color=(1, 2, 3))

    def create(i: int) -> object:
        return services.element_create(
            owner=editors[i % len(editors)],
            name=f"parallel {i}",
            element_type="prop",
            main_image=SimpleUploadedFile("a.jpg", main),
            extra_images=[SimpleUploadedFile("b.jpg", extra)],
            library=Library(team=team),
        )

    results = run_in_parallel(create)

    created = [r for r in results if isinstance(r, services.ElementResult)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert [r for r in results if r not in created and r not in refused] == []
    assert len(created) == 2
    assert {e.code for r in refused for e in r.error_list} == {"ELEMENT_LIMIT_REACHED"}
    assert Element.objects.filter(team=team).count() == 5
