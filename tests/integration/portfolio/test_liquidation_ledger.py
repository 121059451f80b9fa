"""A liquidation reaches hedge's ledger: real sockets, the real venue and user stream, the portfolio
stage. Someone opens a 100x long behind hedge's back (adopted as external at start); the mark is
pushed past its liquidation price; the exchange's ``autoclose-`` fill (execution CALCULATED) comes
through the user stream as a ``Fill`` flagged ``liquidation``, closes the ledger's entry so the ledger
equals the exchange again, and a critical ``Alert`` names the liquidation."""

from __future__ import annotations

import math
from pathlib import Path

import aiohttp
import pytest

from hedge.events import Alert, Fill, LedgerPosition
from hedge.exchange.server import LocalExchange
from tests.integration.portfolio.test_portfolio_exchange import P0, SYM, desk
from tests.kit.exchange import ccxt_session


async def _big_long_behind_hedges_back(exchange: LocalExchange) -> None:
    async with ccxt_session(exchange.port) as client:
        await client.fapiPrivatePostLeverage({"symbol": SYM, "leverage": 100})
        await client.fapiPrivatePostOrder({"symbol": SYM, "side": "BUY", "type": "MARKET", "quantity": "3.000",
                                           "newClientOrderId": "web_big_1"})


async def test_liquidation_closes_the_ledger_entry_and_alerts(tmp_path: Path) -> None:
    async with desk(tmp_path, [(0, P0)], before=_big_long_behind_hedges_back) as d:
        e = d.portfolio.ledger.entries[SYM]
        assert e.external and e.qty == pytest.approx(3.0)
        (pos,) = await d.venue.positions([SYM])
        assert pos.qty == pytest.approx(3.0)
        async with ccxt_session(d.exchange.port) as client:
            [risk] = await client.fapiPrivateV3GetPositionRisk({"symbol": SYM})
        lp = float(risk["liquidationPrice"])
        assert P0 * 0.9 < lp < P0
        async with aiohttp.ClientSession() as http:
            r = await http.post(f"{d.exchange.base_url}/_hedge/actions/mark",
                                params={"symbol": SYM, "price": f"{math.floor(lp * 10) / 10:.1f}"})
            assert r.status == 200
        await d.until(lambda: any(a.title == f"liquidation {SYM}" for a in d.of(Alert)))
        await d.until(lambda: d.of(LedgerPosition) and d.of(LedgerPosition)[-1].qty == 0.0)
        (fill,) = [f for f in d.of(Fill) if f.liquidation]
        assert fill.client_order_id.startswith("autoclose-") and fill.qty == pytest.approx(3.0)
        assert fill.realized_pnl < 0.0
        (alert,) = [a for a in d.of(Alert) if a.title == f"liquidation {SYM}"]
        assert alert.severity == "critical" and fill.client_order_id in alert.text
        # the ledger equals the exchange: both flat
        (pos,) = await d.venue.positions([SYM])
        assert pos.qty == 0.0 and SYM not in d.portfolio.ledger.entries
