"""The registry of state surfaces and logs/state/manifest.json, generated from the schemas.

Owns: which files exist under logs/state/, who owns the figures in each (the stage whose events
feed it), how often each is rewritten, and the manifest that tells an operator or a dashboard all
of this, with every file's schema version, field list and JSON Schema. Also the typed readers of
those files (used by ``hedge status`` and the contract tests).

Must never: list a file the publisher does not write, or be edited by hand: the manifest is
generated from ``SURFACES`` and ``hedge/state/schemas.py``.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from hedge.state import schemas as s

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
STATE_SUBDIR = "state"

F = TypeVar("F", bound=s.StateFile)


@dataclasses.dataclass(frozen=True)
class Surface:
    name: str
    schema: type[s.StateFile]
    owner: str  # the stage whose events feed it
    sources: tuple[str, ...]  # event types it is built from
    description: str
    periodic: bool = False  # rewritten every interval (it holds ages), not only on events

    @property
    def file(self) -> str:
        return f"{self.name}.json"

    @property
    def update(self) -> str:
        if self.periodic:
            return "every state.min_interval_s"
        return "on change, at most once per state.min_interval_s"


SURFACES: tuple[Surface, ...] = (
    Surface("nav_state", s.NavState, "venue", ("Nav",), "futures-wallet NAV, its source and high-water mark"),
    Surface("positions_state", s.PositionsState, "venue", ("Position",), "positions as the exchange reports them"),
    Surface("positions_ledger", s.PositionsLedger, "portfolio", ("LedgerPosition",),
            "the engine's own ledger with TP/SL/trailing levels"),
    Surface("risk_snapshot", s.RiskSnapshotState, "risk", ("RiskSnapshot", "TradingStateChange"),
            "drawdown, exposure, VaR/CVaR, trading state"),
    Surface("kpis", s.KpisState, "state", ("Fill", "Nav"), "PnL, fees, win rate, maker ratio, turnover"),
    Surface("router_health", s.RouterHealthState, "router",
            ("RouterHealth", "OrderRequest", "OrderUpdate", "RateLimit"),
            "order outcomes, ack latency, throttling, unknown orders, quality score per symbol"),
    Surface("router_autotune", s.RouterAutotuneState, "router", ("RouterAutotune",),
            "router autotune: parameters in force, proposals and their TCA evidence"),
    Surface("symbol_scores", s.SymbolScores, "signals", ("SymbolScore", "StrategyScore"),
            "per-symbol expectancy and scores, and each strategy's on each symbol"),
    Surface("hybrid_scores", s.HybridScores, "signals", ("SymbolScore", "Signal"),
            "symbols ranked by hybrid score, with each strategy's latest signal"),
    Surface("shadow_state", s.ShadowState, "shadow", ("ShadowReport",),
            "the shadow pipeline's agreement with the live one, its hypothetical fills and PnL"),
    Surface("funding_snapshot", s.FundingSnapshot, "feeds", ("MarkPrice",), "funding rate and next funding time"),
    Surface("basis_snapshot", s.BasisSnapshot, "feeds", ("MarkPrice",), "mark vs index basis"),
    Surface("diagnostics", s.Diagnostics, "state",
            ("RiskDecision", "OrderIntent", "FeedStatus", "FeedStats", "BookStatus", "Heartbeat", "Event"),
            "veto counters, exit pipeline, feed liveness, book resyncs, last event ages, health, feature flags",
            periodic=True),
    Surface("factor_diagnostics", s.FactorDiagnosticsState, "signals", ("FactorReport",),
            "each factor's rolling IC, IR, hit rate and PnL attribution; the hybrid score's weights"),
    Surface("leaderboard_state", s.LeaderboardState, "portfolio", ("ClosedTrade", "Fill"),
            "strategies x symbols ranked by net PnL: trades, win rate, expectancy, maker share, drawdown"),
)

SURFACE_BY_NAME: dict[str, Surface] = {x.name: x for x in SURFACES}


class ManifestEntry(msgspec.Struct, kw_only=True):
    name: str
    file: str
    schema: str
    schema_version: int
    owner: str
    sources: list[str]
    update: str
    description: str
    fields: list[str]
    json_schema: dict[str, Any]


class Manifest(msgspec.Struct, kw_only=True):
    manifest_version: int = MANIFEST_VERSION
    generated_ns: int = 0
    min_interval_s: float = 0.0
    time: str = "wall"  # the writer's clock: "wall" (a daemon) or "event" (a replay: stamps in market time)
    surfaces: list[ManifestEntry] = []


def schema_fields(schema: type[s.StateFile]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(schema)]


def build_manifest(min_interval_s: float, now_ns: int, time: str = "wall") -> Manifest:
    return Manifest(generated_ns=now_ns, min_interval_s=min_interval_s, time=time, surfaces=list(_entries()))


@functools.cache
def _entries() -> tuple[ManifestEntry, ...]:
    """The surfaces' manifest entries: constant, so built (JSON schemas included: ~2 ms) once per process."""
    return tuple(
        ManifestEntry(
            name=x.name,
            file=x.file,
            schema=x.schema.__name__,
            schema_version=x.schema.SCHEMA_VERSION,
            owner=x.owner,
            sources=list(x.sources),
            update=x.update,
            description=x.description,
            fields=schema_fields(x.schema),
            json_schema=msgspec.json.schema(x.schema),
        )
        for x in SURFACES
    )


def state_dir(log_dir: str | Path) -> Path:
    return Path(log_dir) / STATE_SUBDIR


def read_manifest(directory: str | Path) -> Manifest:
    return msgspec.json.decode(Path(directory, MANIFEST_FILE).read_bytes(), type=Manifest)


def read_surface(directory: str | Path, schema: type[F]) -> F | None:
    """The state file of ``schema`` decoded (None when it does not exist yet)."""
    surface = next(x for x in SURFACES if x.schema is schema)
    path = Path(directory, surface.file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return msgspec.json.decode(data, type=schema)
