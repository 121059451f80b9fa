"""A venue that cannot be reached: one line per endpoint, no traceback, and quiet callers."""

from __future__ import annotations

import logging
import socket

import pytest

from hedge.config import HttpConfig
from hedge.reach import Reach, reported
from hedge.venue.binance import BinanceVenue
from hedge.venue.errors import Retryable, UnknownOutcome


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_retried_reads_of_an_unreachable_venue_say_it_once(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []

    async def fake_sleep(s: float) -> None:
        sleeps.append(s)

    port = closed_port()
    venue = BinanceVenue(f"http://127.0.0.1:{port}", HttpConfig(read_retries=4), api_key="k", api_secret="s",
                         name="testnet", sleep=fake_sleep, reach=Reach())
    caplog.set_level(logging.DEBUG, logger="hedge")  # whatever level an earlier test left on "hedge"
    try:
        with pytest.raises(Retryable) as read:
            await venue.load_filters()
        with pytest.raises(Retryable) as clock:
            await venue.sync_time()
        with pytest.raises(UnknownOutcome) as write:
            await venue.countdown_cancel_all("BTCUSDT", 60_000)
    finally:
        await venue.close()
    assert len(sleeps) == 4  # the reads were retried as before
    assert reported(read.value) and reported(clock.value) and reported(write.value)
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage().split(": ")[0] for r in loud] == [f"cannot reach http://127.0.0.1:{port}"]
    assert "retrying in" in loud[0].getMessage() and "Connect call failed" in loud[0].getMessage()
    assert not any(r.exc_info for r in loud)
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)  # the detail, at DEBUG
    assert not any("signature" in r.getMessage() for r in loud)
