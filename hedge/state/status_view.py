"""The compact terminal view of the state files (``python -m hedge status``).

Owns: reading logs/state/*.json through their schemas and rendering one screen: NAV and
drawdown, trading state and exposure, a cooloff in force and its time left, vetoes by reason
(since the start and within the last minute: why nothing trades), PnL and KPIs, health, a venue
ban in force (418: "BANNED until T"), positions, feeds and books, alerts.
A replay's log dir (its manifest says ``time: event``) is shown as of its last event, in market
time, and says so: wall-clock ages and staleness mean nothing for a finished replay.
A missing file shows as "-" (the engine may not have written it yet); a file that does not parse
is named in the output rather than crashing the view; diagnostics.json that is no longer being
rewritten (the engine stopped or is stuck) makes the health UNKNOWN and is a problem (exit 1).
``notices`` (from the caller, read at each render) come right below the title, e.g. a kill flag
that halts the daemon and the command that clears it.

Must never: write anything, or need the engine to be running (it reads files only).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from hedge.model.clock import iso_utc
from hedge.state import schemas as s
from hedge.state.manifest import MANIFEST_FILE, read_surface

F = TypeVar("F", bound=s.StateFile)

# diagnostics.json older than this many state intervals (and STALE_MIN_S) = the engine is not writing it
STALE_INTERVALS = 5
STALE_MIN_S = 10.0


def _age(now_ns: int, ns: int) -> str:
    return "never" if ns <= 0 else f"{max(0.0, (now_ns - ns) * 1e-9):.1f} s ago"


def _by_reason(counts: dict[str, int], top: int = 6) -> str:
    """``cooloff 120, min_notional 3`` (most frequent first; the rest summed as ``other``)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {n}" for k, n in ranked[:top])
    rest = sum(n for _, n in ranked[top:])
    return text + (f", other {rest}" if rest else "")


