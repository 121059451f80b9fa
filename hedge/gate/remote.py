"""``RemoteGate``: the daemon asking a remote pre-trade gate (``risk.gate_url``) after each local approval.

Owns: the client side of ``/pretrade/check`` — the request built from the approved decision (its
``max_qty`` at its price, the intent's expected return, probability and regime; the intent id is
the idempotency key, so a retry gets the same answer), the bearer token from ``HEDGE_GATE_TOKEN``,
the latency budget (``risk.gate_timeout_ms``) and the merge: the smaller ``max_qty`` of the two
(a remote reduction adds the reason ``remote_gate``); failures counted by kind.

Fails closed: a remote veto, no answer within the budget, a connection error, a non-200 status
or an answer that does not decode is a veto with reason ``remote_gate`` (observed: the elapsed
ms; limit: the budget), which the risk stage counts and journals like any veto; the kind of
failure (``FAILURE_KINDS``) is counted and shown on the daemon's ``/metrics`` (``RemoteGateCollector``).

Must never: raise into the risk stage, let an order through that the remote gate did not allow,
or log the token.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping

import aiohttp
import msgspec
from prometheus_client.core import CounterMetricFamily, Metric

from hedge.config import Config
from hedge.events import RiskDecision
from hedge.gate.app import TOKEN_ENV
from hedge.gate.schemas import CheckRequest, CheckResponse
from hedge.model.clock import Clock
from hedge.risk.reasons import Reason

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(CheckResponse).decode


# Why an answer was not had, as counted and shown on the daemon's /metrics (hedge_remote_gate_failures_total):
# no answer within the budget; nothing listening; another transport error (reset, DNS, closed mid-answer);
# HTTP 5xx; 401/403 (the token); another non-200 status; a 200 whose body is not a CheckResponse.
FAILURE_KINDS = ("timeout", "refused", "connection", "5xx", "auth", "status", "bad_body")


def status_kind(status: int) -> str:
    """The failure kind of a non-200 answer."""
    if status >= 500:
        return "5xx"
    if status in (401, 403):
        return "auth"
    return "status"


class RemoteGate:
    def __init__(self, cfg: Config, *, clock: Clock, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV)
        self.url = cfg.risk.gate_url.rstrip("/") + "/pretrade/check"
        self.budget_ms = cfg.risk.gate_timeout_ms
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self.failures: Counter[str] = Counter()  # FAILURE_KINDS, and "veto" (the remote said no)
        self.allowed = 0

    def request(self, d: RiskDecision) -> CheckRequest:
        i = d.intent
        return CheckRequest(
            idempotency_key=i.intent_id, symbol=i.symbol, side=i.side, quantity=d.max_qty, price=d.price,
            order_type="MARKET" if i.urgent else "LIMIT", reduce_only=i.reduce_only, e_pi_bps=i.e_pi_bps,
            p_tp=i.p_win, regime=i.regime, strategy=i.strategy[:64],
        )

    async def __call__(self, d: RiskDecision) -> RiskDecision:
        """``d`` (allowed) as the remote gate leaves it: allowed with the smaller ``max_qty``, or vetoed."""
        t0 = self._clock.now_ns()
        try:
            body = _encode(self.request(d))
            if self._session is None:
                self._session = aiohttp.ClientSession()
            async with asyncio.timeout(self.budget_ms / 1000.0):
                async with self._session.post(self.url, data=body, headers=self._headers) as r:
                    raw = await r.read()
                    if r.status != 200:
                        return self._veto(d, t0, status_kind(r.status), f"HTTP {r.status}")
            answer = _decode(raw)
        except TimeoutError:
            return self._veto(d, t0, "timeout", f"no answer within {self.budget_ms:g} ms")
        except aiohttp.ClientConnectorError as e:
            kind = "refused" if isinstance(e.os_error, ConnectionRefusedError) else "connection"
            return self._veto(d, t0, kind, str(e))
        except (aiohttp.ClientError, OSError) as e:
            return self._veto(d, t0, "connection", type(e).__name__)
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            return self._veto(d, t0, "bad_body", str(e))
        if not answer.allow:
            return self._veto(d, t0, "veto", ",".join(r.name for r in answer.reasons))
        self.allowed += 1
        if answer.max_qty < d.max_qty:
            return msgspec.structs.replace(
                d, max_qty=answer.max_qty, reasons=(*d.reasons, Reason.REMOTE_GATE),
                observed={**d.observed, Reason.REMOTE_GATE: d.max_qty},
                limits={**d.limits, Reason.REMOTE_GATE: answer.max_qty},
            )
        return d

    def _veto(self, d: RiskDecision, t0: int, kind: str, why: str) -> RiskDecision:
        self.failures[kind] += 1
        elapsed_ms = (self._clock.now_ns() - t0) / 1e6
        log.warning("remote gate: veto of %s %s (%s: %s)", d.intent.side.value, d.intent.symbol, kind, why)
        return msgspec.structs.replace(
            d, allow=False, max_qty=0.0, reasons=(*d.reasons, Reason.REMOTE_GATE),
            observed={**d.observed, Reason.REMOTE_GATE: elapsed_ms},
            limits={**d.limits, Reason.REMOTE_GATE: self.budget_ms},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class RemoteGateCollector:
    """The daemon's side of ``risk.gate_url``, on the daemon's own ``/metrics``."""

    def __init__(self, remote: RemoteGate) -> None:
        self.remote = remote

    def collect(self) -> Iterator[Metric]:
        r = self.remote
        c = CounterMetricFamily("hedge_remote_gate_failures", "remote gate checks that failed (a veto: fails "
                                "closed), by kind", labels=["kind"])
        for kind in FAILURE_KINDS:
            c.add_metric([kind], r.failures[kind])
        yield c
        c = CounterMetricFamily("hedge_remote_gate_answers", "remote gate checks answered, by result",
                                labels=["result"])
        c.add_metric(["allow"], r.allowed)
        c.add_metric(["veto"], r.failures["veto"])
        yield c
