"""Retry schedules: exponential backoff with jitter.

Owns: the one backoff formula used by every reconnecting or restarting part (the engine's
service supervisor, the market-data connections, REST retries), so that they all agree.

Must never: sleep itself (callers own their waiting, so tests can inject a fake sleep).
"""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delays(initial: float, maximum: float, rng: random.Random | None = None) -> Callable[[int], float]:
    """Exponential backoff with full jitter in the upper half: attempt n -> [d/2, d], d = min(max, i*2^n)."""
    r = rng or random.Random()

    def delay(attempt: int) -> float:
        d: float = min(maximum, initial * 2.0 ** max(0, attempt))
        return d * (0.5 + 0.5 * r.random())

    return delay
