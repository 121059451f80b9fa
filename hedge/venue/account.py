"""The account poller: the venue's NAV snapshot on the bus at start and at a steady period.

Owns: ``AccountPoller`` (a supervised service) that publishes the account's ``Nav`` (source
``reconcile``) as soon as the venue answers and then every ``interval_s``, so the risk stage's
NAV stays fresh between the user stream's ACCOUNT_UPDATEs (which arrive only when the wallet
or a position changes); ``PaperAccount``, the fixed NAV of a dry run (no network, no fills).

Design: a failed poll is logged and retried on the backoff schedule (0.4 s -> 6.4 s), never
fatal; the NAV simply ages until the venue answers again and the risk stage's freshness gate
does its job.

Must never: send an order, or publish a NAV the venue did not give (a dry run's paper NAV is
labelled ``paper``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from hedge.backoff import backoff_delays
from hedge.events import Event, Nav
from hedge.model.clock import Clock, LiveClock
from hedge.venue.errors import VenueError

log = logging.getLogger(__name__)


class AccountSource(Protocol):
    async def account_nav(self) -> Nav: ...


class PaperAccount:
    """A dry run's account: a constant paper NAV."""

    def __init__(self, balance: float, *, clock: Clock | None = None) -> None:
        self.balance = balance
        self.clock: Clock = clock or LiveClock()

    async def account_nav(self) -> Nav:
        return Nav(nav=self.balance, wallet_balance=self.balance, unrealized_pnl=0.0, source="paper",
                   recv_ns=self.clock.now_ns())


class AccountPoller:
    name = "account"

    def __init__(
        self, source: AccountSource, publish: Callable[[Event], None], *, interval_s: float,
        delays: Callable[[int], float] | None = None,
    ) -> None:
        self.source = source
        self.publish = publish
        self.interval_s = interval_s
        self._delays = delays or backoff_delays(0.4, 6.4)
        self.polls = 0
        self.failures = 0

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                nav = await self.source.account_nav()
            except (VenueError, ValueError) as e:
                self.failures += 1
                wait = min(self._delays(attempt), self.interval_s)
                attempt += 1
                log.warning("account: NAV snapshot failed (%s); retry in %.2fs", e, wait)
                await asyncio.sleep(wait)
                continue
            attempt = 0
            self.polls += 1
            self.publish(nav)
            await asyncio.sleep(self.interval_s)
