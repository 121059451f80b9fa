"""Venue errors: every exchange failure normalised into the few classes the engine acts on.

Owns: the error classes (definite rejection, order not found, unknown outcome, retryable,
rate limited, auth/permission) and ``classify()``, the one table that maps Binance's HTTP status,
error code and message onto them (docs: /work/shared/reference/binance-usdm-protocol.md §4).

Design: what matters to the router is not *which* error but *what is now known about the order*:
- ``Rejected``: the exchange answered and the order does not exist (it may be retried only as a
  new decision, e.g. a -5022 post-only reject is repriced). Carries the Binance code and reason.
- ``OrderNotFound`` (a ``Rejected``): -2011/-2013, the order is not known to the exchange.
- ``UnknownOutcome``: the request may or may not have been executed (timeout, connection reset,
  -1006, -1007, 503 "Unknown error"). The order must be resolved by query, never resent blindly.
- ``Retryable``: failed for sure before execution (503 "Service Unavailable", -1008 overloaded,
  -1021 clock skew, -1003 without a 429); safe to try again later.
- ``RateLimited`` (a ``Retryable``): 429 (back off ``retry_after_s``) or 418 (``banned``: halt
  every request until the ban ends).
- ``AuthError``: bad key, signature, IP or permission: nothing will work until a human fixes it.

Must never: carry a secret in a message, or call an unknown outcome a rejection.
"""

from __future__ import annotations

# Binance codes the engine acts on by name.
POST_ONLY_REJECT = -5022
DUPLICATE_CLIENT_ORDER_ID = -4116
INVALID_TIMESTAMP = -1021
INVALID_LISTEN_KEY = -1125

_UNKNOWN_CODES = frozenset({-1006, -1007, -1000})
_RETRYABLE_CODES = frozenset({-1001, -1008, INVALID_TIMESTAMP, -5028})
_AUTH_CODES = frozenset({-2014, -2015, -1022, -1002})
_NOT_FOUND_CODES = frozenset({-2011, -2013})
_UNKNOWN_ERROR_TEXT = "unknown error"


class VenueError(Exception):
    """Base of every normalised venue failure."""

    def __init__(self, reason: str, *, code: int = 0, http_status: int = 0) -> None:
        self.code = code
        self.reason = reason
        self.http_status = http_status
        super().__init__(f"{code} {reason}" if code else reason)


class Rejected(VenueError):
    """A definite answer: the exchange refused the request; the order does not exist."""


class OrderNotFound(Rejected):
    """-2011/-2013: the exchange does not know this order (cancel or query)."""


class UnknownOutcome(VenueError):
    """Sent, no definite answer: executed or not is unknown until the order is queried."""


class Retryable(VenueError):
    """Failed before execution (the order certainly does not exist); may be retried."""

    def __init__(self, reason: str, *, code: int = 0, http_status: int = 0, retry_after_s: float = 0.0) -> None:
        super().__init__(reason, code=code, http_status=http_status)
        self.retry_after_s = retry_after_s


class RateLimited(Retryable):
    """429 (back off ``retry_after_s``) or 418 (``banned``: no request at all until it ends)."""

    def __init__(
        self, reason: str, *, code: int = 0, http_status: int = 429, retry_after_s: float = 0.0, banned: bool = False
    ) -> None:
        super().__init__(reason, code=code, http_status=http_status, retry_after_s=retry_after_s)
        self.banned = banned


class AuthError(VenueError):
    """Bad key, signature, IP whitelist or permission."""


def classify(http_status: int, code: int, message: str, *, retry_after_s: float = 0.0) -> VenueError:
    """Map one failed Binance response onto its class.

    ``http_status`` 0 means no HTTP answer at all (timeout, reset): the outcome is unknown.
    """
    msg = message or ""
    if http_status in (418, 429):
        return RateLimited(
            msg or "rate limited", code=code, http_status=http_status, retry_after_s=retry_after_s,
            banned=http_status == 418,
        )
    if http_status == 0:
        return UnknownOutcome(msg or "no response", code=code)
    if http_status == 401 or code in _AUTH_CODES:
        return AuthError(msg or "not authorised", code=code, http_status=http_status)
    if http_status == 408 or code in _UNKNOWN_CODES or (http_status >= 500 and _UNKNOWN_ERROR_TEXT in msg.lower()):
        return UnknownOutcome(msg or "unknown outcome", code=code, http_status=http_status)
    if code in (-1003, -1015) or http_status == 403:  # 403 = Binance's WAF limit
        return RateLimited(msg, code=code, http_status=http_status, retry_after_s=retry_after_s)
    if code in _RETRYABLE_CODES or http_status >= 500:
        # 503 "Service Unavailable." / "Internal error ... try again": failed, may resend.
        return Retryable(msg or "retry later", code=code, http_status=http_status, retry_after_s=retry_after_s)
    if code in _NOT_FOUND_CODES:
        return OrderNotFound(msg or "order not found", code=code, http_status=http_status)
    return Rejected(msg or "rejected", code=code, http_status=http_status)
