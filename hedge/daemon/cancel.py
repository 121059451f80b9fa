"""``hedge kill --cancel``: cancel every open order of the configured venue directly, without the daemon.

Owns: ``direct_cancel_all``: the configured venue built outside any engine (never a dry run: the
cancel must reach the exchange), every open order of the universe and of the account cancelled
over REST, the venue's client closed. The local exchange is found through the running daemon's
``daemon.json``.

Must never: start an engine or a stream, or place an order.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import msgspec

from hedge.config import Config
from hedge.daemon.lock import running_exchange_url
from hedge.daemon.venues import select_venue
from hedge.model.clock import LiveClock


def direct_cancel_all(
    cfg: Config, *, env: Mapping[str, str] | None = None
) -> Callable[[], Coroutine[Any, Any, int]]:
    """``hedge kill --cancel``: cancel every open order of the configured venue over REST, without the
    daemon (the local exchange is found through the running daemon's ``daemon.json``); returns how many."""
    rt = cfg.runtime
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, dry_run=False))
    port = 0
    if rt.venue == "local":
        port = int(running_exchange_url(rt.log_dir).rsplit(":", 1)[1])

    async def cancel_all() -> int:
        setup = select_venue(cfg, lambda _ev: None, clock=LiveClock(), local_port=port, env=env)
        venue = setup.venue
        try:
            symbols = set(cfg.strategy.universe) | {o.symbol for o in await venue.open_orders(None)}
            n = 0
            for sym in sorted(symbols):
                n += await venue.cancel_all(sym)
            return n
        finally:
            await venue.close()

    return cancel_all
