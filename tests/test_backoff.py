"""The shared back-off curve that Kling's client and the webhook outbox both follow."""

from __future__ import annotations

import pytest
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from elementsite.backoff import Backoff


def test_doubles_from_first_pause_up_to_the_cap():
    policy = Backoff(first=1, cap=60)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_other_factor_and_attempt_below_one():
    policy = Backoff(first=2, cap=30, factor=1.5)
    assert policy.delay(0) == policy.delay(1) == 2
    assert policy.delay(3) == pytest.approx(4.5)
    assert policy.delay(20) == 30


def test_tenacity_sleeps_the_same_pauses_as_delay():
    policy = Backoff(first=0.5, cap=3)
    slept: list[float] = []
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 5:
            raise ConnectionError("not yet")
        return "ok"

    retrying = Retrying(
        wait=policy.wait(),
        stop=stop_after_attempt(5),
        retry=retry_if_exception_type(ConnectionError),
        sleep=slept.append,
    )
    assert retrying(flaky) == "ok"
    assert slept == [policy.delay(n) for n in range(1, 5)] == [0.5, 1, 2, 3]
