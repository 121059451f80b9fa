"""The risk gate's memory that must outlive the process: ``logs/state/risk_state.json``.

Owns: the file's schema (``PersistedRisk``, ``VERSION``), the rules that decide what of a saved
memory still holds when a new process starts (``carry_over``), reading it back (``RiskStateStore.load``)
and writing it (``RiskStateStore``: a service, throttled, atomic).

Carried, so that a restart is never a way around a limit:
- the day-start NAV with the UTC day it belongs to, kept only on that same UTC day (a new day
  starts fresh, exactly as it would in a process that had kept running);
- the NAV high-water mark, always (it is never reset);
- the return history the CVaR gate reads, when ``risk.return_period_s`` is unchanged (trimmed to
  ``risk.return_window``), and the NAV the next return is measured from, only when it is younger
  than two periods (one return must not span a long downtime);
- the cooloff while it runs (its end and reason) and both consecutive loss / reject streaks;
- REDUCING caused by a drawdown: the daily-drawdown cause on the same UTC day only (a new day
  lifts it, as in a running process), the portfolio-drawdown cause always (it never lifts by
  itself); ALT-EXT switched off, on the same UTC day (or with that portfolio-drawdown REDUCING).
Recorded for operators but never restored:
- HALTED: the kill switch's flag file is its single source of truth (remove the flag and restart
  to resume, as documented for the kill switch);
- REDUCING for any other cause (position drift, an unusable risk state): an operator restart,
  after looking, is what lifts those.
Never in the file: anything the exchange tells (NAV, balances, positions, open orders —
reconciliation re-reads them at start), process counters, and no secret (the bytes pass
through ``Masker``; reason texts are the only strings).

Load rules: no file is a first start (nothing carried). A file that cannot be read, does not
decode, has another ``version`` or fails validation (a negative or non-numeric NAV...) is a
logged warning, counted (``load_problems``), moved aside to ``risk_state.json.<ns>.unusable``
for the operator, and the gate starts *conservatively*: REDUCING with ALT-EXT off (exits and
every exposure-reducing order still pass; nothing new until an operator restart). A risk
manager would rather lose a session of trading than have a damaged file erase the day's losses;
halting instead would also block the exits that protect open positions. A file written for
another account (venue, or a dry run's paper NAV against a live one) is moved aside the same
way and the start is fresh: its numbers are about other money.

Writes go through ``hedge.state.coalesced.CoalescedWriter`` (``mark_dirty`` only sets an event;
atomic writes from a worker thread at most once per ``interval_s`` — the high-water mark moves
on every new high — and once more at clean shutdown; a failing disk is counted, logged and
retried). The snapshot is compared with the last one encoded: an unchanged memory is not written.

Must never: write from a bus handler, restore HALTED, carry a day start onto another UTC day,
lower the high-water mark, or raise out of ``load`` / ``run`` because of a bad file or disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import msgspec

from hedge.config import Config
from hedge.events import TradingState
from hedge.model.clock import Clock, LiveClock
from hedge.risk.limits import MS_PER_DAY
from hedge.risk.reasons import Reason
from hedge.state.coalesced import CoalescedWriter
from hedge.state.masking import Masker

log = logging.getLogger(__name__)

VERSION = 1
RISK_STATE_FILE = "risk_state.json"  # under <log_dir>/state/
WRITE_INTERVAL_S = 1.0
UNUSABLE_SUFFIX = ".unusable"

NonNeg = Annotated[float, msgspec.Meta(ge=0.0)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]


class PersistedRisk(msgspec.Struct, frozen=True, kw_only=True):
    """One saved memory of the risk gate (the defaults are "nothing carried")."""

    version: int = VERSION
    saved_ns: int = 0  # wall clock of the write
    account: str = ""  # whose memory this is: ``account_key`` (venue, "+dry-run")
    day: Annotated[int, msgspec.Meta(ge=-1)] = -1  # UTC day of day_start_nav (ms // 86_400_000); -1 = none
    day_start_nav: NonNeg = 0.0
    hwm: NonNeg = 0.0  # NAV high-water mark
    return_period_s: NonNeg = 0.0  # the period the returns were sampled at
    returns: tuple[float, ...] = ()  # periodic NAV returns, oldest first
    sample_nav: NonNeg = 0.0  # the NAV the next return is measured from ...
    sample_ms: NonNegInt = 0  # ... and when it was read
    cooloff_until_ms: NonNegInt = 0
    cooloff_reason: str = ""
    consecutive_losses: NonNegInt = 0
    consecutive_rejects: NonNegInt = 0
    state: TradingState = TradingState.ACTIVE
    state_reason: str = ""
    state_since_ns: NonNegInt = 0
    alt_ext_disabled: bool = False


class Loaded(msgspec.Struct, frozen=True, kw_only=True):
    """What a new process starts from: the memory still valid, and why the file was unusable ("" = it was fine)."""

    memory: PersistedRisk = PersistedRisk()
    problem: str = ""


class _Header(msgspec.Struct):
    version: int = 0


def account_key(cfg: Config) -> str:
    """Whose money the memory is about: the venue, and whether it is a dry run's paper account."""
    rt = cfg.runtime
    return f"{rt.venue}+dry-run" if rt.dry_run else rt.venue


