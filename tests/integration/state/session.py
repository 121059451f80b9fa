"""A realistic event session for the state tests: real BTCUSDT market data from the bundled
recording (bookTicker and trade frames, re-timed to now) plus the decision, order, fill, NAV,
risk and liveness events the other stages publish around it."""

from __future__ import annotations

import gzip
import time
from importlib.resources import files

import orjson

from hedge.bus import Bus
from hedge.events import (
    Alert,
    BookState,
    BookStatus,
    BookTicker,
    FeedStats,
    FeedStatus,
    Fill,
    Heartbeat,
    LedgerPosition,
    MarkPrice,
    Nav,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    RateLimit,
    RiskDecision,
    RiskSnapshot,
    RouterHealth,
    Side,
    Signal,
    SymbolScore,
    TimeInForce,
    Trade,
    TradingState,
    TradingStateChange,
)

SYMBOL = "BTCUSDT"
RECORDING = files("hedge") / "data" / "binance-usdm" / "hftbacktest" / "btcusdt_20240718.gz"


def recorded_frames(limit: int = 400) -> list[tuple[dict[str, object], int]]:
    """The first ``limit`` bookTicker/trade frames of the real recording, with each frame's feed
    lag in ms (local receive - exchange time; the recording's local clock ran ~1.5 s behind)."""
    out: list[tuple[dict[str, object], int]] = []
    with gzip.open(str(RECORDING), "rb") as f:
        for line in f:
            ns_s, _, raw = line.partition(b" ")
            d = orjson.loads(raw).get("data")
            if not d or d.get("e") not in ("bookTicker", "trade"):
                continue
            out.append((d, int(ns_s) // 1_000_000 - int(d["E"]) + 1_500))
            if len(out) >= limit:
                break
    return out


def market_event(d: dict[str, object], lag_ms: int) -> BookTicker | Trade:
    """A recorded frame as the event the feed would publish now (received now, sent lag_ms ago)."""
    recv = time.time_ns()
    ts_ms = recv // 1_000_000 - lag_ms
    if d["e"] == "bookTicker":
        return BookTicker(symbol=str(d["s"]), update_id=int(d["u"]), bid_px=float(d["b"]), bid_qty=float(d["B"]),  # type: ignore[arg-type]
                          ask_px=float(d["a"]), ask_qty=float(d["A"]), ts_ms=ts_ms, recv_ns=recv)  # type: ignore[arg-type]
    return Trade(symbol=str(d["s"]), trade_id=int(d["t"]), price=float(d["p"]), qty=float(d["q"]),  # type: ignore[arg-type]
                 taker_side=Side.SELL if d["m"] else Side.BUY, ts_ms=ts_ms, recv_ns=recv)


def now() -> int:
    return time.time_ns()


def publish_session(bus: Bus) -> dict[str, float]:
    """Publish a full session; returns a few figures the tests check against the files."""
    bus.publish(FeedStatus(connection="market", connected=True, reconnects=1, recv_ns=now()))
    bus.publish(FeedStatus(connection="user", connected=True, recv_ns=now()))
    bus.publish(BookStatus(symbol=SYMBOL, state=BookState.SYNCING, reason="start", recv_ns=now()))
    bus.publish(BookStatus(symbol=SYMBOL, state=BookState.VALID, recv_ns=now()))
    bus.publish(Heartbeat(component="engine", recv_ns=now()))
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="sim", recv_ns=now()))
    market = recorded_frames()
    last_px = 0.0
    for i, (frame, lag_ms) in enumerate(market):
        ev = market_event(frame, lag_ms)
        bus.publish(ev)
        if isinstance(ev, BookTicker):
            last_px = ev.ask_px
        if i == 50:
            bus.publish(MarkPrice(symbol=SYMBOL, mark_price=last_px, index_price=last_px - 3.2, funding_rate=0.0001,
                                  next_funding_ms=1721347200000, recv_ns=now()))
            bus.publish(Signal(symbol=SYMBOL, strategy="micro_scalper", score=0.42, recv_ns=now()))
            bus.publish(SymbolScore(symbol=SYMBOL, expectancy_bps=1.8, symbol_score=0.6, hybrid_score=0.55, trades=12,
                                    recv_ns=now()))
            bus.publish(SymbolScore(symbol="ETHUSDT", expectancy_bps=0.4, symbol_score=0.3, hybrid_score=0.7,
                                    trades=5, recv_ns=now()))
        if i == 100:
            _entry(bus, ev.recv_ns, last_px)
        if i == 200:
            veto = OrderIntent(intent_id="i-2", symbol=SYMBOL, side=Side.BUY, notional=900.0, strategy="micro_scalper",
                               reason="entry", tick_ns=ev.recv_ns, recv_ns=now())
            bus.publish(veto)
            bus.publish(RiskDecision(intent=veto, allow=False, max_qty=0.0, reasons=("spread", "gross_exposure"),
                                     recv_ns=now()))
        if i == 300:
            _exit(bus, ev.recv_ns, last_px)
    bus.publish(FeedStats(connection="market", messages=len(market), parse_errors=2, gaps=1, reconnects=1, handler_errors=3,
                          recv_ns=now()))
    bus.publish(RouterHealth(symbol=SYMBOL, executions=2, orders=3, maker_fill_ratio=0.5, fallback_rate=0.5,
                             reject_rate=1 / 3, slippage_bps=0.7, ack_p50_ms=3.0, ack_p95_ms=4.0, recv_ns=now()))
    bus.publish(RateLimit(status=429, retry_after_s=1.0, recv_ns=now()))
    bus.publish(Position(symbol=SYMBOL, qty=0.01, entry_price=last_px, unrealized_pnl=0.5, mark_price=last_px + 50,
                         recv_ns=now()))
    bus.publish(LedgerPosition(symbol=SYMBOL, qty=0.01, entry_price=last_px, strategy="micro_scalper",
                               tp_price=last_px * 1.005, sl_price=last_px * 0.9975, recv_ns=now()))
    bus.publish(Nav(nav=10_003.5, wallet_balance=10_003.0, unrealized_pnl=0.5, source="sim", recv_ns=now()))
    bus.publish(RiskSnapshot(nav=10_003.5, peak_nav=10_004.0, drawdown=0.00005, daily_drawdown=0.00005,
                             gross_exposure=0.064, net_exposure=0.064, var=0.002, cvar=0.003, open_orders=0,
                             recv_ns=now()))
    bus.publish(TradingStateChange(previous=TradingState.ACTIVE, state=TradingState.REDUCING, reason="cvar",
                                   recv_ns=now()))
    bus.publish(Alert(severity="info", title="session", text="scenario done", recv_ns=now()))
    return {"last_px": last_px, "market": float(len(market))}


