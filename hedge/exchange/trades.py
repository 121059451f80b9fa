"""Public trades of the local exchange: each symbol's recent market trades and their 1-minute bars.

Owns: ``PublicTrade`` (one market trade as played: id, time, price, quantity, the taker's side)
and ``TradeHistory`` — fed by the market player with every market trade it plays (the same
trades as the ``@trade`` / ``@aggTrade`` streams; client fills are not market trades: they never
change the market others see) — keeping per symbol the newest ``MAX_TRADES`` trades and the
1-minute bars of every trade played (``candles.Bars``), and answering the public endpoints'
queries: the last trade, the recent trades, trades from an id or in a time window.

Must never: read the clock or do I/O (times are given), or change the market.
"""

from __future__ import annotations

import bisect

import msgspec

from hedge.exchange.candles import Bars
from hedge.exchange.marketdata import MarketTrade

MAX_TRADES = 50_000  # per symbol
TRIM = 5_000  # trades dropped at once when the store is full (amortized)


class PublicTrade(msgspec.Struct, frozen=True, gc=False):
    trade_id: int
    time_ms: int
    price: float
    qty: float
    buyer_maker: bool  # Binance "m": the taker sold


class _Symbol:
    __slots__ = ("bars", "trades")

    def __init__(self) -> None:
        self.trades: list[PublicTrade] = []
        self.bars = Bars("1m")


class TradeHistory:
    def __init__(self, max_trades: int = MAX_TRADES) -> None:
        self.max_trades = max_trades
        self._symbols: dict[str, _Symbol] = {}

    def _of(self, symbol: str) -> _Symbol:
        s = self._symbols.get(symbol)
        if s is None:
            s = self._symbols[symbol] = _Symbol()
        return s

    def record(self, ev: MarketTrade, time_ms: int) -> None:
        """A market trade played at ``time_ms`` (kept in time order: an earlier time counts as the last)."""
        s = self._of(ev.symbol)
        trades = s.trades
        if trades and time_ms < trades[-1].time_ms:
            time_ms = trades[-1].time_ms
        if len(trades) >= self.max_trades + TRIM:
            del trades[:TRIM]
        trades.append(PublicTrade(ev.trade_id, time_ms, ev.price, ev.qty, ev.buyer_maker))
        s.bars.add(time_ms, ev.trade_id, ev.price, ev.qty, ev.buyer_maker)

    def bars(self, symbol: str) -> Bars:
        """The 1-minute bars of ``symbol`` (empty before its first trade)."""
        s = self._symbols.get(symbol)
        return s.bars if s is not None else Bars("1m")

    def last(self, symbol: str) -> PublicTrade | None:
        s = self._symbols.get(symbol)
        return s.trades[-1] if s is not None and s.trades else None

    def select(
        self, symbol: str, *, from_id: int | None = None, start: int | None = None, end: int | None = None,
        limit: int = 500,
    ) -> list[PublicTrade]:
        """Binance's trade lists, oldest first: from trade id ``from_id`` (inclusive) or time ``start``
        the first ``limit`` (up to ``end`` when given); with only ``end`` the last ``limit`` up to it;
        with neither the most recent ``limit``."""
        s = self._symbols.get(symbol)
        trades = s.trades if s is not None else []
        hi = len(trades) if end is None else bisect.bisect_right(trades, end, key=lambda t: t.time_ms)
        if from_id is not None:
            lo = bisect.bisect_left(trades, from_id, key=lambda t: t.trade_id)
        elif start is not None:
            lo = bisect.bisect_left(trades, start, key=lambda t: t.time_ms)
        else:
            return trades[max(0, hi - limit):hi]
        return trades[lo:max(lo, min(hi, lo + limit))]
