"""``hedge run --minutes N``: trade for N minutes, stop cleanly, and report what the run did.

Owns: ``BoundedRun``, the service that records the run from the bus — the replay's own
``DecisionRecorder``, which the command hands in (``Recorder``: the daemon and the replay are
sibling layers) (orders, vetoes by reason, fills, maker share, fees, realized PnL, drawdown,
the decision fingerprint), plus the orders by outcome (each order's final status), NAV at start and
end, alerts and health
incidents (each turn of ``/health`` from ok to failing, with its first reasons) — and stops the
engine when the time is up; and ``RunReport``, the live counterpart of the replay summary,
written to ``<log_dir>/run_report.json``.

Must never: make a trading decision, or print (the command prints the report).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Protocol

import msgspec

from hedge.app import Engine
from hedge.bus import Bus
from hedge.events import Alert, Nav, OrderStatus, OrderUpdate

HEALTH_POLL_S = 1.0
REPORT_FILE = "run_report.json"


class RunReport(msgspec.Struct, kw_only=True):
    venue: str
    minutes: float
    elapsed_s: float = 0.0
    stop_reason: str = ""
    orders_sent: int = 0
    order_outcomes: dict[str, int] = {}  # orders by their outcome (final status; open ones by their latest)
    fills: int = 0
    maker_fills: int = 0
    maker_share: float = 0.0  # of the filled quantity, as the replay's maker_ratio
    notional_usdt: float = 0.0
    fees_usdt: float = 0.0
    realized_pnl_usdt: float = 0.0
    nav_start: float = 0.0
    nav_end: float = 0.0
    pnl_usdt: float = 0.0  # NAV end - start
    max_drawdown: float = 0.0
    fingerprint: str = ""  # of the decisions, as a replay's
    vetoes: dict[str, int] = {}
    alerts: dict[str, int] = {}  # "severity: title" -> count
    health_incidents: list[str] = []

    def lines(self) -> list[str]:
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"

        return [
            f"hedge run --minutes {self.minutes:g}: {self.elapsed_s / 60:.1f} min on {self.venue} "
            f"(stopped: {self.stop_reason})",
            f"  orders: {self.orders_sent} sent; outcomes: {counts(self.order_outcomes)}",
            f"  fills: {self.fills} ({self.maker_fills} maker, {self.maker_share:.0%} of the quantity; "
            f"{self.notional_usdt:,.2f} USDT notional); fees {self.fees_usdt:,.4f} USDT; "
            f"realized PnL {self.realized_pnl_usdt:+,.4f} USDT",
            f"  NAV: {self.nav_start:,.2f} -> {self.nav_end:,.2f} USDT (PnL {self.pnl_usdt:+,.2f}, "
            f"max drawdown {self.max_drawdown:.2%})",
            f"  vetoes: {counts(self.vetoes)}",
            f"  alerts: {counts(self.alerts)}",
            f"  health incidents: {len(self.health_incidents)}"
            + "".join(f"\n    {i}" for i in self.health_incidents),
        ]


class Recorder(Protocol):
    """What the run report reads of the decisions (``hedge.replay.summary.DecisionRecorder``)."""

    orders: int
    vetoes: dict[str, int]
    fills: int
    maker_fills: int
    traded_notional: float
    fees: float
    realized_pnl: float
    max_drawdown: float

    @property
    def maker_ratio(self) -> float: ...

    @property
    def fingerprint(self) -> str: ...


class BoundedRun:
    """Records the run and stops the engine after ``minutes`` (see the module docstring)."""

    name = "bounded-run"

    def __init__(self, engine: Engine, recorder: Callable[[Bus], Recorder], *, minutes: float, venue: str) -> None:
        self.engine = engine
        self.minutes = minutes
        self.report = RunReport(venue=venue, minutes=minutes)
        self._t0 = engine.clock.now_s()
        self._status: dict[str, OrderStatus] = {}  # client order id -> its latest status (a final one sticks)
        self._alerts: Counter[str] = Counter()
        self._healthy = True
        self.decisions = recorder(engine.bus)
        bus = engine.bus
        bus.subscribe(OrderUpdate, self._on_update)
        bus.subscribe(Nav, self._on_nav)
        bus.subscribe(Alert, self._on_alert)

    def _on_update(self, u: OrderUpdate) -> None:
        """An order's outcome is its final status once it has one: the REST answer and the user stream both
        report it (a late stream NEW after the REST FILLED changes nothing), as ``order_updates.jsonl`` keeps it."""
        was = self._status.get(u.client_order_id)
        if was is None or not was.is_final:
            self._status[u.client_order_id] = u.status

    def _on_nav(self, n: Nav) -> None:
        if not self.report.nav_start:
            self.report.nav_start = n.nav
        self.report.nav_end = n.nav

    def _on_alert(self, a: Alert) -> None:
        self._alerts[f"{a.severity}: {a.title}"] += 1

    def _check_health(self) -> None:
        report = self.engine.observability.health.evaluate()
        if self._healthy and not report.ok:
            at = self.engine.clock.now_s() - self._t0
            self.report.health_incidents.append(f"+{at:.0f}s: " + "; ".join(report.reasons[:3]))
        self._healthy = report.ok

    async def run(self) -> None:
        deadline = self._t0 + self.minutes * 60
        while (left := deadline - self.engine.clock.now_s()) > 0:
            await asyncio.sleep(min(HEALTH_POLL_S, left))
            self._check_health()
        self.engine.request_stop(f"--minutes {self.minutes:g} elapsed")
        await asyncio.Event().wait()  # stopped with the engine

    def finish(self) -> RunReport:
        """The report at the end of the run (also written to ``<log_dir>/run_report.json``)."""
        r = self.report
        r.elapsed_s = self.engine.clock.now_s() - self._t0
        r.stop_reason = self.engine.stop_reason or "shutdown"
        d = self.decisions
        r.order_outcomes = dict(Counter(st.value for st in self._status.values()))
        r.alerts = dict(self._alerts)
        r.orders_sent, r.vetoes, r.fills, r.maker_fills = d.orders, dict(d.vetoes), d.fills, d.maker_fills
        r.maker_share, r.notional_usdt, r.fees_usdt = d.maker_ratio, d.traded_notional, d.fees
        r.realized_pnl_usdt, r.max_drawdown, r.fingerprint = d.realized_pnl, d.max_drawdown, d.fingerprint
        r.pnl_usdt = r.nav_end - r.nav_start
        (self.engine.log_dir / REPORT_FILE).write_bytes(msgspec.json.format(msgspec.json.encode(r)))
        return r
