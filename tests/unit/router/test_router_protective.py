"""The router's protective stops (feature exchange_stop_orders): one closePosition STOP_MARKET per
symbol, cancel-then-place replacement, cancelled when the position is flat, kept on halt, and
adopted from the exchange (a second one cancelled)."""

from __future__ import annotations

import time
from pathlib import Path

from hedge.events import OrderIntent, OrderRequest, OrderType, RiskDecision, Side
from hedge.router.lifecycle import client_order_id

from .rig import SYM, Rig, make_rig


def protect(rig: Rig, iid: str, stop: float, side: Side = Side.SELL) -> None:
    intent = OrderIntent(intent_id=iid, symbol=SYM, side=side, notional=stop * 0.01, strategy="t",
                         reason="protective_stop", reduce_only=True, limit_px=stop, stop_price=stop,
                         recv_ns=time.time_ns())
    rig.bus.publish(RiskDecision(intent=intent, allow=True, max_qty=0.01))


async def stops(rig: Rig) -> list[OrderType]:
    return [o.req.type for o in await rig.venue.live()]


async def test_one_close_position_stop_rounded_away_from_the_market(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    protect(rig, "pstop-1", 66_950.07)  # a long's stop: down to the tick
    protect(rig, "pstop-b", 67_050.01, side=Side.BUY)  # (another symbol would be separate; here: a replacement)
    await rig.router.idle()
    (req, req2) = rig.requests
    assert (req.type, req.close_position, req.qty, req.stop_price) == (OrderType.STOP_MARKET, True, 0.0, 66_950.0)
    assert req.reduce_only and req.stop_on_mark and req.client_order_id == client_order_id("pstop-1", 0, 0)
    assert req2.stop_price == 67_050.1  # a short's stop: up to the tick
    assert await stops(rig) == [OrderType.STOP_MARKET]  # the first was cancelled before the second was placed
    assert rig.venue.calls[-3:] == [("place", req.client_order_id), ("cancel", req.client_order_id),
                                    ("place", req2.client_order_id)]
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_replacement_waits_for_the_cancel_and_never_doubles(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    protect(rig, "pstop-1", 66_900.0)
    await rig.router.idle()
    for n, level in enumerate((66_920.0, 66_940.0, 66_960.0), start=2):  # three moves while one is resting
        protect(rig, f"pstop-{n}", level)
    await rig.router.idle()
    (live,) = await rig.venue.live()
    assert live.req.stop_price == 66_960.0  # the newest level wins; never two resting
    placed = [c for c in rig.venue.calls if c[0] == "place"]
    assert len(placed) == 2  # intermediate levels superseded while the cancel was under way
    assert rig.router.protective.live == {SYM: live.req.client_order_id}
    rig.journals.close()


async def test_flat_position_cancels_and_halt_keeps_it(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    protect(rig, "pstop-1", 66_900.0)
    await rig.router.idle()
    rig.router.halting.halt("kill switch: test")  # protective stops only reduce risk: kept on halt
    await rig.router.idle()
    assert await stops(rig) == [OrderType.STOP_MARKET]
    protect(rig, "pstop-2", 66_950.0)  # but nothing new is placed while halted
    await rig.router.idle()
    assert len(rig.requests) == 1
    rig.venue.publish_account([SYM])  # the exchange: flat
    await rig.router.idle()
    assert await rig.venue.live() == [] and rig.router.protective.live == {}
    rig.journals.close()


async def test_found_at_the_exchange_adopted_and_a_second_one_cancelled(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    first, second = client_order_id("pstop-old-1", 0, 0), client_order_id("pstop-old-2", 0, 0)

    async def resting_stop(cid: str, stop: float) -> None:
        """A stop already at the exchange (a previous process's); its user stream reports it."""
        await rig.venue.place(OrderRequest(client_order_id=cid, intent_id="old", symbol=SYM, side=Side.SELL,
                                           type=OrderType.STOP_MARKET, qty=0.0, stop_price=stop, reduce_only=True,
                                           close_position=True))

    for cid in (first, second):
        await resting_stop(cid, 66_900.0)
    await rig.router.idle()
    assert rig.router.protective.live == {SYM: first}
    assert ("cancel", second) in rig.venue.calls and ("cancel", first) not in rig.venue.calls
    assert [o.req.client_order_id for o in await rig.venue.live()] == [first]  # exactly one left resting
    await resting_stop("web_stop", 66_800.0)  # not an engine id: never adopted nor cancelled
    await rig.router.idle()
    assert ("cancel", "web_stop") not in rig.venue.calls
    assert rig.router.protective.live == {SYM: first}
    rig.journals.close()
