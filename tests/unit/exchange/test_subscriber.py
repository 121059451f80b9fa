"""Websocket fan-out bookkeeping: slow subscribers are cut off, publishing never waits."""

from __future__ import annotations

from typing import Any

import pytest

import hedge.exchange.streams as streams


async def test_slow_subscriber_is_disconnected_and_publish_skips_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "MAX_BACKLOG", 3)
    hub = streams.Hub()
    ws: Any = None  # never touched: nothing is sent in this test
    slow = streams.Subscriber(ws, combined=True, streams=set())
    hub.subs["btcusdt@trade"] = {slow}
    for i in range(3):
        hub.publish("btcUSDT@trade", f'{{"i":{i}}}'.encode())
    assert not slow.closed and slow.queue[0] == '{"stream":"btcUSDT@trade","data":{"i":0}}'
    hub.publish("btcusdt@trade", b"{}")
    assert slow.closed  # 4 frames behind with a backlog limit of 3
    before = len(slow.queue)
    hub.publish("btcusdt@trade", b"{}")
    assert len(slow.queue) == before  # a closed subscriber gets nothing more
    assert not hub.has("ethusdt@trade") and hub.has("BTCUSDT@TRADE")
