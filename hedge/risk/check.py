"""``check_order``: the single veto. Every order intent passes here before anything is sent.

Owns: the risk gates and the rule that combines them into one ``RiskDecision``.

Design (the table of gates is in README "Risk"):
- Pure: a function of (intent, ``RiskContext``, ``RiskLimits``) only; no clock, no I/O, no
  globals except a memo of the last CVaR computed (keyed by the identity of the return tuple,
  which it keeps alive). Property tests drive it with random sequences against an independent
  checker of the limits.
- The order's *direction* is what matters. Its symbol's position is taken in the worst case for
  that direction (every open order on the same side filled: ``PositionRisk.worst``). The part
  of the order that only shrinks that position (``reduce_part``) never adds exposure; anything
  beyond it does.
- Three kinds of gate (see ``hedge.risk.reasons``): gates for every order veto; gates for new
  exposure veto an order that adds exposure unless it has a reducing part, to which it is then
  clipped; caps reduce ``max_qty`` to the largest quantity that keeps every measure within its
  limit — or, for a measure already beyond it, never makes it larger.
- Prices: the wanted quantity is ``notional`` at the reference price (the intent's ``limit_px``,
  else the touch it would take), and min notional is judged there. Every cap is held at every
  price the router may pay for the order: from ``min(reference, bid)`` to ``max(reference, ask)``,
  widened by the router's slippage budget (``router.slippage_budget_bps``). Exposure grows with
  the price, so the per-trade, symbol, gross and group caps bind at the top of that range; net
  exposure (|others + own * p|, convex in p) is held at both ends.
- Hot path: ~20 gates in plain float arithmetic; observed values and limits are only filled in
  for gates that fired.

Must never: send, cancel or size an order by itself (the router turns ``max_qty`` into orders),
or let an order through when a limit would be broken.
"""

from __future__ import annotations

import math

from hedge.events import OrderIntent, RiskDecision, Side, Tier, TradingState
from hedge.risk.context import RiskContext
from hedge.risk.limits import RiskLimits
from hedge.risk.reasons import Reason

__all__ = ["check_order", "historical_cvar", "historical_var"]

_HALTED = TradingState.HALTED
_REDUCING = TradingState.REDUCING
_BUY = Side.BUY
_ALT_EXT = Tier.ALT_EXT


class _CvarMemo:
    __slots__ = ("alpha", "returns", "value")

    def __init__(self) -> None:
        self.returns: tuple[float, ...] | None = None
        self.alpha = 0.0
        self.value = 0.0


_memo = _CvarMemo()


def historical_cvar(returns: tuple[float, ...], alpha: float) -> float:
    """Historical CVaR: the mean loss (a positive fraction) over the worst ``ceil(alpha * n)`` returns.

    0.0 for an empty history. Negative when even the worst returns were gains.
    """
    memo = _memo
    if memo.returns is returns and memo.alpha == alpha:
        return memo.value
    n = len(returns)
    if n == 0:
        value = 0.0
    else:
        k = _tail_count(n, alpha)
        value = -math.fsum(sorted(returns)[:k]) / k
    memo.returns, memo.alpha, memo.value = returns, alpha, value
    return value


def historical_var(returns: tuple[float, ...], alpha: float) -> float:
    """Historical VaR: the loss (a positive fraction) of the ``ceil(alpha * n)``-th worst return; 0.0 when empty."""
    n = len(returns)
    return -sorted(returns)[_tail_count(n, alpha) - 1] if n else 0.0


def _tail_count(n: int, alpha: float) -> int:
    """How many of ``n`` returns make the worst ``alpha`` tail (at least one)."""
    return min(n, max(1, math.ceil(alpha * n - 1e-9)))


def _veto(
    intent: OrderIntent,
    ctx: RiskContext,
    reasons: list[str],
    observed: dict[str, float],
    limits: dict[str, float],
    price: float,
    cooloff_s: float,
) -> RiskDecision:
    return RiskDecision(
        intent=intent,
        allow=False,
        max_qty=0.0,
        reasons=tuple(reasons),
        observed=observed,
        limits=limits,
        cooloff_s=cooloff_s,
        state=ctx.state,
        price=price,
        ts_ms=intent.ts_ms,
        recv_ns=ctx.now_ns,
    )


def on_step(q: float, step: float) -> float:
    """``q`` rounded down to a whole number of ``step`` (as the router will place it); ``step`` 0 = unchanged.

    A quantity within 1e-9 steps of the next step counts as on it (float division noise)."""
    if not step > 0.0:
        return q
    return math.floor(q / step + 1e-9) * step


