"""The market events the local exchange plays: its own small value types, not the engine's.

Owns: ``Level`` (price, quantity), ``BookSnapshot``, ``BookDiff``, ``TopOfBook`` and
``MarketTrade`` — what a market source yields and the player feeds to the matching engine and the
streams. Field names follow the exchange's own vocabulary; ``MarketTrade.buyer_maker`` is
Binance's ``m`` (the buyer was the maker: the taker sold).

Must never: import the engine's events (``hedge.events``): the exchange is the referee of the
engine's integration tests and shares no code with what it checks.
"""

from __future__ import annotations

import msgspec

Level = tuple[float, float]


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    last_update_id: int
    bids: list[Level]
    asks: list[Level]


class BookDiff(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    first_id: int  # U
    final_id: int  # u
    prev_final_id: int  # pu
    bids: list[Level]
    asks: list[Level]


class TopOfBook(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    update_id: int
    bid_px: float
    bid_qty: float
    ask_px: float
    ask_qty: float


class MarketTrade(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    trade_id: int
    price: float
    qty: float
    buyer_maker: bool  # Binance "m": a seller hit the bids


PlayEvent = BookSnapshot | BookDiff | MarketTrade | TopOfBook
