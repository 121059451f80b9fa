"""The trade geometry: one place that turns ``exits`` into the take-profit, stop and horizon of a trade.

Owns: ``barriers`` / ``Barriers`` (TP and SL in bps for the realized volatility at entry, the TP capped at
``max_R`` risk units exactly as the portfolio caps it), ``signature`` (the geometry as a string a
calibrator records, so a fit for another geometry is recognised as stale) and
``coherence_problems`` (where the portfolio would manage a different trade than the one the
calibrator labels: a breakeven/trailing stop that can arm before the take-profit, no time stop at
the horizon). The calibrator's labels (``hedge.signals.calibration``), the screener's expected
return and the portfolio's exit levels all read their TP/SL/horizon from here.

Must never: read a file or the environment, or hold state.
"""

from __future__ import annotations

import math

from hedge.config.strategy import ExitParams


def barriers(p: ExitParams, vol_bps: float) -> tuple[float, float]:
    """(take-profit, stop-loss) in bps for a trade entered at realized volatility ``vol_bps``
    (bps per sqrt(second)); the take-profit is never further than ``max_R`` stops away."""
    return Barriers(p)(vol_bps)


class Barriers:
    """``barriers`` of one ``exits``, its figures read once (the screener calls it per intent, the
    calibration per sample): the same operations in the same order, so the same floats."""

    __slots__ = ("_max_r", "_root_h", "_sl0", "_sl_vol", "_tp0", "_tp_vol")

    def __init__(self, p: ExitParams) -> None:
        self._root_h = math.sqrt(p.horizon_s)
        self._sl0, self._sl_vol = p.sl_pct * 1e4, p.sl_vol
        self._tp0, self._tp_vol = p.tp_pct * 1e4, p.tp_vol
        self._max_r = p.max_R

    def __call__(self, vol_bps: float) -> tuple[float, float]:
        unit = max(vol_bps, 0.0) * self._root_h
        sl = self._sl0 + self._sl_vol * unit
        tp = self._tp0 + self._tp_vol * unit
        if sl > 0.0:
            tp = min(tp, self._max_r * sl)
        return tp, sl


def signature(p: ExitParams) -> str:
    """The geometry's defining values: equal strings label the same trade."""
    return (
        f"tp={p.tp_pct * 1e4:g}bps+{p.tp_vol:g}vol sl={p.sl_pct * 1e4:g}bps+{p.sl_vol:g}vol "
        f"max_R={p.max_R:g} horizon={p.horizon_s:g}s"
    )


def coherence_problems(p: ExitParams) -> list[str]:
    """Why the portfolio's trade would differ from the labelled one (empty: the same trade)."""
    out = []
    if p.breakeven_after_R < p.max_R:
        out.append(
            f"exits.breakeven_after_R ({p.breakeven_after_R:g}) < exits.max_R ({p.max_R:g}): a breakeven or "
            "trailing stop can close a trade the calibrator labels by TP/SL only"
        )
    if not p.time_stop:
        out.append(f"exits.time_stop is off: a trade can outlive the labelled horizon ({p.horizon_s:g} s)")
    return out
