"""Stable codes of likeness protection: the claim check's verdicts and the console's refusals."""

from enum import StrEnum


class LikenessErrorCode(StrEnum):
    # The claim request.
    CHALLENGE_EXPIRED = "CHALLENGE_EXPIRED"
    LIKENESS_EXISTS = "LIKENESS_EXISTS"
    # The check of the selfie video (the likeness ends FAILED with one of these, or REVIEW).
    LIKENESS_DURATION = "LIKENESS_DURATION"
    LIKENESS_NO_SPEECH = "LIKENESS_NO_SPEECH"
    LIKENESS_PHRASE_MISMATCH = "LIKENESS_PHRASE_MISMATCH"
    LIKENESS_MULTIPLE_FACES = "LIKENESS_MULTIPLE_FACES"
    LIKENESS_NO_FACE = "LIKENESS_NO_FACE"
    LIKENESS_STILL_IMAGE = "LIKENESS_STILL_IMAGE"
    LIKENESS_ALREADY_CLAIMED = "LIKENESS_ALREADY_CLAIMED"
    LIKENESS_CHECK_FAILED = "LIKENESS_CHECK_FAILED"
    # The console.
    NO_LIKENESS = "NO_LIKENESS"
    MATCH_NOT_HELD = "MATCH_NOT_HELD"
