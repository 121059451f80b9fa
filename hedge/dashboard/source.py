"""One log dir as the panels see it at one render: its state files read, its journal tails refreshed.

Owns: ``Run`` (every state surface of a log dir as a ``FileRead``, daemon.json, the kill flag,
the journal tails, the run's kind and clock) and ``Limits`` (the risk limits and symbol tiers
from the configuration, which the state files do not carry).

The clock of a run: a daemon's log dir is read against the wall clock; a replay's files carry
event time, so its ages are measured from the end of the run (its newest state file) and are
never "stale": a finished replay is complete, not late.

Must never: write anything, or import Streamlit or an engine stage (configuration schemas and
state readers only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hedge.config import Config, ConfigErrors, default_config, load_config
from hedge.dashboard.readers import FileRead, is_replay, kill_flag, min_interval_s, read_json, read_state
from hedge.dashboard.tail import JournalTail
from hedge.state import schemas as s


@dataclasses.dataclass(frozen=True)
class Limits:
    """The configuration the panels compare figures with (built-in defaults when it does not load)."""

    cfg: Config
    problem: str = ""

    @classmethod
    def load(cls, directory: str | None) -> Limits:
        try:
            return cls(load_config(directory))
        except ConfigErrors as exc:
            return cls(default_config(), f"configuration {directory or 'configs'}: {exc.errors[0]} "
                                          "(the built-in defaults are shown)")

    def symbol_cap(self, symbol: str) -> tuple[str, str, float]:
        """(tier, correlation group, position cap as a fraction of NAV) of ``symbol``."""
        risk, syms = self.cfg.risk, self.cfg.symbols
        info = syms.symbols.get(symbol)
        if info is None:  # the risk gate caps a symbol outside symbols.yaml at the smallest tier cap
            tc = risk.tier_caps
            return "unknown", "", risk.symbol_caps.get(symbol, min(tc.core, tc.satellite, tc.tactical, tc.alt_ext))
        return info.tier.value, info.group, risk.symbol_caps.get(symbol, risk.tier_caps.cap(info.tier))

    def group_cap(self, group: str) -> float:
        g = self.cfg.symbols.correlation_groups.get(group)
        return g.cap if g is not None else 0.0


TailFactory = Callable[[Path, str], JournalTail]


@dataclasses.dataclass
class Run:
    log_dir: Path
    label: str
    replay: bool
    interval_s: float  # the state publisher's interval (manifest.json)
    flush_s: float  # the buffered journals' flush interval (configuration)
    nav: FileRead[s.NavState]
    positions: FileRead[s.PositionsState]
    ledger: FileRead[s.PositionsLedger]
    risk: FileRead[s.RiskSnapshotState]
    kpis: FileRead[s.KpisState]
    router: FileRead[s.RouterHealthState]
    scores: FileRead[s.SymbolScores]
    hybrid: FileRead[s.HybridScores]
    diag: FileRead[s.Diagnostics]
    daemon: FileRead[Any]
    kill: FileRead[Any]
    tail_factory: TailFactory
    limits: Limits
    now_ns: int = 0
    tails: dict[str, JournalTail] = dataclasses.field(default_factory=dict)  # refreshed at first use

    @classmethod
    def load(cls, log_dir: Path, label: str, limits: Limits, tail: TailFactory, wall_ns: int) -> Run:
        daemon = read_json(log_dir / "daemon.json")
        run = cls(
            log_dir=log_dir, label=label, replay=is_replay(log_dir), interval_s=min_interval_s(log_dir),
            flush_s=limits.cfg.runtime.journal.flush_interval_s,
            nav=read_state(log_dir, s.NavState), positions=read_state(log_dir, s.PositionsState),
            ledger=read_state(log_dir, s.PositionsLedger), risk=read_state(log_dir, s.RiskSnapshotState),
            kpis=read_state(log_dir, s.KpisState), router=read_state(log_dir, s.RouterHealthState),
            scores=read_state(log_dir, s.SymbolScores), hybrid=read_state(log_dir, s.HybridScores),
            diag=read_state(log_dir, s.Diagnostics), daemon=daemon, kill=kill_flag(log_dir, daemon),
            tail_factory=tail, limits=limits,
        )
        run.now_ns = run.end_ns() if run.replay else wall_ns
        return run

    def tail(self, name: str) -> JournalTail:
        """The tail of ``<name>.jsonl``, brought up to date once per render (only the panels shown read)."""
        got = self.tails.get(name)
        if got is None:
            got = self.tails[name] = self.tail_factory(self.log_dir, name)
            got.refresh()
        return got

    def state_reads(self) -> list[FileRead[Any]]:
        return [self.nav, self.positions, self.ledger, self.risk, self.kpis, self.router, self.scores,
                self.hybrid, self.diag]

    def end_ns(self) -> int:
        """The newest stamp among the state files (a replay's end, in event time)."""
        return max((r.written_ns for r in self.state_reads() if r.ok), default=0)

    def heartbeat_ns(self) -> int:
        """When the engine last confirmed its state: diagnostics.json is rewritten every interval while
        it runs, by the same writer that rewrites any other surface within an interval of a change."""
        return self.diag.written_ns if self.diag.ok else 0

    def optional(self, name: str) -> FileRead[Any]:
        """An optional state file other engines' versions may write (e.g. factor_diagnostics.json)."""
        return read_json(self.log_dir / "state" / name)