def carry_over(saved: PersistedRisk, *, now_ms: int, return_period_s: float, return_window: int) -> PersistedRisk:
    """What of ``saved`` a process starting at ``now_ms`` takes over (the rules in the module docstring)."""
    same_day = saved.day == now_ms // MS_PER_DAY and saved.day_start_nav > 0.0
    same_period = saved.return_period_s == return_period_s
    period_ms = return_period_s * 1000.0
    sample_ok = (same_period and saved.sample_nav > 0.0 and 0 < saved.sample_ms <= now_ms
                 and now_ms - saved.sample_ms < 2 * period_ms)
    reducing = saved.state is TradingState.REDUCING and (
        saved.state_reason == Reason.PORTFOLIO_DRAWDOWN or (saved.state_reason == Reason.DAILY_DRAWDOWN and same_day)
    )
    cooling = saved.cooloff_until_ms > now_ms
    return PersistedRisk(
        account=saved.account,
        day=saved.day if same_day else -1,
        day_start_nav=saved.day_start_nav if same_day else 0.0,
        hwm=saved.hwm,
        return_period_s=return_period_s,
        returns=saved.returns[-return_window:] if same_period and return_window > 0 else (),
        sample_nav=saved.sample_nav if sample_ok else 0.0,
        sample_ms=saved.sample_ms if sample_ok else 0,
        cooloff_until_ms=saved.cooloff_until_ms if cooling else 0,
        cooloff_reason=saved.cooloff_reason if cooling else "",
        consecutive_losses=saved.consecutive_losses,
        consecutive_rejects=saved.consecutive_rejects,
        state=TradingState.REDUCING if reducing else TradingState.ACTIVE,
        state_reason=saved.state_reason if reducing else "",
        state_since_ns=saved.state_since_ns if reducing else 0,
        alt_ext_disabled=saved.alt_ext_disabled and (same_day or reducing),
    )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(PersistedRisk)
_header = msgspec.json.Decoder(_Header)


class RiskStateStore(CoalescedWriter):
    """The risk state file of one risk stage: ``load`` once, then ``run`` (a service) writes changes."""

    name = "risk-state"

    def __init__(
        self,
        path: str | Path,
        snapshot: Callable[[], PersistedRisk],
        *,
        interval_s: float = WRITE_INTERVAL_S,
        masker: Masker | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(path, self._encode, interval_s=interval_s, what="risk", final_write=True)
        self.snapshot = snapshot
        self.clock: Clock = clock or LiveClock()
        self.masker = masker if masker is not None else Masker()
        self.load_problems = 0
        self._last: PersistedRisk | None = None  # the last snapshot encoded

    # ------------------------------------------------------------------ reading

    def load(self, *, account: str, now_ms: int, return_period_s: float, return_window: int) -> Loaded:
        """The memory a process starting at ``now_ms`` carries over (see the load rules above). Never raises."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            log.info("risk: no %s: a first start, nothing carried over", self.path)
            return Loaded()
        except OSError as exc:
            return self._unusable(f"unreadable ({exc.strerror})")
        try:
            version = _header.decode(raw).version
        except (msgspec.DecodeError, msgspec.ValidationError):
            return self._unusable("corrupt")
        if version != VERSION:
            return self._unusable(f"version {version}, expected {VERSION}")
        try:
            saved = _decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return self._unusable(f"invalid ({exc})")
        if saved.account != account:
            aside = self._move_aside()
            log.warning("risk: %s belongs to account %r, not %r: moved to %s, nothing carried over",
                        self.path, saved.account, account, aside)
            return Loaded()
        memory = carry_over(saved, now_ms=now_ms, return_period_s=return_period_s, return_window=return_window)
        day_start = f"{memory.day_start_nav:.2f}" if memory.day >= 0 else "none (new UTC day)"
        state = f"{memory.state} ({memory.state_reason})" if memory.state_reason else str(memory.state)
        log.info("risk: carried over from %s: day-start NAV %s, high-water mark %.2f, %d returns, state %s",
                 self.path, day_start, memory.hwm, len(memory.returns), state)
        return Loaded(memory=memory)

    def _unusable(self, problem: str) -> Loaded:
        self.load_problems += 1
        aside = self._move_aside()
        log.warning("risk: %s is unusable (%s; moved to %s): starting REDUCING until an operator restart",
                    self.path, problem, aside)
        return Loaded(problem=problem)

    def _move_aside(self) -> Path | None:
        aside = self.path.with_name(f"{self.path.name}.{self.clock.now_ns()}{UNUSABLE_SUFFIX}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            log.error("risk: cannot move %s aside (%s); the next write replaces it", self.path, exc.strerror)
            return None
        return aside

    # ------------------------------------------------------------------ writing

    def _encode(self) -> bytes | None:
        """The memory's bytes (stamped, masked), or None when it did not change since the last ones."""
        snap = self.snapshot()
        if snap == self._last:
            return None
        self._last = snap
        stamped = msgspec.structs.replace(snap, saved_ns=self.clock.now_ns())
        return self.masker.mask_bytes(msgspec.json.format(_encoder.encode(stamped), indent=2) + b"\n")
