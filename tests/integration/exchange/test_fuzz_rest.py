"""Fuzz of the local exchange's HTTP surface: seeded random requests through real sockets over every
route it registers (signed and unsigned, random methods, parameters, values, bodies and encodings).
The property: no answer is a 5xx, every answer (but HEAD's) is JSON, and every error is Binance's
``{"code": <negative int>, "msg": <str>}`` (issue 15, item 2)."""

from __future__ import annotations

import asyncio
import collections
import random
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from hedge.exchange.limits import UNLIMITED
from hedge.exchange.server import LocalExchange
from tests.kit.exchange import running_exchange
from tests.kit.rawhttp import Answer, RawRest

pytestmark = pytest.mark.integration

CONCURRENCY = 16
MAX_QUERY = 60_000  # hedge.exchange.server.MAX_LINE_BYTES less room for the rest of the request line
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
ACTIONS = ("ws_drop", "ws_stall", "expire_listen_key", "funding", "reset_faults", "mark")
PARAMS = (
    "symbol", "side", "type", "quantity", "price", "timeInForce", "newClientOrderId", "orderId",
    "origClientOrderId", "limit", "leverage", "countdownTime", "algoType", "triggerPrice", "workingType",
    "closePosition", "reduceOnly", "positionSide", "clientAlgoId", "algoId", "recvWindow", "timestamp",
    "listenKey", "streams", "events", "seconds", "newOrderRespType", "interval", "startTime", "endTime", "fromId",
    "pair",
)
ENUMS = {
    "side": ("BUY", "SELL", "buy", "HOLD"),
    "type": ("LIMIT", "MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TRAILING_STOP_MARKET", "limit", "X"),
    "timeInForce": ("GTC", "IOC", "FOK", "GTX", "GTD", "gtc"),
    "algoType": ("CONDITIONAL", "VP", "conditional"),
    "workingType": ("MARK_PRICE", "CONTRACT_PRICE", "LAST"),
    "closePosition": ("true", "false", "TRUE", "yes"),
    "reduceOnly": ("true", "false", "1"),
    "positionSide": ("BOTH", "LONG", "SHORT", "both"),
    "symbol": ("BTCUSDT", "BTCUSDT", "btcusdt", "ETHUSDT", "BTC"),
    "limit": ("5", "10", "20", "50", "100", "500", "1000", "7", "0", "1500", "2000"),
    "interval": ("1m", "1h", "5m", "1d", "1w", "1M", "3d", "2m", "1s", "1H"),
    "pair": ("BTCUSDT", "BTCUSDT", "ETHUSDT", "btcusdt"),
}
_ORDER = {"symbol": "", "side": "", "quantity": "", "newClientOrderId": ""}
_ALGO = {"symbol": "", "side": "", "algoType": "", "triggerPrice": "", "workingType": "", "clientAlgoId": ""}
TEMPLATES = (  # (path prefix, a request that can succeed there: name -> fixed value, or "" for a plausible one)
    ("/fapi/v1/order", {**_ORDER, "type": "LIMIT", "timeInForce": "", "price": ""}),
    ("/fapi/v1/order", {**_ORDER, "type": "MARKET"}),
    ("/fapi/v1/order", {"symbol": "", "orderId": ""}),
    ("/fapi/v1/order", {"symbol": "", "origClientOrderId": ""}),
    ("/fapi/v1/algoOrder", {**_ALGO, "type": "STOP_MARKET", "quantity": "", "reduceOnly": ""}),
    ("/fapi/v1/algoOrder", {**_ALGO, "type": "TAKE_PROFIT_MARKET", "closePosition": "true"}),
    ("/fapi/v1/algoOrder", {"symbol": "", "algoId": ""}),
    ("/fapi/v1/countdownCancelAll", {"symbol": "", "countdownTime": ""}),
    ("/fapi/v1/leverage", {"symbol": "", "leverage": ""}),
    ("/fapi/v1/depth", {"symbol": "", "limit": ""}),
    ("/fapi/v1/userTrades", {"symbol": "", "limit": ""}),
    ("/fapi/v", {"symbol": ""}),
    ("/fapi/v1/klines", {"symbol": "", "interval": "", "limit": ""}),
    ("/fapi/v1/klines", {"symbol": "", "interval": "", "startTime": "", "endTime": ""}),
    ("/fapi/v1/markPriceKlines", {"symbol": "", "interval": "", "startTime": ""}),
    ("/fapi/v1/indexPriceKlines", {"pair": "", "interval": "", "endTime": ""}),
    ("/fapi/v1/aggTrades", {"symbol": "", "fromId": "", "limit": ""}),
    ("/fapi/v1/aggTrades", {"symbol": "", "startTime": "", "endTime": ""}),
    ("/fapi/v1/trades", {"symbol": "", "limit": ""}),
    ("/fapi/v1/allOrders", {"symbol": "", "orderId": "", "limit": ""}),
    ("/fapi/v1/allOrders", {"startTime": "", "endTime": ""}),
    ("/_hedge/actions/mark", {"symbol": "", "price": ""}),
    ("/_hedge/actions/ws_stall", {"seconds": ""}),
    ("/_hedge/actions/funding", {"symbol": ""}),
)
JUNK_CHARS = string.printable + "éü€中\u0000\u200b\ud7ff\U0001f600"


