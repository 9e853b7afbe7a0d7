"""Stable codes of team management: what a team mutation's `OperationInfo` carries."""

from enum import StrEnum


class TeamErrorCode(StrEnum):
    # Lookups: a team, membership or invitation the caller may not see is reported exactly
    # as one that does not exist.
    NOT_FOUND = "NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    # The caller is a member but their role does not allow the action.
    ROLE_FORBIDDEN = "ROLE_FORBIDDEN"
    # Membership and invitations.
    ALREADY_MEMBER = "ALREADY_MEMBER"
    INVITATION_PENDING = "INVITATION_PENDING"
    INVITATION_NOT_PENDING = "INVITATION_NOT_PENDING"
    CANNOT_INVITE_SELF = "CANNOT_INVITE_SELF"
    LAST_OWNER = "LAST_OWNER"
    # The team's name and handle.
    NAME_REQUIRED = "NAME_REQUIRED"
    NAME_TOO_LONG = "NAME_TOO_LONG"
    HANDLE_TAKEN = "HANDLE_TAKEN"
    HANDLE_INVALID = "HANDLE_INVALID"
    HANDLE_RESERVED = "HANDLE_RESERVED"
    ROLE_INVALID = "ROLE_INVALID"
    # Caps (elements.teams.services.MAX_TEAM_SEATS, MAX_TEAMS_PER_USER).
    TEAM_FULL = "TEAM_FULL"
    TOO_MANY_TEAMS = "TOO_MANY_TEAMS"
