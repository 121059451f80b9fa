"""The risk stage publishes what it sees (``RiskSnapshot``: NAV, drawdowns, exposures, VaR/CVaR,
open orders, state), throttled on its clock; the kill switch publishes its engagements."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.events import KillSwitch, MarkPrice, OrderStatus, RiskSnapshot, Side, TradingState
from hedge.risk.check import historical_cvar, historical_var
from hedge.risk.kill_switch import KillSwitchService, write_flag
from hedge.risk.snapshot import SNAPSHOT_INTERVAL_NS
from tests.unit.risk.test_stage import Rig


class SnapRig(Rig):
    """The risk stage rig, also collecting every published RiskSnapshot."""

    def __init__(self, tmp_path: Path, **risk: object) -> None:
        super().__init__(tmp_path, **risk)
        self.snapshots: list[RiskSnapshot] = []
        self.bus.subscribe(RiskSnapshot, self.snapshots.append)


@pytest.fixture
def rig(tmp_path: Path) -> SnapRig:
    return SnapRig(tmp_path)


def test_nav_drawdowns_and_exposures_are_published(rig: SnapRig) -> None:
    rig.nav(10_000.0)  # the day start and the high-water mark
    first = rig.snapshots[-1]
    assert (first.nav, first.peak_nav, first.drawdown, first.daily_drawdown) == (10_000.0, 10_000.0, 0.0, 0.0)
    assert first.state is TradingState.ACTIVE and first.ts_ms == rig.clock.now_ns() // 1_000_000
    rig.clock.advance_s(1.0)
    rig.position(-30.0, mark_price=100.0)  # short 3,000 USDT at the mark
    rig.clock.advance_s(1.0)
    rig.nav(9_500.0)
    s = rig.snapshots[-1]
    assert s.nav == 9_500.0 and s.peak_nav == 10_000.0
    assert s.drawdown == pytest.approx(0.05) and s.daily_drawdown == pytest.approx(0.05)
    assert s.gross_exposure == pytest.approx(3_000.0 / 9_500.0) and s.net_exposure == pytest.approx(-3_000.0 / 9_500.0)
    rig.clock.advance_s(1.0)
    rig.bus.publish(MarkPrice(symbol="BTCUSDT", mark_price=110.0, index_price=110.0, funding_rate=0.0,
                              next_funding_ms=0))  # a mark moves the exposure
    assert rig.snapshots[-1].gross_exposure == pytest.approx(3_300.0 / 9_500.0)


def test_open_orders_and_the_state_are_in_the_snapshot(rig: SnapRig) -> None:
    rig.ready()
    rig.clock.advance_s(1.0)
    rig.request("c1", Side.BUY, 1.0)
    rig.update("c1", OrderStatus.NEW, qty=1.0)
    assert rig.snapshots[-1].open_orders == 1
    rig.clock.advance_s(1.0)
    rig.stage.halt("test")
    rig.update("c1", OrderStatus.CANCELED, qty=1.0)
    last = rig.snapshots[-1]
    assert last.open_orders == 0 and last.state is TradingState.HALTED and last.reason == "test"


def test_snapshots_are_throttled_on_the_stage_clock(rig: SnapRig) -> None:
    rig.nav(10_000.0)
    for k in range(50):  # 50 NAV readings inside one interval: one snapshot
        rig.nav(10_000.0 + k)
    assert len(rig.snapshots) == 1
    rig.clock.advance_to_ns(rig.clock.now_ns() + SNAPSHOT_INTERVAL_NS)
    rig.nav(10_100.0)
    assert len(rig.snapshots) == 2 and rig.snapshots[-1].nav == 10_100.0


def test_var_and_cvar_need_enough_returns(tmp_path: Path) -> None:
    rig = SnapRig(tmp_path, return_period_s=1.0, cvar_min_samples=5, cvar_alpha=0.2)
    seen = rig.snapshots
    navs = [10_000.0, 9_900.0, 10_100.0, 9_800.0, 10_000.0, 9_700.0, 9_900.0]
    for v in navs:
        rig.nav(v)
        rig.clock.advance_s(1.0)
    returns = rig.stage.nav.returns
    assert len(returns) == 6
    last = seen[-1]
    assert last.var == pytest.approx(historical_var(returns, 0.2)) and last.var > 0.0
    assert last.cvar == pytest.approx(historical_cvar(returns, 0.2)) and last.cvar >= last.var
    early = seen[3]  # three returns: below the minimum sample, so not reported
    assert early.var == 0.0 and early.cvar == 0.0


@given(st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=1, max_size=200), st.floats(0.01, 1.0))
def test_property_var_is_the_kth_worst_loss_and_cvar_is_at_least_var(xs: list[float], alpha: float) -> None:
    returns = tuple(xs)
    k = min(len(xs), max(1, math.ceil(alpha * len(xs) - 1e-9)))
    var, cvar = historical_var(returns, alpha), historical_cvar(returns, alpha)
    assert var == -sorted(xs)[k - 1]
    assert sum(1 for x in xs if -x >= var) >= k  # k returns lose at least VaR
    assert cvar >= var - 1e-12


def test_the_kill_switch_publishes_its_engagement_and_the_flag_removal(tmp_path: Path) -> None:
    flag = tmp_path / "KILL"
    halted: list[str] = []
    events: list[KillSwitch] = []
    svc = KillSwitchService(flag, halted.append, signals=False, publish=events.append)
    assert not svc.check() and events == []
    write_flag(flag, "operator", ts_ns=time.time_ns())
    assert svc.check() and not svc.check()  # fires once per appearance
    flag.unlink()
    assert not svc.check()
    assert halted == ["kill switch: operator"]
    assert [(e.engaged, e.reason) for e in events] == [
        (True, "kill switch: operator"), (False, f"flag {flag} removed; HALTED until a restart"),
    ]
    assert all(e.recv_ns > 0 for e in events)
