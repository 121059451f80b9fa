"""The dead-man switch beats countdownCancelAll per symbol, survives failures, stops when halted."""

from __future__ import annotations

import asyncio

from hedge.risk.dead_man import DeadManSwitch
from tests.kit.wait import wait_for


async def test_beats_every_symbol_and_survives_failures() -> None:
    calls: list[tuple[str, int]] = []

    async def countdown(symbol: str, ms: int) -> None:
        calls.append((symbol, ms))
        if symbol == "ETHUSDT" and len(calls) <= 2:
            raise ConnectionError("timeout")

    halted = [False]
    rounds = [0]

    def is_halted() -> bool:
        rounds[0] += 1  # asked once per round
        return halted[0]

    dm = DeadManSwitch(["BTCUSDT", "ETHUSDT"], countdown, countdown_ms=30_000, heartbeat_s=0.02, halted=is_halted)
    task = asyncio.create_task(dm.run())
    await wait_for(lambda: dm.beats >= 5, what="five beats")
    assert dm.failures == 1
    assert calls[:2] == [("BTCUSDT", 30_000), ("ETHUSDT", 30_000)]
    halted[0] = True  # halted: the exchange's countdown is left to cancel everything
    r = rounds[0]
    await wait_for(lambda: rounds[0] > r, what="a round that sees the halt")
    n, r = len(calls), rounds[0]
    await wait_for(lambda: rounds[0] >= r + 3, what="three more rounds")
    assert len(calls) == n
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
