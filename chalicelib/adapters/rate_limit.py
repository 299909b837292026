"""Pacing: a token bucket for the SES send rate, and backoff with jitter for throttling."""
from __future__ import annotations

import random
import time
from typing import Callable


class TokenBucket:
    """Allows `rate` units a second on average, with bursts up to `capacity`.

    `take(n)` never refuses: it sleeps as long as the bucket needs to refill (a batch of 50
    mails at 7/s waits ~7 s). A rate of 0 means unpaced. One bucket per worker process; the
    SES account quota is shared by dividing it by the worker's maximum concurrency."""

    def __init__(self, rate: float, capacity: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        self.rate = max(float(rate), 0.0)
        self.capacity = float(capacity) if capacity is not None else max(self.rate, 1.0)
        self._sleep = sleep
        self._monotonic = monotonic
        self._tokens = self.capacity
        self._at = monotonic()
        self.waited = 0.0

    def take(self, units: float) -> float:
        """Takes `units` tokens, sleeping first if the bucket is short; returns the seconds slept."""
        if self.rate <= 0:
            return 0.0
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + max(now - self._at, 0.0) * self.rate)
        self._at = max(now, self._at)
        self._tokens -= units
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.rate
        self._sleep(wait)
        self.waited += wait
        # the sleep refilled exactly the deficit
        self._tokens, self._at = 0.0, self._at + wait
        return wait


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0, rng: Callable[[float, float], float] = random.uniform
            ) -> float:
    """Full-jitter exponential backoff: a random pause in [0, min(cap, base·2^attempt)]."""
    return rng(0.0, min(cap, base * 2 ** attempt))
