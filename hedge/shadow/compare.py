"""The comparison of the shadow pipeline with the live one: agreement of intents and decisions, results.

Owns: pairing the two pipelines' intents (by intent id: both see the same tick, so a shared id is
the same opportunity) and their risk decisions, the agreement rates, the newest differences, the
fill counts and the NAV change of each side since the shadow started (the shadow's is hypothetical:
its own simulated account), and the ``ShadowReport`` built from them.

Two keys agree when equal, numbers within ``REL_TOL`` relative: in the daemon the live NAV comes
from the exchange's account and the shadow's from its simulated one, which differ in the last digits
(a notional of 162.83936467 against 162.83936304 is the same decision).

Pairing is bounded: an intent or decision that waits for its twin longer than ``_PENDING`` newer
ones never pairs (it counts as a difference, as an intent only one side had does).

Must never: publish on either bus, or take part in a decision (it only listens).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

from hedge.events import Fill, Nav, OrderIntent, OrderRequest, RiskDecision, ShadowReport
from hedge.shadow.cost import ShadowCost

_PENDING = 4096
REL_TOL = 1e-6
Key = tuple[object, ...]


def same(a: Key, b: Key) -> bool:
    """``a`` and ``b`` agree: equal, their floats within ``REL_TOL`` relative."""
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=REL_TOL))
        for x, y in zip(a, b, strict=True))


class _Pairing:
    """One kind of thing both sides produce (intents, or decisions), paired by intent id."""

    __slots__ = ("agreed", "compared", "only", "pending")

    def __init__(self) -> None:
        self.pending: tuple[OrderedDict[str, Key], OrderedDict[str, Key]] = (OrderedDict(), OrderedDict())
        self.agreed = 0
        self.compared = 0
        self.only = 0  # seen by one side and never paired (evicted from the pending window)

    def add(self, side: int, ident: str, key: Key) -> tuple[Key, Key] | None:
        """Record ``key`` of ``side`` (0 live, 1 shadow); the (live, shadow) pair when it differs from its twin."""
        twin = self.pending[1 - side].pop(ident, None)
        if twin is None:
            own = self.pending[side]
            own[ident] = key
            if len(own) > _PENDING:
                own.popitem(last=False)
                self.only += 1
            return None
        self.compared += 1
        if same(twin, key):
            self.agreed += 1
            return None
        return (key, twin) if side == 0 else (twin, key)

    @property
    def unpaired(self) -> int:
        return self.only + len(self.pending[0]) + len(self.pending[1])


class Side:
    """One pipeline's counts: intents, orders, fills, and its NAV since the first reading."""

    __slots__ = ("fills", "first_nav", "intents", "last_nav", "orders")

    def __init__(self) -> None:
        self.intents = 0
        self.orders = 0
        self.fills = 0
        self.first_nav: float | None = None
        self.last_nav = 0.0

    @property
    def pnl(self) -> float:
        return self.last_nav - self.first_nav if self.first_nav is not None else 0.0


class Comparison:
    """Listens to both buses' intents, decisions, orders, fills and NAV (handlers ``on_*``, side 0 or 1)."""

    def __init__(self, candidate: str, differences_kept: int) -> None:
        self.candidate = candidate
        self.sides = (Side(), Side())
        self.intents = _Pairing()
        self.decisions = _Pairing()
        self.differences: deque[str] = deque(maxlen=differences_kept)

    def on_intent(self, side: int, i: OrderIntent) -> None:
        self.sides[side].intents += 1
        diff = self.intents.add(side, i.intent_id, (i.side.value, i.notional))
        if diff is not None:
            self.differences.append(f"{i.intent_id}: intent live {diff[0]} / shadow {diff[1]}")

    def on_decision(self, side: int, d: RiskDecision) -> None:
        diff = self.decisions.add(side, d.intent.intent_id, (d.allow, d.max_qty, tuple(d.reasons)))
        if diff is not None:
            self.differences.append(f"{d.intent.intent_id}: decision live {diff[0]} / shadow {diff[1]}")

    def on_order(self, side: int, r: OrderRequest) -> None:
        del r
        self.sides[side].orders += 1

    def on_fill(self, side: int, f: Fill) -> None:
        del f
        self.sides[side].fills += 1

    def on_nav(self, side: int, n: Nav) -> None:
        s = self.sides[side]
        if s.first_nav is None:
            s.first_nav = n.nav
        s.last_nav = n.nav

    def report(self, *, ticks: int, errors: int, cost: ShadowCost, ts_ms: int, recv_ns: int) -> ShadowReport:
        live, shadow = self.sides
        ip, dp = self.intents, self.decisions
        seen = ip.compared + ip.unpaired
        return ShadowReport(
            ts_ms=ts_ms,
            recv_ns=recv_ns,
            candidate=self.candidate,
            ticks=ticks,
            live_intents=live.intents,
            shadow_intents=shadow.intents,
            intents_agreed=ip.agreed,
            intent_agreement=ip.agreed / seen if seen else 1.0,
            decisions_agreed=dp.agreed,
            decisions_compared=dp.compared,
            decision_agreement=dp.agreed / dp.compared if dp.compared else 1.0,
            live_fills=live.fills,
            shadow_orders=shadow.orders,
            shadow_fills=shadow.fills,
            live_pnl=live.pnl,
            shadow_pnl=shadow.pnl,
            errors=errors,
            cost_samples=cost.samples,
            shadow_us_per_tick=cost.mean_us(cost.shadow),
            live_us_per_tick=cost.mean_us(cost.live),
            cost_share=cost.share,
            differences=list(self.differences),
        )
