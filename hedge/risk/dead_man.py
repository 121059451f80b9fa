"""The dead-man switch: the venue's countdownCancelAll heartbeat while the daemon runs.

Owns: the beat — every ``heartbeat_s`` it asks the venue (an injected coroutine
``countdown_cancel_all(symbol, countdown_ms)``) to cancel all of a symbol's open orders unless
it hears again within ``countdown_ms``. If the process dies or hangs, the exchange cancels
everything by itself.

Design: beats stop when trading is HALTED (``halted()`` True), so the exchange's countdown then
cancels anything the CancelAll request missed. A failed beat is logged and counted; the next one
is tried on schedule. On a graceful stop the countdown is left to expire (orders get cancelled).

Must never: import a venue (the call is injected), or raise out of ``run``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from hedge.reach import level_for

log = logging.getLogger(__name__)

CountdownFn = Callable[[str, int], Awaitable[None]]


class DeadManSwitch:
    name = "dead-man"

    def __init__(
        self,
        symbols: Sequence[str],
        countdown: CountdownFn,
        *,
        countdown_ms: int = 60_000,
        heartbeat_s: float = 20.0,
        halted: Callable[[], bool] = lambda: False,
    ) -> None:
        self.symbols = tuple(symbols)
        self.countdown = countdown
        self.countdown_ms = countdown_ms
        self.heartbeat_s = heartbeat_s
        self.halted = halted
        self.beats = 0
        self.failures = 0

    async def beat(self) -> None:
        """One round: arm the countdown for every symbol (skipped while halted)."""
        if self.halted():
            return
        for sym in self.symbols:
            try:
                await self.countdown(sym, self.countdown_ms)
                self.beats += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                log.log(level_for(exc, logging.ERROR), "dead-man: countdownCancelAll(%s) failed (%d failures): %s", sym,
                        self.failures, exc)

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.heartbeat_s)
