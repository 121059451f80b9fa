"""``risk.gate_url``: the risk stage asks a remote gate (real HTTP on 127.0.0.1) after each local approval,
and fails closed — a remote veto, a remote reduction, no answer within the budget, nothing listening:
each decision is what the remote allows, and a failure is a counted, journaled ``remote_gate`` veto."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from hedge.bus import Bus
from hedge.events import BookUpdate, FeedStatus, Nav, OrderIntent, Reconciled, RiskDecision, Side, TradingState
from hedge.gate.remote import RemoteGate
from hedge.model.clock import LiveClock
from hedge.risk.stage import RiskStage
from hedge.state.journal import JournalWriter
from tests.integration.gate.harness import GateThread
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


async def test_no_answer_in_time_or_nothing_listening_is_a_journaled_veto(tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections (the backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    try:
        s = Stage(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}", budget_ms=100.0)
        d = await s.decide("slow")
        assert not d.allow and d.reasons == ("remote_gate",)
        assert d.observed["remote_gate"] >= 100.0 and d.limits["remote_gate"] == 100.0
        assert s.gate.failures["timeout"] == 1
        await s.gate.close()
        s2 = Stage(tmp_path / "b", f"http://127.0.0.1:{dead_port}")
        d = await s2.decide("refused")
        assert not d.allow and d.reasons == ("remote_gate",) and s2.gate.failures["error"] == 1
        await s2.gate.close()
        s.journal.flush()
        assert '"remote_gate"' in (tmp_path / "risk_vetoes.jsonl").read_text()
    finally:
        silent.close()
