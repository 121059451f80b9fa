"""Conditional orders through BinanceVenue and ccxt 4.5.90 on the local exchange's Algo Service
(``/fapi/v1/algoOrder``): what ccxt sends, place / query / cancel / open orders / cancel-all, the
-4120 refusal on ``/fapi/v1/order`` and -2021 for a stop already through the market."""

from __future__ import annotations

import pytest

from hedge.events import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedge.venue import binance
from hedge.venue.errors import OrderNotFound, Rejected
from tests.integration.venue.test_binance_venue import Rig, req, rig
from tests.kit.exchange import local_venue

__all__ = ["rig"]  # the fixture


def stop(cid: str, side: Side, trigger: float, *, close: bool = True, qty: float = 0.0) -> OrderRequest:
    return OrderRequest(client_order_id=cid, intent_id="t", symbol="BTCUSDT", side=side, type=OrderType.STOP_MARKET,
                        qty=qty, stop_price=trigger, reduce_only=True, close_position=close)


async def long_position(rig: Rig) -> tuple[float, float]:
    _, ask = await rig.touch()
    await rig.venue.place(req("hv-long", Side.BUY, 0.002, round(ask + 20, 1), TimeInForce.IOC))
    return await rig.touch()


async def test_ccxt_create_order_stop_market_goes_to_the_algo_service(rig: Rig) -> None:
    bid, _ = await long_position(rig)
    c = rig.venue.client
    trigger = round(bid - 500, 1)
    o = await c.create_order("BTC/USDT:USDT", "STOP_MARKET", "sell", 0.002, None,
                             {"stopPrice": trigger, "reduceOnly": True, "workingType": "MARK_PRICE"})
    assert c.last_request_url.endswith("/fapi/v1/algoOrder")
    body = dict(kv.split("=", 1) for kv in c.last_request_body.split("&"))
    assert (body["algoType"], body["type"], body["side"]) == ("CONDITIONAL", "STOP_MARKET", "SELL")
    assert (float(body["triggerPrice"]), body["reduceOnly"], body["workingType"]) == (trigger, "true", "MARK_PRICE")
    assert o["info"]["algoStatus"] == "NEW" and float(o["info"]["triggerPrice"]) == trigger
    (listed,) = await rig.venue.open_orders("BTCUSDT")
    assert (listed.type, listed.status, listed.stop_price) == (OrderType.STOP_MARKET, OrderStatus.NEW, trigger)


async def test_order_endpoint_refuses_conditional_types(rig: Rig) -> None:
    bid, _ = await long_position(rig)
    with pytest.raises(Rejected) as e:
        await rig.venue.client.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                                                     "stopPrice": str(round(bid - 500, 1)), "closePosition": "true"})
    assert e.value.code == -4120


async def test_stop_lifecycle_and_would_immediately_trigger(rig: Rig) -> None:
    bid, _ = await long_position(rig)
    trigger = round(bid - 300, 1)
    ack = await rig.venue.place(stop("hv-stop-1", Side.SELL, trigger))
    assert ack.status is OrderStatus.NEW and ack.exchange_order_id > 0
    q = await rig.venue.query("BTCUSDT", "hv-stop-1")
    assert q is not None and (q.type, q.status, q.stop_price, q.qty) == (OrderType.STOP_MARKET, OrderStatus.NEW,
                                                                        trigger, 0.0)
    with pytest.raises(Rejected) as e:  # a long's stop above the mark fires at once: refused
        await rig.venue.place(stop("hv-stop-2", Side.SELL, round(bid + 300, 1)))
    assert e.value.code == -2021 and "immediately trigger" in e.value.reason
    assert await rig.venue.query("BTCUSDT", "hv-stop-2") is None  # proven absent (neither endpoint knows it)
    c = await rig.venue.cancel("BTCUSDT", "hv-stop-1")
    assert c.status is OrderStatus.CANCELED and c.type is OrderType.STOP_MARKET
    assert (await rig.venue.query("BTCUSDT", "hv-stop-1")).status is OrderStatus.CANCELED  # type: ignore[union-attr]
    with pytest.raises(OrderNotFound):
        await rig.venue.cancel("BTCUSDT", "hv-stop-1")


async def test_cancel_all_includes_algo_orders_and_a_new_venue_finds_them(rig: Rig) -> None:
    bid, _ = await long_position(rig)
    await rig.venue.place(stop("hv-stop-a", Side.SELL, round(bid - 300, 1)))
    await rig.venue.place(req("hv-gtx", Side.BUY, 0.002, round(bid - 50, 1)))
    # another process (a restart) knows nothing of the algo order: cancel/query still find it
    fresh = local_venue(rig.exchange, name="local2")
    await fresh.start()
    try:
        found = await fresh.query("BTCUSDT", "hv-stop-a")
        assert found is not None and found.status is OrderStatus.NEW
        assert sorted(o.client_order_id for o in await fresh.open_orders()) == ["hv-gtx", "hv-stop-a"]
        assert await fresh.cancel_all("BTCUSDT") == 2
        assert await fresh.open_orders("BTCUSDT") == []
    finally:
        await fresh.close()


async def test_remembered_algo_ids_are_bounded_and_a_forgotten_stop_is_still_cancelled(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binance, "ALGO_KEPT", 3)
    bid, _ = await long_position(rig)
    for i in range(6):
        await rig.venue.place(stop(f"hv-many-{i}", Side.SELL, round(bid - 300 - i, 1)))
    assert list(rig.venue._algo) == ["hv-many-3", "hv-many-4", "hv-many-5"]  # the newest 3 only
    c = await rig.venue.cancel("BTCUSDT", "hv-many-0")  # forgotten: /order says -2011, the Algo Service has it
    assert c.status is OrderStatus.CANCELED and c.type is OrderType.STOP_MARKET
    assert (await rig.venue.query("BTCUSDT", "hv-many-1")).status is OrderStatus.NEW  # type: ignore[union-attr]
