"""The risk gate's memory across a restart (hedge.risk.persisted): what is carried, what is dropped,
an unusable file, the write throttle, masking."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    BookUpdate,
    FeedStatus,
    Fill,
    Nav,
    OrderIntent,
    Position,
    PositionDrift,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
    TradingStateChange,
)
from hedge.model.clock import EventClock
from hedge.risk.limits import MS_PER_DAY
from hedge.risk.persisted import (
    RISK_STATE_FILE,
    UNUSABLE_SUFFIX,
    VERSION,
    PersistedRisk,
    RiskStateStore,
    carry_over,
)
from hedge.risk.reasons import Reason
from hedge.risk.stage import RiskStage
from tests.kit.wait import wait_for
from tests.unit.risk.helpers import NOW_NS, intent, risk_config

MS = 1_000_000
DAY_NS = MS_PER_DAY * MS
TODAY = NOW_NS // DAY_NS


def nav(v: float) -> Nav:
    return Nav(nav=v, wallet_balance=v, unrealized_pnl=0.0, source="reconcile")


class Proc:
    """One "process": a bus and a risk stage on ``path`` (what seen collects: decisions, state changes, alerts)."""

    def __init__(self, path: Path, clock: EventClock, cfg: Config | None = None) -> None:
        self.bus = Bus()
        self.seen: list[object] = []
        for t in (RiskDecision, TradingStateChange, Alert):
            self.bus.subscribe(t, self.seen.append)
        self.stage = RiskStage(self.bus, cfg or risk_config(), clock=clock, state_file=path)
        self.stage.attach()
        assert self.stage.store is not None
        self.store: RiskStateStore = self.stage.store

    def ready(self, v: float) -> None:
        ns = self.stage.clock.now_ns()
        self.bus.publish(nav(v))
        self.bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=100.0, bid_qty=1.0, ask_px=100.0,
                                    ask_qty=1.0, mid=100.0, micro=100.0, imbalance=0.0, spread_bps=1.0,
                                    ts_ms=ns // MS, recv_ns=ns))
        self.bus.publish(FeedStatus(connection="user", connected=True))
        self.bus.publish(Reconciled(trigger="start"))

    def decide(self, it: OrderIntent | None = None) -> RiskDecision:
        self.bus.publish(it or intent(100.0))
        d = self.seen[-1]
        assert isinstance(d, RiskDecision)
        return d


def saved(path: Path) -> PersistedRisk:
    return msgspec.json.decode(path.read_bytes(), type=PersistedRisk)


def exists(path: Path) -> bool:
    return path.exists()


def write(path: Path, mem: PersistedRisk) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(mem))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / RISK_STATE_FILE


# ---------------------------------------------------------------------------------- round trip


def test_round_trip_carries_day_start_hwm_returns_cooloff_and_streaks(path: Path) -> None:
    clock = EventClock(NOW_NS)
    cfg = risk_config(return_period_s=60.0)
    a = Proc(path, clock, cfg)
    a.ready(10_000.0)
    for v in (10_400.0, 10_200.0):
        clock.advance_s(61)
        a.bus.publish(nav(v))
    a.bus.publish(Fill(client_order_id="c1", symbol="BTCUSDT", side=Side.SELL, price=100.0, qty=1.0, fee=0.0,
                       realized_pnl=-5.0))
    assert a.store.save_now()
    assert not a.store.save_now()  # nothing changed since: nothing written
    mem = saved(path)
    assert (mem.version, mem.day, mem.day_start_nav, mem.hwm) == (VERSION, TODAY, 10_000.0, 10_400.0)
    assert mem.returns == pytest.approx((0.04, 10_200 / 10_400 - 1)) and mem.consecutive_losses == 1
    assert mem.account == "local" and mem.saved_ns > 0

    clock.advance_s(5)  # restart a few seconds later, same UTC day
    b = Proc(path, clock, cfg)
    assert b.stage.memory() == msgspec.structs.replace(a.stage.memory(), state_reason=b.stage.machine.reason,
                                                       state_since_ns=b.stage.machine.since_ns)
    assert b.stage.nav.day_start_nav == 10_000.0 and b.stage.nav.hwm == 10_400.0
    assert b.stage.nav.returns == a.stage.nav.returns and b.stage.cooloff.losses == 1
    b.ready(10_300.0)  # the first reading of the new process is not a new day's start
    assert b.stage.nav.day_start_nav == 10_000.0 and not b.stage.nav.new_day
    assert b.stage.nav.daily_drawdown() == pytest.approx(-0.03)


def test_daily_drawdown_still_vetoes_after_a_restart(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    a.bus.publish(nav(9_600.0))  # -4%: within the 10% limit
    a.store.save_now()
    b = Proc(path, clock)
    b.ready(8_900.0)  # -11% from the carried day start; a fresh process would have taken 8,900 as the start
    d = b.decide()
    assert not d.allow and Reason.DAILY_DRAWDOWN in d.reasons
    assert d.observed[Reason.DAILY_DRAWDOWN] == pytest.approx(0.11)
    assert b.stage.machine.state is TradingState.REDUCING


def test_a_restart_is_not_a_drawdown_before_the_first_nav_reading(path: Path) -> None:
    """The account's Position (or the once-a-second check) may come before its NAV: no NAV read yet is
    not a 100% drawdown from the carried day start (that went REDUCING for the rest of the day)."""
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    a.store.save_now()
    b = Proc(path, clock)
    b.bus.publish(Position(symbol="BTCUSDT", qty=0.001, entry_price=100.0, unrealized_pnl=-0.1, mark_price=0.0))
    clock.advance_to_ns(clock.now_ns() + 1_000 * MS)
    b.stage.evaluate(clock.now_ns())
    assert b.stage.machine.state is TradingState.ACTIVE and not b.stage.alt_ext_disabled
    b.ready(9_990.0)
    assert b.stage.machine.state is TradingState.ACTIVE
    assert not [e for e in b.seen if isinstance(e, TradingStateChange)]
    b.store.save_now()
    assert saved(path).state is TradingState.ACTIVE and not saved(path).alt_ext_disabled


def test_a_day_start_from_an_earlier_utc_day_is_discarded_and_the_hwm_kept(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    a.bus.publish(nav(12_000.0))
    a.bus.publish(nav(10_000.0))
    a.store.save_now()
    clock.advance_to_ns(clock.now_ns() + DAY_NS)  # restart the next UTC day
    b = Proc(path, clock)
    assert b.stage.nav.day_start_nav == 0.0 and b.stage.nav.day == -1 and b.stage.nav.hwm == 12_000.0
    b.ready(9_500.0)
    assert b.stage.nav.day_start_nav == 9_500.0 and b.stage.nav.new_day is False  # evaluate consumed it
    assert b.stage.nav.portfolio_drawdown() == pytest.approx(1 - 9_500 / 12_000)


# ---------------------------------------------------------------------------------- trading state


def test_a_daily_drawdown_reducing_survives_the_day_and_lifts_the_next(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    a.bus.publish(nav(8_800.0))
    assert a.stage.machine.state is TradingState.REDUCING and a.stage.alt_ext_disabled
    a.bus.publish(nav(9_500.0))  # recovered within the limit: still REDUCING (sticky for the day)
    a.store.save_now()
    b = Proc(path, clock)
    assert b.stage.machine.state is TradingState.REDUCING and b.stage.machine.reason == Reason.DAILY_DRAWDOWN
    assert b.stage.machine.since_ns == a.stage.machine.since_ns and b.stage.alt_ext_disabled
    changes = [e for e in b.seen if isinstance(e, TradingStateChange)]
    assert [(c.state, c.reason) for c in changes] == [(TradingState.REDUCING, Reason.DAILY_DRAWDOWN)]
    b.ready(9_500.0)
    d = b.decide()
    assert not d.allow and d.reasons == (Reason.REDUCING,)  # within the daily limit, yet no new exposure
    b.store.save_now()
    clock.advance_to_ns(clock.now_ns() + DAY_NS)
    c = Proc(path, clock)
    assert c.stage.machine.state is TradingState.ACTIVE and not c.stage.alt_ext_disabled
    b.bus.publish(nav(9_500.0))  # the restored REDUCING lifts at a clean new UTC day, as if never restarted
    assert b.stage.machine.state is TradingState.ACTIVE and not b.stage.alt_ext_disabled


def test_a_portfolio_drawdown_reducing_survives_any_restart(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    clock.advance_to_ns(clock.now_ns() + DAY_NS)
    a.bus.publish(nav(7_900.0))  # a new day: only the portfolio drawdown (-21%) breaches
    assert a.stage.machine.reason == Reason.PORTFOLIO_DRAWDOWN
    a.store.save_now()
    clock.advance_to_ns(clock.now_ns() + 3 * DAY_NS)
    b = Proc(path, clock)
    assert b.stage.machine.state is TradingState.REDUCING and b.stage.machine.reason == Reason.PORTFOLIO_DRAWDOWN
    assert b.stage.nav.hwm == 10_000.0 and b.stage.alt_ext_disabled


def test_halted_and_drift_are_recorded_but_not_restored(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock)
    a.ready(10_000.0)
    a.bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=1.0, exchange_qty=2.0))
    a.store.save_now()
    assert (saved(path).state, saved(path).state_reason) == (TradingState.REDUCING, "position drift BTCUSDT")
    assert Proc(path, clock).stage.machine.state is TradingState.ACTIVE  # an operator restart lifts drift
    a.stage.halt("kill switch: test")
    a.store.save_now()
    assert saved(path).state is TradingState.HALTED
    assert Proc(path, clock).stage.machine.state is TradingState.ACTIVE  # the kill flag file owns HALTED


def test_a_running_cooloff_survives_and_an_expired_one_does_not(path: Path) -> None:
    clock = EventClock(NOW_NS)
    a = Proc(path, clock, risk_config(cooloff={"consecutive_losses": 2, "seconds": 60.0}))
    a.ready(10_000.0)
    for _ in range(2):
        a.bus.publish(Fill(client_order_id="c", symbol="BTCUSDT", side=Side.SELL, price=100.0, qty=1.0, fee=0.0,
                           realized_pnl=-1.0))
    until = a.stage.cooloff.until_ms
    assert until == clock.now_ns() // MS + 60_000
    a.store.save_now()
    clock.advance_s(30)
    b = Proc(path, clock, risk_config(cooloff={"consecutive_losses": 2, "seconds": 60.0}))
    b.ready(10_000.0)
    d = b.decide()
    assert not d.allow and Reason.COOLOFF in d.reasons and d.cooloff_s == pytest.approx(30.0)
    clock.advance_s(31)
    c = Proc(path, clock)
    assert c.stage.cooloff.until_ms == 0 and c.stage.cooloff.reason == ""


# ---------------------------------------------------------------------------------- unusable files


@pytest.mark.parametrize("content", [
    b"",
    b"{not json",
    b'{"version": 1, "day_start_nav": 10000.0, "hwm": 1',  # torn
    b'{"version": 2, "account": "local"}',  # unknown version
    b'{"account": "local", "hwm": 1.0}',  # no version
    b'{"version": 1, "account": "local", "hwm": -5.0}',  # invalid
    b'{"version": 1, "account": "local", "hwm": null}',  # NaN is written as null
    b"[1, 2, 3]",
])
def test_an_unusable_file_is_moved_aside_counted_and_the_gate_starts_reducing(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    p = Proc(path, EventClock(NOW_NS))
    assert p.store.load_problems == 1
    assert not path.exists() and len(list(path.parent.glob(f"*{UNUSABLE_SUFFIX}"))) == 1
    assert p.stage.machine.state is TradingState.REDUCING and p.stage.machine.reason.startswith("risk state unusable")
    assert p.stage.alt_ext_disabled
    assert any(isinstance(e, Alert) and e.severity == "critical" for e in p.seen)
    p.ready(10_000.0)
    assert not p.decide().allow  # no new exposure
    p.store.save_now()  # the next write replaces the file with this process's memory
    assert saved(path).state_reason.startswith("risk state unusable")
    assert Proc(path, EventClock(NOW_NS)).stage.machine.state is TradingState.ACTIVE  # an operator restart lifts it


def test_another_accounts_file_is_moved_aside_and_the_start_is_fresh(path: Path) -> None:
    write(path, PersistedRisk(account="binance", day=TODAY, day_start_nav=50_000.0, hwm=60_000.0,
                              state=TradingState.REDUCING, state_reason=Reason.PORTFOLIO_DRAWDOWN))
    p = Proc(path, EventClock(NOW_NS))  # the default config's venue is "local"
    assert p.store.load_problems == 0 and p.stage.machine.state is TradingState.ACTIVE
    assert p.stage.nav.hwm == 0.0 and p.stage.nav.day_start_nav == 0.0
    assert len(list(path.parent.glob(f"*{UNUSABLE_SUFFIX}"))) == 1


def test_no_file_is_a_first_start(path: Path) -> None:
    p = Proc(path, EventClock(NOW_NS))
    assert p.store.load_problems == 0 and p.stage.machine.state is TradingState.ACTIVE and p.stage.nav.hwm == 0.0
    assert not path.exists()  # nothing is written until the writer runs
    p.store.save_now()
    assert saved(path).hwm == 0.0


# ---------------------------------------------------------------------------------- writing


async def test_writes_are_throttled_not_per_nav_tick(path: Path) -> None:
    clock = EventClock(NOW_NS)
    p = Proc(path, clock)
    p.store.interval_s = 0.1
    p.ready(10_000.0)
    for i in range(1, 2001):  # a new high-water mark on every tick, no await: the handlers never write
        p.bus.publish(nav(10_000.0 + i))
    assert p.store.writes == 0 and not exists(path)
    task = asyncio.create_task(p.store.run())
    t0 = time.monotonic()
    try:
        for i in range(30):  # ~0.3 s of ticks (longer on a loaded machine), each a new high
            for j in range(100):
                p.bus.publish(nav(12_001.0 + i * 100 + j))
            await asyncio.sleep(0.01)  # the ticks' pace (the throttle is what is measured), not a wait
        await wait_for(lambda: exists(path) and saved(path).hwm == 15_000.0, what="the newest high written")
        with p.store._lock:  # the writer thread renames the file, then counts the write: wait for the count
            writes = p.store.writes
        # 3000 HWM changes: a write per 0.1 s of the time they took (~0.45 s unloaded), never one per change
        assert 1 <= writes <= (time.monotonic() - t0) / 0.1 + 2, writes
        assert saved(path).hwm == 15_000.0
        for _ in range(200):  # only the NAV moves (below the high): nothing persisted changes
            p.bus.publish(nav(14_000.0))
        await asyncio.sleep(0.25)  # an absence over two write intervals: nothing can be waited for
        assert p.store.writes == writes
        p.bus.publish(nav(15_500.0))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert saved(path).hwm == 15_500.0  # the final write at shutdown


async def test_a_failing_disk_is_counted_and_never_stops_the_writer(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                                     ) -> None:
    (tmp_path / "state").write_text("a file where the state directory should be")
    path = tmp_path / "state" / RISK_STATE_FILE
    p = Proc(path, EventClock(NOW_NS))
    p.store.interval_s = 0.02
    task = asyncio.create_task(p.store.run())
    await wait_for(lambda: p.store.errors >= 2, what="two failed writes")
    assert not task.done() and p.store.errors >= 2 and p.store.writes == 0  # retried, not given up
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task  # the failing final write is logged, not raised
    assert "cannot write" in caplog.text and "final write" in caplog.text


def test_secrets_in_reason_texts_are_masked(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_SECRET", "s3cr3t-value-xyz")
    p = Proc(path, EventClock(NOW_NS))
    p.stage.halt("kill switch: operator pasted s3cr3t-value-xyz")
    p.store.save_now()
    text = path.read_text()
    assert "s3cr3t-value-xyz" not in text and "***" in text


# ---------------------------------------------------------------------------------- the carry-over rules

_mem = st.builds(
    PersistedRisk,
    day=st.integers(TODAY - 3, TODAY + 1),
    day_start_nav=st.floats(0.0, 1e6),
    hwm=st.floats(0.0, 1e6),
    return_period_s=st.sampled_from([60.0, 3600.0]),
    returns=st.lists(st.floats(-0.5, 0.5), max_size=30).map(tuple),
    sample_nav=st.floats(0.0, 1e6),
    sample_ms=st.integers(0, (NOW_NS // MS) + 10_000_000),
    cooloff_until_ms=st.integers(0, (NOW_NS // MS) + 1_000_000),
    cooloff_reason=st.sampled_from(["", "3 consecutive losses"]),
    consecutive_losses=st.integers(0, 5),
    state=st.sampled_from(list(TradingState)),
    state_reason=st.sampled_from(["", Reason.DAILY_DRAWDOWN, Reason.PORTFOLIO_DRAWDOWN, "position drift X",
                                  "kill switch: x"]),
    alt_ext_disabled=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(mem=_mem, now_ms=st.integers(NOW_NS // MS - MS_PER_DAY, NOW_NS // MS + MS_PER_DAY), window=st.integers(1, 40))
def test_carry_over_rules(mem: PersistedRisk, now_ms: int, window: int) -> None:
    out = carry_over(mem, now_ms=now_ms, return_period_s=60.0, return_window=window)
    today = now_ms // MS_PER_DAY
    assert out.hwm == mem.hwm  # never lowered, never reset
    if mem.day == today and mem.day_start_nav > 0.0:
        assert (out.day, out.day_start_nav) == (mem.day, mem.day_start_nav)
    else:
        assert (out.day, out.day_start_nav) == (-1, 0.0)  # another day's start is never carried
    assert out.state is not TradingState.HALTED
    if out.state is TradingState.REDUCING:
        assert out.state_reason == Reason.PORTFOLIO_DRAWDOWN or (
            out.state_reason == Reason.DAILY_DRAWDOWN and out.day == today)
    elif mem.state is TradingState.REDUCING and mem.state_reason == Reason.PORTFOLIO_DRAWDOWN:
        raise AssertionError("a portfolio-drawdown REDUCING was dropped")
    assert out.cooloff_until_ms == 0 or out.cooloff_until_ms > now_ms
    assert out.consecutive_losses == mem.consecutive_losses
    if mem.return_period_s == 60.0:
        assert out.returns == mem.returns[-window:]
    else:
        assert out.returns == () and out.sample_ms == 0
    if out.sample_ms:
        assert 0 <= now_ms - out.sample_ms < 120_000 and out.sample_nav == mem.sample_nav


@settings(max_examples=200, deadline=None)
@given(mem=_mem)
def test_the_file_format_round_trips(mem: PersistedRisk) -> None:
    assert msgspec.json.decode(msgspec.json.encode(mem), type=PersistedRisk) == mem
