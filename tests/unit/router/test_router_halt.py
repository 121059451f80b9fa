"""The router's halt (the kill switch's CancelAll): every execution ends, live orders are cancelled, none replaced."""

from __future__ import annotations

from pathlib import Path

from hedge.events import OrderStatus, Side

from .rig import make_rig


async def test_halt_cancels_a_resting_maker_order_and_never_replaces_it(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("i1", notional=1000.0)
    await rig.router.idle()
    assert len(await rig.venue.live()) == 1
    rig.router.halting.halt("kill switch: test")
    await rig.router.idle()
    assert await rig.venue.live() == [] and (await rig.venue.orders())[0].status is OrderStatus.CANCELED
    assert len(rig.requests) == 1  # a cancel for "halted" is not a reprice
    await rig.advance(10.0)  # the maker timeout would have sent a taker order
    assert len(rig.requests) == 1 and rig.router.executions == {}
    (rep,) = rig.journal("orders_failed")
    assert rep["intent_id"] == "i1" and rep["reasons"] == ["halted: kill switch: test"]
    assert rig.pending_left() == []
    rig.decide("i2", notional=1000.0)  # an approval after the halt is ignored
    await rig.router.idle()
    assert len(rig.requests) == 1 and rig.router.ignored == 1
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_halt_while_the_placement_is_in_flight_cancels_it_once_acknowledged(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("i1", side=Side.SELL, notional=1000.0)  # the request sent at once; its answer not yet handled
    (req,) = rig.requests
    assert rig.router.lifecycle.orders[req.client_order_id].acked_s == 0.0 and rig.router.in_flight == 1
    rig.router.halting.halt("kill")
    await rig.router.idle()
    (o,) = await rig.venue.orders()
    assert o.req.client_order_id == req.client_order_id and o.status is OrderStatus.CANCELED
    assert rig.router.executions == {} and len(rig.requests) == 1
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_halt_between_twap_slices_ends_the_execution_at_once(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("big", notional=20_000.0)  # TWAP: 5 slices over 60 s
    await rig.router.idle()
    (o,) = await rig.venue.live()
    rig.trade(o.req.price)  # the first slice fills; the next one is due in 12 s
    await rig.router.idle()
    assert await rig.venue.live() == [] and "big" in rig.router.executions
    rig.router.halting.halt("kill")
    assert rig.router.executions == {}
    await rig.advance(70.0)
    assert len(rig.requests) == 1
    (rep,) = rig.journal("orders_failed")
    assert rep["outcome"] == "partial" and rep["slices"] == 5 and rep["reasons"] == ["halted: kill"]
    rig.journals.close()
