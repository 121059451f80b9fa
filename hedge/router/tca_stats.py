"""The TCA aggregate: per router mode and per liquidity, what a set of executions cost.

Owns: ``reliability`` (auto mode's maker attempts binned by predicted fill probability: the mean
prediction against the realised fill rate per bin), ``TcaStats``
(one row: cost and shortfall in bps, markouts at 1 s / 5 s / 30 s, maker share,
fill rate, fills beyond the slippage budget, median time to fill) and ``tca_block`` (the replay
summary's ``tca`` block and ``hedge tca``'s table: mode -> {"all", "maker", "taker"} -> row).

Rows "maker" and "taker" cover only the fills of that liquidity (cost, markouts, budget
violations, quantity); the intent-level figures (shortfall, fill rate, time to fill) are in "all".
Every average is weighted by filled quantity (costs by notional at the arrival mid).

Must never: read files or the clock; it aggregates the records it is given.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

import msgspec

from hedge.router.tca import MARKOUTS_S, IntentTca, TcaFill

LIQUIDITY = ("all", "maker", "taker")


class TcaStats(msgspec.Struct, kw_only=True):
    intents: int  # executions with at least one fill of this liquidity ("all": every execution)
    fills: int
    filled_qty: float
    filled_usd: float  # at the arrival mid
    cost_usd: float  # slippage vs the arrival mid + fees
    cost_bps: float  # of filled_usd
    markout_bps: dict[str, float]  # horizon -> quantity-weighted side-signed markout (fills marked out)
    maker_share: float  # maker quantity / filled quantity
    budget_violations: int
    shortfall_usd: float | None = None  # "all" only: cost + opportunity cost of the unfilled rest
    shortfall_bps: float | None = None  # of the wanted notional at the arrival mid
    fill_rate: float | None = None  # filled / wanted quantity
    time_to_fill_p50_s: float | None = None  # over the executions filled completely
    reprices: int | None = None
    fallbacks: int | None = None  # executions with a taker fallback


def _r(x: float) -> float:
    return round(x, 4)


def _row(recs: list[IntentTca], liquidity: str) -> TcaStats:
    pairs: list[tuple[IntentTca, TcaFill]] = [
        (r, f) for r in recs for f in r.fills if liquidity == "all" or f.maker == (liquidity == "maker")
    ]
    qty = sum(f.qty for _, f in pairs)
    usd = sum(f.qty * r.arrival_mid for r, f in pairs)
    cost = sum(r.side.sign * (f.price - r.arrival_mid) * f.qty + f.fee for r, f in pairs)
    markouts: dict[str, float] = {}
    for h in MARKOUTS_S:
        marked = [(f.qty, f.markout_bps[h]) for _, f in pairs if h in f.markout_bps]
        w = sum(q for q, _ in marked)
        if w > 0:
            markouts[h] = _r(sum(q * m for q, m in marked) / w)
    row = TcaStats(
        intents=len(recs) if liquidity == "all" else len({r.intent_id for r, _ in pairs}),
        fills=len(pairs), filled_qty=_r(qty), filled_usd=_r(usd), cost_usd=_r(cost),
        cost_bps=_r(cost / usd * 1e4) if usd > 0 else 0.0, markout_bps=markouts,
        maker_share=_r(sum(f.qty for _, f in pairs if f.maker) / qty) if qty > 0 else 0.0,
        budget_violations=sum(r.beyond_budget(f) for r, f in pairs),
    )
    if liquidity == "all":
        wanted_usd = sum(r.qty * r.arrival_mid for r in recs)
        wanted = sum(r.qty for r in recs)
        shortfall = sum(r.shortfall_usd for r in recs)
        ttf = [r.time_to_fill_s for r in recs if r.time_to_fill_s >= 0]
        row.shortfall_usd = _r(shortfall)
        row.shortfall_bps = _r(shortfall / wanted_usd * 1e4) if wanted_usd > 0 else 0.0
        row.fill_rate = _r(qty / wanted) if wanted > 0 else 0.0
        row.time_to_fill_p50_s = _r(statistics.median(ttf)) if ttf else None
        row.reprices = sum(r.reprices for r in recs)
        row.fallbacks = sum(r.fallback for r in recs)
    return row


def tca_block(records: Iterable[IntentTca]) -> dict[str, dict[str, TcaStats]]:
    """mode -> liquidity ("all", "maker", "taker") -> the row over ``records`` (modes sorted)."""
    by_mode: dict[str, list[IntentTca]] = {}
    for r in records:
        by_mode.setdefault(r.mode, []).append(r)
    return {mode: {liq: _row(recs, liq) for liq in LIQUIDITY} for mode, recs in sorted(by_mode.items())}


class ReliabilityBin(msgspec.Struct, kw_only=True):
    lo: float
    hi: float
    attempts: int
    predicted: float  # mean predicted fill probability
    realised: float  # share of the attempts that filled as maker within the maker timeout


def reliability(records: Iterable[IntentTca], bins: int = 5) -> list[ReliabilityBin]:
    """The maker attempts of auto mode (``choices`` that rested) in ``bins`` equal bins of predicted P
    (empty bins left out): a calibrated model has ``realised`` close to ``predicted`` in each."""
    out: list[ReliabilityBin] = []
    attempts = [c for r in records for c in r.choices if c.rest]
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = [c for c in attempts if lo <= c.p_fill < hi or (i == bins - 1 and c.p_fill == 1.0)]
        if inside:
            out.append(ReliabilityBin(lo=lo, hi=hi, attempts=len(inside),
                                      predicted=_r(statistics.fmean(c.p_fill for c in inside)),
                                      realised=_r(sum(c.filled for c in inside) / len(inside))))
    return out