def _order(bus: Bus, intent: OrderIntent, coid: str, px: float, qty: float, rpnl: float, maker: bool) -> None:
    bus.publish(RiskDecision(intent=intent, allow=True, max_qty=qty, recv_ns=now()))
    req = OrderRequest(client_order_id=coid, intent_id=intent.intent_id, symbol=SYMBOL, side=intent.side,
                       type=OrderType.LIMIT, qty=qty, price=px, tif=TimeInForce.GTX,
                       reduce_only=intent.reduce_only, recv_ns=now())
    bus.publish(req)
    bus.publish(OrderUpdate(client_order_id=coid, symbol=SYMBOL, status=OrderStatus.NEW, side=intent.side, qty=qty,
                            price=px, recv_ns=now() + 3_000_000))
    bus.publish(Fill(client_order_id=coid, symbol=SYMBOL, side=intent.side, qty=qty, price=px, fee=qty * px * 0.0002,
                     maker=maker, realized_pnl=rpnl, recv_ns=now()))
    bus.publish(OrderUpdate(client_order_id=coid, symbol=SYMBOL, status=OrderStatus.FILLED, side=intent.side,
                            qty=qty, price=px, filled_qty=qty, avg_price=px, recv_ns=now()))


def _entry(bus: Bus, tick_ns: int, px: float) -> None:
    intent = OrderIntent(intent_id="i-1", symbol=SYMBOL, side=Side.BUY, notional=px * 0.01, strategy="micro_scalper",
                         reason="entry", tick_ns=tick_ns, recv_ns=now())
    bus.publish(intent)
    _order(bus, intent, "c-1", px, 0.01, 0.0, True)


def _exit(bus: Bus, tick_ns: int, px: float) -> None:
    intent = OrderIntent(intent_id="i-3", symbol=SYMBOL, side=Side.SELL, notional=px * 0.01, strategy="micro_scalper",
                         reason="take_profit", reduce_only=True, tick_ns=tick_ns, recv_ns=now())
    bus.publish(intent)
    _order(bus, intent, "c-3", px + 40.0, 0.01, 0.4, False)
