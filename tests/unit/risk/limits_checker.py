"""An independent checker of the configured limits, and a random market/account simulator.

Written from the risk spec and the config, not from ``hedge.risk.check``: it reads the Config
(not RiskLimits), recomputes every measure from the context, and says which limit an approved
order would break. Measures use the worst case for the order's direction (every open order on
its side filled); an order is "exposure-reducing" when it only shrinks that position.
"""

from __future__ import annotations

import math
import random

import msgspec

from hedge.config import Config
from hedge.events import OrderIntent, RiskDecision, Side, Tier, TradingState
from hedge.risk.context import BookRisk, NavHealth, PositionRisk, RiskContext

REL = 1e-9  # relative float tolerance


def _cvar(returns: tuple[float, ...], alpha: float) -> float:
    n = len(returns)
    k = min(n, max(1, math.ceil(round(alpha * n, 9))))
    worst = sorted(returns)[:k]
    return -sum(worst) / k


def _in_window(cfg: Config, now_ms: int) -> bool:
    import datetime

    t = datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC)
    w = cfg.runtime.trading_window
    if t.weekday() not in w.days:
        return False
    m = t.hour * 60 + t.minute
    s = int(w.start[:2]) * 60 + int(w.start[3:])
    e = int(w.end[:2]) * 60 + int(w.end[3:])
    return s <= m < e if s <= e else (m >= s or m < e)


