"""Router autotune: from the TCA of recent executions, propose router parameters, and apply them if allowed.

Owns: ``Autotune`` — the window of the newest TCA records, the rules that turn one window into
proposals, the hysteresis (a change is applied only after ``router.autotune.confirm`` consecutive
windows proposed it), the bounds (``router.autotune``), the ``router_autotune`` journal (one
"proposal" line per window with its evidence, one "applied" line per change) and the
``RouterAutotune`` event behind ``router_autotune.json``.

Rules, per window of ``router.autotune.window`` executions (fallback rate: executions that fell back
to a taker order; maker times: time from the decision to each maker fill):
- ``maker_timeout_s``: fallback rate >= ``fallback_high`` and the maker fills (if any) came within
  the first half of the timeout -> shorter (waiting longer only loses alpha); fallback rate >=
  ``fallback_high`` and the median maker fill came in the last 30 % of it -> longer. One step
  multiplies or divides by ``timeout_step``, within [``timeout_min_s``, ``timeout_max_s``].
- ``reprice_ticks``: fallback rate >= ``fallback_high`` with more than 2 reprices per execution ->
  one tick more (less chasing); with fewer than 0.25 -> one less; within [``reprice_min``, ``reprice_max``].
- ``mode``: maker share < ``taker_below_maker_share`` with fallback rate >= ``fallback_high`` ->
  ``taker`` is proposed. Never applied: in taker mode there is no maker evidence to come back by.
Applied (``features.router_autotune_apply``): at most one parameter per window, one step, through
``Executor.set_config`` (from the next slice on). Deterministic: it runs on TCA records, which are
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


def evidence(recs: list[IntentTca]) -> dict[str, float]:
    """The window's figures the rules read."""
    n = len(recs)
    filled = sum(f.qty for r in recs for f in r.fills)
    maker = sum(f.qty for r in recs for f in r.fills if f.maker)
    times = sorted(f.t_s for r in recs for f in r.fills if f.maker)
    return {
        "executions": float(n),
        "fallback_rate": sum(r.fallback for r in recs) / n if n else 0.0,
        "maker_share": maker / filled if filled > 0 else 0.0,
        "reprices_per_execution": sum(r.reprices for r in recs) / n if n else 0.0,
        "maker_fill_p50_s": statistics.median(times) if times else -1.0,
        "maker_fill_max_s": times[-1] if times else -1.0,
        "shortfall_bps": statistics.fmean(r.shortfall_bps for r in recs) if recs else 0.0,
    }


def propose(ev: dict[str, float], rc: RouterConfig) -> dict[str, int]:
    """Direction per parameter (+1 up, -1 down; ``mode`` -1 = towards taker) from one window."""
    a = rc.autotune
    out: dict[str, int] = {}
    if ev["fallback_rate"] < a.fallback_high:
        return out
    t, p50, last = rc.maker_timeout_s, ev["maker_fill_p50_s"], ev["maker_fill_max_s"]
    if last < 0.5 * t:  # no maker fill (-1) or all early
        out["maker_timeout_s"] = -1
    elif p50 > 0.7 * t:
        out["maker_timeout_s"] = +1
    rpe = ev["reprices_per_execution"]
    if rpe > 2.0:
        out["reprice_ticks"] = +1
    elif rpe < 0.25:
        out["reprice_ticks"] = -1
    if ev["maker_share"] < a.taker_below_maker_share and rc.mode != "taker":
        out["mode"] = -1
    return out


def stepped(rc: RouterConfig, name: str, direction: int) -> float | str | None:
    """The value one step from ``rc``'s in ``direction``, within bounds (None: already at the bound)."""
    a: AutotuneConfig = rc.autotune
    if name == "maker_timeout_s":
        cur = rc.maker_timeout_s
        new = min(a.timeout_max_s, max(a.timeout_min_s, cur * a.timeout_step ** direction))
        return round(new, 6) if abs(new - cur) > 1e-9 else None
    if name == "reprice_ticks":
        cur_i = rc.reprice_ticks
        new_i = min(a.reprice_max, max(a.reprice_min, cur_i + direction))
        return new_i if new_i != cur_i else None
    return "taker" if name == "mode" and direction < 0 and rc.mode != "taker" else None


def current(rc: RouterConfig) -> Params:
    return {"mode": rc.mode, "maker_timeout_s": rc.maker_timeout_s, "reprice_ticks": rc.reprice_ticks}


APPLICABLE = ("maker_timeout_s", "reprice_ticks")  # in this order of priority; mode is only proposed


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
                    self.rc = msgspec.structs.replace(self.rc, **applied)
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
