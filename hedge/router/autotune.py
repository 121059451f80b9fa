"""Router autotune: from the TCA of recent executions, propose router parameters, and apply them if allowed.

Owns: ``Autotune`` — the window of the newest TCA records, the rules that turn one window into
proposals, the hysteresis (a change is applied only after ``router.autotune.confirm`` consecutive
windows proposed it), the bounds (``router.autotune``), the ``router_autotune`` journal (one
"proposal" line per window with its evidence, one "applied" line per change) and the
``RouterAutotune`` event behind ``router_autotune.json``.

Rules, per window of ``router.autotune.window`` executions (fallback rate: executions that fell back
to a taker order; maker times: time from the decision to each maker fill; bounds and steps:
``router.autotune``). When the fallback rate is >= ``fallback_high``:
- ``maker_timeout_s``: the maker fills (if any) came within the first half of the timeout ->
  shorter (waiting longer only loses alpha); the median maker fill in the last 30 % -> longer.
  One step multiplies or divides by ``timeout_step``, within [``timeout_min_s``, ``timeout_max_s``].
- ``reprice_ticks``: more than 2 reprices per execution -> one tick more (less chasing); fewer
  than 0.25 -> one less; within [``reprice_min``, ``reprice_max``].
- ``max_reprices``: more than 2 reprices per execution -> one less (0 = no limit: the first step
  sets ``reprices_max``); a limit that binds (reprices per execution >= it, at most 2) -> one
  more; within [``reprices_min``, ``reprices_max``].
- ``maker_offset_ticks`` > 0 -> one tick closer to the touch (within [0, ``offset_max_ticks``]).
- ``auto.margin_bps`` (auto mode) -> up by ``margin_step_bps`` (rest less readily), <= ``margin_max_bps``.
- ``mode``: maker share < ``taker_below_maker_share`` -> ``taker`` is proposed. Never applied: in
  taker mode there is no maker evidence to come back by.
When it is lower: maker fills whose mean 5 s markout is below -``adverse_markout_bps`` ->
``maker_offset_ticks`` one more (run over: rest further back); in auto mode, a fallback rate under
``fallback_low`` with a maker share >= 0.5 -> ``auto.margin_bps`` one step down (>= 0).
At any fallback rate (TWAP): the unfilled rest's mean opportunity cost > ``opportunity_high_bps``
-> slice less (``twap.min_notional_usd`` x ``twap_notional_step``, ``twap.slices`` - 1); else the
filled part's mean cost > ``cost_high_bps`` -> slice more (the inverse); within
[``twap_notional_min_usd``, ``twap_notional_max_usd``] and [``twap_slices_min``, ``twap_slices_max``].
A step never moves a parameter against its direction (from a configured value outside the
bounds it only moves towards them).
Applied (``features.router_autotune_apply``): at most one parameter per window (the first
confirmed in ``APPLICABLE`` order), one step, through ``Executor.set_config`` (from the next slice
or order on). Deterministic: it runs on TCA records, which are
written on the router clock.

Must never: apply anything when the apply flag is off, step outside the configured bounds, change
more than one parameter per window, or read the wall clock.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable

import msgspec

from hedge.bus import Bus
from hedge.config import AutotuneConfig, RouterConfig
from hedge.events import RouterAutotune
from hedge.model.clock import Clock
from hedge.router.tca import IntentTca
from hedge.state.journal import JournalWriter

log = logging.getLogger(__name__)

Params = dict[str, float | str]


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else 0.0


def evidence(recs: list[IntentTca]) -> dict[str, float]:
    """The window's figures the rules read."""
    n = len(recs)
    filled = sum(f.qty for r in recs for f in r.fills)
    maker = [f for r in recs for f in r.fills if f.maker]
    times = sorted(f.t_s for f in maker)
    return {
        "executions": float(n),
        "fallback_rate": sum(r.fallback for r in recs) / n if n else 0.0,
        "maker_share": sum(f.qty for f in maker) / filled if filled > 0 else 0.0,
        "reprices_per_execution": sum(r.reprices for r in recs) / n if n else 0.0,
        "maker_fill_p50_s": statistics.median(times) if times else -1.0,
        "maker_fill_max_s": times[-1] if times else -1.0,
        "maker_fills": float(len(maker)),
        "maker_markout_5s_bps": _mean([f.markout_bps["5s"] for f in maker if "5s" in f.markout_bps]),
        "cost_bps": _mean([r.cost_bps for r in recs if r.fills]),  # of the filled part
        "opportunity_bps": _mean([r.opportunity_usd / (r.qty * r.arrival_mid) * 1e4 for r in recs
                                  if r.qty > 0 and r.arrival_mid > 0]),  # the unfilled rest, of the wanted
        "shortfall_bps": _mean([r.shortfall_bps for r in recs]),
    }