def violations(intent: OrderIntent, ctx: RiskContext, cfg: Config, d: RiskDecision) -> list[str]:
    """The limits an approved decision breaks (empty for vetoes that carry max_qty 0)."""
    if not d.allow:
        return [] if d.max_qty == 0.0 else ["veto with max_qty > 0"]
    risk, out = cfg.risk, []
    nav = ctx.nav.value
    book = ctx.book
    if ctx.state is TradingState.HALTED:
        out.append("approved while HALTED")
    if not (nav > 0 and ctx.nav.updated_ms > 0 and ctx.nav.age_s <= risk.nav_freshness_seconds):
        out.append("NAV missing or stale")
    if risk.require_user_stream and not ctx.user_stream_up:
        out.append("user stream down")
    if book is None or not book.valid:
        return [*out, "book invalid"]
    if ctx.open_orders >= risk.max_open_orders:
        out.append("open orders")
    s = 1 if intent.side is Side.BUY else -1
    p = intent.limit_px if intent.limit_px > 0 else (book.ask if s > 0 else book.bid)
    if d.price != p:
        out.append(f"reference price {d.price} != {p}")
    q = d.max_qty
    if not (q > 0 and q * p <= intent.notional * (1 + REL)):
        out.append(f"max_qty {q} not in (0, asked]")
    tol = REL * nav
    budget = cfg.runtime.router.slippage_budget_bps / 1e4
    p_hi = max(p, book.ask) * (1 + budget)  # the highest and lowest price the router may pay
    p_lo = min(p, book.bid) * (1 - budget)
    own = ctx.positions.get(intent.symbol, PositionRisk())
    w = own.qty + own.open_buy if s > 0 else own.qty - own.open_sell
    reducing = s * w < 0 and q <= abs(w) * (1 + REL)
    if intent.reduce_only and not reducing:
        out.append("reduce-only order adds exposure")
    info = cfg.symbols.symbols.get(intent.symbol)
    if not reducing:
        if ctx.state is not TradingState.ACTIVE:
            out.append(f"adds exposure in {ctx.state}")
        if info is None:
            out.append("adds exposure in an unknown symbol")
        elif info.tier is Tier.ALT_EXT and ctx.alt_ext_disabled:
            out.append("ALT-EXT disabled")
        if not _in_window(cfg, ctx.now_ns // 1_000_000):
            out.append("outside the trading window")
        if ctx.cooloff_until_ms > ctx.now_ns // 1_000_000:
            out.append("cooloff")
        if not intent.e_pi_bps > risk.pi_min_bps:
            out.append("expected return")
        if book.spread_bps > risk.spread_bps_limit:
            out.append("spread")
        if book.lag_ms > risk.latency_ms_limit or ctx.ack_latency_ms > risk.latency_ms_limit:
            out.append("latency")
        if ctx.day_start_nav > 0 and (ctx.day_start_nav - nav) / ctx.day_start_nav > risk.daily_dd_limit + REL:
            out.append("daily drawdown")
        if ctx.nav_hwm > 0 and (ctx.nav_hwm - nav) / ctx.nav_hwm > risk.portfolio_dd_limit + REL:
            out.append("portfolio drawdown")
        if len(ctx.returns) >= risk.cvar_min_samples and _cvar(ctx.returns, risk.cvar_alpha) > risk.cvar_limit:
            out.append("cvar")
        if ctx.edge is not None and (ctx.edge.sprt_off or ctx.edge.expectancy_hi < 0.0):
            out.append("no edge")
        if q * p_hi > max(risk.max_trade_nav_pct * nav, abs(w) * p_hi) + tol:
            out.append("per-trade NAV cap")
    out += _caps(intent, ctx, cfg, q, w, p_lo, tol)
    out += _caps(intent, ctx, cfg, q, w, p_hi, tol)
    placed = math.floor(q / ctx.step_size + 1e-9) * ctx.step_size if ctx.step_size > 0 else q
    if not intent.reduce_only and placed * p < ctx.min_notional * (1 - REL):
        out.append("min notional")
    return out


def _caps(intent: OrderIntent, ctx: RiskContext, cfg: Config, q: float, w: float, p: float, tol: float) -> list[str]:
    """The exposure caps an order of ``q`` filled at price ``p`` breaks (own position valued at ``p``)."""
    risk, out, nav = cfg.risk, [], ctx.nav.value
    s = 1 if intent.side is Side.BUY else -1
    info = cfg.symbols.symbols.get(intent.symbol)
    pre, post = abs(w) * p, abs(w + s * q) * p
    cap = (
        risk.symbol_caps.get(intent.symbol, risk.tier_caps.cap(info.tier))
        if info is not None
        else min(risk.tier_caps.cap(t) for t in Tier)
    )
    if post > max(cap * nav, pre) + tol:
        out.append(f"symbol cap at {p}: {post / nav:.6f} > {cap}")
    gross = net = group = 0.0
    gname = info.group if info is not None else ""
    for sym, o in ctx.positions.items():
        if sym == intent.symbol:
            continue
        g = max(abs(o.qty + o.open_buy), abs(o.qty - o.open_sell)) * o.mark
        gross += g
        net += (o.qty + o.open_buy if s > 0 else o.qty - o.open_sell) * o.mark
        oi = cfg.symbols.symbols.get(sym)
        if gname and oi is not None and oi.group == gname:
            group += g
    if gross + post > max(risk.gross_exposure_max * nav, gross + pre) + tol:
        out.append(f"gross exposure at {p}")
    if abs(net + (w + s * q) * p) > max(risk.net_exposure_max * nav, abs(net + w * p)) + tol:
        out.append(f"net exposure at {p}")
    if gname and group + post > max(cfg.symbols.correlation_groups[gname].cap * nav, group + pre) + tol:
        out.append(f"group cap at {p}")
    return out


# ------------------------------------------------------------------ the random world

SIM_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "SUSHIUSDT", "UNIUSDT", "DOGEUSDT", "XYZUSDT")
BASE_PX = {
    "BTCUSDT": 60_000.0,
    "ETHUSDT": 3_000.0,
    "SOLUSDT": 150.0,
    "SUSHIUSDT": 1.2,
    "UNIUSDT": 7.0,
    "DOGEUSDT": 0.15,
    "XYZUSDT": 2.0,
}