def check_order(intent: OrderIntent, ctx: RiskContext, lim: RiskLimits) -> RiskDecision:
    """The verdict on ``intent``: allowed with ``max_qty`` (possibly reduced, said in ``reasons``) or vetoed."""
    reasons: list[str] = []
    observed: dict[str, float] = {}
    limits: dict[str, float] = {}
    sym = intent.symbol
    state = ctx.state
    navh = ctx.nav
    nav = navh.value
    book = ctx.book
    now_ms = ctx.now_ns // 1_000_000
    cooloff_s = max(0.0, (ctx.cooloff_until_ms - now_ms) / 1000.0)

    # ---------------------------------------------------------------- gates for every order
    if state is _HALTED:
        reasons.append(Reason.HALTED)
    if not (nav > 0.0 and math.isfinite(nav)) or navh.updated_ms <= 0:
        reasons.append(Reason.NAV_MISSING)
        observed[Reason.NAV_MISSING] = nav
    elif not navh.age_s <= lim.nav_freshness_s:
        reasons.append(Reason.NAV_STALE)
        observed[Reason.NAV_STALE] = navh.age_s
        limits[Reason.NAV_STALE] = lim.nav_freshness_s
    if lim.require_user_stream and not ctx.user_stream_up:
        reasons.append(Reason.USER_STREAM_DOWN)
    if not ctx.reconciled:
        reasons.append(Reason.NOT_RECONCILED)
    if book is None or not book.valid:
        reasons.append(Reason.BOOK_INVALID)
    price = intent.limit_px
    if price <= 0.0 and book is not None and book.valid:
        price = book.ask if intent.side is _BUY else book.bid
    if not (price > 0.0 and math.isfinite(price)):
        reasons.append(Reason.NO_PRICE)
        price = 0.0
    budget = lim.slippage_budget_bps * 1e-4
    p_hi = max(price, book.ask) * (1.0 + budget) if book is not None else price
    p_lo = min(price, book.bid) * (1.0 - budget) if book is not None else price
    if not (intent.notional > 0.0 and math.isfinite(intent.notional)):
        reasons.append(Reason.BAD_INTENT)
        observed[Reason.BAD_INTENT] = intent.notional
    if ctx.open_orders >= lim.max_open_orders:
        reasons.append(Reason.MAX_OPEN_ORDERS)
        observed[Reason.MAX_OPEN_ORDERS] = ctx.open_orders
        limits[Reason.MAX_OPEN_ORDERS] = lim.max_open_orders
    if reasons:
        return _veto(intent, ctx, reasons, observed, limits, price, cooloff_s)
    assert book is not None  # valid, checked above

    sign = 1 if intent.side is _BUY else -1  # Side.sign without its property call
    pos = ctx.positions.get(sym)
    w0 = pos.worst(sign) if pos is not None else 0.0  # position if same-side open orders all fill
    q = intent.notional / price
    reduce_part = min(q, abs(w0)) if sign * w0 < 0.0 else 0.0
    if intent.reduce_only:
        if reduce_part <= 0.0:
            reasons.append(Reason.NOTHING_TO_REDUCE)
            observed[Reason.NOTHING_TO_REDUCE] = w0
            return _veto(intent, ctx, reasons, observed, limits, price, cooloff_s)
        if q > reduce_part:
            reasons.append(Reason.REDUCE_ONLY_CLIP)
            observed[Reason.REDUCE_ONLY_CLIP] = q
            limits[Reason.REDUCE_ONLY_CLIP] = reduce_part
            q = reduce_part

    sl = lim.symbols.get(sym)
    # ---------------------------------------------------------------- gates for new exposure
    if q > reduce_part:
        n_before = len(reasons)
        if state is _REDUCING:
            reasons.append(Reason.REDUCING)
        if sl is None:
            reasons.append(Reason.UNKNOWN_SYMBOL)
        elif sl.tier is _ALT_EXT and ctx.alt_ext_disabled:
            reasons.append(Reason.ALT_EXT_DISABLED)
        if not lim.in_window(now_ms):
            reasons.append(Reason.OUTSIDE_TRADING_WINDOW)
        if cooloff_s > 0.0:
            reasons.append(Reason.COOLOFF)
            observed[Reason.COOLOFF] = cooloff_s
        if not intent.e_pi_bps > lim.pi_min_bps:
            reasons.append(Reason.EXPECTED_RETURN)
            observed[Reason.EXPECTED_RETURN] = intent.e_pi_bps
            limits[Reason.EXPECTED_RETURN] = lim.pi_min_bps
        if not book.spread_bps <= lim.spread_bps_limit:
            reasons.append(Reason.SPREAD)
            observed[Reason.SPREAD] = book.spread_bps
            limits[Reason.SPREAD] = lim.spread_bps_limit
        if not book.lag_ms <= lim.latency_ms_limit:
            reasons.append(Reason.FEED_LAG)
            observed[Reason.FEED_LAG] = book.lag_ms
            limits[Reason.FEED_LAG] = lim.latency_ms_limit
        if not ctx.ack_latency_ms <= lim.latency_ms_limit:
            reasons.append(Reason.ACK_LATENCY)
            observed[Reason.ACK_LATENCY] = ctx.ack_latency_ms
            limits[Reason.ACK_LATENCY] = lim.latency_ms_limit
        if ctx.day_start_nav > 0.0:
            dd = 1.0 - nav / ctx.day_start_nav
            if dd > lim.daily_dd_limit:
                reasons.append(Reason.DAILY_DRAWDOWN)
                observed[Reason.DAILY_DRAWDOWN] = dd
                limits[Reason.DAILY_DRAWDOWN] = lim.daily_dd_limit
        if ctx.nav_hwm > 0.0:
            pdd = 1.0 - nav / ctx.nav_hwm
            if pdd > lim.portfolio_dd_limit:
                reasons.append(Reason.PORTFOLIO_DRAWDOWN)
                observed[Reason.PORTFOLIO_DRAWDOWN] = pdd
                limits[Reason.PORTFOLIO_DRAWDOWN] = lim.portfolio_dd_limit
        if len(ctx.returns) >= lim.cvar_min_samples:
            cvar = historical_cvar(ctx.returns, lim.cvar_alpha)
            if cvar > lim.cvar_limit:
                reasons.append(Reason.CVAR)
                observed[Reason.CVAR] = cvar
                limits[Reason.CVAR] = lim.cvar_limit
        edge = ctx.edge
        if edge is not None:  # post-trade evidence (the gate service): the strategy lost its edge here
            if edge.sprt_off:
                reasons.append(Reason.SPRT_NO_EDGE)
                observed[Reason.SPRT_NO_EDGE] = edge.sprt_llr
                limits[Reason.SPRT_NO_EDGE] = edge.sprt_lower
            if edge.expectancy_hi < 0.0:
                reasons.append(Reason.NEGATIVE_EXPECTANCY)
                observed[Reason.NEGATIVE_EXPECTANCY] = edge.expectancy_hi
                limits[Reason.NEGATIVE_EXPECTANCY] = 0.0
        if len(reasons) > n_before:
            if reduce_part <= 0.0:
                return _veto(intent, ctx, reasons, observed, limits, price, cooloff_s)
            q = reduce_part  # keep only the part that shrinks the position
        else:
            q_trade = max(reduce_part, lim.max_trade_nav_pct * nav / p_hi)
            if q > q_trade:
                reasons.append(Reason.TRADE_NAV_CAP)
                observed[Reason.TRADE_NAV_CAP] = q * p_hi / nav
                limits[Reason.TRADE_NAV_CAP] = lim.max_trade_nav_pct
                q = q_trade

    # ---------------------------------------------------------------- exposure caps (at every price it may pay)
    gross_o = 0.0
    net_o = 0.0
    group_o = 0.0
    group = sl.group if sl is not None else ""
    table = lim.symbols
    for other, p in ctx.positions.items():
        if other == sym:
            continue
        g = p.worst_abs() * p.mark
        gross_o += g
        net_o += p.worst(sign) * p.mark
        if group:
            o = table.get(other)
            if o is not None and o.group == group:
                group_o += g
    aw0 = abs(w0)
    sw0 = sign * w0
    cap = sl.cap if sl is not None else lim.unknown_cap
    qmax = max(cap * nav / p_hi, aw0) - sw0
    if q > qmax:
        reasons.append(Reason.SYMBOL_CAP)
        observed[Reason.SYMBOL_CAP] = abs(w0 + sign * q) * p_hi / nav
        limits[Reason.SYMBOL_CAP] = cap
        q = qmax
    qmax = max((lim.gross_exposure_max * nav - gross_o) / p_hi, aw0) - sw0
    if q > qmax:
        reasons.append(Reason.GROSS_EXPOSURE)
        observed[Reason.GROSS_EXPOSURE] = (gross_o + abs(w0 + sign * q) * p_hi) / nav
        limits[Reason.GROSS_EXPOSURE] = lim.gross_exposure_max
        q = qmax
    if group and sl is not None:
        qmax = max((sl.group_cap * nav - group_o) / p_hi, aw0) - sw0
        if q > qmax:
            reasons.append(Reason.GROUP_CAP)
            observed[Reason.GROUP_CAP] = (group_o + abs(w0 + sign * q) * p_hi) / nav
            limits[Reason.GROUP_CAP] = sl.group_cap
            q = qmax
    net_cap = lim.net_exposure_max * nav
    for px in (p_hi, p_lo) if p_lo != p_hi else (p_hi,):
        c = net_o + w0 * px
        qmax = (max(net_cap, abs(c)) - sign * c) / px
        if q > qmax:
            if Reason.NET_EXPOSURE not in observed:
                reasons.append(Reason.NET_EXPOSURE)
                limits[Reason.NET_EXPOSURE] = lim.net_exposure_max
            observed[Reason.NET_EXPOSURE] = abs(c + sign * q * px) / nav
            q = qmax

    if not q > 0.0:
        return _veto(intent, ctx, reasons, observed, limits, price, cooloff_s)
    placeable = on_step(q, ctx.step_size) * price
    if not intent.reduce_only and placeable < ctx.min_notional:
        reasons.append(Reason.MIN_NOTIONAL)
        observed[Reason.MIN_NOTIONAL] = placeable
        limits[Reason.MIN_NOTIONAL] = ctx.min_notional
        return _veto(intent, ctx, reasons, observed, limits, price, cooloff_s)
    return RiskDecision(
        intent=intent,
        allow=True,
        max_qty=q,
        reasons=tuple(reasons),
        observed=observed,
        limits=limits,
        cooloff_s=cooloff_s,
        state=state,
        price=price,
        ts_ms=intent.ts_ms,
        recv_ns=ctx.now_ns,
    )
