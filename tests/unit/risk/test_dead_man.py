"""The dead-man switch beats countdownCancelAll per symbol, survives failures, stops when halted."""

from __future__ import annotations

import asyncio

from hedge.risk.dead_man import DeadManSwitch


async def test_beats_every_symbol_and_survives_failures() -> None:
    calls: list[tuple[str, int]] = []

    async def countdown(symbol: str, ms: int) -> None:
        calls.append((symbol, ms))
        if symbol == "ETHUSDT" and len(calls) <= 2:
            raise ConnectionError("timeout")

    halted = [False]
    dm = DeadManSwitch(
        ["BTCUSDT", "ETHUSDT"], countdown, countdown_ms=30_000, heartbeat_s=0.02, halted=lambda: halted[0]
    )
    task = asyncio.create_task(dm.run())
    await asyncio.sleep(0.09)
    assert dm.failures == 1 and dm.beats >= 5
    assert calls[:2] == [("BTCUSDT", 30_000), ("ETHUSDT", 30_000)]
    halted[0] = True  # halted: the exchange's countdown is left to cancel everything
    await asyncio.sleep(0.03)
    n = len(calls)
    await asyncio.sleep(0.08)
    assert len(calls) == n
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