class World:
    """Positions, open orders and market state that evolve with approved orders and random events."""

    def __init__(self, rng: random.Random, now_ns: int, stress: float) -> None:
        self.rng = rng
        self.stress = stress  # probability that a market/account fault is injected at a step
        self.now_ns = now_ns
        self.nav = 10_000.0
        self.day_start = self.nav
        self.hwm = self.nav
        self.px = dict(BASE_PX)
        self.pos: dict[str, PositionRisk] = {
            "XYZUSDT": PositionRisk(qty=200.0, mark=2.0),  # a symbol outside symbols.yaml
            "ETHUSDT": PositionRisk(qty=rng.choice([0.0, 1.0, -2.0]), mark=3_000.0),  # up to 0.6 NAV
        }
        self.returns: tuple[float, ...] = ()

    def context(self, symbol: str) -> RiskContext:
        r, st = self.rng, self.stress
        px = self.px[symbol]
        spread_bps = r.choice([0.5, 2.0, 20.0, 79.9, 80.0, 80.1, 200.0]) if r.random() < st else 1.0
        half = px * spread_bps / 2e4
        book = BookRisk(
            valid=r.random() > st / 4,
            bid=px - half,
            ask=px + half,
            spread_bps=spread_bps,
            lag_ms=r.choice([1.0, 50.0, 50.1, 499.9, 500.0, 500.1, 3000.0]) if r.random() < st else 3.0,
        )
        age = r.choice([0.0, 89.9, 90.0, 90.1, 1e9]) if r.random() < st / 2 else r.uniform(0, 30)
        state = r.choice(list(TradingState)) if r.random() < st else TradingState.ACTIVE
        return RiskContext(
            now_ns=self.now_ns,
            state=state,
            nav=NavHealth(value=self.nav, age_s=age, source="sim", updated_ms=self.now_ns // 1_000_000 - int(age)),
            day_start_nav=self.day_start,
            nav_hwm=self.hwm,
            positions=dict(self.pos),
            open_orders=r.choice([0, 3, 19, 20, 25]) if r.random() < st else r.randint(0, 5),
            book=book,
            ack_latency_ms=r.choice([10.0, 50.0, 50.1, 500.0, 500.1]) if r.random() < st else 30.0,
            user_stream_up=r.random() > st / 4,
            returns=self.returns,
            cooloff_until_ms=self.now_ns // 1_000_000 + r.randint(-2000, 2000) if r.random() < st else 0,
            alt_ext_disabled=r.random() < st,
            min_notional=r.choice([0.0, 5.0, 100.0]),
            step_size=r.choice([0.0, 0.001, 0.1]),
        )

    def intent(self, i: int) -> OrderIntent:
        r = self.rng
        sym = r.choice(SIM_SYMBOLS)
        p = self.pos.get(sym)
        side = r.choice([Side.BUY, Side.SELL])
        reduce_only = p is not None and r.random() < 0.25
        if reduce_only and p is not None:
            side = Side.SELL if p.qty > 0 else Side.BUY
        notional = math.exp(r.uniform(math.log(1.0), math.log(20_000.0)))
        limit_px = self.px[sym] * r.uniform(0.99, 1.01) if r.random() < 0.3 else 0.0
        return OrderIntent(
            intent_id=f"i{i}",
            symbol=sym,
            side=side,
            notional=notional,
            strategy="sim",
            reason="sim",
            reduce_only=reduce_only,
            limit_px=limit_px,
            e_pi_bps=r.uniform(-2.0, 10.0),
        )

    def apply(self, intent: OrderIntent, d: RiskDecision) -> None:
        """An approved order rests, fills at once, or partly fills; then random fills/cancels/moves."""
        r = self.rng
        if d.allow:
            old = self.pos.get(intent.symbol, PositionRisk(mark=self.px[intent.symbol]))
            s = intent.side.sign
            filled = d.max_qty * r.choice([0.0, 0.5, 1.0, 1.0])
            rest = d.max_qty - filled
            self.pos[intent.symbol] = msgspec.structs.replace(
                old,
                qty=old.qty + s * filled,
                open_buy=old.open_buy + (rest if s > 0 else 0.0),
                open_sell=old.open_sell + (rest if s < 0 else 0.0),
            )
        for sym, p in list(self.pos.items()):
            u = r.random()
            if u < 0.1 and (p.open_buy or p.open_sell):  # resting orders fill
                self.pos[sym] = msgspec.structs.replace(
                    p, qty=p.qty + p.open_buy - p.open_sell, open_buy=0.0, open_sell=0.0
                )
            elif u < 0.2:  # or are cancelled
                self.pos[sym] = msgspec.structs.replace(p, open_buy=0.0, open_sell=0.0)
        for sym in self.px:  # market moves, marked to the positions
            self.px[sym] *= math.exp(r.gauss(0.0, 0.002 + 0.02 * self.stress))
            if sym in self.pos:
                self.pos[sym] = msgspec.structs.replace(self.pos[sym], mark=self.px[sym])
        if r.random() < 0.05:
            ret = r.gauss(0.0005, 0.01 + 0.04 * self.stress)
            self.nav *= 1.0 + ret
            self.hwm = max(self.hwm, self.nav)
            self.returns = (*self.returns[-59:], ret)
        if r.random() < 0.01:  # a new day
            self.day_start = self.nav
        self.now_ns += r.choice([1, 1000, 60_000, 3_600_000]) * 1_000_000
