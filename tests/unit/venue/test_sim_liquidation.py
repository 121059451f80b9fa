"""Replay's simulated venue survives a liquidation in its matching engine: the LIQUIDATION order is
published as an ``OrderUpdate`` (type LIQUIDATION) and its fill as a ``Fill`` flagged
``liquidation``, and the account ends flat with a wallet of at least zero."""

from __future__ import annotations

import pytest

from hedge.events import MarkPrice, OrderStatus, OrderType, Side, TimeInForce
from tests.unit.venue.test_sim import SYM, make


def mark(price: float) -> MarkPrice:
    return MarkPrice(symbol=SYM, mark_price=price, index_price=price, funding_rate=0.0001, next_funding_ms=0,
                     ts_ms=1, recv_ns=1)


async def test_a_mark_through_the_liquidation_price_liquidates_in_replay() -> None:
    sim = make()
    sim.venue.engine.accounts["sim"].position(SYM).leverage = 125
    ack = await sim.venue.place(sim.req("big", Side.BUY, 2.5, 64000.2, tif=TimeInForce.GTC))
    assert ack.status is OrderStatus.FILLED
    lp = sim.venue.engine.liquidation_price("sim", SYM)
    assert 60_000.0 < lp < 64_000.0
    sim.bus.publish(mark(lp + 1.0))
    assert not any(f.liquidation for f in sim.fills)
    sim.bus.publish(mark(lp - 1.0))
    (liq,) = [f for f in sim.fills if f.liquidation]
    assert liq.client_order_id.startswith("autoclose-") and liq.side is Side.SELL and liq.qty == pytest.approx(2.5)
    assert [u.type for u in sim.updates if u.client_order_id == liq.client_order_id] == [OrderType.LIQUIDATION] * 2
    assert sim.positions[-1].qty == 0.0 and sim.balances[-1].wallet_balance >= 0.0
