"""The pre-trade gate's two homes: a process of its own (``StandaloneGate``, ``hedge gate``) and the
daemon (``embedded_gate``, ``runtime.gate.enabled``).

Owns: ``gate_server`` (a ``GateService`` on a risk stage's context behind the HTTP server, the
token from ``HEDGE_GATE_TOKEN`` and the refusal to listen beyond loopback without one) and the
wiring of each home:
- standalone: an engine (bus, journals, supervised services; its own /metrics server off: the
  gate serves ``/metrics``), the venue's account services from ``select_venue`` (the daemon's:
  NAV/positions polls, the user stream with order updates and fills), a ``RiskStage`` on the bus
  (the first account poll is the gate's reconciliation: it has no ledger of its own); reported
  fills go on its bus (risk's cooloff, the ``events`` journal); the venue client is released last.
- in the daemon: the daemon's own risk stage is the context; a reported fill feeds its cooloff
  and the ``events`` journal (kind ``GateFill``) but never the bus, so the daemon's ledger and
  round trips stay its own orders'.

Must never: start a local exchange (``--venue local`` reaches a running ``hedge exchange``), or
send an order (the runners do).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import msgspec

from hedge.app import Engine
from hedge.config import Config
from hedge.daemon.venues import VenueSetup, select_venue
from hedge.events import Fill, Nav, Reconciled
from hedge.gate.app import TOKEN_ENV, GateApp, GateServer, check_binding
from hedge.gate.service import GateService
from hedge.risk.stage import RiskStage
from hedge.state.journal import Journals


def gate_server(
    cfg: Config, risk: RiskStage, journals: Journals, *, on_fill: Callable[[Fill], None], host: str, port: int,
    env: Mapping[str, str],
) -> GateServer:
    """The gate on ``risk``'s context on ``host:port``; ``ValueError``: a public address without a token."""
    token = env.get(TOKEN_ENV) or None
    check_binding(host, token)
    service = GateService(cfg, risk.context, clock=risk.clock, on_fill=on_fill, journals=journals)
    return GateServer(GateApp(service, token=token), host, port)


def embedded_gate(engine: Engine, risk: RiskStage, env: Mapping[str, str]) -> GateServer:
    """The gate inside the daemon (``runtime.gate``), on the daemon's own risk stage."""
    events = engine.journals.writer("events")

    def on_fill(fill: Fill) -> None:
        risk.on_fill(fill)
        events.write("GateFill", fill)

    g = engine.cfg.runtime.gate
    return gate_server(engine.cfg, risk, engine.journals, on_fill=on_fill, host=g.host, port=g.port, env=env)


class StandaloneGate:
    def __init__(self, cfg: Config, *, host: str, port: int, env: Mapping[str, str] | None = None) -> None:
        rt = cfg.runtime
        self.env = os.environ if env is None else env
        check_binding(host, self.env.get(TOKEN_ENV) or None)  # before anything is built
        self.cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(
            rt, metrics=msgspec.structs.replace(rt.metrics, enabled=False)))
        self.engine = Engine(self.cfg)
        bus = self.engine.bus
        self.setup: VenueSetup = select_venue(self.cfg, bus.publish, clock=self.engine.clock,
                                              journals=self.engine.journals,
                                              local_port=rt.local_exchange.port, env=self.env)
        self.stage = RiskStage(bus, self.cfg, self.engine.journals.writer("risk_vetoes"), clock=self.engine.clock)
        self.stage.attach()
        bus.subscribe(Nav, self._first_account_view)
        self.server = gate_server(self.cfg, self.stage, self.engine.journals, on_fill=bus.publish, host=host,
                                  port=port, env=self.env)
        self.service = self.server.gate.service
        for svc in self.setup.services:
            self.engine.add_service(svc)
        self.engine.add_service(self.server)

    def _first_account_view(self, ev: Nav) -> None:
        if not self.stage.reconciled:
            self.stage.on_reconciled(Reconciled(trigger="start", ts_ms=ev.ts_ms, recv_ns=ev.recv_ns))

    async def run(self, *, install_signals: bool = True) -> int:
        """Serve until stopped (SIGINT/SIGTERM or ``engine.request_stop``); then release the venue client."""
        return await self.engine.run(install_signals=install_signals, release=self.setup.venue.close)
