"""The gate over real HTTP on 127.0.0.1: its answer is ``check_order``'s decision for random orders and
contexts and post-trade evidence; a repeated idempotency key answers the same decision; no request body gets a 5xx."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedge.events import OrderIntent, Side, TradingState, VolRegime
from hedge.gate.outcomes import Outcomes
from hedge.risk.check import check_order
from hedge.risk.context import BookRisk, PositionRisk
from hedge.risk.limits import RiskLimits
from tests.integration.gate.harness import Client, GateThread
from tests.unit.risk.helpers import NOW_MS, SYMBOLS, ctx, risk_config

CFG = risk_config()
LIMITS = RiskLimits.from_config(CFG)
_keys = itertools.count()


@pytest.fixture(scope="module")
def gate() -> Iterator[GateThread]:
    with GateThread(CFG, max_body=4096) as g:
        yield g


@pytest.fixture(scope="module")
def client(gate: GateThread) -> Iterator[Client]:
    c = Client(gate.port)
    yield c
    c.close()


finite = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)
requests = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from([*SYMBOLS, "XYZUSDT"]),
        "side": st.sampled_from(["BUY", "SELL"]),
        "quantity": st.floats(min_value=1e-4, max_value=1e3),
        "price": st.floats(min_value=0.5, max_value=2e5),
        "e_pi_bps": st.floats(min_value=-5, max_value=50),
    },
    optional={
        "order_type": st.sampled_from(["LIMIT", "MARKET"]),
        "reduce_only": st.booleans(),
        "latency_ms": st.floats(min_value=0, max_value=1000),
        "slippage_est_bps": st.floats(min_value=0, max_value=100),
        "p_tp": st.floats(min_value=0, max_value=1),
        "regime": st.sampled_from([r.value for r in VolRegime]),
        "sprt_llr": st.floats(min_value=-10, max_value=10),
        "spread_bps": st.floats(min_value=0, max_value=20),
    },
)
contexts = st.fixed_dictionaries(
    {
        "state": st.sampled_from([TradingState.ACTIVE] * 4 + list(TradingState)),
        "open_orders": st.integers(0, 25),
        "cooloff_until_ms": st.sampled_from([0, NOW_MS + 60_000]),
        "positions": st.dictionaries(
            st.sampled_from(list(SYMBOLS)),
            st.builds(PositionRisk, qty=st.floats(-50, 50), mark=st.floats(1, 1e4),
                      open_buy=st.floats(0, 10), open_sell=st.floats(0, 10)),
            max_size=4,
        ),
    }
)


def _body(req: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in req.items() if k != "spread_bps"}
    spread = req.get("spread_bps")
    if spread is not None:  # the runner's touch around its price
        half = req["price"] * spread * 1e-4 / 2
        body["bid"], body["ask"] = req["price"] - half, req["price"] + half
    return {"idempotency_key": f"k-{next(_keys)}", **body}


pnl_sequences = st.lists(st.sampled_from([-3.0, -1.0, -1.0, -0.5, -0.5, 0.5, 4.0]), max_size=30)  # both verdicts occur


def _report(client: Client, symbol: str, strategy: str, pnls: list[float]) -> Any:
    """An operator's reset, then ``pnls`` as closed round trips of ``strategy`` on ``symbol``; the evidence
    an independent ``Outcomes`` holds for the same sequence."""
    status, _ = client.request("POST", "/posttrade/reset", {"symbol": symbol, "strategy": strategy})
    assert status == 200
    mine = Outcomes(CFG)
    for i, p in enumerate(pnls):
        outcome = "win" if p > 0 else "loss"
        status, ack = client.request("POST", "/posttrade/log", {
            "order_id": f"o-{i}", "symbol": symbol, "side": "SELL", "status": "filled", "realized_pnl": p,
            "outcome": outcome, "strategy": strategy})
        assert status == 200, ack
        mine.record(symbol, strategy, outcome, p)
    return mine.edge(symbol, strategy)


def _expected(body: dict[str, Any], context: Any) -> Any:
    px = body["price"]
    bid, ask = body.get("bid", px), body.get("ask", px)
    intent = OrderIntent(
        intent_id=body["idempotency_key"], symbol=body["symbol"], side=Side(body["side"]),
        notional=body["quantity"] * px, strategy=body.get("strategy", "external"), reason="gate",
        reduce_only=body.get("reduce_only", False), limit_px=px, e_pi_bps=body.get("e_pi_bps", 0.0),
    )
    book = BookRisk(valid=True, bid=bid, ask=ask, spread_bps=(ask - bid) / ((ask + bid) / 2) * 1e4,
                    lag_ms=body.get("latency_ms", 0.0))
    return check_order(intent, msgspec.structs.replace(context, book=book), LIMITS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=requests, c=contexts, strategy=st.sampled_from(["external", "momo"]), pnls=pnl_sequences)
def test_http_answer_is_check_orders_decision(gate: GateThread, client: Client, req: dict[str, Any],
                                               c: dict[str, Any], strategy: str, pnls: list[float]) -> None:
    """... with the post-trade evidence a random sequence of reported outcomes left on the strategy x symbol."""
    gate.context = ctx(**c)
    edge = _report(client, req["symbol"], strategy, pnls)
    body = {**_body(req), "strategy": strategy}
    status, got = client.request("POST", "/pretrade/check", body)
    assert status == 200, got
    want = _expected(body, msgspec.structs.replace(gate.context, edge=edge))
    assert got["allow"] == want.allow
    assert got["max_qty"] == pytest.approx(want.max_qty, rel=1e-12, abs=1e-12)
    assert [r["name"] for r in got["reasons"]] == list(want.reasons)
    for r in got["reasons"]:
        assert r["observed"] == want.observed.get(r["name"])
        assert r["limit"] == want.limits.get(r["name"])
    assert got["cooloff_s"] == want.cooloff_s
    assert got["state"] == want.state.value
    assert got["idempotency_key"] == body["idempotency_key"]


def test_a_repeated_key_answers_the_same_decision(gate: GateThread, client: Client) -> None:
    gate.context = ctx()
    body = {"idempotency_key": "same-key", "symbol": "BTCUSDT", "side": "BUY", "quantity": 0.5, "price": 100.0,
            "e_pi_bps": 5.0}
    status, first = client.request("POST", "/pretrade/check", body)
    assert status == 200 and first["allow"] is True
    gate.context = ctx(state=TradingState.HALTED)  # the world changed; the key's decision did not
    status, again = client.request("POST", "/pretrade/check", body)
    assert status == 200 and again == first
    status, fresh = client.request("POST", "/pretrade/check", {**body, "idempotency_key": "other-key"})
    assert fresh["allow"] is False and fresh["reasons"][0]["name"] == "halted"
    assert fresh["decision_id"] != first["decision_id"]


def test_a_bad_field_is_a_422_naming_its_path(client: Client) -> None:
    body = {"idempotency_key": "k", "symbol": "BTCUSDT", "side": "BUY", "quantity": -1, "price": 100.0}
    status, got = client.request("POST", "/pretrade/check", body)
    assert status == 422 and got["path"] == "$.quantity"
    status, got = client.request("POST", "/posttrade/log", {"order_id": "o", "symbol": "BTCUSDT", "side": "BUY",
                                                           "status": "filled", "fills": [{"qty": 1, "price": "x"}]})
    assert status == 422 and got["path"] == "$.fills[0].price"
    status, got = client.request("POST", "/pretrade/check", b"{not json")
    assert status == 422


def test_oversized_unknown_and_wrong_method_are_4xx(client: Client) -> None:
    assert client.request("POST", "/pretrade/check", b"{" + b" " * 10_000 + b"}")[0] == 413
    assert client.request("GET", "/nowhere")[0] == 404
    assert client.request("GET", "/pretrade/check")[0] == 405


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
valid = {"idempotency_key": "f", "symbol": "BTCUSDT", "side": "BUY", "quantity": 1.0, "price": 100.0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/pretrade/check", "/posttrade/log", "/posttrade/reset"]),
    body=st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: msgspec.json.encode(v)),
        st.tuples(st.sampled_from([*valid, "fills", "status", "extra"]), json_values).map(
            lambda kv: msgspec.json.encode({**valid, "idempotency_key": f"f{next(_keys)}", kv[0]: kv[1]})),
    ),
)
def test_fuzzed_bodies_never_get_a_5xx(client: Client, path: str, body: bytes) -> None:
    status, got = client.request("POST", path, body)
    assert status < 500, got
    assert status in (200, 413, 422)


def test_health_metrics_and_openapi(gate: GateThread, client: Client) -> None:
    gate.context = ctx()
    status, h = client.request("GET", "/health")
    assert status == 200 and h["ok"] is True and h["state"] == "ACTIVE"
    gate.context = ctx(reconciled=False)
    assert client.request("GET", "/health")[0] == 503
    status, text = client.request("GET", "/metrics")
    assert status == 200 and b"hedge_gate_checks_total" in text
    status, doc = client.request("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    req = doc["components"]["schemas"]["CheckRequest"]
    assert {"idempotency_key", "symbol", "side", "quantity", "price"} <= set(req["required"])
    assert set(doc["paths"]) >= {"/pretrade/check", "/posttrade/log", "/posttrade/reset", "/health", "/metrics"}
