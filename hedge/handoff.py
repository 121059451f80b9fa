"""Hand-off of urgent work from a synchronous handler to the event loop, ahead of buffered input.

Owns: ``Handoff``, a flag that a synchronous handler raises when it scheduled a task that must run
before more input is handled (the router's venue calls: an order to send, a cancel), and that a
receive loop reads after each frame it handed on. Raised, the loop lowers it and yields to the
event loop once, so the scheduled task runs before the next frame already buffered. ``HANDOFF``
is the process's one (the receive loops and the router share it; tests pass their own).

Design: ``websockets`` hands every frame of one ``data_received`` batch to ``recv()`` without
suspending, so a receive loop handles the whole batch (tens of frames at a burst, ~100-200 us each
when the code is cold) before a task created by the first frame gets its turn: that wait was the
largest part of live tick -> order sent outside the decision itself (bench_latency's ``task``
stage, ~140 us at p50). Yielding after every frame would cost a task wake-up (~3 us) per frame;
yielding only when asked costs one attribute test per frame.

Must never: block, or make a receive loop yield when nothing was handed off.
"""

from __future__ import annotations


class Handoff:
    """A task was scheduled that should run before the next buffered frame (see the module docstring)."""

    __slots__ = ("pending", "requests")

    def __init__(self) -> None:
        self.pending = False
        self.requests = 0

    def request(self) -> None:
        """A synchronous handler scheduled urgent work: the receive loop handling it yields once."""
        self.pending = True
        self.requests += 1

    def take(self) -> bool:
        """True (and lowered) when urgent work was handed off since the last call."""
        if not self.pending:
            return False
        self.pending = False
        return True


HANDOFF = Handoff()
