"""Protective STOP_MARKET orders at the exchange (feature ``exchange_stop_orders``), end to end on
the local exchange with the real ccxt venue, user stream, market feed, risk stage and router:

- the stop rests at the exchange's Algo Service (GET openAlgoOrders: STOP_MARKET, closePosition,
  the position's stop level) and, with the engine STOPPED (a dead process), the exchange closes the position by itself;
- a trailing stop replaces it (cancel, then place: never two resting at once);
- a take-profit closes the position -> its protective stop is cancelled.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hedge.config import Config
from hedge.events import OrderRequest, OrderType
from tests.integration.portfolio.test_portfolio_exchange import EXITS, MOVE_AT, P0, SYM, Desk, desk
from tests.kit.config import make_config
from tests.kit.exchange import ccxt_session
from tests.kit.wait import wait_for


def stops_on(min_move_bps: float) -> Any:
    def tweak(cfg: Config) -> Config:
        return make_config(base=cfg, runtime__features__exchange_stop_orders=True,
                           runtime__portfolio__protective_stop_min_move_bps=min_move_bps)
    return tweak


async def resting_stops(client: Any) -> list[dict[str, Any]]:
    """The conditional orders resting at the exchange's Algo Service."""
    rest: list[dict[str, Any]] = await client.fapiPrivateGetOpenAlgoOrders({"symbol": SYM})
    assert all(o["orderType"] == "STOP_MARKET" for o in rest)
    return rest


async def nothing_open(client: Any) -> bool:
    return not await client.fapiPrivateGetOpenOrders({"symbol": SYM}) and not await resting_stops(client)




def stop_requests(d: Desk) -> list[OrderRequest]:
    return [r for r in d.of(OrderRequest) if r.type is OrderType.STOP_MARKET]


@pytest.mark.slow
async def test_resting_stop_closes_the_position_while_the_engine_is_dead(tmp_path: Path) -> None:
    t0 = time.monotonic()
    async with desk(tmp_path, [(0, P0), (MOVE_AT + 3.0, P0 - 50)], tweak=stops_on(5.0)) as d:
        line = await d.enter()
        await d.until(lambda: d.portfolio.ledger.entries[SYM].stop_live)
        async with ccxt_session(d.exchange.port) as client:
            (o,) = await resting_stops(client)
            want = math.floor(line.sl_price * 10 + 1e-6) / 10  # a long's stop rounds down to the tick
            assert o["side"] == "SELL" and o["closePosition"] is True and o["algoStatus"] == "NEW"
            assert o["workingType"] == "MARK_PRICE" and float(o["triggerPrice"]) == pytest.approx(want)
            assert float(o["quantity"]) == 0.0
            cid = o["clientAlgoId"]
            assert [r.client_order_id for r in stop_requests(d)] == [cid]
            assert d.risk.context(SYM, time.time_ns()).open_orders == 1  # risk counts it...
            await d.close()  # ...the engine dies: no scanner, no user stream, no router
            assert time.monotonic() - t0 < MOVE_AT + 3.0, "the engine must be dead before the market moves"


            async def flat() -> bool:
                return float((await client.fapiPrivateV2GetPositionRisk({"symbol": SYM}))[0]["positionAmt"]) == 0.0

            await wait_for(flat, 20.0, interval=0.1)  # poll the exchange: the engine may be dead
            done = await client.fapiPrivateGetOrder({"symbol": SYM, "origClientOrderId": cid})
            assert done["status"] == "FILLED" and done["type"] == "MARKET" and done["origType"] == "STOP_MARKET"
            assert float(done["executedQty"]) == pytest.approx(line.qty)
            assert float(done["avgPrice"]) <= want  # sold at the market once the mark went through the stop
            assert await nothing_open(client)
            algo = await client.fapiPrivateGetAlgoOrder({"symbol": SYM, "clientAlgoId": cid})
            assert algo["algoStatus"] == "FINISHED" and float(algo["executedQty"]) == pytest.approx(line.qty)


@pytest.mark.slow
async def test_trailing_stop_replaces_the_resting_stop_one_at_a_time(tmp_path: Path) -> None:
    path = [(0, P0), (MOVE_AT, P0 + 45), (MOVE_AT + 6.0, P0 + 20)]
    async with desk(tmp_path, path, tweak=stops_on(1.0)) as d, ccxt_session(d.exchange.port) as client:
        seen: list[int] = []
        levels: list[float] = []

        async def watch() -> None:
            while True:
                rest = await resting_stops(client)
                seen.append(len(rest))
                levels.extend(float(o["triggerPrice"]) for o in rest)
                await asyncio.sleep(0.05)  # the sampling period of the watcher, not a wait

        watcher = asyncio.create_task(watch())
        try:
            line = await d.enter()
            await d.flat()
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await d.router.idle()
        reqs = stop_requests(d)
        assert len(reqs) >= 3  # the initial stop, then breakeven and trailing replacements
        assert [r.stop_price for r in reqs] == sorted(r.stop_price for r in reqs)  # only ever ratcheted up
        assert reqs[-1].stop_price >= line.entry_price  # the resting stop locked in at least breakeven
        assert max(seen) == 1 and 1 in seen  # never two protective stops resting at once
        assert max(levels) >= line.entry_price
        await wait_for(lambda: nothing_open(client), what="flat: nothing left resting", interval=0.05)
        await d.no_duplicate_orders()


@pytest.mark.slow
async def test_take_profit_cancels_the_protective_stop(tmp_path: Path) -> None:
    wide = msgspec.structs.replace(EXITS, breakeven_after_R=100.0)  # the stop never moves: one stop, one cancel
    async with desk(tmp_path, [(0, P0), (MOVE_AT, P0 + 80)], wide, tweak=stops_on(5.0)) as d, \
            ccxt_session(d.exchange.port) as client:
        await d.enter()
        await d.until(lambda: d.portfolio.ledger.entries[SYM].stop_live)
        (cid,) = [r.client_order_id for r in stop_requests(d)]
        await d.flat()
        exits = [i for i in d.exits() if i.stop_price == 0.0]
        assert [i.reason for i in exits] == ["take_profit"]

        async def cancelled() -> bool:
            algo = await client.fapiPrivateGetAlgoOrder({"symbol": SYM, "clientAlgoId": cid})
            return bool(algo["algoStatus"] != "NEW")

        await wait_for(cancelled, 30, interval=0.1)
        done = await client.fapiPrivateGetAlgoOrder({"symbol": SYM, "clientAlgoId": cid})
        assert done["algoStatus"] == "CANCELED" and float(done["executedQty"]) == 0.0
        assert await nothing_open(client)
        await d.no_duplicate_orders()
