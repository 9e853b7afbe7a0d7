"""The one retry/back-off policy for every remote call we make (Kling, webhooks).

Each caller names its own numbers (first pause, factor, cap) from settings; the formula is
tenacity's `wait_exponential`: pause *n* is ``first * factor ** (n - 1)``, never above ``cap``.
A caller that retries in-process (Kling's client) passes `policy(...)` to `tenacity.Retrying`;
a caller that retries later from the outbox (webhooks) asks `delay(...)` for the pause after its
*n*-th failed attempt, so both follow the same curve.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, wait_exponential


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: `first` seconds, times `factor` each attempt, capped at `cap`."""

    first: float
    cap: float
    factor: float = 2.0

    def wait(self) -> wait_exponential:
        """The tenacity wait strategy for `tenacity.Retrying(wait=...)`."""
        return wait_exponential(multiplier=self.first, exp_base=self.factor, min=0, max=self.cap)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failure (1-based)."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, attempt)
        return float(self.wait()(state))
