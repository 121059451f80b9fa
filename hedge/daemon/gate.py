"""``StandaloneGate``: the pre-trade gate as a process of its own, its account view from a venue.

Owns: the wiring of ``hedge gate`` — an engine (bus, journals, supervised services; its own
/metrics server off: the gate serves ``/metrics``), the venue's account services from
``select_venue`` (the daemon's: NAV/positions polls, the user stream with order updates and
fills), a ``RiskStage`` on the bus (the daemon's context: NAV health, positions, open orders,
cooloff, trading state; the first account poll is the gate's reconciliation, it has no ledger of
its own), the ``GateService`` over it and the HTTP server; the release of the venue client.

Must never: start a local exchange (``--venue local`` reaches a running ``hedge exchange``), or
send an order (the runners do).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from hedge.app import Engine
from hedge.config import Config
from hedge.daemon.venues import VenueSetup, select_venue
from hedge.events import Nav, Reconciled
from hedge.gate.app import TOKEN_ENV, GateApp, GateServer, check_binding
from hedge.gate.service import GateService
from hedge.risk.stage import RiskStage


class StandaloneGate:
    def __init__(self, cfg: Config, *, host: str, port: int, env: Mapping[str, str] | None = None) -> None:
        rt = cfg.runtime
        self.env = os.environ if env is None else env
        token = self.env.get(TOKEN_ENV) or None
        check_binding(host, token)  # ValueError: refuse to start
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
        self.service = GateService(self.cfg, self.stage.context, clock=self.engine.clock, publish=bus.publish,
                                   journals=self.engine.journals)
        self.server = GateServer(GateApp(self.service, token=token), host, port)
        for svc in self.setup.services:
            self.engine.add_service(svc)
        self.engine.add_service(self.server)

    def _first_account_view(self, ev: Nav) -> None:
        if not self.stage.reconciled:
            self.stage.on_reconciled(Reconciled(trigger="start", ts_ms=ev.ts_ms, recv_ns=ev.recv_ns))

    async def run(self, *, install_signals: bool = True) -> int:
        """Serve until stopped (SIGINT/SIGTERM or ``engine.request_stop``); then release the venue client."""
        return await self.engine.run(install_signals=install_signals, release=self.setup.venue.close)