class StatusView:
    def __init__(self, directory: str | Path, notices: Callable[[], list[str]] = list) -> None:
        self.dir = Path(directory)
        self.notices = notices
        self.problems: list[str] = []

    def _read(self, schema: type[F]) -> F | None:
        try:
            return read_surface(self.dir, schema)
        except (msgspec.DecodeError, OSError) as exc:
            self.problems.append(f"{schema.__name__}: unreadable ({exc})")
            return None

    def _manifest(self) -> dict[str, object]:
        try:
            meta = msgspec.json.decode((self.dir / MANIFEST_FILE).read_bytes())
        except (OSError, msgspec.DecodeError):
            return {}
        return meta if isinstance(meta, dict) else {}

    @staticmethod
    def _stale_after_s(meta: dict[str, object]) -> float:
        """How old diagnostics.json may be while the engine runs (it is rewritten every state interval)."""
        try:
            interval = float(meta.get("min_interval_s", 1.0))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            interval = 1.0
        return max(STALE_MIN_S, STALE_INTERVALS * interval)

    def render(self, now_ns: int) -> str:
        now = now_ns
        self.problems = []
        nav = self._read(s.NavState)
        risk = self._read(s.RiskSnapshotState)
        kpis = self._read(s.KpisState)
        pos = self._read(s.PositionsState)
        diag = self._read(s.Diagnostics)
        router = self._read(s.RouterHealthState)
        notices = [f"!! {n}" for n in self.notices()]
        if not any((nav, risk, kpis, pos, diag)) and not self.problems:
            return "\n".join([f"no state files in {self.dir} (is the engine running, with this --log-dir?)", *notices])
        meta = self._manifest()
        replay = meta.get("time") == "event"
        title = f"hedge status - {self.dir}"
        if replay:  # stamps are market time: "now" is the replay's last event
            now = max(f.updated_ns for f in (nav, risk, kpis, pos, diag, router) if f is not None)
            title += f"  (a replay, shown as of its last event {iso_utc(now // 1_000_000)}; ages in market time)"
        lines = [title, *notices]
        if nav is not None and nav.nav_ns == 0:
            lines.append("NAV      no reading yet")
        elif nav is not None:
            lines.append(
                f"NAV      {nav.nav:,.2f} USDT  wallet {nav.wallet_balance:,.2f}  uPnL {nav.unrealized_pnl:+,.2f}  "
                f"peak {nav.peak_nav:,.2f}  ({nav.source}, {_age(now, nav.nav_ns)})"
            )
        if risk is not None:
            lines.append(
                f"State    {risk.trading_state}" + (f" ({risk.reason})" if risk.reason else "")
                + f"  dd {risk.drawdown:.2%}  daily dd {risk.daily_drawdown:.2%}  gross {risk.gross_exposure:.2f}x"
                f"  net {risk.net_exposure:+.2f}x  VaR {risk.var:.2%}  CVaR {risk.cvar:.2%}"
                f"  open orders {risk.open_orders}"
            )
            if risk.cooloff_until_ms * 1_000_000 > now:
                left_s = (risk.cooloff_until_ms * 1_000_000 - now) * 1e-9
                lines.append(f"Cooloff  new exposure vetoed for {left_s:.0f} s more, until "
                             f"{iso_utc(risk.cooloff_until_ms)}" + (f" ({risk.cooloff_reason})" if risk.cooloff_reason
                                                                  else ""))
        if diag is not None and (diag.decisions_vetoed or diag.decisions_allowed):
            recent = _by_reason(diag.vetoes_recent) or "none"
            lines.append(
                f"Vetoes   {diag.decisions_vetoed} of {diag.decisions_vetoed + diag.decisions_allowed} decisions vetoed"
                + (f", by reason: {_by_reason(diag.vetoes)}" if diag.vetoes else "")
                + (f"  | last {diag.vetoes_recent_s:.0f} s: {recent}" if diag.vetoes_recent_s >= 1.0 else "")
            )
        if kpis is not None:
            lines.append(
                f"PnL      total {kpis.total_pnl:+,.2f}  realized {kpis.realized_pnl:+,.2f}  "
                f"unrealized {kpis.unrealized_pnl:+,.2f}  fees {kpis.fees:,.2f}  | fills {kpis.fills}  "
                f"win {kpis.win_rate:.0%}  maker {kpis.maker_ratio:.0%}  turnover {kpis.turnover:,.0f}"
            )
        if diag is not None:
            health = "OK" if diag.healthy else "UNHEALTHY: " + "; ".join(diag.health_reasons)
            age_s = (now - diag.updated_ns) * 1e-9
            if not replay and age_s > self._stale_after_s(meta):  # rewritten every interval while the engine runs
                health = "UNKNOWN (the engine is not writing its state: stopped or stuck; below is its last state)"
                self.problems.append(f"state files not written for {age_s:.0f} s")
            lag = f"loop lag {diag.loop_lag_ms:.1f} ms"
            when = "at the replay's end" if replay else f"written {_age(now, diag.updated_ns)}"
            lines.append(f"Health   {health}  ({lag}, {when})")
            if diag.features:
                lines.append("Features " + "  ".join(f"{k}={'on' if v else 'off'}" for k, v in diag.features.items()))
        if router is not None and router.banned_until_ms * 1_000_000 > now:
            left_s = (router.banned_until_ms * 1_000_000 - now) * 1e-9
            lines.append(f"Venue    BANNED (418) until {iso_utc(router.banned_until_ms)} ({left_s:.0f} s left): "
                         "no request is sent; the engine's cancels go out when it ends (docs/operations.md)")
        if pos is not None:
            lines.append(f"Positions ({len(pos.positions)}, gross {pos.gross_notional:,.0f} USDT)")
            lines += [
                f"  {p.symbol:<12} {p.qty:>+12g} @ {p.entry_price:<12g} mark {p.mark_price:<12g} "
                f"uPnL {p.unrealized_pnl:+,.2f}"
                for p in pos.positions
            ]
        if diag is not None:
            lines.append("Feeds")
            lines += [
                f"  {f.connection:<12} {'up' if f.connected else 'DOWN':<5} msgs {f.messages}  parse errors "
                f"{f.parse_errors}  gaps {f.gaps}  reconnects {f.reconnects}" + (f"  ({f.reason})" if f.reason else "")
                for f in diag.feeds
            ]
            lines.append("Books")
            lines += [
                f"  {b.symbol:<12} {b.state:<8} resyncs {b.resyncs}  data "
                + ("never" if b.last_data_age_s < 0 else f"{b.last_data_age_s:.1f} s ago")
                for b in diag.books
            ]
            a = diag.alerts
            lines.append(
                f"Alerts   raised {a.raised}  sent {a.sent}  failed {a.failed}  dropped {a.dropped}  "
                f"deduplicated {a.deduplicated}"
            )
        lines += [f"! {p}" for p in self.problems]
        return "\n".join(lines)
