"""The names of the risk gates, as they appear in ``RiskDecision.reasons``, journals and metrics.

Owns: the vocabulary of vetoes and reductions (other stages display these strings; they need not
import this module). Three kinds:
- ``ALL_ORDERS``: fail -> the order is vetoed, whatever it does to exposure;
- ``NEW_EXPOSURE``: fail -> an order that adds exposure is vetoed, or clipped to the part that
  only reduces its symbol's position (the decision then allows, with this reason);
- ``CAPS``: a limit met by a smaller order -> ``max_qty`` is reduced (vetoed only when nothing
  is left).

Must never: hold logic. The gates are in ``hedge.risk.check``.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    # every order
    HALTED = "halted"
    NAV_MISSING = "nav_missing"
    NAV_STALE = "nav_stale"
    USER_STREAM_DOWN = "user_stream_down"
    NOT_RECONCILED = "not_reconciled"
    BOOK_INVALID = "book_invalid"
    NO_PRICE = "no_price"
    BAD_INTENT = "bad_intent"
    MAX_OPEN_ORDERS = "max_open_orders"
    NOTHING_TO_REDUCE = "nothing_to_reduce"
    MIN_NOTIONAL = "min_notional"
    REMOTE_GATE = "remote_gate"  # risk.gate_url: the remote gate vetoed, did not answer in time, or failed
    # orders that add exposure
    REDUCING = "reducing"
    UNKNOWN_SYMBOL = "unknown_symbol"
    OUTSIDE_TRADING_WINDOW = "outside_trading_window"
    COOLOFF = "cooloff"
    ALT_EXT_DISABLED = "alt_ext_disabled"
    EXPECTED_RETURN = "expected_return"
    SPREAD = "spread"
    FEED_LAG = "feed_lag"
    ACK_LATENCY = "ack_latency"
    DAILY_DRAWDOWN = "daily_drawdown"
    PORTFOLIO_DRAWDOWN = "portfolio_drawdown"
    CVAR = "cvar"
    SPRT_NO_EDGE = "sprt_no_edge"  # gate service: the strategy x symbol's SPRT accepted "no edge"
    NEGATIVE_EXPECTANCY = "negative_expectancy"  # gate service: its expectancy's 95% CI is below 0
    # caps: the order is reduced to fit
    REDUCE_ONLY_CLIP = "reduce_only_clip"
    TRADE_NAV_CAP = "trade_nav_cap"
    SYMBOL_CAP = "symbol_cap"
    GROSS_EXPOSURE = "gross_exposure"
    NET_EXPOSURE = "net_exposure"
    GROUP_CAP = "group_cap"


ALL_ORDERS = frozenset(
    {
        Reason.HALTED,
        Reason.NAV_MISSING,
        Reason.NAV_STALE,
        Reason.USER_STREAM_DOWN,
        Reason.NOT_RECONCILED,
        Reason.BOOK_INVALID,
        Reason.NO_PRICE,
        Reason.BAD_INTENT,
        Reason.MAX_OPEN_ORDERS,
        Reason.NOTHING_TO_REDUCE,
        Reason.MIN_NOTIONAL,
        Reason.REMOTE_GATE,
    }
)
CAPS = frozenset(
    {
        Reason.REDUCE_ONLY_CLIP,
        Reason.TRADE_NAV_CAP,
        Reason.SYMBOL_CAP,
        Reason.GROSS_EXPOSURE,
        Reason.NET_EXPOSURE,
        Reason.GROUP_CAP,
    }
)
NEW_EXPOSURE = frozenset(Reason) - ALL_ORDERS - CAPS
