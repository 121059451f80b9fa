"""``hedge kill --cancel``: cancel every open order of the configured venue directly, without the daemon.

Owns: ``direct_cancel_all``: the configured venue built outside any engine (never a dry run: the
cancel must reach the exchange), every open order of the universe and of the account cancelled
over REST, the venue's client closed. The local exchange is found through the running daemon's
``daemon.json``. While the daemon's state says the venue bans this IP (418, its
``router_health.json``) nothing is sent: a request would extend the ban; a ``SetupError`` says
until when and what the operator can do (the daemon sends its own cancels the moment it ends).

Must never: start an engine or a stream, place an order, or call a venue that bans this IP.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import msgspec

from hedge.config import Config
from hedge.daemon.errors import SetupError
from hedge.daemon.lock import running_exchange_url
from hedge.daemon.venues import select_venue
from hedge.model.clock import LiveClock, iso_utc
from hedge.state import schemas
from hedge.state.manifest import read_surface, state_dir


def refuse_during_ban(log_dir: str, now_ms: int) -> None:
    """``SetupError`` when the daemon of ``log_dir`` reports a 418 ban still in force."""
    try:
        health = read_surface(state_dir(log_dir), schemas.RouterHealthState)
    except (OSError, msgspec.DecodeError):
        return
    if health is not None and health.banned_until_ms > now_ms:
        raise SetupError(
            f"the venue bans this IP until {iso_utc(health.banned_until_ms)} (418): nothing was sent, a request "
            "now would extend the ban; the daemon cancels the moment it ends. Meanwhile: cancel in the Binance "
            "web UI or from another IP (docs/operations.md, 'During a 418 ban')"
        )


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
        clock = LiveClock()
        refuse_during_ban(rt.log_dir, clock.now_ms())
        setup = select_venue(cfg, lambda _ev: None, clock=clock, local_port=port, env=env)
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
