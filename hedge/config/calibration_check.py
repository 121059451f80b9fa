"""Is the calibrator fit for trading? The check ``hedge run``, ``hedge replay`` and ``hedge doctor`` apply.

Owns: ``applied`` — the calibrator the screener uses (a fit for another geometry is not applied) —
and ``calibrator_problems`` — the reasons a configuration's calibrator must not gate real
orders: never fitted (no samples, no provenance), fitted for another trade geometry than the
exit rules manage, or fitted on data older than ``calibrator.max_age_days`` (at ``now_ms``; a
replay passes 0: no age) — and ``refuses``: whether a run must refuse to start on them (real
orders on binance or binance-testnet); the local exchange, dry runs and replays warn.

Must never: read a file, the environment or the clock (the caller passes ``now_ms``), or change a value.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from hedge.config.geometry import signature
from hedge.config.model import Config
from hedge.config.strategy import CalibratorParams

REAL_VENUES = ("binance", "binance-testnet")


def epoch_ms(iso: str) -> int | None:
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return None


def refuses(cfg: Config) -> bool:
    """Whether ``cfg`` must not start on a calibrator with problems: real orders on a real venue,
    gated by at least one enabled strategy (a dry run or a strategy-less run only warns)."""
    rt = cfg.runtime
    return rt.venue in REAL_VENUES and not rt.dry_run and any(s.enabled for s in cfg.strategy.strategies)


def applied(cfg: Config) -> CalibratorParams:
    """The calibrator the screener uses: the configured fit where it was fitted for the geometry the exit
    rules trade (or records none), else the unfitted default (a=0, b=1) with the configured costs — a fit
    labels one TP/SL/horizon, and its p means nothing for another (``calibrator_problems`` says so)."""
    cal = cfg.strategy.calibrator
    if cal.geometry and cal.geometry != signature(cfg.strategy.exits):
        default = CalibratorParams()
        return msgspec.structs.replace(cal, a=default.a, b=default.b)
    return cal


def calibrator_problems(cfg: Config, now_ms: int) -> list[str]:
    """Why ``cfg``'s calibrator is unfitted or stale at ``now_ms`` (empty: fit for trading)."""
    cal = cfg.strategy.calibrator
    if cal.samples == 0 or not cal.fitted_on:
        return [
            f"the calibrator is not fitted (a={cal.a:g}, b={cal.b:g}, no samples): its p(TP first) is a guess; "
            "run `hedge calibrate` on recent recordings"
        ]
    out = []
    want = signature(cfg.strategy.exits)
    if cal.geometry != want:
        out.append(f"the calibrator was fitted for the geometry {cal.geometry or '(unrecorded)'!r}, "
                   f"the exit rules trade {want!r}: its fit is not applied (p is the unfitted guess); "
                   "run `hedge calibrate` again")
    last = epoch_ms(cal.data_to) if cal.data_to else None
    if last is None:
        out.append(f"the calibrator records no valid data_to ({cal.data_to!r}): its age is unknown")
    elif cal.max_age_days > 0.0 and now_ms - last > cal.max_age_days * 86_400_000:
        age = (now_ms - last) / 86_400_000
        out.append(f"the calibrator was fitted on data up to {cal.data_to} ({age:.0f} days old, "
                   f"calibrator.max_age_days {cal.max_age_days:g}): run `hedge calibrate` on recent recordings")
    return out
