"""The account NAV: the /fapi/v2/account snapshot decoded, and the poller's publish/retry schedule."""

from __future__ import annotations

import asyncio

import pytest

from hedge.events import Event, Nav
from hedge.venue.account import AccountPoller, PaperAccount
from hedge.venue.binance_wire import nav_of_account
from hedge.venue.errors import Retryable
from tests.kit.wait import wait_for

NOW_NS = 1_721_260_900_000_000_000


def test_nav_of_account_reads_binance_strings() -> None:
    nav = nav_of_account({"totalWalletBalance": "10000.50000000", "totalUnrealizedProfit": "-12.25000000",
                          "updateTime": 1721260800000, "assets": []}, NOW_NS)
    assert nav.nav == pytest.approx(9988.25) and nav.wallet_balance == 10000.5 and nav.unrealized_pnl == -12.25
    assert nav.source == "reconcile" and nav.ts_ms == 1721260800000 and nav.recv_ns == NOW_NS


def test_a_nav_without_update_time_is_stamped_on_arrival() -> None:
    """Binance's top-level ``updateTime`` is 0 on /fapi/v2/account: the poll's Nav carried ts_ms 0."""
    nav = nav_of_account({"totalWalletBalance": "100", "totalUnrealizedProfit": "0", "updateTime": 0, "assets": []},
                         NOW_NS)
    assert nav.ts_ms == NOW_NS // 1_000_000 and nav.recv_ns == NOW_NS


@pytest.mark.parametrize("bad", [{}, {"totalWalletBalance": "abc"}, [], "x"])
def test_nav_of_account_rejects_what_is_not_an_account(bad: object) -> None:
    with pytest.raises(ValueError, match="account snapshot"):
        nav_of_account(bad, NOW_NS)


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def account_nav(self) -> Nav:
        self.calls += 1
        if self.calls <= self.failures:
            raise Retryable("HTTP 503")
        return Nav(nav=100.0 + self.calls, wallet_balance=100.0, unrealized_pnl=0.0, source="reconcile")


async def test_poller_retries_failures_then_publishes_every_interval() -> None:
    out: list[Event] = []
    src = Flaky(failures=2)
    poller = AccountPoller(src, out.append, interval_s=0.05, delays=lambda _n: 0.01)
    task = asyncio.get_running_loop().create_task(poller.run())
    await wait_for(lambda: len([e for e in out if isinstance(e, Nav)]) >= 2, what="two NAV readings")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert poller.failures == 2 and poller.polls >= 2
    assert [e.nav for e in out if isinstance(e, Nav)][:2] == [103.0, 104.0]


async def test_paper_account_is_labelled_paper() -> None:
    nav = await PaperAccount(5000.0).account_nav()
    assert nav.nav == nav.wallet_balance == 5000.0 and nav.source == "paper"