def propose(ev: dict[str, float], rc: RouterConfig) -> dict[str, int]:
    """Direction per parameter (+1 up, -1 down; ``mode`` -1 = towards taker) from one window."""
    a = rc.autotune
    out: dict[str, int] = {}
    rpe, fallback = ev["reprices_per_execution"], ev["fallback_rate"]
    if ev["opportunity_bps"] > a.opportunity_high_bps:  # the unfilled rest ran away: slice less
        out["twap.min_notional_usd"], out["twap.slices"] = +1, -1
    elif ev["cost_bps"] > a.cost_high_bps:  # the filled part cost much: slice more
        out["twap.min_notional_usd"], out["twap.slices"] = -1, +1
    if fallback < a.fallback_high:
        if ev["maker_fills"] > 0 and ev["maker_markout_5s_bps"] < -a.adverse_markout_bps:
            out["maker_offset_ticks"] = +1  # filled readily but run over: rest further back
        if rc.mode == "auto" and fallback < a.fallback_low and ev["maker_share"] >= 0.5:
            out["auto.margin_bps"] = -1  # resting works: rest more readily
        return out
    t, p50, last = rc.maker_timeout_s, ev["maker_fill_p50_s"], ev["maker_fill_max_s"]
    if last < 0.5 * t:  # no maker fill (-1) or all early
        out["maker_timeout_s"] = -1
    elif p50 > 0.7 * t:
        out["maker_timeout_s"] = +1
    if rpe > 2.0:
        out["reprice_ticks"] = +1
        out["max_reprices"] = -1  # chasing the touch: fall back sooner
    elif rpe < 0.25:
        out["reprice_ticks"] = -1
    elif rc.max_reprices and rpe >= rc.max_reprices:
        out["max_reprices"] = +1  # the limit binds at a few reprices: let it chase one more
    if rc.maker_offset_ticks > 0:
        out["maker_offset_ticks"] = -1  # resting behind the touch does not fill: closer
    if rc.mode == "auto":
        out["auto.margin_bps"] = +1  # rested and fell back: rest less readily
    if ev["maker_share"] < a.taker_below_maker_share and rc.mode != "taker":
        out["mode"] = -1
    return out


def value(rc: RouterConfig, name: str) -> float | str:
    """A parameter by name (``section.field`` for the nested ones)."""
    sec, _, field = name.rpartition(".")
    obj = getattr(rc, sec) if sec else rc
    v: float | str = getattr(obj, field)
    return v


def with_value(rc: RouterConfig, name: str, v: float | str) -> RouterConfig:
    sec, _, field = name.rpartition(".")
    if sec:
        return msgspec.structs.replace(rc, **{sec: msgspec.structs.replace(getattr(rc, sec), **{field: v})})
    return msgspec.structs.replace(rc, **{field: v})


def bounds(a: AutotuneConfig, name: str) -> tuple[float, float]:
    """The configured range of a numeric parameter (``max_reprices`` may also be 0: no limit)."""
    return {
        "maker_timeout_s": (a.timeout_min_s, a.timeout_max_s),
        "reprice_ticks": (a.reprice_min, a.reprice_max),
        "max_reprices": (a.reprices_min, a.reprices_max),
        "maker_offset_ticks": (0, a.offset_max_ticks),
        "twap.min_notional_usd": (a.twap_notional_min_usd, a.twap_notional_max_usd),
        "twap.slices": (a.twap_slices_min, a.twap_slices_max),
        "auto.margin_bps": (0.0, a.margin_max_bps),
    }[name]


