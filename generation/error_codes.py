"""Stable error codes of generation (the prompt's own are `generation.prompts.PromptErrorCode`)."""

from enum import StrEnum


class GenerationErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_MODE = "INVALID_MODE"
    INVALID_ASPECT_RATIO = "INVALID_ASPECT_RATIO"
    PRICE_NOT_SET = "PRICE_NOT_SET"
    JOB_FINISHED = "JOB_FINISHED"
    JOB_NOT_RETRYABLE = "JOB_NOT_RETRYABLE"
    NOT_REFUNDED = "NOT_REFUNDED"
    # A retry's key (`idempotencyKey`) given with another input, or malformed.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
    # Failures a job ends with (`GenerationJob.error_code`).
    RENDER_FAILED = "RENDER_FAILED"
    # A multi-view job whose element had no main image to start from.
    NO_MAIN_IMAGE = "NO_MAIN_IMAGE"
    WORKER_LOST = "WORKER_LOST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    OUTPUT_NOT_FOUND = "OUTPUT_NOT_FOUND"
    FRAME_OUT_OF_RANGE = "FRAME_OUT_OF_RANGE"
    # The remote provider (Kling): refused at submit, or a job's end.
    PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"
    PROVIDER_LIMIT = "PROVIDER_LIMIT"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    PROVIDER_ACCOUNT_ERROR = "PROVIDER_ACCOUNT_ERROR"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    CONTENT_POLICY = "CONTENT_POLICY"
    ELEMENT_SYNC_FAILED = "ELEMENT_SYNC_FAILED"
