"""The doctor's checks of the venue, the key and the account (read-only but for a listen key).

Owns: the key's permissions (``/sapi/v1/account/apiRestrictions``: futures trading on, withdrawals
off), the clock skew against the venue's time (WARN from ``SKEW_WARN_MS``, FAIL beyond half of
``recvWindow``), the universe in ``exchangeInfo`` (listed, TRADING, with the filters the router
needs), the account's one-way position mode, margin type and leverage (cross, and leverage enough
for ``risk.gross_exposure_max``), listen-key creation and the request-weight headroom.

Must never: place or cancel an order, change a setting on the account, or delete a listen key.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from hedge.config import Config
from hedge.doctor.client import DoctorClient, VenueAnswer
from hedge.doctor.result import Check, passed

SKEW_WARN_MS = 500
NEEDED_FILTERS = ("PRICE_FILTER", "LOT_SIZE", "MIN_NOTIONAL")
WEIGHT_LIMIT_DEFAULT = 2400


class VenueDoctor:
    """The venue checks on one client: ``rest`` is the futures host, ``spot`` the spot API host
    (``""``: the venue has none, as the testnet)."""

    def __init__(self, cfg: Config, client: DoctorClient, rest: str, spot: str) -> None:
        self.cfg = cfg
        self.client = client
        self.rest = rest
        self.spot = spot
        self.weight_limit = WEIGHT_LIMIT_DEFAULT

    async def run(self) -> list[Check]:
        steps: list[tuple[str, Callable[[], Awaitable[Check]]]] = [
            ("clock skew", self.clock_skew), ("key permissions", self.key_permissions),
            ("symbols", self.symbols), ("position mode", self.position_mode),
            ("margin/leverage", self.margin_leverage), ("listen key", self.listen_key),
            ("rate limits", self.rate_limits),
        ]
        out = []
        for name, step in steps:
            try:
                out.append(await step())
            except VenueAnswer as e:
                out.append(Check(name, "FAIL", f"the venue answered {e}", _hint(e)))
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                out.append(Check(name, "FAIL", f"no answer from the venue ({type(e).__name__}: {e})"[:200],
                                 "check the network and the venue's URL (runtime.feeds)"))
        return out

    async def clock_skew(self) -> Check:
        offset = await self.client.measure_offset(self.rest)
        fail_ms = self.cfg.runtime.http.recv_window_ms / 2
        detail = f"local clock {-offset:+d} ms from the venue's (recvWindow {self.cfg.runtime.http.recv_window_ms} ms)"
        if abs(offset) > fail_ms:
            return Check("clock skew", "FAIL", detail,
                         f"beyond half of recvWindow ({fail_ms:g} ms): sync the clock (chrony/NTP)")
        if abs(offset) >= SKEW_WARN_MS:
            return Check("clock skew", "WARN", detail, f"over {SKEW_WARN_MS} ms: sync the clock (chrony/NTP)")
        return passed("clock skew", detail)

    async def key_permissions(self) -> Check:
        if not self.spot:
            return Check("key permissions", "WARN", "the venue has no spot API host to ask (testnet)",
                         "check the key's permissions on the exchange's web page")
        r = await self.client.request("GET", self.spot, "/sapi/v1/account/apiRestrictions", signed=True)
        problems = []
        if not r.get("enableFutures"):
            problems.append("futures trading is disabled")
        if r.get("enableWithdrawals"):
            problems.append("withdrawals are ENABLED")
        if problems:
            return Check("key permissions", "FAIL", "; ".join(problems),
                         "edit the API key: enable futures, disable withdrawals (and restrict it to this IP)")
        ip = "IP-restricted" if r.get("ipRestrict") else "not IP-restricted"
        return passed("key permissions", f"futures trading enabled, withdrawals disabled, {ip}")

    async def symbols(self) -> Check:
        info = await self.client.request("GET", self.rest, "/fapi/v1/exchangeInfo")
        for lim in info.get("rateLimits", []):
            if lim.get("rateLimitType") == "REQUEST_WEIGHT" and lim.get("interval") == "MINUTE":
                self.weight_limit = int(lim["limit"]) // max(1, int(lim.get("intervalNum", 1)))
        listed = {s["symbol"]: s for s in info.get("symbols", [])}
        problems = []
        for sym in self.cfg.strategy.universe:
            s = listed.get(sym)
            if s is None:
                problems.append(f"{sym} not listed")
                continue
            if s.get("status") != "TRADING":
                problems.append(f"{sym} {s.get('status')}")
            missing = [f for f in NEEDED_FILTERS if f not in {x.get("filterType") for x in s.get("filters", [])}]
            if missing:
                problems.append(f"{sym} lacks {', '.join(missing)}")
        universe = ", ".join(self.cfg.strategy.universe)
        if problems:
            return Check("symbols", "FAIL", "; ".join(problems), f"fix strategy.universe ({universe}) for this venue")
        return passed("symbols", f"{universe}: TRADING, filters present")

    async def position_mode(self) -> Check:
        r = await self.client.request("GET", self.rest, "/fapi/v1/positionSide/dual", signed=True)
        if r.get("dualSidePosition"):
            return Check("position mode", "FAIL", "hedge mode (dual-side positions)",
                         "switch the account to one-way mode (Preferences > Position Mode)")
        return passed("position mode", "one-way")

    async def margin_leverage(self) -> Check:
        rows = await self.client.request("GET", self.rest, "/fapi/v2/positionRisk", signed=True)
        by_symbol: dict[str, Any] = {r["symbol"]: r for r in rows}
        need = math.ceil(self.cfg.risk.gross_exposure_max)
        problems, seen = [], []
        for sym in self.cfg.strategy.universe:
            r = by_symbol.get(sym)
            if r is None:
                continue  # an unlisted symbol is the symbols check's failure
            margin, lev = str(r.get("marginType", "")).lower(), int(float(r.get("leverage", 0)))
            seen.append(f"{sym} {margin} {lev}x")
            if margin != "cross":
                problems.append(f"{sym} margin type {margin} (expected cross)")
            if lev < need:
                problems.append(f"{sym} leverage {lev}x < {need}x (risk.gross_exposure_max)")
        if problems:
            return Check("margin/leverage", "FAIL", "; ".join(problems),
                         "set cross margin and the leverage on the exchange for each symbol")
        return passed("margin/leverage", ", ".join(seen) or "no symbol to check")

    async def listen_key(self) -> Check:
        r = await self.client.request("POST", self.rest, "/fapi/v1/listenKey", keyed=True)
        if not r.get("listenKey"):
            return Check("listen key", "FAIL", f"no listenKey in the answer: {str(r)[:100]}",
                         "check the key's permissions")
        return passed("listen key", "created (kept: it is the account's one user stream)")

    async def rate_limits(self) -> Check:
        used, limit = self.client.used_weight, self.weight_limit
        budget = self.cfg.runtime.http.weight_budget
        detail = f"request weight used {used} of {limit}/min (budget {budget:.0%})"
        if used >= budget * limit:
            return Check("rate limits", "WARN", detail,
                         "another process on this IP is using the weight: the daemon will be throttled")
        return passed("rate limits", detail)


def _hint(e: VenueAnswer) -> str:
    if e.code in (-2014, -2015, -2008):
        return "the API key is invalid or lacks the permission: check BINANCE_API_KEY / BINANCE_API_SECRET"
    if e.code == -1021:
        return "timestamp outside recvWindow: sync the clock"
    if e.status in (418, 429):
        return "the IP is rate-limited or banned: wait for Retry-After"
    return "see the venue's answer"
