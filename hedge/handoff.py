"""Hand-off of urgent work from a synchronous handler to the event loop, ahead of buffered input.

Owns: ``start_eager(coro)``, a task whose first step runs at once, inside the caller (Python
3.12's eager tasks, which 3.11 lacks), ``settled(call)``, and ``Handoff``, a flag that a synchronous handler raises
when it scheduled a task that must run before more input is handled (the router's venue calls:
an order to send, a cancel), and that a
receive loop reads after each frame it handed on. Raised, the loop lowers it and yields to the
event loop once, so the scheduled task runs before the next frame already buffered. ``HANDOFF``
is the process's one (the receive loops and the router share it; tests pass their own).

Design: a task created with ``create_task`` first runs on a later turn of the event loop, after
whatever was ready before it: the rest of the frame batch (below), the timers and the I/O
callbacks of the next turn (live, with the local exchange in the process, its playback timers).
That hop was ~140 us at p50 of live tick -> order sent (bench_latency's ``task`` stage).
``start_eager`` instead runs the coroutine's first step in the caller, as that task (``current_task``
is the new task meanwhile, so aiohttp's timeouts and cancellations address it, not the caller), up
to its first real suspension (for an order: the request written to the socket, waiting for the
answer); the task then carries on from there. Like 3.12's eager tasks, a coroutine that finishes in
that step never touches the loop, and the caller must expect the coroutine's synchronous part to
run before ``start_eager`` returns; ``settled`` keeps the outcome of a call that answered without
suspending out of that step.

``websockets`` hands every frame of one ``data_received`` batch to ``recv()`` without
suspending, so a receive loop handles the whole batch (tens of frames at a burst, ~100-200 us each
when the code is cold) before a task created by the first frame gets its turn: that wait was the
largest part of live tick -> order sent outside the decision itself (bench_latency's ``task``
stage, ~140 us at p50). Yielding after every frame would cost a task wake-up (~3 us) per frame;
yielding only when asked costs one attribute test per frame.

Must never: block, or make a receive loop yield when nothing was handed off.
"""

from __future__ import annotations

import asyncio
from asyncio.tasks import _enter_task, _leave_task  # what Task.__step uses to mark the task running
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Resume:
    """Drive a coroutine that already ran its first step, from the future it suspended on."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self.coro, self.first = coro, first

    def __await__(self) -> Generator[Any, Any, None]:
        coro, y = self.coro, self.first
        self.first = None
        while True:
            try:
                value = yield y
            except BaseException as exc:  # cancellation (or a throw) goes to the coroutine
                try:
                    y = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    y = coro.send(value)
                except StopIteration:
                    return


class _Settled(Generic[T]):
    """Await a coroutine; when it ended without ever suspending, yield to the loop once first."""

    __slots__ = ("coro",)

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro

    def __await__(self) -> Generator[Any, Any, T]:
        coro, suspended = self.coro, False
        value: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                y = coro.send(value) if thrown is None else coro.throw(thrown)
            except StopIteration as stop:
                if not suspended:
                    yield None  # a bare yield: the task runs again on the next turn (asyncio.sleep(0))
                result: T = stop.value
                return result
            except BaseException:
                if not suspended:
                    yield None
                raise
            suspended, value, thrown = True, None, None
            try:
                value = yield y
            except BaseException as exc:  # cancellation (or a throw) goes to the coroutine
                thrown = exc


def settled(coro: Coroutine[Any, Any, T]) -> _Settled[T]:
    """``await settled(call)``: the call's outcome, never handled inside an eager first step.

    A call that answers without suspending (a refusal before anything is sent, a simulated venue
    without latency) would otherwise have its outcome handled inside ``start_eager``'s caller (the
    router's decision handler, re-entered); ``settled`` hands it to the task's next turn instead,
    where ``create_task`` would have handled it. A call that suspends (a real network request)
    costs nothing more."""
    return _Settled(coro)


async def _finish(step: list[Any], coro: Coroutine[Any, Any, None]) -> None:
    """The task's body: the outcome of the eager step (raised, done) or the rest of the coroutine."""
    kind, value = step
    step.clear()
    if kind == "raised":
        raise value
    if kind == "suspended":
        await _Resume(coro, value)


def start_eager(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """A task running ``coro`` whose first step has already run, here (see the module docstring)."""
    loop = asyncio.get_running_loop()
    step: list[Any] = []
    task = loop.create_task(_finish(step, coro))
    caller = asyncio.current_task(loop)
    if caller is not None:
        _leave_task(loop, caller)
    _enter_task(loop, task)
    try:
        step += ["suspended", coro.send(None)]
    except StopIteration:
        step += ["done", None]
    except BaseException as exc:  # the task raises it at its first step, as create_task would
        step += ["raised", exc]
    finally:
        _leave_task(loop, task)
        if caller is not None:
            _enter_task(loop, caller)
    task.add_done_callback(lambda _t: coro.close())  # cancelled before its first step: end the coroutine too
    return task


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
