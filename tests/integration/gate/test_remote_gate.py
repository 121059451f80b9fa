"""``risk.gate_url``: the risk stage asks a remote gate (real HTTP on 127.0.0.1) after each local approval,
and fails closed — a remote veto, a remote reduction, a remote that misbehaves in each way (stalls, 5xx, 401,
another status, a body that is not an answer, a reset connection) or nothing listening: each decision is what
the remote allows, a failure is a ``remote_gate`` veto, journaled and counted by kind on the daemon's /metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from hedge.bus import Bus
from hedge.events import BookUpdate, FeedStatus, Nav, OrderIntent, Reconciled, RiskDecision, Side, TradingState
from hedge.gate.remote import RemoteGate, RemoteGateCollector
from hedge.model.clock import LiveClock
from hedge.risk.stage import RiskStage
from hedge.state.journal import JournalWriter
from tests.integration.gate.harness import GateThread
from tests.integration.test_daemon_live import config, start, stop
from tests.kit.config import make_config
from tests.kit.wait import wait_for
from tests.unit.risk.helpers import ctx, risk_config

INTENT = OrderIntent(intent_id="i", symbol="BTCUSDT", side=Side.BUY, notional=100.0, strategy="t", reason="t",
                     limit_px=100.0, e_pi_bps=5.0)


@pytest.fixture(scope="module")
def remote() -> Iterator[GateThread]:
    with GateThread(risk_config()) as g:
        yield g


class Stage:
    """A risk stage that allows ``INTENT`` locally, with ``RemoteGate`` on ``url``."""

    def __init__(self, tmp: Path, url: str, budget_ms: float = 2000.0) -> None:
        cfg = make_config(tmp, risk=risk_config().risk, symbols=risk_config().symbols)
        cfg = make_config(base=cfg, risk__gate_url=url, risk__gate_timeout_ms=budget_ms)
        self.bus = Bus()
        self.journal = JournalWriter(tmp / "risk_vetoes.jsonl")
        self.stage = RiskStage(self.bus, cfg, self.journal, clock=LiveClock())
        self.stage.attach()
        self.gate = RemoteGate(cfg, clock=LiveClock(), env={})
        self.stage.remote = self.gate
        self.out: list[RiskDecision] = []
        self.bus.subscribe(RiskDecision, self.out.append)
        self.bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="reconcile"))
        self.bus.publish(FeedStatus(connection="user", connected=True))
        self.bus.publish(Reconciled(trigger="start"))
        self.bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=100.0, bid_qty=1.0,
                                    ask_px=100.0, ask_qty=1.0, mid=100.0, micro=100.0, imbalance=0.0, spread_bps=0.0))

    async def decide(self, intent_id: str) -> RiskDecision:
        n = len(self.out)
        self.bus.publish(OrderIntent(**{**{f: getattr(INTENT, f) for f in INTENT.__struct_fields__},
                                        "intent_id": intent_id}))
        await wait_for(lambda: len(self.out) > n, 30, what="the decision")
        return self.out[-1]


async def test_the_remote_gate_has_the_last_word(tmp_path: Path, remote: GateThread) -> None:
    s = Stage(tmp_path, f"http://127.0.0.1:{remote.port}")
    try:
        remote.context = ctx()
        d = await s.decide("ok")
        assert d.allow and d.max_qty == pytest.approx(1.0) and d.reasons == ()
        remote.context = ctx(state=TradingState.HALTED)
        d = await s.decide("halted")
        assert not d.allow and d.reasons == ("remote_gate",) and s.gate.failures["veto"] == 1
        small = msgspec.structs.replace(ctx().nav, value=100.0)
        remote.context = ctx(nav=small, day_start_nav=100.0, nav_hwm=100.0)
        d = await s.decide("smaller")  # the remote's NAV is 100 USDT: its caps clip the order
        assert d.allow and 0.0 < d.max_qty < 1.0 and d.reasons[-1] == "remote_gate"
        assert d.limits["remote_gate"] == d.max_qty
    finally:
        await s.gate.close()


class Misbehaving:
    """A real HTTP server on 127.0.0.1 that answers each request with the next of ``modes``: ``stall`` (never
    answers), ``5xx`` (503), ``auth`` (401), ``status`` (404), ``bad_body`` (200, not JSON), ``wrong_shape``
    (200, JSON that is not a CheckResponse), ``reset`` (closes the connection without an answer)."""

    def __init__(self, modes: list[str]) -> None:
        self.modes = list(modes)
        self.release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/pretrade/check", self.answer)
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def __aenter__(self) -> Misbehaving:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self.runner.cleanup()

    async def answer(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        mode = self.modes.pop(0)
        if mode == "stall":
            await self.release.wait()
        if mode == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never reaches the client
        status, body = {"5xx": (503, b"upstream down"), "auth": (401, b'{"error": "token"}'),
                        "status": (404, b"no"), "bad_body": (200, b"{not json"),
                        "wrong_shape": (200, b'{"allow": "yes"}')}.get(mode, (500, b""))
        return web.Response(status=status, body=body, content_type="application/json")


KINDS = ["stall", "5xx", "auth", "status", "bad_body", "wrong_shape", "reset"]
COUNTED = {"timeout": 1, "5xx": 1, "auth": 1, "status": 1, "bad_body": 2, "connection": 1, "refused": 1}


async def test_each_way_the_remote_gate_misbehaves_is_a_counted_journaled_veto(tmp_path: Path) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    async with Misbehaving(KINDS) as bad:
        s = Stage(tmp_path, f"http://127.0.0.1:{bad.port}", budget_ms=300.0)
        try:
            for i, mode in enumerate(KINDS):
                d = await s.decide(f"{mode}-{i}")
                assert not d.allow and d.reasons == ("remote_gate",), mode
                assert d.limits["remote_gate"] == 300.0
            assert d.observed["remote_gate"] >= 0.0
            s.gate.url = f"http://127.0.0.1:{dead_port}/pretrade/check"  # nothing listens there any more
            d = await s.decide("refused")
            assert not d.allow and d.reasons == ("remote_gate",)
            assert dict(s.gate.failures) == COUNTED and s.gate.allowed == 0
        finally:
            await s.gate.close()
    s.journal.flush()
    lines = (tmp_path / "risk_vetoes.jsonl").read_text().splitlines()
    assert len(lines) == len(KINDS) + 1 and all('"reasons":["remote_gate"]' in line for line in lines)
    assert s.stage.counters().vetoes == {"remote_gate": len(KINDS) + 1}
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RemoteGateCollector(s.gate))
    text = generate_latest(registry).decode()
    for kind, n in COUNTED.items():
        assert f'hedge_remote_gate_failures_total{{kind="{kind}"}} {float(n)}' in text
    assert 'hedge_remote_gate_answers_total{result="allow"} 0.0' in text


@pytest.mark.slow
async def test_the_daemons_metrics_show_the_remote_gates_failures(tmp_path: Path) -> None:
    """A daemon with ``risk.gate_url`` on a remote that answers 503 then 401: its own /metrics counts both."""
    async with Misbehaving(["5xx", "auth"]) as bad:
        live = await start(config(tmp_path, risk__gate_url=f"http://127.0.0.1:{bad.port}",
                                  risk__gate_timeout_ms=2000.0))
        try:
            daemon = live.daemon
            assert daemon.engine is not None and daemon.pipeline is not None and daemon.remote_gate is not None
            out: list[RiskDecision] = []
            daemon.engine.bus.subscribe(RiskDecision, out.append)
            books = daemon.pipeline.router.books
            await wait_for(lambda: "BTCUSDT" in books, 60, what="a BTCUSDT book", interval=0.05)
            remote = daemon.remote_gate
            engine = daemon.engine

            async def asked(n: int) -> bool:
                if sum(remote.failures.values()) >= n:
                    return True
                mid = books["BTCUSDT"].mid
                engine.bus.publish(msgspec.structs.replace(
                    INTENT, intent_id=f"m{len(out)}", limit_px=mid, notional=mid * 0.002))
                return False

            await wait_for(lambda: asked(2), 60, what="two intents allowed locally and asked remotely",
                           interval=0.5)
            url = daemon.engine.observability.server.url
            async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as r:
                text = await r.text()
            assert 'hedge_remote_gate_failures_total{kind="5xx"} 1.0' in text
            assert 'hedge_remote_gate_failures_total{kind="auth"} 1.0' in text
            assert 'hedge_remote_gate_failures_total{kind="timeout"} 0.0' in text
            assert 'hedge_vetoes_total{reason="remote_gate"} 2.0' in text
        finally:
            await stop(live)