@dataclass
class Tally:
    requests: int = 0
    by_route: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    codes: collections.Counter[int] = field(default_factory=collections.Counter)
    ok_routes: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)


class Fuzzer:
    """Random requests from one seeded generator; ``mid`` is the market price to draw prices around."""

    def __init__(self, seed: int, routes: list[tuple[str, str]], mid: float, key: str) -> None:
        self.rng = random.Random(seed)
        self.routes = [*routes, *[("POST", "/fapi/v1/order")] * 4, *[("POST", "/fapi/v1/algoOrder")] * 2]
        self.mid = mid
        self.key = key

    def junk(self, max_len: int = 40) -> str:
        r = self.rng
        n = r.choice((0, 1, 3, 8, 36, 37, r.randint(0, max_len)))
        return "".join(r.choice(JUNK_CHARS) for _ in range(n))

    def number(self) -> str:
        r = self.rng
        return r.choice((
            str(r.randint(0, 10)), str(r.randint(-10**6, 10**6)), str(r.randint(0, 10**25)), f"{r.random():.3f}",
            f"{r.uniform(0, 5):.{r.randint(0, 12)}f}", "1e3", "-0", "nan", "inf", "0x10", " 1", "1,5", "",
        ))

    def hostile(self) -> str:
        r = self.rng
        pick = r.random()
        if pick < 0.6:
            return self.junk()
        if pick < 0.85:
            return self.number()
        return r.choice(("x", "1", "é")) * r.choice((100, 2_000, 6_000))  # long, under aiohttp's line limit

    def plausible(self, name: str) -> str:
        """A value of the kind ``name`` takes (often valid, sometimes just off)."""
        r = self.rng
        if name in ENUMS:
            return r.choice(ENUMS[name][:2] if r.random() < 0.8 else ENUMS[name])
        if name in ("price", "triggerPrice"):
            return f"{self.mid * r.uniform(0.96, 1.04):.{r.choice((1, 1, 1, 2))}f}"
        if name == "quantity":
            return r.choice(("0.002", "0.010", "0.1", "0.02", "0.0001", "0", "5000", "0.0010"))
        if name in ("newClientOrderId", "origClientOrderId", "clientAlgoId"):
            return r.choice(("", f"fz-{r.randrange(10**9)}", f"x:y/z.w_-{r.randrange(10**9)}", "a" * 37))
        if name == "timestamp":
            return str(int(time.time() * 1000) + r.choice((0, 0, -10_000, 2_000)))
        if name in ("orderId", "algoId"):
            return str(r.randint(0, 60))
        if name in ("startTime", "endTime"):
            now = int(time.time() * 1000)
            return str(r.choice((now + r.randint(-2 * 86_400_000, 3_600_000), now - r.randint(0, 3_600_000), 0,
                                 r.randint(0, 2**63 - 1))))
        if name == "fromId":
            return str(r.choice((r.randint(0, 10**10), 0, 2**63 - 1)))
        if name in ("recvWindow", "countdownTime", "leverage", "seconds"):
            return r.choice((str(r.randint(0, 70_000)), str(r.randint(1, 125)), self.number()))
        return self.junk()

    def encode(self, text: str) -> str:
        """``text`` percent-encoded, now and then with a broken or non-UTF-8 escape."""
        r = self.rng
        out = quote(text, safe=r.choice(("", "", "/:", "+&=")))
        if r.random() < 0.005:
            out += r.choice(("%FF", "%C3", "%", "%zz", "%C3%28", "%ED%A0%80"))
        return out

    def form(self, path: str) -> list[tuple[str, str]]:
        """Parameters: a plausible request for ``path`` with one value made hostile, or a random mix."""
        r = self.rng
        templates = [t for prefix, t in TEMPLATES if path.startswith(prefix)]
        if templates and r.random() < 0.6:
            pairs = [(n, fixed or self.plausible(n)) for n, fixed in r.choice(templates).items()]
            if r.random() < 0.5:
                i = r.randrange(len(pairs))
                pairs[i] = (pairs[i][0], self.hostile())
        else:
            pairs = [(n, self.plausible(n) if r.random() < 0.7 else self.hostile())
                     for n in r.sample(PARAMS, r.randint(0, 9))]
        if r.random() < 0.1:
            pairs.append((self.junk(12), self.junk()))
        if r.random() < 0.03 and pairs:
            pairs.append(pairs[0])  # a parameter twice
        return pairs

    def path(self) -> tuple[str, str, tuple[str, str]]:
        r = self.rng
        method, template = r.choice(self.routes)
        route = (method, template)
        if r.random() < 0.1:
            method = r.choice(METHODS)
        if r.random() < 0.05:
            template = r.choice(("/fapi/v1/", "/fapi/v9/order", "/", "/_hedge/", "/fapi/v1/order/")) + self.encode(
                self.junk(20))
        path = template.replace("{action}", r.choice((*ACTIONS, self.encode(self.junk(10)))))
        path = path.replace("{name}", r.choice(("btcusdt@depth", "btcusdt@aggTrade", self.encode(self.junk(20)))))
        return method, path, route

    def request(self, rest: RawRest) -> tuple[str, str, str, bytes, dict[str, str], tuple[str, str]]:
        """(method, path, query, body, headers, the route drawn) of one random request."""
        r = self.rng
        method, path, route = self.path()
        pairs = self.form(path)
        signing = r.random() < 0.75
        if signing and r.random() < 0.95 and all(k != "timestamp" for k, _ in pairs):
            pairs.append(("timestamp", str(int(time.time() * 1000))))
        split = r.randint(0, len(pairs))
        in_body = [] if r.random() < 0.5 else pairs[split:]
        in_query = pairs if not in_body else pairs[:split]
        query = "&".join(f"{self.encode(k)}={self.encode(v)}" for k, v in in_query)
        body_text = "&".join(f"{self.encode(k)}={self.encode(v)}" for k, v in in_body)
        if len(query) > MAX_QUERY:  # past aiohttp's own line limit, where no application hook runs
            query, body_text = "", "&".join(x for x in (query, body_text) if x)
        if signing:
            query, body_text = rest.signed(query, body_text)
            if r.random() < 0.1:  # a forged or non-hex signature
                forged = r.choice(("abc", "%C3%A900", "%FF", "ZZZ"))
                if body_text:
                    body_text = body_text[:-3] + r.choice((forged, "é00"))
                else:
                    query = query[:-3] + forged
        body = body_text.encode()
        roll = r.random()
        if roll < 0.04:
            body = bytes(r.randrange(256) for _ in range(r.randint(1, 64)))  # random bytes
        elif roll < 0.07:
            body = body_text.encode(r.choice(("latin-1", "utf-16", "cp1252")), errors="replace") + "é".encode(
                "latin-1")
        elif roll < 0.09:
            body = orjson.dumps({k: v for k, v in pairs})
        headers: dict[str, str] = {}
        key_roll = r.random()
        if key_roll < 0.8:
            headers["X-MBX-APIKEY"] = self.key
        elif key_roll < 0.9:
            headers["X-MBX-APIKEY"] = "".join(r.choice(string.ascii_letters) for _ in range(r.randint(0, 80)))
        if r.random() < 0.1:
            headers["Content-Type"] = r.choice(("application/json", "text/plain", "multipart/form-data", "x/y; q=%"))
        if r.random() < 0.01:
            headers["X-Junk"] = "j" * r.randint(9_000, 40_000)  # over aiohttp's default header limit
        return method, path, query, body, headers, route


