"""Staff screens for teams: each team with its members, invitations and library, and the
library column and filter the element and voice lists share (`elements.admin`).

Staff look, they don't manage: members and roles change through the team's own owners and
admins (`elements.teams.services`), so the team's page is read-only. Deleting a team here
goes through `team_delete`'s file handling (files a job pins are kept)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from elements.teams.models import Team, TeamInvitation, TeamMembership
from elementsite.admin_readonly import ReadOnlyPartInline

PERSONAL = "personal"


class LibraryFilter(admin.SimpleListFilter):
    """Personal libraries, or one team's library (teams that have rows in this list)."""

    title = "library"
    parameter_name = "library"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        used = model_admin.model._default_manager.filter(team__isnull=False).values("team_id")
        teams = Team.objects.filter(pk__in=used).order_by("name", "id")
        return [(PERSONAL, "Personal libraries"), *((str(t.pk), str(t)) for t in teams)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value == PERSONAL:
            return queryset.filter(team__isnull=True)
        return queryset.filter(team_id=value) if value.isdigit() else queryset.none()


# In a list, a handle is cut to this many characters (whole in its tooltip), so the element
# and voice lists keep fitting 1400 px with a 30-character handle (tests/test_admin_width.py).
LIST_HANDLE_MAX = 10


def library_link(obj: Any, *, limit: int | None = None) -> SafeString | str:
    """The row's library: the team's handle linked to its page, or "personal"; a handle
    longer than `limit` is cut, whole in its tooltip."""
    if obj.team_id is None:
        return PERSONAL
    url = reverse("admin:elements_team_change", args=[obj.team_id])
    handle = f"@{obj.team.handle}"
    shown = handle if limit is None or len(handle) <= limit else handle[: limit - 1] + "…"
    return format_html('<a href="{}" title="{}">{}</a>', url, str(obj.team), shown)


class TeamMembershipInline(ReadOnlyPartInline):
    model = TeamMembership
    fields = ("user", "role", "created_at", "updated_at")
    readonly_fields = fields
    ordering = ("created_at", "id")


class TeamInvitationInline(ReadOnlyPartInline):
    model = TeamInvitation
    fk_name = "team"
    fields = ("invitee", "role", "status", "invited_by", "created_at", "responded_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")


def _count(model: Any) -> Any:
    # A correlated count per team: two Count() joins on one query would multiply each other.
    rows = model.objects.filter(team_id=OuterRef("pk")).order_by().values("team_id")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "handle", "members", "pending", "elements", "voices", "created_at")
    search_fields = ("name", "handle", "memberships__user__username")
    ordering = ("name", "id")
    fields = ("name", "handle", "created_by", "created_at", "members", "elements", "voices")
    readonly_fields = fields
    inlines = (TeamMembershipInline, TeamInvitationInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        from elements.models import Element, Voice

        pending = TeamInvitation.objects.filter(status="pending")
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(
                member_count=_count(TeamMembership),
                pending_count=Coalesce(
                    Subquery(
                        pending.filter(team_id=OuterRef("pk"))
                        .order_by()
                        .values("team_id")
                        .annotate(n=Count("pk"))
                        .values("n")
                    ),
                    0,
                ),
                element_count=_count(Element),
                voice_count=_count(Voice),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        from elements.teams.services import team_purge

        team_purge(team=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        from elements.teams.services import team_purge

        for team in queryset:
            team_purge(team=team)

    @admin.display(description="members", ordering="member_count")
    def members(self, obj: Team) -> int:
        return int(getattr(obj, "member_count", 0))

    @admin.display(description="pending invitations", ordering="pending_count")
    def pending(self, obj: Team) -> int:
        return int(getattr(obj, "pending_count", 0))

    @admin.display(description="elements", ordering="element_count")
    def elements(self, obj: Team) -> SafeString:
        url = reverse("admin:elements_element_changelist")
        return format_html(
            '<a href="{}?library={}">{}</a>', url, obj.pk, getattr(obj, "element_count", 0)
        )

    @admin.display(description="voices", ordering="voice_count")
    def voices(self, obj: Team) -> SafeString:
        url = reverse("admin:elements_voice_changelist")
        return format_html(
            '<a href="{}?library={}">{}</a>', url, obj.pk, getattr(obj, "voice_count", 0)
        )
