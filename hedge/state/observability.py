"""Observability: every operator surface of one engine, wired onto its bus in one call.

Owns: assembling ``Telemetry`` (counters), ``HealthMonitor`` (/health rules), ``StateModel`` +
``StatePublisher`` (logs/state/*.json and the manifest), the Prometheus registry and
``MetricsServer`` (/metrics, /health), the trade list (``TradeCsv``: trades.csv), the
``LoopLagProbe``, the one-way Firestore sync of the state files (``features.firestore_sync``),
and the alert path (``AlertRouter`` -> ``AlertDispatcher`` -> notifiers from
config) from the configuration.
``services`` lists the long-running parts for the engine to supervise; ``attach_observability``
does both steps for anything shaped like an Engine.

Must never: import a decision stage (it learns everything from bus events; import-linter
enforces it), or fail the engine because an optional notifier is misconfigured (that is logged
and the notifier left out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import msgspec

from hedge.bus import Bus
from hedge.config import AlertsConfig, Config
from hedge.model.clock import Clock, LiveClock
from hedge.state.alerts.dispatcher import AlertDispatcher
from hedge.state.alerts.notifier import Notifier
from hedge.state.alerts.router import AlertRouter
from hedge.state.alerts.telegram import TelegramNotifier
from hedge.state.alerts.webhook import WebhookNotifier
from hedge.state.firestore.metrics import FirestoreCollector
from hedge.state.firestore.service import FirestoreSync, SyncStats
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.looplag import LoopLagProbe
from hedge.state.manifest import state_dir
from hedge.state.masking import Masker
from hedge.state.prometheus import HedgeCollector, build_registry
from hedge.state.publisher import StatePublisher
from hedge.state.server import MetricsServer
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry
from hedge.state.trade_csv import TradeCsv

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    async def run(self) -> None: ...


class EngineLike(Protocol):
    bus: Bus
    clock: Clock
    cfg: Config
    log_dir: Path

    def add_service(self, svc: Service) -> None: ...


def notifiers_from_config(cfg: AlertsConfig) -> list[Notifier]:
    """The notifiers enabled in ``runtime.alerts``; a misconfigured one is logged and left out."""
    out: list[Notifier] = []
    if cfg.telegram.enabled:
        try:
            out.append(TelegramNotifier(cfg.telegram.base_url, cfg.telegram.chat_id, timeout_s=cfg.timeout_s))
        except ValueError as exc:
            log.error("alerts: telegram disabled: %s", exc)
    if cfg.webhook.enabled:
        try:
            out.append(WebhookNotifier(cfg.webhook.url, timeout_s=cfg.timeout_s))
        except ValueError as exc:
            log.error("alerts: webhook disabled: %s", exc)
    return out


class Observability:
    """State files, metrics, /health and alerts for one bus.

    An engine supervises ``services`` one by one (``attach_observability``); a bare caller (replay,
    a tool) can instead run the whole as one service with ``run()``.
    """

    name = "observability"

    def __init__(
        self,
        bus: Bus,
        cfg: Config,
        log_dir: str | Path,
        *,
        notifiers: Sequence[Notifier] | None = None,
        clock: Clock | None = None,
    ) -> None:
        rt = cfg.runtime
        self.bus = bus
        self.clock: Clock = clock or LiveClock()
        self.masker = Masker()  # secrets from the environment, masked in every output
        self.telemetry = Telemetry(self.clock)
        self.telemetry.attach(bus)
        self.health = HealthMonitor(
            self.telemetry,
            HealthRules(
                symbols=tuple(cfg.strategy.universe),
                feed_stale_s=rt.metrics.feed_stale_s,
                nav_fresh_s=cfg.risk.nav_freshness_seconds,
                user_stream=rt.metrics.user_stream,
                require_user_stream=rt.metrics.require_user_stream,
            ),
        )
        chosen = list(notifiers) if notifiers is not None else (
            notifiers_from_config(rt.alerts) if rt.features.alerts else []
        )
        self.dispatcher = AlertDispatcher(
            chosen, queue_size=rt.alerts.queue_size, timeout_s=rt.alerts.timeout_s, masker=self.masker,
            clock=self.clock,
        )
        self.alert_router = AlertRouter(
            bus,
            self.dispatcher,
            daily_dd_limit=cfg.risk.daily_dd_limit,
            user_stream=rt.metrics.user_stream,
            dedup_s=rt.alerts.dedup_s,
            clock=self.clock,
        )
        self.alert_router.attach()
        self.model = StateModel(
            self.telemetry, self.health, bus, alert_stats=self.dispatcher.snapshot,
            features=msgspec.structs.asdict(rt.features),
            factors_enabled=cfg.strategy.factor_diagnostics.enabled,
        )
        self.model.attach(bus)
        self.state_dir = state_dir(log_dir)
        self.publisher = StatePublisher(self.model, self.state_dir, rt.state.min_interval_s, self.masker)
        self.registry = build_registry(
            HedgeCollector(self.telemetry, self.model, self.health, bus, self.dispatcher.snapshot)
        )
        self.sync_stats = SyncStats()  # hedge_firestore_* (zeros while features.firestore_sync is off)
        self.registry.register(FirestoreCollector(self.sync_stats))
        self.server = MetricsServer(self.registry, self.health, rt.metrics.host, rt.metrics.port, self.masker)
        self.trade_csv = TradeCsv(log_dir)  # <log_dir>/trades.csv: one row per closed trade
        self.trade_csv.attach(bus)
        self.loop_lag = LoopLagProbe(self.telemetry, rt.metrics.loop_lag_interval_s)
        self.services: list[Service] = [self.publisher, self.dispatcher, self.loop_lag]
        if rt.metrics.enabled:
            self.services.append(self.server)
        if rt.features.firestore_sync:  # reads the state files the publisher wrote: never on the tick path
            self.services.append(FirestoreSync(self.state_dir, rt.firestore, self.clock, stats=self.sync_stats,
                                               masker=self.masker))


    async def run(self) -> None:
        """Run every service until cancelled (one failing ends all: use ``services`` to supervise)."""
        async with asyncio.TaskGroup() as tg:
            for svc in self.services:
                tg.create_task(svc.run(), name=f"observability:{svc.name}")


def attach_observability(
    engine: EngineLike, *, notifiers: Sequence[Notifier] | None = None
) -> Observability:
    """Wire observability onto ``engine``'s bus and add its services to the engine (on the engine's
    clock: every age and stamp; replay's is its event clock)."""
    obs = Observability(engine.bus, engine.cfg, engine.log_dir, notifiers=notifiers, clock=engine.clock)
    for svc in obs.services:
        engine.add_service(svc)
    return obs
