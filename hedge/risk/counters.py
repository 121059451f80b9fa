"""What the risk stage has decided so far: decisions, allowed, reduced, vetoed, per reason.

Owns: the tally of ``RiskDecision``s (a veto with two reasons counts under both) and
``RiskCounters``, the frozen view of it with the trading state for metrics and state files.

Must never: decide, or publish.
"""

from __future__ import annotations

import msgspec

from hedge.events import RiskDecision, TradingState


class RiskCounters(msgspec.Struct, frozen=True, kw_only=True):
    """What the risk stage has decided so far (for metrics and state files)."""

    decisions: int
    allowed: int
    reduced: int  # allowed with a smaller max_qty than asked
    vetoed: int
    vetoes: dict[str, int]  # per reason (a veto with two reasons counts under both)
    reductions: dict[str, int]  # per reason, allowed-but-reduced decisions
    cooloffs: int
    state: TradingState
    state_reason: str
    alt_ext_disabled: bool


class DecisionTally:
    def __init__(self) -> None:
        self._decisions = 0
        self._allowed = 0
        self._reduced = 0
        self._vetoes: dict[str, int] = {}
        self._reductions: dict[str, int] = {}

    def count(self, d: RiskDecision) -> None:
        self._decisions += 1
        if d.allow:
            self._allowed += 1
            if not d.reasons:
                return
            self._reduced += 1
            table = self._reductions
        else:
            table = self._vetoes
        for r in d.reasons:
            table[r] = table.get(r, 0) + 1

    def counters(
        self, *, cooloffs: int, state: TradingState, state_reason: str, alt_ext_disabled: bool
    ) -> RiskCounters:
        return RiskCounters(
            decisions=self._decisions,
            allowed=self._allowed,
            reduced=self._reduced,
            vetoed=self._decisions - self._allowed,
            vetoes={str(k): v for k, v in self._vetoes.items()},
            reductions={str(k): v for k, v in self._reductions.items()},
            cooloffs=cooloffs,
            state=state,
            state_reason=state_reason,
            alt_ext_disabled=alt_ext_disabled,
        )
