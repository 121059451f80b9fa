"""``Reach``: one line per outage of an endpoint, DEBUG for the repeats, INFO when it answers again."""

from __future__ import annotations

import logging

import pytest

from hedge.model.clock import EventClock
from hedge.reach import Reach, Unreachable, endpoint_of, level_for, reported


def test_an_outage_is_said_once_then_reminded_and_its_end_is_said(caplog: pytest.LogCaptureFixture) -> None:
    clock = EventClock(0)
    reach = Reach(remind_s=60.0, clock=clock)
    caplog.set_level(logging.INFO, logger="hedge.reach")
    for i in range(20):
        clock.advance_to_ns(i * 2 * 10**9)
        reach.failed("https://fapi.example:443/fapi/v1/time?signature=abc", "ConnectionRefusedError", 0.4)
    # 38 s of failures: one line, no reminder yet
    assert [r.getMessage() for r in caplog.records] == [
        "cannot reach https://fapi.example:443: ConnectionRefusedError, retrying in 0.4 s"]
    clock.advance_to_ns(61 * 10**9)
    reach.failed("https://fapi.example:443/x", "ConnectionRefusedError", 0.4)
    assert caplog.records[-1].getMessage().startswith("still cannot reach https://fapi.example:443 (for 61 s, 21 ")
    reach.reached("https://fapi.example:443/fapi/v1/order")
    assert caplog.records[-1].getMessage() == "reached https://fapi.example:443 again after 61.0 s (21 failed attempts)"
    assert all("signature" not in r.getMessage() for r in caplog.records)
    n = len(caplog.records)
    reach.reached("https://fapi.example:443")  # no outage: nothing to say
    reach.failed("wss://stream.example", "gaierror: Name or service not known")  # a new outage: said again
    assert len(caplog.records) == n + 1 and caplog.records[-1].levelno == logging.WARNING


def test_an_error_caused_by_a_reported_outage_is_logged_at_debug() -> None:
    try:
        try:
            raise Unreachable("cannot reach x")
        except Unreachable as cause:
            raise RuntimeError("read failed") from cause
    except RuntimeError as e:
        assert reported(e) and level_for(e) == logging.DEBUG
    assert not reported(ValueError("x")) and level_for(ValueError("x"), logging.ERROR) == logging.ERROR
    assert endpoint_of("ws://127.0.0.1:9/public/stream?streams=a") == "ws://127.0.0.1:9"
