"""A restart does not reset the risk gate: the daemon's wiring writes logs/state/risk_state.json
and a new engine starts from it (in-process engines, then the real ``hedge run --once`` against a
local exchange process); replay and runs on the built-in (fresh paper) exchange never read it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from hedge.app import Engine
from hedge.config import Config, default_config
from hedge.events import (
    BookUpdate,
    FeedStatus,
    Nav,
    OrderIntent,
    RiskDecision,
    Side,
    TradingState,
    TradingStateChange,
)
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.feeds.recording import bundled_btcusdt
from hedge.pipeline import Pipeline, attach_pipeline
from hedge.replay.runner import Replay
from hedge.risk.persisted import RISK_STATE_FILE, PersistedRisk, RiskStateStore
from hedge.risk.reasons import Reason
from hedge.state import schemas as s
from hedge.state.journal import read_journal
from hedge.state.manifest import read_surface
from hedge.venue.binance_filters import bundled_filters
from hedge.venue.dry_run import DryRunVenue
from tests.kit.config import make_config
from tests.kit.wait import wait_for

ROOT = Path(__file__).resolve().parents[3]
SYM = "BTCUSDT"


def config(tmp: Path) -> Config:
    return make_config(tmp / "logs", runtime__metrics__enabled=False, risk__kill_switch__flag_file=str(tmp / "KILL"))


def read_state(log_dir: Path) -> PersistedRisk | None:
    try:
        return msgspec.json.decode((log_dir / "state" / RISK_STATE_FILE).read_bytes(), type=PersistedRisk)
    except FileNotFoundError:
        return None




class Daemonish:
    """The daemon's own wiring (``attach_pipeline``) on the dry-run venue; NAV and market data come from the test."""

    def __init__(self, cfg: Config) -> None:
        self.engine = Engine(cfg)
        self.pipe: Pipeline = attach_pipeline(self.engine, DryRunVenue(self.engine.journals, bundled_filters()))
        self.decisions: list[RiskDecision] = []
        self.engine.bus.subscribe(RiskDecision, self.decisions.append)
        self.task: asyncio.Task[int] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.engine.run(install_signals=False))
        await wait_for(lambda: self.pipe.risk.reconciled)  # the portfolio's first reconciliation (dry-run venue)
        self.publish(FeedStatus(connection="user", connected=True))

    def publish(self, ev: object) -> None:
        self.engine.bus.publish(ev)  # type: ignore[arg-type]

    def nav(self, v: float) -> None:
        self.publish(Nav(nav=v, wallet_balance=v, unrealized_pnl=0.0, source="test", recv_ns=time.time_ns()))

    def decide(self) -> RiskDecision:
        now = time.time_ns()
        self.publish(BookUpdate(symbol=SYM, update_id=1, valid=True, bid_px=100.0, bid_qty=5.0, ask_px=100.1,
                                ask_qty=5.0, mid=100.05, micro=100.05, imbalance=0.0, spread_bps=1.0,
                                ts_ms=now // 1_000_000, recv_ns=now))
        self.publish(OrderIntent(intent_id=f"t-{now}", symbol=SYM, side=Side.BUY, notional=100.0, strategy="test",
                                 reason="test", e_pi_bps=5.0, recv_ns=now))
        return self.decisions[-1]

    async def stop(self) -> None:
        assert self.task is not None
        self.engine.request_stop("test")
        assert await asyncio.wait_for(self.task, 30) == 0


async def test_the_daily_drawdown_gate_still_vetoes_after_a_daemon_restart(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    logs = tmp_path / "logs"
    first = Daemonish(cfg)
    assert isinstance(first.engine.services[-4], RiskStateStore)  # a service of the daemon
    await first.start()
    first.nav(10_000.0)  # the day's first reading: the day start
    first.nav(9_600.0)  # -4%, within the 10% limit
    assert first.decide().allow
    await wait_for(lambda: (s := read_state(logs)) is not None and s.day_start_nav == 10_000.0)  # written while running
    first.nav(10_050.0)
    await first.stop()
    saved = read_state(logs)
    assert saved is not None and saved.hwm == 10_050.0  # the shutdown write has the last high

    second = Daemonish(cfg)
    assert second.pipe.risk.nav.day_start_nav == 10_000.0 and second.pipe.risk.nav.hwm == 10_050.0
    await second.start()
    second.nav(8_900.0)  # -11% from the carried day start (a fresh process would have taken 8,900 as it)
    d = second.decide()
    await second.stop()
    assert not d.allow and Reason.DAILY_DRAWDOWN in d.reasons
    assert d.observed[Reason.DAILY_DRAWDOWN] == 1 - 8_900 / 10_000
    after = read_state(logs)
    assert after is not None and (after.state, after.state_reason) == (TradingState.REDUCING, Reason.DAILY_DRAWDOWN)


async def test_replay_neither_reads_nor_writes_the_risk_state(tmp_path: Path) -> None:
    poisoned = PersistedRisk(account="local", day=time.time_ns() // 86_400_000_000_000, day_start_nav=1e9, hwm=1e9,
                             state=TradingState.REDUCING, state_reason=Reason.PORTFOLIO_DRAWDOWN)
    path = tmp_path / "state" / RISK_STATE_FILE
    path.parent.mkdir(parents=True)
    data = msgspec.json.encode(poisoned)
    path.write_bytes(data)
    r = Replay(default_config(), bundled_btcusdt(), log_dir=tmp_path)
    try:
        risk = r.pipeline.risk
        assert risk.store is None and risk.machine.state is TradingState.ACTIVE
        assert risk.nav.hwm == 0.0 and risk.nav.day_start_nav == 0.0
    finally:
        r.engine.journals.close()
    assert path.read_bytes() == data


def hedge_once(tmp: Path, balance: float, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--once", "--config", str(ROOT / "configs"),
         "--log-dir", str(tmp / "logs")],
        cwd=tmp, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0",
             "HEDGE_RUNTIME__LOCAL_EXCHANGE__STARTING_BALANCE": str(balance), **env},
    )


def test_hedge_run_against_an_account_that_lost_since_the_day_start_stays_reducing(tmp_path: Path) -> None:
    # A separate local exchange process is "the account" (venue binance at its URL, 10,000 USDT);
    # an earlier process of this account saw 12,000 at the day's start and wrote it.
    logs = tmp_path / "logs"
    earlier = PersistedRisk(account="binance", day=time.time_ns() // 86_400_000_000_000, day_start_nav=12_000.0,
                            hwm=12_000.0)
    (logs / "state").mkdir(parents=True)
    (logs / "state" / RISK_STATE_FILE).write_bytes(msgspec.json.encode(earlier))
    ex = subprocess.Popen([sys.executable, "-m", "hedge", "exchange", "--port", "0", "--limits", "off"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert ex.stdout is not None
        port = int(ex.stdout.readline().split("http://127.0.0.1:")[1].split()[0])
        r = hedge_once(tmp_path, 10_000.0, HEDGE_RUNTIME__VENUE="binance",
                       HEDGE_STRATEGY__CALIBRATOR__MAX_AGE_DAYS="0",  # the shipped 2024 fit: not stale here
                       HEDGE_RUNTIME__FEEDS__REST_URL_BINANCE=f"http://127.0.0.1:{port}",
                       HEDGE_RUNTIME__FEEDS__WS_URL_BINANCE=f"ws://127.0.0.1:{port}",
                       BINANCE_API_KEY=DEFAULT_API_KEY, BINANCE_API_SECRET=DEFAULT_API_SECRET)
    finally:
        ex.terminate()
        ex.wait(10)
    assert r.returncode == 0, r.stderr[-2000:]
    after = read_state(logs)  # -16.7% from the carried day start: daily limit 10%, portfolio limit 20%
    assert after is not None and after.day_start_nav == 12_000.0 and after.hwm == 12_000.0
    assert (after.state, after.state_reason) == (TradingState.REDUCING, Reason.DAILY_DRAWDOWN)
    changes = [rec.decode(TradingStateChange) for rec in read_journal(logs / "events.jsonl")
               if rec.kind == TradingStateChange.__name__]
    assert [(c.state, c.reason) for c in changes] == [(TradingState.REDUCING, Reason.DAILY_DRAWDOWN)]
    snap = read_surface(logs / "state", s.RiskSnapshotState)  # what operators see (hedge status)
    assert snap is not None and (snap.trading_state, snap.reason) == ("REDUCING", Reason.DAILY_DRAWDOWN)


@pytest.mark.slow
def test_hedge_run_on_the_built_in_exchange_starts_each_paper_account_fresh(tmp_path: Path) -> None:
    # The in-process local exchange opens a new paper account at every start: a lower balance on
    # the second run is a different account, not a loss, and nothing is carried or written.
    for balance in (10_000.0, 5_000.0):
        r = hedge_once(tmp_path, balance)
        assert r.returncode == 0, r.stderr[-2000:]
    logs = tmp_path / "logs"
    assert read_state(logs) is None
    snap = read_surface(logs / "state", s.RiskSnapshotState)
    assert snap is not None and snap.trading_state == "ACTIVE"
