"""``hedge gate`` standalone against the local exchange over real sockets: its NAV and state come from the
venue's account services, post-trade losses start the cooloff, reports are journaled; a non-loopback
address without a token refuses to start, with one every route but /health wants it."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hedge.daemon.gate import StandaloneGate
from hedge.exchange.server import LocalExchange
from tests.kit.config import make_config
from tests.kit.wait import wait_for

CHECK = {"symbol": "BTCUSDT", "side": "BUY", "quantity": 0.001, "price": 60_000.0, "e_pi_bps": 5.0,
         "latency_ms": 10.0}


@contextlib.asynccontextmanager
async def running_gate(gate: StandaloneGate) -> AsyncIterator[str]:
    task = asyncio.get_running_loop().create_task(gate.run(install_signals=False))
    try:
        await wait_for(lambda: gate.server.started.is_set() or task.done(), 60, what="gate listening")
        assert not task.done(), task
        yield f"http://127.0.0.1:{gate.server.bound_port}"
    finally:
        gate.engine.request_stop("test")
        await asyncio.wait_for(task, 60)


def _cfg(tmp_path: Path, exchange: LocalExchange) -> Any:
    return make_config(tmp_path, runtime__venue="local", runtime__local_exchange__port=exchange.port)


async def _check(http: aiohttp.ClientSession, url: str, key: str) -> dict[str, Any]:
    async with http.post(f"{url}/pretrade/check", json={**CHECK, "idempotency_key": key}) as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
        return body


@pytest.mark.slow
async def test_standalone_gate_decides_with_the_venues_account(tmp_path: Path, exchange: LocalExchange) -> None:
    gate = StandaloneGate(_cfg(tmp_path, exchange), host="127.0.0.1", port=0, env={})
    async with running_gate(gate) as url, aiohttp.ClientSession() as http:
        async def healthy() -> bool:
            async with http.get(f"{url}/health") as r:
                return r.status == 200
        await wait_for(healthy, 60, what="NAV from the venue")
        keys = iter(range(10_000))

        async def allowed() -> dict[str, Any] | None:
            d = await _check(http, url, f"k{next(keys)}")
            return d if d["allow"] else None
        d = await wait_for(allowed, 60, what="an allowed check (user stream up)", interval=0.2)
        assert d["max_qty"] == pytest.approx(0.001) and d["state"] == "ACTIVE"

        losses = gate.cfg.risk.cooloff.consecutive_losses
        for i in range(losses):
            log = {"order_id": f"o{i}", "symbol": "BTCUSDT", "side": "SELL", "status": "filled",
                   "fills": [{"qty": 0.001, "price": 59_900.0, "realized_pnl": -0.1}], "outcome": "loss",
                   "realized_pnl": -0.1}
            async with http.post(f"{url}/posttrade/log", json=log) as r:
                assert r.status == 200
                ack = await r.json()
        assert ack["cooloff_s"] > 0
        d = await _check(http, url, "after-losses")
        assert not d["allow"] and [r["name"] for r in d["reasons"]] == ["cooloff"]
        async with http.get(f"{url}/metrics") as r:
            text = await r.text()
        assert 'hedge_gate_posttrade_total{status="filled"} ' + f"{float(losses)}" in text
        assert 'hedge_gate_sprt_llr{strategy="external",symbol="BTCUSDT"} -' in text
        assert 'hedge_gate_no_edge{strategy="external",symbol="BTCUSDT"} 0.0' in text  # 3 trips: too few
    journal = tmp_path / "orders_success.jsonl"
    assert journal.exists() and journal.read_text().count('"posttrade"') == losses
    assert (tmp_path / "events.jsonl").read_text().count('"Fill"') == losses


async def test_non_loopback_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HEDGE_GATE_TOKEN"):
        StandaloneGate(make_config(tmp_path), host="0.0.0.0", port=0, env={})


async def test_with_a_token_every_route_but_health_wants_it(tmp_path: Path, exchange: LocalExchange) -> None:
    gate = StandaloneGate(_cfg(tmp_path, exchange), host="127.0.0.1", port=0, env={"HEDGE_GATE_TOKEN": "s3cret"})
    async with running_gate(gate) as url, aiohttp.ClientSession() as http:
        body = {**CHECK, "idempotency_key": "t"}
        async with http.post(f"{url}/pretrade/check", json=body) as r:
            assert r.status == 401
        async with http.post(f"{url}/pretrade/check", json=body, headers={"Authorization": "Bearer nope"}) as r:
            assert r.status == 401
        async with http.post(f"{url}/pretrade/check", json=body, headers={"Authorization": "Bearer s3cret"}) as r:
            assert r.status == 200
        async with http.get(f"{url}/health") as r:
            assert r.status in (200, 503)


def test_cli_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    import subprocess

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "hedge", "gate", "--host", "0.0.0.0", "--port", "0",
                        "--log-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 2 and "HEDGE_GATE_TOKEN" in r.stderr