def stepped(rc: RouterConfig, name: str, direction: int) -> float | str | None:
    """The value one step from ``rc``'s in ``direction``, within bounds (None: already at the bound;
    a step never moves against its direction, even from a configured value outside the bounds)."""
    a: AutotuneConfig = rc.autotune
    if name == "mode":
        return "taker" if direction < 0 and rc.mode != "taker" else None
    cur = float(value(rc, name))
    if name == "max_reprices" and cur == 0:  # no limit: the first step down sets the loosest limit
        return a.reprices_max if direction < 0 else None
    if name == "maker_timeout_s":
        new = cur * a.timeout_step ** direction
    elif name == "twap.min_notional_usd":
        new = cur * a.twap_notional_step ** direction
    elif name == "auto.margin_bps":
        new = cur + direction * a.margin_step_bps
    else:
        new = cur + direction
    lo, hi = bounds(a, name)
    new = min(hi, max(lo, new))
    if (new - cur) * direction <= 1e-9:
        return None
    return int(new) if isinstance(value(rc, name), int) else round(new, 6)


APPLICABLE = ("maker_timeout_s", "reprice_ticks", "max_reprices", "maker_offset_ticks", "twap.slices",
              "twap.min_notional_usd", "auto.margin_bps")  # in this order of priority; mode is only proposed


def current(rc: RouterConfig) -> Params:
    return {"mode": rc.mode, **{name: value(rc, name) for name in APPLICABLE}}


class Autotune:
    """See the module docstring."""

    def __init__(self, rc: RouterConfig, *, apply: bool, bus: Bus, clock: Clock, journal: JournalWriter | None,
                 set_config: Callable[[RouterConfig], None]) -> None:
        self.rc = rc
        self.apply = apply
        self.bus = bus
        self.clock = clock
        self.journal = journal
        self.set_config = set_config
        self.window: list[IntentTca] = []
        self.windows = 0
        self.streak: dict[str, tuple[int, int]] = {}  # parameter -> (direction, consecutive windows)
        self.last: RouterAutotune | None = None

    def observe(self, rec: IntentTca) -> None:
        """A TCA record was written (a TcaRecorder listener)."""
        self.window.append(rec)
        if len(self.window) >= self.rc.autotune.window:
            recs, self.window = self.window, []
            self._evaluate(recs)

    def _evaluate(self, recs: list[IntentTca]) -> None:
        self.windows += 1
        ev = evidence(recs)
        dirs = propose(ev, self.rc)
        self.streak = {k: (d, self.streak[k][1] + 1 if k in self.streak and self.streak[k][0] == d else 1)
                       for k, d in dirs.items()}
        proposed: Params = {k: v for k, d in dirs.items() if (v := stepped(self.rc, k, d)) is not None}
        applied: Params = {}
        if self.apply:
            for name in APPLICABLE:
                if name in proposed and self.streak[name][1] >= self.rc.autotune.confirm:
                    applied[name] = proposed[name]
                    self.rc = with_value(self.rc, name, proposed[name])
                    self.streak.pop(name)
                    self.set_config(self.rc)
                    break  # one parameter, one step, per window
        now = self.clock.now_ns()
        self.last = RouterAutotune(windows=self.windows, apply=self.apply, params=current(self.rc), proposed=proposed,
                                   applied=applied, evidence={k: round(v, 6) for k, v in ev.items()}, recv_ns=now)
        if self.journal is not None:
            self.journal.write("proposal", self.last, now)
            if applied:
                self.journal.write("applied", {"applied": applied, "params": self.last.params}, now)
        if applied:
            log.info("router autotune: applied %s (window %d)", applied, self.windows)
        elif proposed:
            log.info("router autotune: proposes %s (window %d; %s)", proposed, self.windows,
                     "not applied: router_autotune_apply is off" if not self.apply else "awaiting confirmation")
        self.bus.publish(self.last)
