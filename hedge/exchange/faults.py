"""Fault injection of the local exchange: what to break, how often, set at start or at run time.

Owns: the fault plan. Event faults fire for the next ``count`` occurrences and then with
probability ``prob`` (seeded, so a run is reproducible); value faults hold a number:

  order_503      commit the order, then answer 503 "Unknown error" (status unknown to the client)
  order_1007     commit the order, then answer 408 with -1007 (timeout, status unknown)
  order_drop     commit the order, then close the connection without an answer
  rest_drop      close the connection of a REST request without handling it (it never reached the
                 exchange: nothing executed, nothing logged)
  rest_429       answer 429 (-1003) with Retry-After;  rest_418: ban the IP (``value`` ms, default
                 120 s) and answer 418 with Retry-After
  depth_gap      skip one depth event (the next one's ``pu`` no longer matches)
  depth_dup      send one depth event twice
  rest_delay_ms  handle every REST request this much after receiving it (recvWindow checked then);
                 clock_skew_ms: offset of the server clock
  ws_drop_every_s  close every market websocket this often (0 = never)

CLI spec: ``order_503=0.05,depth_gap=0.001,rest_delay_ms=200,seed=7`` (event faults take a
probability, value faults a number). Control API: ``POST /_hedge/faults`` with
``{"order_503": {"count": 1}}`` / ``{"rest_delay_ms": {"value": 200}}``. A REST fault may be aimed
at one endpoint with ``path``: ``{"rest_drop": {"count": 1, "path": "POST /fapi/v1/order"}}``
(``"/fapi/v1/order"`` matches every method); other requests neither fire nor use it up.

Must never: fire a fault that was not asked for.
"""

from __future__ import annotations

import random

import msgspec

EVENT_FAULTS = ("order_503", "order_1007", "order_drop", "rest_drop", "rest_429", "rest_418", "depth_gap", "depth_dup")
VALUE_FAULTS = ("rest_delay_ms", "clock_skew_ms", "ws_drop_every_s")


class FaultSetting(msgspec.Struct, kw_only=True):
    count: int = 0
    prob: float = 0.0
    value: float = 0.0
    path: str = ""  # REST faults: only requests to this "METHOD /path" or "/path" ("" = any)


class FaultSpecError(ValueError):
    pass


class Faults:
    def __init__(self, spec: str = "", seed: int = 0) -> None:
        self.settings: dict[str, FaultSetting] = {k: FaultSetting() for k in (*EVENT_FAULTS, *VALUE_FAULTS)}
        self.fired: dict[str, int] = dict.fromkeys(EVENT_FAULTS, 0)
        self._rng = random.Random(seed)
        if spec:
            self.apply_spec(spec)

    def apply_spec(self, spec: str) -> None:
        for item in filter(None, (x.strip() for x in spec.split(","))):
            name, sep, raw = item.partition("=")
            if not sep:
                raise FaultSpecError(f"fault {item!r}: expected name=value")
            try:
                value = float(raw)
            except ValueError:
                raise FaultSpecError(f"fault {name!r}: {raw!r} is not a number")
            if name == "seed":
                self._rng.seed(int(value))
            elif name in EVENT_FAULTS:
                if not 0.0 <= value <= 1.0:
                    raise FaultSpecError(f"fault {name!r}: probability {value} not in [0, 1]")
                self.settings[name].prob = value
            elif name in VALUE_FAULTS:
                self.settings[name].value = value
            else:
                raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join((*EVENT_FAULTS, *VALUE_FAULTS))}")

    def set(self, name: str, setting: FaultSetting) -> None:
        if name not in self.settings:
            raise FaultSpecError(f"unknown fault {name!r}")
        self.settings[name] = setting

    def fire(self, name: str, request: str = "") -> bool:
        """Whether fault ``name`` fires now (``request``: "METHOD /path" of a REST request, for ``path``)."""
        s = self.settings[name]
        if s.path and s.path not in (request, request.partition(" ")[2]):
            return False
        hit = False
        if s.count > 0:
            s.count -= 1
            hit = True
        elif s.prob > 0.0 and self._rng.random() < s.prob:
            hit = True
        if hit:
            self.fired[name] += 1
        return hit

    def value(self, name: str) -> float:
        return self.settings[name].value

    def clear(self) -> None:
        for k in self.settings:
            self.settings[k] = FaultSetting()
