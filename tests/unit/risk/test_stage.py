"""The risk stage on a real Bus: events keep the context current, intents get decisions,
vetoes are journaled and counted, drawdowns and the kill switch move the trading state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from hedge.bus import Bus
from hedge.events import (
    Balance,
    BookState,
    BookStatus,
    BookUpdate,
    CancelAll,
    Event,
    FeedStatus,
    Fill,
    Heartbeat,
    Nav,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
    TradingStateChange,
)
from hedge.model.clock import EventClock
from hedge.risk.reasons import Reason
from hedge.risk.stage import RiskStage
from hedge.state.journal import JournalWriter, read_journal
from tests.unit.risk.helpers import NOW_NS, intent, risk_config

MS = 1_000_000


class Rig:
    def __init__(self, tmp_path: Path, **risk: object) -> None:
        self.bus = Bus()
        self.clock = EventClock(NOW_NS)
        self.journal = JournalWriter(tmp_path / "risk_vetoes.jsonl")
        self.stage = RiskStage(self.bus, risk_config(**risk), self.journal, clock=self.clock)
        # no slippage budget: caps are judged at the book's one price (100), so the figures are exact
        self.stage.limits = msgspec.structs.replace(self.stage.limits, slippage_budget_bps=0.0)
        self.stage.attach()
        self.seen: list[Event] = []
        for t in (RiskDecision, TradingStateChange, CancelAll):
            self.bus.subscribe(t, self.seen.append)

    def ready(self, nav: float = 10_000.0) -> None:
        """NAV, a valid BTCUSDT book at 100 and the user stream up."""
        self.nav(nav, source="reconcile")
        self.book()
        self.bus.publish(FeedStatus(connection="user", connected=True))
        self.bus.publish(Reconciled(trigger="start"))

    def book(self, symbol: str = "BTCUSDT", valid: bool = True, spread_bps: float = 1.0) -> None:
        ts_ms = self.clock.now_ns() // MS
        self.bus.publish(
            BookUpdate(
                symbol=symbol,
                update_id=1,
                valid=valid,
                bid_px=100.0,
                bid_qty=1.0,
                ask_px=100.0,
                ask_qty=1.0,
                mid=100.0,
                micro=100.0,
                imbalance=0.0,
                spread_bps=spread_bps,
                ts_ms=ts_ms - 5,
                recv_ns=self.clock.now_ns(),
            )
        )

    def decide(self, it: OrderIntent | None = None) -> RiskDecision:
        self.bus.publish(it or intent())
        return [e for e in self.seen if isinstance(e, RiskDecision)][-1]

    def of(self, t: type[Event]) -> list[Event]:
        return [e for e in self.seen if isinstance(e, t)]

    def nav(self, nav: float, source: str = "account_update") -> None:
        self.bus.publish(Nav(nav=nav, wallet_balance=nav, unrealized_pnl=0.0, source=source))

    def position(self, qty: float, entry_price: float = 100.0, mark_price: float = 100.0, ts_ms: int = 0) -> None:
        self.bus.publish(
            Position(symbol="BTCUSDT", qty=qty, entry_price=entry_price, mark_price=mark_price, ts_ms=ts_ms)
        )

    def request(self, cid: str, side: Side, qty: float, recv_ns: int = 0) -> None:
        """A BTCUSDT limit order at 100 sent to the venue."""
        self.bus.publish(
            OrderRequest(
                client_order_id=cid,
                intent_id="i",
                symbol="BTCUSDT",
                side=side,
                type=OrderType.LIMIT,
                qty=qty,
                price=100.0,
                recv_ns=recv_ns,
            )
        )

    def update(self, cid: str, status: OrderStatus, side: Side = Side.BUY, **fields: Any) -> None:
        """The venue's report of the BTCUSDT order ``cid`` (further OrderUpdate fields by keyword)."""
        self.bus.publish(OrderUpdate(client_order_id=cid, symbol="BTCUSDT", status=status, side=side, **fields))

    def reject(self, cid: str, code: int, reason: str = "") -> None:
        self.update(cid, OrderStatus.REJECTED, reject_code=code, reason=reason)

    def closed_trade(self, realized_pnl: float) -> None:
        self.bus.publish(
            Fill(
                client_order_id="x",
                symbol="BTCUSDT",
                side=Side.SELL,
                qty=0.0,
                price=100.0,
                fee=0.0,
                realized_pnl=realized_pnl,
            )
        )


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    """A stage with the default risk config, nothing published yet."""
    return Rig(tmp_path)


