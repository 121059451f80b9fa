"""Router.halt (the kill switch's CancelAll): every execution ends, live orders are cancelled, none replaced."""

from __future__ import annotations

from pathlib import Path

from hedge.events import OrderStatus, Side

from .test_router import make_rig, pending_left


async def test_halt_cancels_a_resting_maker_order_and_never_replaces_it(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("i1", notional=1000.0)
    await rig.router.idle()
    (o,) = rig.venue.live()
    rig.router.halting.halt("kill switch: test")
    await rig.router.idle()
    assert rig.venue.live() == [] and o.status is OrderStatus.CANCELED
    assert len(rig.requests) == 1  # a cancel for "halted" is not a reprice
    await rig.advance(10.0)  # the maker timeout would have sent a taker order
    assert len(rig.requests) == 1 and rig.router.executions == {}
    (rep,) = rig.journal("orders_failed")
    assert rep["intent_id"] == "i1" and rep["reasons"] == ["halted: kill switch: test"]
    assert pending_left(rig) == []
    rig.decide("i2", notional=1000.0)  # an approval after the halt is ignored
    await rig.router.idle()
    assert len(rig.requests) == 1 and rig.router.ignored == 1
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_halt_while_the_placement_is_in_flight_cancels_it_once_acknowledged(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("i1", side=Side.SELL, notional=1000.0)  # OrderRequest published; the venue call not yet run
    (req,) = rig.requests
    assert rig.router.lifecycle.orders[req.client_order_id].status is OrderStatus.PENDING
    rig.router.halting.halt("kill")
    await rig.router.idle()
    assert rig.venue.orders[req.client_order_id].status is OrderStatus.CANCELED
    assert rig.venue.live() == [] and rig.router.executions == {} and len(rig.requests) == 1
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_halt_between_twap_slices_ends_the_execution_at_once(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    rig.decide("big", notional=20_000.0)  # TWAP: 5 slices over 60 s
    await rig.router.idle()
    (o,) = rig.venue.live()
    rig.venue.trade(o.req.price)  # the first slice fills; the next one is due in 12 s
    await rig.router.idle()
    assert rig.venue.live() == [] and "big" in rig.router.executions
    rig.router.halting.halt("kill")
    assert rig.router.executions == {}
    await rig.advance(70.0)
    assert len(rig.requests) == 1
    (rep,) = rig.journal("orders_failed")
    assert rep["outcome"] == "partial" and rep["slices"] == 5 and rep["reasons"] == ["halted: kill"]
    rig.journals.close()
