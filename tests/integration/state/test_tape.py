"""The order tape: one INFO line per order and fill, vetoes summed per minute; nothing when INFO is off."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from hedge.app import run_async
from hedge.bus import Bus
from hedge.events import Fill, LedgerPosition, OrderIntent, RiskDecision, Side
from hedge.feeds.recording import bundled_btcusdt
from hedge.model.clock import EventClock
from hedge.replay.runner import Replay
from hedge.state.tape import OrderTape
from tests.kit.replay import classic_config


def test_a_replay_tells_every_order_and_fill_on_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    r = Replay(classic_config(), bundled_btcusdt(), log_dir=tmp_path)  # the profile that trades this recording
    OrderTape(r.engine.bus, r.clock)
    caplog.set_level(logging.INFO, logger="hedge.tape")
    s = run_async(r.run())
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "hedge.tape"]
    orders = [x for x in lines if x.startswith("order ")]
    fills = [x for x in lines if x.startswith("fill ")]
    assert len(orders) == s.orders > 0 and len(fills) == s.fills > 0
    assert all(re.fullmatch(r"order BTCUSDT (BUY|SELL) \S+ .*cid=\S+", x) for x in orders), orders[:3]
    assert any("LIMIT @ " in x and "(micro_scalper score=" in x for x in orders), orders[:3]
    assert all(re.fullmatch(r"fill BTCUSDT (BUY|SELL) \S+ @ \S+ (maker|taker) fee \S+ USDT; position [+-]\S+; "
                            r"realized [+-]\d+\.\d\d cid=\S+", x) for x in fills), fills[:3]
    assert any(x.startswith("vetoes in the last ") for x in lines)  # the replay's 56 vetoes, summed


def test_vetoes_are_summed_once_per_window_and_nothing_is_formatted_when_info_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, clock = Bus(), EventClock(10**18)
    tape = OrderTape(bus, clock, window_s=60.0)
    intent = OrderIntent(intent_id="i", symbol="BTCUSDT", side=Side.BUY, notional=10.0, strategy="s", reason="entry")
    caplog.set_level(logging.INFO, logger="hedge.tape")
    for i in range(30):  # 2 s apart
        clock.advance_s(2.0)
        bus.publish(RiskDecision(intent=intent, allow=False, max_qty=0.0,
                                 reasons=("cooloff",) if i % 10 else ("min_notional", "cooloff")))
    assert caplog.records == []  # 58 s: not yet
    clock.advance_s(2.0)
    bus.publish(RiskDecision(intent=intent, allow=False, max_qty=0.0, reasons=("cooloff",)))
    assert [r.getMessage() for r in caplog.records] == ["vetoes in the last 60 s: cooloff 31, min_notional 3"]
    tape.say_vetoes(clock.now_ns(), force=True)  # nothing left to say
    assert len(caplog.records) == 1

    bus.publish(LedgerPosition(symbol="BTCUSDT", qty=0.002, entry_price=100.0))
    bus.publish(Fill(client_order_id="c1", symbol="BTCUSDT", side=Side.SELL, qty=0.003, price=101.0, fee=0.01,
                     maker=True, realized_pnl=0.5))
    assert caplog.records[-1].getMessage() == ("fill BTCUSDT SELL 0.003 @ 101 maker fee 0.01 USDT; position -0.001; "
                                               "realized +0.50 cid=c1")
    caplog.set_level(logging.WARNING, logger="hedge.tape")
    caplog.clear()
    bus.publish(intent)
    bus.publish(RiskDecision(intent=intent, allow=False, max_qty=0.0, reasons=("cooloff",)))
    assert tape._why == {} and tape._vetoes == {} and caplog.records == []
