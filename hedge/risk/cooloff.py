"""Cooloff: a pause on new exposure after too many consecutive losing fills or order rejects.

Owns: the two streak counters and the time the current cooloff ends (both carried over a
restart through ``restore``: a restart neither ends a cooloff nor resets a streak).

Design: a fill with negative realized PnL extends the loss streak, a positive one resets it
(zero-PnL fills — opening fills — leave it alone); a *genuine* rejection extends the reject
streak, an accepted order (NEW) resets it. Reaching either threshold starts a cooloff of
``seconds`` and resets that streak. ``check_order`` reads ``until_ms``.

A REJECTED order update is genuine (``is_genuine_reject``) only when the exchange refused the
order on its merits. Not counted, and not resetting the streak either: a -5022 post-only reject
(normal maker behaviour in a moving market: the router reprices), and an order that never
reached the matching engine — the router's ``"not sent: ..."`` (429, -1021, 503 Service
Unavailable: the request failed before execution) and ``"proven absent"`` (an unknown outcome
resolved as "the order does not exist"). Counting those would turn a fast market or a
transport hiccup into a cooloff.

Must never: block exposure-reducing orders (the gate is in ``check_order``, for new exposure only).
"""

from __future__ import annotations

from hedge.config import CooloffConfig

POST_ONLY_REJECT = -5022  # Binance: a GTX order that would have taken liquidity
_NOT_AN_EXCHANGE_REJECT = ("not sent:", "proven absent")  # the router's reasons for orders that never existed


def is_genuine_reject(reject_code: int, reason: str) -> bool:
    """Whether a REJECTED order update is the exchange refusing the order (counts toward the cooloff)."""
    return reject_code != POST_ONLY_REJECT and not reason.startswith(_NOT_AN_EXCHANGE_REJECT)


class Cooloff:
    def __init__(self, cfg: CooloffConfig) -> None:
        self.cfg = cfg
        self.losses = 0
        self.rejects = 0
        self.until_ms = 0
        self.reason = ""
        self.started = 0  # cooloffs begun so far

    def restore(self, *, until_ms: int, reason: str, losses: int, rejects: int) -> None:
        """Carry a previous process's running cooloff and streaks over (``hedge.risk.persisted``)."""
        self.until_ms, self.reason, self.losses, self.rejects = until_ms, reason, losses, rejects

    def on_realized(self, pnl: float, now_ms: int) -> None:
        if pnl < 0.0:
            self.losses += 1
            if self.losses >= self.cfg.consecutive_losses:
                self._start(f"{self.losses} consecutive losses", now_ms)
                self.losses = 0
        elif pnl > 0.0:
            self.losses = 0

    def on_reject(self, now_ms: int) -> None:
        self.rejects += 1
        if self.rejects >= self.cfg.consecutive_rejects:
            self._start(f"{self.rejects} consecutive rejects", now_ms)
            self.rejects = 0

    def on_accept(self) -> None:
        self.rejects = 0

    def _start(self, reason: str, now_ms: int) -> None:
        self.until_ms = max(self.until_ms, now_ms + int(self.cfg.seconds * 1000))
        self.reason = reason
        self.started += 1
