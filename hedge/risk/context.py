"""RiskContext: the typed, immutable snapshot of everything ``check_order`` looks at.

Owns: the shape of the risk gates' inputs — NAV health, trading state, positions with their
open orders, the order's book, latencies, user-stream liveness, return history, day-start NAV
and high-water mark, cooloff, the exchange's minimum notional for the symbol and (gate service) the post-trade
evidence on the intent's strategy x symbol.

Design: a snapshot, not a live view. The risk stage builds one per intent from state it keeps
current from bus events (dicts inside are replaced, never mutated, so a context stays valid
after it is built). ``check_order`` is a pure function of (intent, context, limits); tests and
benchmarks build contexts directly.

Must never: hold configuration (limits live in ``hedge.risk.limits``) or compute a decision.
"""

from __future__ import annotations

import msgspec

from hedge.events import TradingState


class NavHealth(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The futures-wallet NAV (USDT) and how old it is. ``updated_ms`` 0 = never seen."""

    value: float = 0.0
    age_s: float = float("inf")
    source: str = ""
    updated_ms: int = 0


class PositionRisk(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One symbol's signed position and its open orders' remaining quantities (both >= 0)."""

    qty: float = 0.0
    mark: float = 0.0
    open_buy: float = 0.0
    open_sell: float = 0.0

    def worst(self, sign: int) -> float:
        """The position if every open order on the ``sign`` side filled (the worst case that way)."""
        return self.qty + self.open_buy if sign > 0 else self.qty - self.open_sell

    def worst_abs(self) -> float:
        """The largest absolute position any fill of the open orders can reach."""
        return max(abs(self.qty + self.open_buy), abs(self.qty - self.open_sell))


class BookRisk(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The order's symbol's book as risk sees it; ``lag_ms`` = local receive - exchange time."""

    valid: bool = False
    bid: float = 0.0
    ask: float = 0.0
    spread_bps: float = 0.0
    lag_ms: float = 0.0


class EdgeRisk(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Post-trade evidence on the intent's strategy x symbol (the gate service's ``Outcomes``; ``None`` elsewhere).

    ``sprt_off``: the SPRT accepted "no edge" (stays so until an operator resets it);
    ``expectancy_hi``: upper end of the 95% CI of the mean realised PnL per round trip (``inf`` with
    too few trips to judge)."""

    sprt_off: bool = False
    sprt_llr: float = 0.0
    sprt_lower: float = 0.0
    expectancy_hi: float = float("inf")


class RiskContext(msgspec.Struct, frozen=True, kw_only=True):
    now_ns: int  # local wall clock when the snapshot was taken
    state: TradingState = TradingState.ACTIVE
    nav: NavHealth = NavHealth()
    day_start_nav: float = 0.0  # 0 = not known yet (the daily drawdown gate then does not apply)
    nav_hwm: float = 0.0
    positions: dict[str, PositionRisk] = {}
    open_orders: int = 0
    book: BookRisk | None = None  # the intent's symbol's book
    ack_latency_ms: float = 0.0  # order request -> first exchange answer, latest observed
    user_stream_up: bool = False
    reconciled: bool = True  # the portfolio's first reconciliation with the exchange is done
    returns: tuple[float, ...] = ()  # periodic NAV returns, oldest first
    cooloff_until_ms: int = 0
    cooloff_reason: str = ""
    alt_ext_disabled: bool = False
    min_notional: float = 0.0  # the exchange's MIN_NOTIONAL for the intent's symbol (0 = none)
    step_size: float = 0.0  # the exchange's quantity step for the intent's symbol (0 = none): MIN_NOTIONAL
    # is judged on the quantity rounded down to it, as the router will place it
    edge: EdgeRisk | None = None  # post-trade evidence (the gate service); None = no such gate

    @property
    def now_ms(self) -> int:
        return self.now_ns // 1_000_000
