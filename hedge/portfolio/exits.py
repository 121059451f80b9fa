"""Exit rules: take-profit, stop-loss, breakeven, trailing stop and the max-R cap, as plain arithmetic.

Owns: the levels of one position (``ExitLevels``) and the rule that moves them on a new price.
With ``s`` the position's sign (+1 long, -1 short), ``E`` the entry price, and the trade's
take-profit and stop distances in bps from ``hedge.config.geometry.barriers`` (decided with the
entry, at its volatility, and carried on the intent; a position without them, e.g. adopted from
the exchange, gets the geometry at zero volatility), ``R = E * sl_bps / 1e4`` the initial risk:

- stop-loss ``SL = E - s * R``; take-profit ``TP = E + s * E * tp_bps / 1e4`` (never further
  than ``max_R`` risk units away);
- the time stop (``exits.time_stop``): a position still open ``exits.horizon_s`` after its
  opening fill is closed (the scanner checks it, on event time);
- the best price seen ``B`` (highest bid of a long, lowest ask of a short), and the worst (only
  reported: the trade's adverse excursion);
- breakeven: once ``s * (B - E) >= breakeven_after_R * R`` the stop moves to at least ``E``;
- trailing (only once breakeven has armed, so it never tightens the initial stop of a position
  that has not moved its way): the stop follows ``B * (1 - s * trail_bps / 1e4)``;
- the stop only ever ratchets in the position's favour (up for a long, down for a short).

Triggers are judged on the price the exit would trade at: the bid for a long, the ask for a
short. ``sl_pct`` 0 means "no stop": the levels then carry 0 and the consistency check flags it.

Must never: allocate or publish on the no-trigger path (the scanner calls ``update`` per tick),
or loosen a stop.
"""

from __future__ import annotations

import enum

import msgspec

from hedge.config import ExitParams
from hedge.config.geometry import barriers


class ExitKind(enum.StrEnum):
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    BREAKEVEN = "breakeven_stop"
    TRAILING = "trailing_stop"
    TIME_STOP = "time_stop"

    @property
    def urgent(self) -> bool:
        """Stops must not wait for a maker fill; a take-profit may."""
        return self is not ExitKind.TAKE_PROFIT


class ExitLevels(msgspec.Struct, kw_only=True, gc=False):
    """One position's exit levels (mutable: the scanner updates it in place on every tick)."""

    sign: int  # +1 long, -1 short
    entry: float
    tp: float  # 0 = none
    stop: float  # 0 = none
    risk: float  # R, in price units
    best: float  # best exit price seen since the position opened
    breakeven: bool = False
    stop_kind: ExitKind = ExitKind.STOP_LOSS
    tp_bps: float = 0.0  # the trade's distances from entry (0 = the geometry at zero volatility)
    sl_bps: float = 0.0
    worst: float = 0.0  # worst exit price seen since the position opened (for the trade's MAE)

    def __post_init__(self) -> None:
        if self.worst <= 0.0:  # fresh levels, or a ledger file written before ``worst`` was kept
            self.worst = self.entry


def initial_levels(sign: int, entry: float, p: ExitParams, tp_bps: float = 0.0, sl_bps: float = 0.0) -> ExitLevels:
    """Fresh levels for a position opened at ``entry`` with the trade's TP/SL distances in bps
    (0: ``barriers(p, 0)``); the TP is capped at ``max_R`` risk units."""
    if tp_bps <= 0.0 or sl_bps <= 0.0:
        tp_bps, sl_bps = barriers(p, 0.0)
    risk = entry * sl_bps * 1e-4
    tp_dist = entry * tp_bps * 1e-4
    if risk > 0.0:
        tp_dist = min(tp_dist, p.max_R * risk)
    tp = entry + sign * tp_dist if tp_dist > 0.0 else 0.0
    stop = entry - sign * risk if risk > 0.0 else 0.0
    return ExitLevels(sign=sign, entry=entry, tp=tp, stop=stop, risk=risk, best=entry, tp_bps=tp_bps, sl_bps=sl_bps)


def rebase(lv: ExitLevels, entry: float, p: ExitParams) -> None:
    """The position grew at a new average ``entry``: new TP and R, the stop never loosened."""
    fresh = initial_levels(lv.sign, entry, p, lv.tp_bps, lv.sl_bps)
    lv.entry, lv.tp, lv.risk = entry, fresh.tp, fresh.risk
    if lv.stop <= 0.0 or lv.sign * (fresh.stop - lv.stop) > 0.0:
        lv.stop, lv.stop_kind = fresh.stop, ExitKind.STOP_LOSS
    if lv.sign * (entry - lv.best) > 0.0:
        lv.best = entry
    if lv.sign * (entry - lv.worst) < 0.0:
        lv.worst = entry


def update(lv: ExitLevels, px: float, p: ExitParams, trailing: bool) -> ExitKind | None:
    """Apply the exit price ``px`` (bid of a long, ask of a short); the exit it triggers, if any.

    Ratchets ``best`` (or ``worst``), breakeven and the trailing stop first, then checks the stop and the TP.
    """
    s = lv.sign
    if s * (px - lv.best) > 0.0:
        lv.best = px
        if lv.risk > 0.0:
            if not lv.breakeven and s * (px - lv.entry) >= p.breakeven_after_R * lv.risk:
                lv.breakeven = True
                if lv.stop <= 0.0 or s * (lv.entry - lv.stop) > 0.0:
                    lv.stop, lv.stop_kind = lv.entry, ExitKind.BREAKEVEN
            if lv.breakeven and trailing:
                trail = px * (1.0 - s * p.trail_bps * 1e-4)
                if s * (trail - lv.stop) > 0.0:
                    lv.stop, lv.stop_kind = trail, ExitKind.TRAILING
    elif s * (px - lv.worst) < 0.0:
        lv.worst = px
    if lv.stop > 0.0 and s * (px - lv.stop) <= 0.0:
        return lv.stop_kind
    if lv.tp > 0.0 and s * (px - lv.tp) >= 0.0:
        return ExitKind.TAKE_PROFIT
    return None
