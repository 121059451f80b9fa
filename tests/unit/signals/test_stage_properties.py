"""Any sequence of book updates and trades, even malformed ones, keeps the stage's outputs in range."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.config import Config, StrategyConfig, StrategyEntry
from hedge.events import BookUpdate, Features, Nav, OrderIntent, Side, Signal, Trade
from hedge.signals.stage import SignalStage

weird = st.one_of(
    st.floats(min_value=-1.0, max_value=1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
)
book_step = st.tuples(
    st.just("book"),
    st.integers(0, 3000),  # dt ms
    st.floats(100.0, 101.0),  # bid
    st.floats(0.0, 0.2),  # spread
    weird,  # bid qty
    st.floats(0.0, 50.0),  # ask qty
    st.booleans(),  # valid
    st.sampled_from([None, math.nan, -5.0, math.inf]),  # corrupt mid, sometimes
)
trade_step = st.tuples(st.just("trade"), st.integers(0, 3000), weird, st.booleans())

NAV = 10_000.0
CFG = Config(strategy=StrategyConfig(strategies=[
    StrategyEntry(name="micro_scalper", params={"entry_threshold": 0.2, "cooldown_s": 0.0}),
    StrategyEntry(name="vol_trend", params={"entry_threshold": 0.1, "cooldown_s": 0.0, "slow_halflife_s": 2.0, "fast_halflife_s": 0.5}),
]))


def build(step: tuple[Any, ...], ts: int, uid: int) -> BookUpdate | Trade:
    if step[0] == "trade":
        _, _, qty, buy = step
        return Trade(ts_ms=ts, symbol="BTCUSDT", trade_id=uid, price=100.0, qty=qty, taker_side=Side.BUY if buy else Side.SELL, trade_ms=ts)
    _, _, bid, spread, bq, aq, valid, bad_mid = step
    ask = bid + spread
    total = bq + aq
    mid = 0.5 * (bid + ask) if bad_mid is None else bad_mid
    return BookUpdate(
        ts_ms=ts, symbol="BTCUSDT", update_id=uid, valid=valid, bid_px=bid, bid_qty=bq, ask_px=ask, ask_qty=aq,
        mid=mid, micro=(bid * aq + ask * bq) / total if total > 0 else mid,
        imbalance=max(-1.0, min(1.0, (bq - aq) / total)) if total > 0 else 0.0,
        spread_bps=spread / mid * 1e4 if mid > 0 else 0.0,
    )


@given(st.lists(st.one_of(book_step, trade_step), max_size=120))
@settings(max_examples=150, deadline=None)
def test_outputs_stay_in_range(steps: list[tuple[Any, ...]]) -> None:
    bus = Bus()
    stage = SignalStage(bus, CFG)
    stage.attach()
    intents: list[OrderIntent] = []
    feats: list[Features] = []
    signals: list[Signal] = []
    bus.subscribe(OrderIntent, intents.append)
    bus.subscribe(Features, feats.append)
    bus.subscribe(Signal, signals.append)
    bus.publish(Nav(nav=NAV, wallet_balance=NAV, unrealized_pnl=0.0, source="sim"))
    ts = 1_700_000_000_000
    for uid, step in enumerate(steps, 1):
        ts += step[1]
        bus.publish(build(step, ts, uid))
    assert bus.handler_errors == {}
    cap = min(CFG.strategy.sizing.max_notional_usd, NAV * CFG.strategy.per_trade_nav_pct * CFG.strategy.sizing.max_conviction)
    for i in intents:
        assert 0.0 < i.notional <= cap and math.isfinite(i.e_pi_bps)
        assert (i.side is Side.BUY) == (i.score > 0.0) and 0.0 < abs(i.score) <= 1.0
    for f in feats:
        assert math.isfinite(f.mid) and f.mid > 0.0 and math.isfinite(f.realized_vol_bps) and f.realized_vol_bps >= 0.0
        for x in (f.book_imbalance, f.flow_imbalance, f.absorption):
            assert -1.0 <= x <= 1.0
    for s in signals:
        assert -1.0 <= s.score <= 1.0 and 0.0 <= s.p_win <= 1.0
