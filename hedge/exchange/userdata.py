"""User-data streams of the local exchange: listenKeys and the events of each account.

Owns: the listenKey table (one active key per account, 60-minute validity extended by POST/PUT,
DELETE, expiry with ``listenKeyExpired``), and the matching engine's ``Listener``: every order
change becomes an ``ORDER_TRADE_UPDATE`` and every balance/position change an ``ACCOUNT_UPDATE``
on the streams of the account that owns it — ``<listenKey>`` (all events) or
``<listenKey>@<EVENT>`` (``/private/ws?events=...``). Payloads are built only when someone listens.

Must never: send one account's events to another account's key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import orjson

from hedge.exchange import errors, wire
from hedge.exchange.accounts import Account
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orders import CONDITIONAL, ExecType, Execution, Order
from hedge.exchange.streams import Hub, Subscriber
from hedge.exchange.symbols import SymbolSpec

LISTEN_KEY_TTL_MS = 60 * 60 * 1000


class UserData:
    def __init__(
        self, engine: MatchingEngine, hub: Hub, specs: dict[str, SymbolSpec], clock: Callable[[], int]
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.specs = specs
        self.clock = clock
        self.keys: dict[str, tuple[str, int]] = {}  # listenKey -> (account, expires ms)

    # ------------------------------------------------------------------ listenKeys

    def key_of(self, account: str) -> str | None:
        return next((k for k, (a, _) in self.keys.items() if a == account), None)

    def new_key(self, account: str) -> str:
        """The account's active key (a new one if none), valid for another 60 minutes."""
        key = self.key_of(account) or secrets.token_hex(32)
        self.keys[key] = (account, self.clock() + LISTEN_KEY_TTL_MS)
        return key

    def keepalive(self, account: str) -> str:
        key = self.key_of(account)
        if key is None:
            raise errors.invalid_listen_key()
        self.keys[key] = (account, self.clock() + LISTEN_KEY_TTL_MS)
        return key

    def delete(self, account: str) -> None:
        key = self.key_of(account)
        if key is not None:
            del self.keys[key]
            for sub in self.subscribers(key):
                sub.close()

    def expire(self, key: str) -> bool:
        """Expire ``key``: every stream on it gets ``listenKeyExpired`` and is then closed."""
        if self.keys.pop(key, None) is None:
            return False
        # Binance sends E as a string in this event (adshao/go-binance#510).
        data = orjson.dumps({"e": "listenKeyExpired", "E": str(self.clock()), "listenKey": key}).decode()
        for sub in self.subscribers(key):
            sub.push(data)
            sub.finish()
        return True

    def expire_due(self) -> list[str]:
        now = self.clock()
        return [k for k, (_, expires) in list(self.keys.items()) if expires <= now and self.expire(k)]

    def subscribers(self, key: str) -> set[Subscriber]:
        return {sub for name, subs in self.hub.subs.items() if name.split("@", 1)[0] == key for sub in subs}

    @staticmethod
    def stream_names(key: str, events: list[str]) -> list[str]:
        return [f"{key}@{e}" for e in events] or [key]

    # ------------------------------------------------------------------ Listener

    def _publish(self, account: Account, event: str, build: Callable[[], bytes]) -> None:
        data: bytes | None = None
        for key, (owner, _) in self.keys.items():
            if owner != account.key:
                continue
            for name in (key, f"{key}@{event}"):
                if self.hub.has(name):
                    data = data or build()
                    self.hub.publish(name, data)

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Execution | None) -> None:
        spec = self.specs[order.symbol]
        if order.orig_type in CONDITIONAL:
            # the Algo Service reports a conditional order's own life (placed, cancelled, triggered,
            # finished) as ALGO_UPDATE; once triggered its market order is an ORDER_TRADE_UPDATE too
            if order.untriggered or not order.is_open or exec_type == "NEW":
                self._publish(account, "ALGO_UPDATE",
                              lambda: orjson.dumps(wire.algo_update_event(order, spec, self.clock())))
            if order.untriggered:
                return
        self._publish(
            account,
            "ORDER_TRADE_UPDATE",
            lambda: orjson.dumps(
                wire.order_update_event(self.engine, account, order, exec_type, fill, spec, self.clock())
            ),
        )

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None:
        self._publish(
            account,
            "ACCOUNT_UPDATE",
            lambda: orjson.dumps(
                wire.account_update_event(self.engine, account, reason, symbols, self.specs, self.clock())
            ),
        )
