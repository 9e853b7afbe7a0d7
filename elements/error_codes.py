"""Stable error codes of the element library (media codes are in `elements.media.errors`)."""

from enum import StrEnum


class ElementErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    # A member of the team's library whose role does not allow this (a viewer editing); a
    # non-member is told NOT_FOUND, as for an unknown id.
    ROLE_FORBIDDEN = "ROLE_FORBIDDEN"
    # A type outside `ElementType` (the GraphQL enum stops it before; a service caller may not).
    INVALID_TYPE = "INVALID_TYPE"
    # An image given both as a file and as a still of the history, or as neither.
    IMAGE_SOURCE_CONFLICT = "IMAGE_SOURCE_CONFLICT"
    NAME_REQUIRED = "NAME_REQUIRED"
    NAME_TOO_LONG = "NAME_TOO_LONG"
    NAME_INVALID_CHARACTERS = "NAME_INVALID_CHARACTERS"
    NAME_TAKEN = "NAME_TAKEN"
    NAME_RESERVED = "NAME_RESERVED"
    DESCRIPTION_TOO_LONG = "DESCRIPTION_TOO_LONG"
    TOO_FEW_IMAGES = "TOO_FEW_IMAGES"
    TOO_MANY_IMAGES = "TOO_MANY_IMAGES"
    CANNOT_REMOVE_MAIN_IMAGE = "CANNOT_REMOVE_MAIN_IMAGE"
    INVALID_IMAGE_ORDER = "INVALID_IMAGE_ORDER"
    ELEMENT_LIMIT_REACHED = "ELEMENT_LIMIT_REACHED"
    OVER_ELEMENT_LIMIT = "OVER_ELEMENT_LIMIT"
    ELEMENT_BLOCKED = "ELEMENT_BLOCKED"
    ELEMENT_PROCESSING = "ELEMENT_PROCESSING"
    VOICE_NOT_ALLOWED = "VOICE_NOT_ALLOWED"
    VOICE_CHOICE_CONFLICT = "VOICE_CHOICE_CONFLICT"
    VOICE_TAKEN_DOWN = "VOICE_TAKEN_DOWN"
    VOICE_NAME_INVALID = "VOICE_NAME_INVALID"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    REASON_REQUIRED = "REASON_REQUIRED"
    # AI assists.
    ELEMENT_FULL = "ELEMENT_FULL"
    MULTIVIEW_IN_PROGRESS = "MULTIVIEW_IN_PROGRESS"
    # A multi-view job whose element was deleted before it finished.
    ELEMENT_GONE = "ELEMENT_GONE"
    # Video elements: the trim window at request time, then the processing job's verdicts.
    TRIM_TOO_SHORT = "TRIM_TOO_SHORT"
    TRIM_TOO_LONG = "TRIM_TOO_LONG"
    TRIM_OUTSIDE_VIDEO = "TRIM_OUTSIDE_VIDEO"
    ELEMENT_FAILED = "ELEMENT_FAILED"
    NO_FACE = "NO_FACE"
    MULTIPLE_PEOPLE = "MULTIPLE_PEOPLE"
    # One face a frame, but the keyframes' faces are different people (a cut in the window).
    KEYFRAMES_DIFFERENT_IDENTITY = "KEYFRAMES_DIFFERENT_IDENTITY"
    VIDEO_PROCESSING_FAILED = "VIDEO_PROCESSING_FAILED"
