"""examples/ccxt_runner.py end to end: plain ccxt on the local exchange, asking a standalone gate on the
same account before every order and reporting every execution to it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import aiohttp
import pytest

from hedge.daemon.gate import StandaloneGate
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from tests.integration.gate.test_gate_standalone import running_gate
from tests.kit.config import make_config
from tests.kit.wait import wait_for

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ccxt_runner.py"


def _load_example() -> object:
    spec = importlib.util.spec_from_file_location("ccxt_runner", EXAMPLE)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
async def test_ccxt_runner_trades_only_through_the_gate(tmp_path: Path, exchange: LocalExchange) -> None:
    runner = _load_example()
    assert (runner.LOCAL_KEY, runner.LOCAL_SECRET) == (DEFAULT_API_KEY, DEFAULT_API_SECRET)  # type: ignore[attr-defined]
    cfg = make_config(tmp_path, runtime__venue="local", runtime__local_exchange__port=exchange.port)
    gate = StandaloneGate(cfg, host="127.0.0.1", port=0, env={})
    async with running_gate(gate) as url:
        async with aiohttp.ClientSession() as http:
            async def ready() -> bool:
                async with http.get(f"{url}/health") as r:
                    return r.status == 200 and gate.stage.user_stream_up
            await wait_for(ready, 60, what="the gate's account view and user stream")
        stats = await runner.run(exchange.base_url, url, orders=6, qty=0.002)  # type: ignore[attr-defined]
        await wait_for(lambda: gate.service.posttrade["filled"] == stats["filled"], 30, what="reports counted")
    assert stats["asked"] == 6 and stats["allowed"] >= 2 and stats["filled"] >= 2, stats
    assert stats["allowed"] + stats["vetoed"] == 6
    assert gate.service.decisions["allow"] + gate.service.decisions["veto"] == 6
    assert sum(gate.service.posttrade.values()) == 6  # every order reported: filled, failed or denied
    assert (tmp_path / "orders_success.jsonl").read_text().count('"posttrade"') == stats["filled"]
