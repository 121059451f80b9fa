"""Ending a background task from the task that owns it.

Owns: ``cancel_and_wait(task)``: cancel ``task`` and wait until it has ended, without swallowing a
cancellation of the caller itself. ``with contextlib.suppress(CancelledError): await task`` does
swallow it: an owner cancelled while it waits for its child carries on as if nothing had
happened (the soak found a user stream whose websocket kept reconnecting for ever with an expired
listenKey: its connection was cancelled while it waited for its own watchdog to end).

Must never: hide an exception of ``task`` other than its cancellation.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait for its end; a cancellation of the caller during the wait propagates."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        me = asyncio.current_task()
        if me is not None and me.cancelling():
            raise
