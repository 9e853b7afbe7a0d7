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
    # Failures a job ends with (`GenerationJob.error_code`).
    RENDER_FAILED = "RENDER_FAILED"
    WORKER_LOST = "WORKER_LOST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    OUTPUT_NOT_FOUND = "OUTPUT_NOT_FOUND"
    FRAME_OUT_OF_RANGE = "FRAME_OUT_OF_RANGE"