def test_intent_gets_a_decision_and_vetoes_are_journaled_and_counted(rig: Rig, tmp_path: Path) -> None:
    d = rig.decide()
    assert not d.allow and {Reason.NAV_MISSING, Reason.BOOK_INVALID, Reason.USER_STREAM_DOWN} <= set(d.reasons)
    rig.ready()
    ok = rig.decide()
    assert ok.allow and ok.max_qty == pytest.approx(1.0) and ok.reasons == ()
    reduced = rig.decide(intent(900.0))
    assert reduced.allow and reduced.reasons == (Reason.TRADE_NAV_CAP,)
    c = rig.stage.counters()
    assert (c.decisions, c.allowed, c.reduced, c.vetoed) == (3, 2, 1, 1)
    assert c.vetoes[Reason.NAV_MISSING] == 1 and c.reductions == {"trade_nav_cap": 1}
    rig.journal.flush()
    recs = list(read_journal(tmp_path / "risk_vetoes.jsonl"))
    assert len(recs) == 1 and recs[0].kind == "veto"
    data = recs[0].decode()
    assert "nav_missing" in data["reasons"] and data["intent"]["intent_id"] == "i-1" and data["allow"] is False


def test_nav_health_from_balance_and_positions(rig: Rig) -> None:
    nav = rig.stage.nav
    assert nav.nav_health_snapshot(rig.clock.now_ns() // MS).age_s == float("inf")
    rig.bus.publish(Balance(asset="BNB", wallet_balance=99.0))
    assert nav.value == 0.0  # only the USDT futures wallet counts
    rig.bus.publish(Balance(asset="USDT", wallet_balance=1000.0))
    rig.bus.publish(Position(symbol="BTCUSDT", qty=1.0, entry_price=100.0, unrealized_pnl=-30.0, mark_price=70.0))
    rig.bus.publish(Position(symbol="ETHUSDT", qty=-1.0, entry_price=50.0, unrealized_pnl=5.0, mark_price=45.0))
    rig.clock.advance_s(12.5)
    h = nav.nav_health_snapshot(rig.clock.now_ns() // MS)
    assert h.value == pytest.approx(975.0) and h.age_s == pytest.approx(12.5) and h.source == "account_update"


def test_stale_nav_vetoes_and_disables_alt_ext(rig: Rig) -> None:
    rig.ready()
    rig.clock.advance_s(89.0)
    assert rig.decide().allow
    rig.bus.publish(Heartbeat(component="engine"))
    assert not rig.stage.alt_ext_disabled
    rig.clock.advance_s(2.0)
    assert Reason.NAV_STALE in rig.decide().reasons
    rig.bus.publish(Heartbeat(component="engine"))
    assert rig.stage.alt_ext_disabled
    rig.ready()  # fresh NAV: everything but ALT-EXT trades again
    assert rig.decide().allow
    rig.book("DOGEUSDT")
    assert Reason.ALT_EXT_DISABLED in rig.decide(intent(symbol="DOGEUSDT")).reasons


def test_daily_drawdown_moves_to_reducing_and_a_new_day_back_to_active(rig: Rig) -> None:
    rig.ready(10_000.0)
    rig.position(2.0)
    rig.nav(8_900.0)
    (change,) = rig.of(TradingStateChange)
    assert isinstance(change, TradingStateChange)
    assert (change.previous, change.state, change.reason) == (
        TradingState.ACTIVE,
        TradingState.REDUCING,
        Reason.DAILY_DRAWDOWN,
    )
    assert change.ts_ms == rig.clock.now_ns() // MS and rig.stage.alt_ext_disabled
    assert Reason.REDUCING in rig.decide().reasons  # no new exposure
    exit_ = rig.decide(intent(100.0, Side.SELL))
    assert exit_.allow and exit_.state is TradingState.REDUCING
    rig.clock.advance_s(86_400.0)  # next UTC day: day-start NAV resets, the daily breach clears
    rig.nav(8_900.0)
    assert rig.stage.machine.state is TradingState.ACTIVE and not rig.stage.alt_ext_disabled
    assert [e.state for e in rig.of(TradingStateChange)] == [TradingState.REDUCING, TradingState.ACTIVE]  # type: ignore[attr-defined]


def test_portfolio_drawdown_stays_reducing_across_days(tmp_path: Path) -> None:
    rig = Rig(tmp_path, daily_dd_limit=0.5)
    rig.ready(10_000.0)
    rig.nav(7_900.0)
    assert rig.stage.machine.state is TradingState.REDUCING and rig.stage.machine.reason == Reason.PORTFOLIO_DRAWDOWN
    rig.clock.advance_s(86_400.0)
    rig.nav(7_900.0)
    assert rig.stage.machine.state is TradingState.REDUCING


def test_halt_publishes_state_change_and_cancel_all_and_is_sticky(rig: Rig) -> None:
    rig.ready()
    rig.stage.halt("kill switch: test")
    assert rig.stage.machine.state is TradingState.HALTED
    (cancel,) = rig.of(CancelAll)
    assert isinstance(cancel, CancelAll) and cancel.reason == "kill switch: test" and not cancel.flatten
    assert Reason.HALTED in rig.decide().reasons
    rig.clock.advance_s(86_400.0)
    rig.nav(10_000.0, source="reconcile")
    assert rig.stage.machine.state is TradingState.HALTED and len(rig.of(TradingStateChange)) == 1


def test_open_orders_fills_and_positions(tmp_path: Path) -> None:
    rig = Rig(tmp_path, symbol_caps={"BTCUSDT": 0.05})
    rig.ready()
    rig.request("c1", Side.BUY, 3.0, recv_ns=rig.clock.now_ns())
    ctx = rig.stage.context("BTCUSDT", rig.clock.now_ns())
    assert ctx.open_orders == 1 and ctx.positions["BTCUSDT"].open_buy == 3.0
    d = rig.decide(intent(300.0))  # 3 resting + 3 asked > 5% cap: reduced to 2
    assert d.reasons == (Reason.SYMBOL_CAP,) and d.max_qty == pytest.approx(2.0)
    rig.clock.advance_s(0.120)
    rig.update("c1", OrderStatus.NEW, qty=3.0, recv_ns=rig.clock.now_ns())
    assert rig.stage.acks.last_ms == pytest.approx(120.0)
    rig.bus.publish(Fill(client_order_id="c1", symbol="BTCUSDT", side=Side.BUY, qty=1.0, price=100.0, fee=0.0))
    rig.update("c1", OrderStatus.PARTIALLY_FILLED, qty=3.0, filled_qty=1.0)
    p = rig.stage.context("BTCUSDT", rig.clock.now_ns()).positions["BTCUSDT"]
    assert (p.qty, p.open_buy) == (0.0, 3.0)  # 2 resting + 1 filled but not yet confirmed
    rig.position(1.0, mark_price=101.0)
    p = rig.stage.context("BTCUSDT", rig.clock.now_ns()).positions["BTCUSDT"]
    assert (p.qty, p.open_buy) == (1.0, 2.0)
    rig.update("c1", OrderStatus.CANCELED, qty=3.0, filled_qty=1.0)
    ctx = rig.stage.context("BTCUSDT", rig.clock.now_ns())
    assert ctx.open_orders == 0 and ctx.positions["BTCUSDT"].open_buy == 0.0 and ctx.positions["BTCUSDT"].mark == 101.0
    # contexts are snapshots: an earlier one is not changed by later events
    rig.position(0.0, entry_price=0.0, mark_price=0.0)
    assert ctx.positions["BTCUSDT"].qty == 1.0 and "BTCUSDT" not in rig.stage.context("BTCUSDT", 0).positions


def test_consecutive_rejects_and_losses_start_a_cooloff(rig: Rig) -> None:
    rig.ready()
    for i in range(5):
        rig.reject(f"r{i}", -2019)
    d = rig.decide()
    assert Reason.COOLOFF in d.reasons and d.cooloff_s == pytest.approx(300.0)
    rig.clock.advance_s(300.0)
    rig.ready()
    assert rig.decide().allow
    for pnl in (-1.0, -2.0, 3.0, -1.0, -1.0):  # a win resets the streak
        rig.closed_trade(pnl)
    assert rig.decide().allow
    rig.closed_trade(-0.5)
    assert Reason.COOLOFF in rig.decide().reasons and rig.stage.counters().cooloffs == 2


def test_reject_cooloff_just_under_and_at_the_limit(rig: Rig) -> None:
    rig.ready()  # consecutive_rejects = 5
    for i in range(4):
        rig.reject(f"r{i}", -2019, "Margin is insufficient.")
    assert rig.decide().allow and rig.stage.counters().cooloffs == 0
    rig.update("ok", OrderStatus.NEW)
    for i in range(4):  # the accepted order reset the streak: 4 more are still under the limit
        rig.reject(f"s{i}", -4164, "Order's notional must be no smaller than 100")
    assert rig.decide().allow
    rig.reject("s4", -2019)
    d = rig.decide()
    assert Reason.COOLOFF in d.reasons and rig.stage.counters().cooloffs == 1


def test_post_only_and_not_sent_rejects_never_start_a_cooloff(rig: Rig) -> None:
    rig.ready()
    for i in range(50):  # a fast market: the router reprices after every -5022
        rig.reject(f"p{i}", -5022, "Order would immediately match and take.")
    for i in range(10):  # failed before execution, or proven never to have existed
        rig.reject(f"n{i}", -1021, "not sent: Timestamp for this request is outside of the recvWindow.")
        rig.reject(f"q{i}", 0, "not sent: rate limited")
        rig.reject(f"a{i}", 0, "proven absent")
    assert rig.decide().allow and rig.stage.counters().cooloffs == 0
    # ... and they do not reset a genuine streak either: 4 genuine + noise + 1 genuine = 5 consecutive
    for i in range(4):
        rig.reject(f"g{i}", -2019)
        rig.reject(f"gp{i}", -5022)
    rig.reject("g4", -2019)
    assert Reason.COOLOFF in rig.decide().reasons


def test_book_status_and_user_stream(rig: Rig) -> None:
    rig.ready()
    rig.bus.publish(BookStatus(symbol="BTCUSDT", state=BookState.INVALID, reason="gap"))
    assert Reason.BOOK_INVALID in rig.decide().reasons
    rig.book(spread_bps=90.0)
    assert rig.decide().reasons == (Reason.SPREAD,)
    rig.book()
    rig.bus.publish(Heartbeat(component="user", ok=False, detail="listenKey expired"))
    assert rig.decide().reasons == (Reason.USER_STREAM_DOWN,)
    rig.bus.publish(FeedStatus(connection="user", connected=True))
    assert rig.decide().allow


def test_reports_in_any_order_never_understate_exposure(tmp_path: Path) -> None:
    rig = Rig(tmp_path, symbol_caps={"BTCUSDT": 0.05})
    rig.ready()
    T = rig.clock.now_ns() // MS

    def worst() -> tuple[float, float]:
        p = rig.stage.context("BTCUSDT", rig.clock.now_ns()).positions.get("BTCUSDT")
        return (p.worst(+1), p.worst(-1)) if p else (0.0, 0.0)

    rig.position(5.0, ts_ms=T)
    rig.request("s1", Side.SELL, 5.0)
    assert worst() == (5.0, 0.0)
    # the exit fills at T+10; the account update (T+12) overtakes the order update
    rig.position(0.0, entry_price=0.0, ts_ms=T + 12)
    assert worst() == (0.0, -5.0)  # the resting sell still counts: more short than true, never less
    rig.update("s1", OrderStatus.FILLED, Side.SELL, qty=5.0, filled_qty=5.0, ts_ms=T + 10)
    assert worst() == (0.0, -5.0)  # now an unconfirmed fill (stamped before the position, but arrived after)
    # a slow reconciliation from before the exit must not bring the long back
    rig.position(5.0, ts_ms=T + 5)
    assert worst() == (0.0, -5.0)
    rig.position(0.0, entry_price=0.0, ts_ms=T + 20)
    assert worst() == (0.0, 0.0)
    # a late non-final update of the finished order does not resurrect it
    rig.update("s1", OrderStatus.PARTIALLY_FILLED, Side.SELL, qty=5.0, filled_qty=2.0, ts_ms=T + 8)
    assert worst() == (0.0, 0.0) and rig.stage.context("BTCUSDT", rig.clock.now_ns()).open_orders == 0
    # order update first, account update after: counted once it fills, cleared by the later position
    rig.request("b1", Side.BUY, 2.0)
    rig.update("b1", OrderStatus.PARTIALLY_FILLED, qty=2.0, filled_qty=1.5, ts_ms=T + 30)
    assert worst() == (2.0, 0.0)
    d = rig.decide(intent(400.0, limit_px=100.0))  # 1.5 filled + 0.5 resting + 4 asked > 5 (the 5% cap)
    assert d.reasons == (Reason.SYMBOL_CAP,) and d.max_qty == pytest.approx(3.0)
    rig.position(1.5, ts_ms=T + 31)
    assert worst() == (2.0, 1.5)
    # a reconciliation taken before a fill (T+40) but delivered after its order update keeps the fill
    rig.update("b1", OrderStatus.FILLED, qty=2.0, filled_qty=2.0, ts_ms=T + 40)
    rig.position(1.5, ts_ms=T + 35)
    assert worst() == (2.0, 1.5)
    rig.position(2.0, ts_ms=T + 41)
    assert worst() == (2.0, 2.0)


def test_an_unanswered_order_counts_in_ack_latency(rig: Rig) -> None:
    rig.ready()
    rig.request("c1", Side.BUY, 1.0, recv_ns=rig.clock.now_ns())
    rig.clock.advance_s(0.4)
    assert rig.decide().allow
    rig.clock.advance_s(0.2)
    assert rig.decide().reasons == (Reason.ACK_LATENCY,)
    rig.update("c1", OrderStatus.NEW, qty=1.0, recv_ns=rig.clock.now_ns() - 550_000_000)
    assert rig.decide().allow and rig.stage.acks.last_ms == pytest.approx(50.0)
    # a slow ack blocks new exposure for ack_latency_window_s (30 s), then no longer
    rig.request("c2", Side.BUY, 1.0, recv_ns=rig.clock.now_ns())
    rig.clock.advance_s(0.7)
    rig.update("c2", OrderStatus.NEW, qty=1.0, recv_ns=rig.clock.now_ns())
    rig.clock.advance_s(29.0)
    rig.ready()
    assert rig.decide().reasons == (Reason.ACK_LATENCY,)
    rig.clock.advance_s(1.5)
    assert rig.decide().allow