def check(answer: Answer, method: str, tally: Tally, what: str) -> None:
    tally.statuses[answer.status] += 1
    problem = ""
    if answer.status >= 500:
        problem = "5xx"
    elif method != "HEAD":
        try:
            doc = answer.json()
        except orjson.JSONDecodeError:
            doc = None
            problem = "not JSON"
        if answer.content_type != "application/json":
            problem = f"content type {answer.content_type}"
        elif answer.status >= 400:
            if not (isinstance(doc, dict) and set(doc) == {"code", "msg"} and isinstance(doc["code"], int)
                    and doc["code"] < 0 and isinstance(doc["msg"], str)):
                problem = "not a Binance error"
            else:
                tally.codes[doc["code"]] += 1
    if problem and len(tally.failures) < 20:
        tally.failures.append(f"{problem}: {what} -> {answer.status} {answer.body[:200]!r}")
    elif problem:
        tally.failures.append(problem)


async def fuzz(exchange: LocalExchange, n: int, seed: int) -> Tally:
    tally = Tally()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        rest = RawRest(session, exchange.base_url)
        depth = (await rest.call("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "5"})).json()
        mid = (float(depth["bids"][0][0]) + float(depth["asks"][0][0])) / 2
        fuzzer = Fuzzer(seed, exchange.route_table(), mid, rest.key)
        requests = (fuzzer.request(rest) for _ in range(n))  # lazily: each timestamp fresh when sent

        async def worker(reqs: Iterator[tuple[str, str, str, bytes, dict[str, str], tuple[str, str]]]) -> None:
            for method, path, query, body, headers, route in reqs:
                tally.requests += 1
                tally.by_route[route] += 1
                what = f"{method} {path}?{query[:300]} body={body[:200]!r} headers={sorted(headers)}"
                try:
                    answer = await rest.send(method, path, query, body, headers)
                except aiohttp.ClientError as exc:
                    tally.failures.append(f"no answer ({exc!r}): {what}")
                    continue
                check(answer, method, tally, what)
                if answer.status == 200:
                    tally.ok_routes[route] += 1

        await asyncio.gather(*(worker(requests) for _ in range(CONCURRENCY)))
    return tally


async def run_fuzz(n: int, seed: int) -> Tally:
    async with running_exchange(speed=1.0, limits=UNLIMITED) as ex:
        tally = await fuzz(ex, n, seed)
        routes = set(ex.route_table())
    assert tally.requests == n
    assert not tally.failures, f"{len(tally.failures)} bad answers:\n" + "\n".join(tally.failures[:20])
    # the fuzz reached every route, and reached deep enough to be worth something
    assert set(tally.by_route) == routes, routes - set(tally.by_route)
    assert tally.statuses[200] > n * 0.05, tally.statuses
    for code in (-1100, -1102, -1121, -1022, -5000):
        assert tally.codes[code] > 0, (code, tally.codes)
    return tally


async def test_fuzz_1000_requests_no_5xx_every_error_binance_json() -> None:
    await run_fuzz(1_000, seed=15)


@pytest.mark.slow
async def test_fuzz_10000_requests_no_5xx_every_error_binance_json() -> None:
    t0 = time.perf_counter()
    tally = await run_fuzz(10_000, seed=2)
    assert tally.ok_routes[("POST", "/fapi/v1/order")] > 0 and tally.ok_routes[("POST", "/fapi/v1/algoOrder")] > 0
    print(orjson.dumps({"requests": tally.requests, "seconds": round(time.perf_counter() - t0, 1),
                        "statuses": dict(tally.statuses), "codes": dict(tally.codes.most_common(12)),
                        "ok": {f"{m} {p}": c for (m, p), c in tally.ok_routes.items() if "fapi" in p}},
                       option=orjson.OPT_NON_STR_KEYS).decode())
