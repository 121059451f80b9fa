"""Binance failures -> the few classes hedge acts on (protocol reference §4)."""

from __future__ import annotations

import pytest

from hedge.venue.errors import (
    AuthError,
    OrderNotFound,
    RateLimited,
    Rejected,
    Retryable,
    UnknownOutcome,
    VenueError,
    classify,
)


@pytest.mark.parametrize(
    ("status", "code", "msg", "cls"),
    [
        (400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.", Rejected),
        (400, -4164, "Order's notional must be no smaller than 100", Rejected),
        (400, -2019, "Margin is insufficient.", Rejected),
        (400, -2022, "ReduceOnly Order is rejected.", Rejected),
        (400, -4116, "ClientOrderId is duplicated.", Rejected),
        (400, -2011, "Unknown order sent.", OrderNotFound),
        (400, -2013, "Order does not exist.", OrderNotFound),
        (400, -1021, "Timestamp for this request is outside of the recvWindow.", Retryable),
        (503, -1000, "Unknown error, please check your request or try again later.", UnknownOutcome),
        (503, 0, "Unknown error, please check your request or try again later.", UnknownOutcome),
        (500, -1007, "Timeout waiting for response from backend server.", UnknownOutcome),
        (500, -1006, "An unexpected response was received from the message bus.", UnknownOutcome),
        (408, 0, "", UnknownOutcome),
        (0, 0, "connection reset", UnknownOutcome),
        (503, 0, "Service Unavailable.", Retryable),
        (503, -1001, "Internal error; unable to process your request. Please try again.", Retryable),
        (400, -1008, "Server is currently overloaded", Retryable),
        (429, -1003, "Too many requests", RateLimited),
        (418, -1003, "Way too many requests; IP banned", RateLimited),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", AuthError),
        (400, -1022, "Signature for this request is not valid.", AuthError),
    ],
)
def test_classify(status: int, code: int, msg: str, cls: type[VenueError]) -> None:
    e = classify(status, code, msg, retry_after_s=7.0)
    assert type(e) is cls
    assert e.code == code and e.reason == (msg or e.reason)


def test_unknown_is_never_a_rejection() -> None:
    for status, code in [(503, -1000), (500, -1007), (0, 0), (408, 0)]:
        assert not isinstance(classify(status, code, "Unknown error"), Rejected | Retryable)


def test_rate_limits_carry_retry_after_and_the_ban() -> None:
    e429 = classify(429, -1003, "too many", retry_after_s=3.0)
    e418 = classify(418, -1003, "banned", retry_after_s=120.0)
    assert isinstance(e429, RateLimited) and e429.retry_after_s == 3.0 and not e429.banned
    assert isinstance(e418, RateLimited) and e418.retry_after_s == 120.0 and e418.banned
