"""Venue selection: the configured venue and what comes with it.

Owns: ``select_venue``, the one place that knows the venues. ``local`` is the in-process local
exchange reached over loopback sockets with its built-in test keys; ``binance-testnet`` /
``binance`` take their keys from ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``. Every live venue
is the same ccxt ``BinanceVenue`` (its clock offset measured by a ``OneShot`` service) +
``UserStream`` + ``AccountPoller``; only the URLs and keys differ. ``dry_run`` keeps the venue's
real market data but routes to the ``DryRunVenue`` with a paper NAV (there is no user stream,
so the stream requirement is lifted for that run: ``without_user_stream``).

Must never: start a service or open a connection itself (the engine runs the services it returns),
or read a key from a file.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import msgspec

from hedge.app import Service
from hedge.config import Config
from hedge.daemon.errors import SetupError
from hedge.events import Event
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.feeds.connection import Endpoints, endpoints
from hedge.model.clock import Clock
from hedge.risk.dead_man import CountdownFn
from hedge.state.journal import Journals
from hedge.venue.account import AccountPoller, PaperAccount
from hedge.venue.base import Venue
from hedge.venue.binance import BinanceVenue
from hedge.venue.binance_filters import bundled_filters
from hedge.venue.dry_run import DryRunVenue
from hedge.venue.user_stream import UserStream

# The account's NAV is polled this many times per risk.nav_freshness_seconds (it must never go stale).
NAV_POLLS_PER_FRESHNESS = 3


class VenueSetup:
    """A venue and what comes with it: market-data endpoints, its services, its dead-man countdown."""

    def __init__(
        self, venue: Venue, market: Endpoints, services: list[Service], *, countdown: CountdownFn | None = None
    ) -> None:
        self.venue = venue
        self.market = market
        self.services = services
        self.countdown = countdown


class OneShot:
    """A supervised one-off task (retried with the engine's backoff until it succeeds once)."""

    def __init__(self, name: str, fn: Callable[[], Coroutine[Any, Any, object]]) -> None:
        self.name = name
        self._fn = fn

    async def run(self) -> None:
        await self._fn()


def select_venue(
    cfg: Config, publish: Callable[[Event], None], *, clock: Clock, journals: Journals | None = None,
    local_port: int = 0, env: Mapping[str, str] | None = None,
) -> VenueSetup:
    """The configured venue (see the module docstring); ``SetupError`` when it cannot be built.

    ``clock`` is the engine's (every stamp the venue and its services make); ``journals`` receive a
    dry run's would-be orders; ``local_port`` is the local exchange's."""
    rt = cfg.runtime
    try:
        market = endpoints(rt.venue, rt.feeds, local_port=local_port, local_host=rt.local_exchange.host)
    except ValueError as e:
        raise SetupError(str(e)) from None
    nav_interval_s = cfg.risk.nav_freshness_seconds / NAV_POLLS_PER_FRESHNESS
    if rt.dry_run:
        if journals is None:
            raise SetupError("a dry run needs journals for the orders it would send")
        paper = PaperAccount(rt.local_exchange.starting_balance, clock=clock)
        return VenueSetup(DryRunVenue(journals, bundled_filters(), clock=clock), market,
                          [AccountPoller(paper, publish, interval_s=nav_interval_s)])
    if rt.venue == "local":
        venue = BinanceVenue(market.rest_base, rt.http, api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET,
                             name="local", publish=publish, clock=clock)
    else:
        try:
            venue = BinanceVenue.from_env(market.rest_base, rt.http, name=rt.venue, publish=publish, env=env,
                                          clock=clock)
        except ValueError as e:
            raise SetupError(f"venue {rt.venue}: {e}") from None
    services: list[Service] = [
        OneShot("venue-clock", venue.sync_time),  # the server-time offset, without delaying the start
        UserStream(venue, market.ws_base, publish, paths=rt.feeds.stream_paths, connection=cfg.risk.user_stream,
                   clock=clock),
        AccountPoller(venue, publish, interval_s=nav_interval_s),
    ]
    return VenueSetup(venue, market, services, countdown=venue.countdown_cancel_all)


def without_user_stream(cfg: Config) -> Config:
    """``cfg`` for a run that has no user stream (dry run): neither risk nor /health waits for one."""
    rt = cfg.runtime
    return msgspec.structs.replace(
        cfg,
        risk=msgspec.structs.replace(cfg.risk, require_user_stream=False),
        runtime=msgspec.structs.replace(rt, metrics=msgspec.structs.replace(rt.metrics, require_user_stream=False)),
    )
