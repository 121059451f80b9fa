"""The gate's decisions: a runner's order -> ``check_order`` with the risk stage's context, and its feedback.

Owns: the mapping of a ``CheckRequest`` onto an ``OrderIntent`` and onto the context (the
runner's touch and feed lag are the book the gates see; NAV, positions, open orders, cooloff,
trading state and ack latency are the risk stage's), the decision id, the bounded idempotency
cache (a repeated key answers the same bytes), the journal lines (vetoes in ``risk_vetoes``,
post-trade reports in ``orders_success/failed/denied``; each reported fill goes to ``on_fill``:
the risk stage's cooloff and the ``events`` journal take it as they take the daemon's own) and
the counters ``/metrics`` shows, and the post-trade evidence (``Outcomes``) it hands ``check_order``
per strategy x symbol (with the operator's reset).

Must never: decide anything itself (``check_order`` does, with the daemon's ``RiskLimits``), or
hold the account view (the risk stage keeps it from the venue's events).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections import Counter, OrderedDict
from collections.abc import Callable

import msgspec

from hedge.config import Config
from hedge.events import Fill, OrderIntent, RiskDecision
from hedge.gate.outcomes import Evidence, Outcomes
from hedge.gate.schemas import (
    CheckRequest,
    CheckResponse,
    EdgeOut,
    EdgeReset,
    HealthOut,
    PostTradeAck,
    PostTradeLog,
    ReasonOut,
)
from hedge.model.clock import Clock
from hedge.risk.check import check_order
from hedge.risk.context import BookRisk, RiskContext
from hedge.risk.limits import RiskLimits
from hedge.state.histogram import Histogram
from hedge.state.journal import Journals

log = logging.getLogger(__name__)
ContextFn = Callable[[str, int], RiskContext]  # (symbol, now_ns) -> the risk stage's context
CACHE_SIZE = 100_000
_POSTTRADE_JOURNAL = {"filled": "orders_success", "failed": "orders_failed", "denied": "orders_denied"}
_encode = msgspec.json.Encoder().encode


def intent_of(req: CheckRequest, now_ns: int) -> OrderIntent:
    """The intent ``check_order`` judges for ``req`` (notional at the runner's price)."""
    return OrderIntent(
        intent_id=req.idempotency_key, symbol=req.symbol, side=req.side, notional=req.quantity * req.price,
        strategy=req.strategy, reason="gate", reduce_only=req.reduce_only, urgent=req.order_type == "MARKET",
        limit_px=req.price, e_pi_bps=req.e_pi_bps, p_win=req.p_tp, regime=req.regime,
        ts_ms=now_ns // 1_000_000, recv_ns=now_ns,
    )


def runner_book(req: CheckRequest) -> BookRisk:
    """The runner's view of the book: its touch (``bid``/``ask``, 0 = its price) and its feed lag."""
    bid = req.bid or req.price
    ask = req.ask or req.price
    mid = (bid + ask) / 2.0
    valid = ask >= bid
    return BookRisk(valid=valid, bid=bid, ask=ask, spread_bps=(ask - bid) / mid * 1e4 if valid else 0.0,
                    lag_ms=req.latency_ms)


def response_of(d: RiskDecision, decision_id: str, key: str) -> CheckResponse:
    return CheckResponse(
        decision_id=decision_id, idempotency_key=key, allow=d.allow, max_qty=d.max_qty, price=d.price,
        reasons=[ReasonOut(name=r, observed=d.observed.get(r), limit=d.limits.get(r)) for r in d.reasons],
        cooloff_s=d.cooloff_s, state=d.state,
    )


class GateService:
    """``check`` / ``posttrade`` / ``health`` for the HTTP layer (``hedge.gate.app``); plain calls, no awaits."""

    def __init__(
        self, cfg: Config, context: ContextFn, *, clock: Clock, on_fill: Callable[[Fill], None],
        journals: Journals | None = None, cache_size: int = CACHE_SIZE,
    ) -> None:
        self.limits = RiskLimits.from_config(cfg)
        self._context = context
        self._clock = clock
        self._on_fill = on_fill
        self._journals = journals
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._prefix = f"g{os.getpid():x}{clock.now_ns() // 1_000_000:x}"
        self._seq = itertools.count(1)
        self.outcomes = Outcomes(cfg)
        self.decisions: Counter[str] = Counter()  # "allow" / "veto"
        self.reasons: Counter[str] = Counter()
        self.posttrade: Counter[str] = Counter()
        self.replays = 0
        self.bad_requests = 0
        self.latency = Histogram()  # seconds spent deciding (cache misses)

    def context(self, req: CheckRequest, now_ns: int) -> RiskContext:
        """The risk stage's context for ``req.symbol`` with the runner's view of the book and the post-trade
        evidence on ``req.strategy`` x ``req.symbol``."""
        return msgspec.structs.replace(self._context(req.symbol, now_ns), book=runner_book(req),
                                       edge=self.outcomes.edge(req.symbol, req.strategy))

    def check(self, req: CheckRequest) -> bytes:
        """The JSON answer to ``req``: decided once per idempotency key, then the same bytes."""
        key = req.idempotency_key
        cache = self._cache
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            self.replays += 1
            return hit
        now = self._clock.now_ns()
        d = check_order(intent_of(req, now), self.context(req, now), self.limits)
        body = _encode(response_of(d, f"{self._prefix}-{next(self._seq)}", key))
        self.decisions["allow" if d.allow else "veto"] += 1
        self.reasons.update(d.reasons)
        if not d.allow and self._journals is not None:
            self._journals.write("risk_vetoes", "veto", d)
        cache[key] = body
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        self.latency.observe((self._clock.now_ns() - now) / 1e9)
        return body

    def log_posttrade(self, req: PostTradeLog) -> PostTradeAck:
        """Feed ``req``'s fills to ``on_fill`` (the risk stage's cooloff, the events journal) and journal it."""
        now = self._clock.now_ns()
        for f in req.fills:
            self._on_fill(Fill(client_order_id=req.order_id, symbol=req.symbol, side=req.side, qty=f.qty,
                               price=f.price, fee=f.fee, maker=f.maker, realized_pnl=f.realized_pnl,
                               trade_id=f.trade_id, ts_ms=now // 1_000_000, recv_ns=now))
        ev = self.outcomes.record(req.symbol, req.strategy, req.outcome, req.realized_pnl)
        self.posttrade[req.status] += 1
        if self._journals is not None:
            self._journals.write(_POSTTRADE_JOURNAL[req.status], "posttrade", req)
        edge = None
        if ev is not None:
            edge = edge_out(req.symbol, req.strategy, ev)
            if edge.vetoing:
                log.warning("gate: %s on %s has no edge (SPRT llr %.3f%s, expectancy CI high %s): its new exposure "
                            "is vetoed until the evidence recovers or POST /posttrade/reset", req.strategy,
                            req.symbol, edge.sprt_llr, ", off" if edge.sprt_off else "", edge.expectancy_hi)
        ctx = self._context(req.symbol, now)
        return PostTradeAck(order_id=req.order_id, fills=len(req.fills),
                            cooloff_s=max(0.0, (ctx.cooloff_until_ms - now // 1_000_000) / 1000.0), state=ctx.state,
                            edge=edge)

    def reset_edge(self, req: EdgeReset) -> EdgeOut:
        """An operator's fresh start for ``req.strategy`` x ``req.symbol`` (journaled in ``events``)."""
        had = self.outcomes.reset(req.symbol, req.strategy)
        log.warning("gate: post-trade evidence of %s on %s reset by an operator (%s)", req.strategy, req.symbol,
                    "it had a record" if had else "it had none")
        if self._journals is not None:
            self._journals.write("events", "GateEdgeReset", req)
        return EdgeOut(symbol=req.symbol, strategy=req.strategy)

    def health(self) -> HealthOut:
        now = self._clock.now_ns()
        ctx = self._context("", now)
        nav = ctx.nav
        fresh = nav.updated_ms > 0 and nav.age_s <= self.limits.nav_freshness_s
        return HealthOut(ok=fresh and ctx.reconciled, state=ctx.state, nav=nav.value,
                         nav_age_s=nav.age_s if nav.updated_ms > 0 else None, reconciled=ctx.reconciled)


def edge_out(symbol: str, strategy: str, ev: Evidence) -> EdgeOut:
    r = ev.risk()
    hi = r.expectancy_hi
    return EdgeOut(symbol=symbol, strategy=strategy, trips=ev.trips, wins=ev.wins, losses=ev.losses,
                   expectancy=ev.expectancy, expectancy_hi=hi if math.isfinite(hi) else None, sprt_llr=r.sprt_llr,
                   sprt_off=r.sprt_off, vetoing=r.sprt_off or hi < 0.0)
