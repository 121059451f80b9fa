"""The maker parameters autotune may step: ``router.maker_offset_ticks`` and ``router.max_reprices``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.events import OrderStatus, Side, TimeInForce

from .rig import ASK, BID, make_rig


@pytest.mark.parametrize(("side", "price"), [(Side.BUY, BID - 0.2), (Side.SELL, ASK + 0.2)])
async def test_a_maker_order_rests_offset_ticks_behind_the_touch(tmp_path: Path, side: Side, price: float) -> None:
    rig = await make_rig(tmp_path, maker_offset_ticks=2)
    rig.decide(side=side, notional=1000.0)
    await rig.router.idle()
    (o,) = await rig.venue.live()
    assert o.req.tif is TimeInForce.GTX and o.req.price == pytest.approx(price)
    rig.journals.close()


async def test_the_reprice_limit_falls_back_to_the_taker(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, max_reprices=1)
    rig.decide(notional=1000.0)
    await rig.router.idle()
    rig.book(bid=BID + 0.2, ask=ASK + 0.2)  # two ticks away: the one reprice allowed
    await rig.router.idle()
    rig.book(bid=BID + 0.4, ask=ASK + 0.4)  # again: the limit is reached, the taker follows
    await rig.router.idle()
    orders = await rig.venue.orders()
    assert [o.req.tif for o in orders] == [TimeInForce.GTX, TimeInForce.GTX, TimeInForce.IOC]
    assert [o.status for o in orders[:2]] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert orders[1].req.price == pytest.approx(BID + 0.2)
    (rep,) = rig.journal("orders_success") + rig.journal("orders_failed")
    assert rep["fell_back"] is True
    rig.journals.close()
