"""``runtime.gate.enabled``: the daemon serves the gate on its own risk stage. A check is decided with
the daemon's context (its NAV, its trading state); a reported losing fill counts in the daemon's
cooloff streak and its events journal, but never reaches the daemon's ledger; reported losing round trips of
a runner's strategy veto that strategy's new exposure (its expectancy's CI below 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hedge.daemon.errors import SetupError
from hedge.daemon.wiring import Daemon
from hedge.events import TradingState
from tests.integration.test_daemon_live import config, start, stop
from tests.kit.wait import wait_for


@pytest.mark.slow
async def test_the_daemon_serves_the_gate_on_its_own_risk_stage(tmp_path: Path) -> None:
    live = await start(config(tmp_path, runtime__gate={"enabled": True, "port": 0}))
    try:
        daemon = live.daemon
        assert daemon.gate is not None and daemon.pipeline is not None
        await wait_for(daemon.gate.started.is_set, 30, what="the gate listening")
        url = f"http://127.0.0.1:{daemon.gate.bound_port}"
        risk = daemon.pipeline.risk
        seen: list[dict[str, Any]] = []  # the answers so far (each check has a fresh key)
        async with aiohttp.ClientSession() as http:
            async def decided_with_the_daemons_nav() -> dict[str, Any] | None:
                async with http.post(f"{url}/pretrade/check", json={
                        "idempotency_key": f"d{len(seen)}", "symbol": "BTCUSDT",
                        "side": "BUY", "quantity": 0.002, "price": 60_000.0, "e_pi_bps": 5.0}) as r:
                    assert r.status == 200
                    d: dict[str, Any] = await r.json()
                    seen.append(d)
                    return d if d["allow"] else None
            d = await wait_for(decided_with_the_daemons_nav, 60, what="an allowed check", interval=0.2)
            assert d["state"] == TradingState.ACTIVE.value
            losses_before = risk.cooloff.losses
            qty_before = daemon.pipeline.portfolio.ledger.qty("BTCUSDT")
            async with http.post(f"{url}/posttrade/log", json={
                    "order_id": "ext-1", "symbol": "BTCUSDT", "side": "SELL", "status": "filled",
                    "fills": [{"qty": 0.001, "price": 59_000.0, "realized_pnl": -1.0}], "outcome": "loss"}) as r:
                assert r.status == 200
            for i in range(5):  # five closed losing trips of one runner's strategy: its expectancy CI is below 0
                async with http.post(f"{url}/posttrade/log", json={
                        "order_id": f"ext-l{i}", "symbol": "BTCUSDT", "side": "SELL", "status": "filled",
                        "realized_pnl": -1.0 - i % 2, "outcome": "loss", "strategy": "ext"}) as r:
                    ack = await r.json()
            assert ack["edge"]["vetoing"] is True and ack["edge"]["trips"] == 5
            check = {"symbol": "BTCUSDT", "side": "BUY", "quantity": 0.002, "price": 60_000.0, "e_pi_bps": 5.0}
            async with http.post(f"{url}/pretrade/check", json={**check, "idempotency_key": "e1",
                                                                "strategy": "ext"}) as r:
                d = await r.json()
            assert not d["allow"] and "negative_expectancy" in [x["name"] for x in d["reasons"]]
        assert risk.cooloff.losses == losses_before + 1
        assert daemon.pipeline.portfolio.ledger.qty("BTCUSDT") == qty_before
    finally:
        await stop(live)
    assert '"GateFill"' in (tmp_path / "logs" / "events.jsonl").read_text()


def test_a_public_gate_address_without_a_token_is_a_setup_error(tmp_path: Path) -> None:
    daemon = Daemon(config(tmp_path, runtime__gate={"enabled": True, "host": "0.0.0.0"}), env={})
    import asyncio

    with pytest.raises(SetupError, match="HEDGE_GATE_TOKEN"):
        asyncio.run(daemon.run(install_signals=False))
