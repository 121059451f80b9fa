"""The shadow pipeline in the daemon, on its in-process local exchange (real sockets, real ccxt).

The classic exit profile with taker routing trades on the bundled market at 8x; with the shadow on and
a candidate equal to the live configuration: the shadow decides what live decides, the exchange's order
log holds the live pipeline's orders only (the shadow's went to its simulated account), and the shadow
writes ``shadow_decisions.jsonl`` and ``state/shadow_state.json`` with its cost per tick, which /metrics
shows too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from hedge.config import load_config
from hedge.daemon.wiring import Daemon
from hedge.shadow.pipeline import SHADOW_DIR, SHADOW_JOURNAL, ShadowPipeline
from hedge.state import schemas as s
from hedge.state.manifest import read_surface, state_dir
from tests.integration.test_daemon_e2e import lively_config
from tests.kit.config import make_config
from tests.kit.wait import wait_for

pytestmark = pytest.mark.slow  # a daemon trading until the shadow has decided on its orders (~10-20 s loaded)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_an_equal_candidate_in_the_daemon_agrees_and_sends_nothing(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    cfg = make_config(
        logs, base=load_config(lively_config(tmp_path), env={}),
        runtime__router__mode="taker", runtime__local_exchange__speed=8.0, runtime__metrics__port=0,
        runtime__features__shadow_pipeline=True, runtime__shadow__report_interval_s=0.5,
        risk__kill_switch__flag_file=str(tmp_path / "KILL"),
    )
    daemon = Daemon(cfg)
    task = asyncio.get_running_loop().create_task(daemon.run(install_signals=False))
    try:
        def shadow() -> ShadowPipeline | None:
            assert not task.done(), task
            engine = daemon.engine
            return next((x for x in engine.services if isinstance(x, ShadowPipeline)), None) if engine else None

        await wait_for(lambda: shadow() is not None, 30, what="the shadow service", interval=0.05)
        sh = shadow()
        assert sh is not None and daemon.exchange is not None

        def decided() -> bool:  # live sent orders, the shadow placed the same ones on its own account, a report
            rep = sh.report()
            state = read_surface(state_dir(logs), s.ShadowState)
            return (rep.shadow_orders >= 2 and rep.live_fills >= 1 and state is not None
                    and state.shadow_orders >= 1 and state.cost_samples > 0)

        await wait_for(decided, 90, what="orders decided by both pipelines and a shadow report", interval=0.1)
        assert daemon.engine is not None
        async with aiohttp.ClientSession() as http, \
                http.get(f"{daemon.engine.observability.server.url}/metrics") as r:
            metrics = await r.text()
        assert 'hedge_shadow_tick_seconds_count{pipeline="shadow"}' in metrics
        assert 'hedge_shadow_tick_seconds_count{pipeline="live"}' in metrics
        assert 'hedge_feature_enabled{flag="shadow_pipeline"} 1.0' in metrics
    finally:
        if daemon.engine is not None:
            daemon.engine.request_stop("test")
        assert await asyncio.wait_for(task, 60) == 0

    rep = sh.report()
    assert rep.errors == 0
    assert rep.shadow_intents == rep.live_intents > 0 and rep.intent_agreement == 1.0, rep.differences
    assert rep.decisions_compared > 0 and rep.decision_agreement == 1.0, rep.differences
    assert rep.cost_samples > 0 and rep.shadow_us_per_tick > 0 and rep.live_us_per_tick > 0 and rep.cost_share > 0

    # The exchange saw the live pipeline's orders only: each id once, exactly the live journal's ids.
    live_sent = [e["data"]["client_order_id"] for e in lines(logs / "orders_sent.jsonl")]
    posted = [e.client_order_id for e in daemon.exchange.order_log if e.method == "POST"]
    assert sorted(posted) == sorted(live_sent) and len(set(posted)) == len(posted) > 0
    shadow_sent = [e["data"]["client_order_id"] for e in lines(logs / SHADOW_DIR / "orders_sent.jsonl")]
    assert len(shadow_sent) == rep.shadow_orders > 0  # placed, on the shadow's simulated account

    kinds = [e["kind"] for e in lines(logs / f"{SHADOW_JOURNAL}.jsonl")]
    assert kinds.count("intent") == rep.shadow_intents and kinds.count("order") == rep.shadow_orders
    state = read_surface(state_dir(logs), s.ShadowState)
    assert state is not None and state.enabled and state.errors == 0 and state.cost_samples > 0
    assert msgspec.structs.asdict(state)["candidate"] == "live configuration"
