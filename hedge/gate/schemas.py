"""The gate's wire types: what a runner sends to ``/pretrade/check`` and ``/posttrade/log`` and what it gets back.

Owns: the request and answer ``msgspec`` Structs with their validation constraints (a body that
breaks one is a 422 naming the field path), and the OpenAPI document generated from them
(``openapi``: ``msgspec.json.schema_components``).

Must never: hold logic beyond validation (the decision is ``hedge.risk.check_order``'s).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from hedge.events import Side, TradingState, VolRegime

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")]
PosFinite = Annotated[float, msgspec.Meta(gt=0.0, lt=1e15)]
NonNegFinite = Annotated[float, msgspec.Meta(ge=0.0, lt=1e15)]
AnyFinite = Annotated[float, msgspec.Meta(gt=-1e15, lt=1e15)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
StrategyName = Annotated[str, msgspec.Meta(max_length=64)]


class CheckRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One order a runner is about to send, with its own view of the market (``bid``/``ask`` 0 = ``price``)."""

    idempotency_key: Key
    symbol: Symbol
    side: Side
    quantity: PosFinite
    price: PosFinite
    order_type: Literal["LIMIT", "MARKET"] = "LIMIT"
    reduce_only: bool = False
    latency_ms: NonNegFinite = 0.0  # the runner's feed lag (local receive - exchange time)
    slippage_est_bps: NonNegFinite = 0.0
    p_tp: Probability = 0.0  # probability that the take-profit comes first
    e_pi_bps: AnyFinite = 0.0  # expected return of the trade after costs
    regime: VolRegime = VolRegime.NORMAL
    sprt_llr: AnyFinite = 0.0
    bid: NonNegFinite = 0.0
    ask: NonNegFinite = 0.0
    strategy: StrategyName = "external"  # the post-trade evidence it is judged on is this strategy's


class ReasonOut(msgspec.Struct, frozen=True, kw_only=True):
    """A gate that fired: its name, the value it saw and its limit (``None`` where the risk journal has none)."""

    name: str
    observed: float | None = None
    limit: float | None = None


class CheckResponse(msgspec.Struct, frozen=True, kw_only=True):
    decision_id: str
    idempotency_key: str
    allow: bool
    max_qty: float
    price: float
    reasons: list[ReasonOut]
    cooloff_s: float
    state: TradingState


class FillIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    qty: PosFinite
    price: PosFinite
    fee: AnyFinite = 0.0
    realized_pnl: AnyFinite = 0.0
    maker: bool = False
    trade_id: Annotated[int, msgspec.Meta(ge=0)] = 0


class PostTradeLog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What became of one order: ``filled`` (with its fills), ``failed`` (the venue refused) or ``denied``."""

    order_id: Key
    symbol: Symbol
    side: Side
    status: Literal["filled", "failed", "denied"]
    decision_id: Annotated[str, msgspec.Meta(max_length=128)] = ""
    fills: Annotated[list[FillIn], msgspec.Meta(max_length=1000)] = []
    realized_pnl: AnyFinite = 0.0  # the round trip's realised PnL when it closed (0 = still open)
    outcome: Literal["win", "loss", "open"] = "open"
    reason: Annotated[str, msgspec.Meta(max_length=512)] = ""
    strategy: StrategyName = "external"  # whose evidence the outcome counts in (as in its ``CheckRequest``)


class PostTradeAck(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    fills: int
    cooloff_s: float
    state: TradingState
    edge: EdgeOut | None = None  # the strategy x symbol's evidence after this report (None: no record)


class EdgeReset(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator's fresh start for one strategy x symbol's post-trade evidence."""

    symbol: Symbol
    strategy: StrategyName = "external"


class EdgeOut(msgspec.Struct, frozen=True, kw_only=True):
    """One strategy x symbol's post-trade evidence: ``vetoing`` when ``check_order`` vetoes its new exposure."""

    symbol: str
    strategy: str
    trips: int = 0
    wins: int = 0
    losses: int = 0
    expectancy: float = 0.0
    expectancy_hi: float | None = None  # upper end of the 95% CI; None below ``scores.min_trades`` trips
    sprt_llr: float = 0.0
    sprt_off: bool = False
    vetoing: bool = False


class HealthOut(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    state: TradingState
    nav: float
    nav_age_s: float | None
    reconciled: bool


class ErrorOut(msgspec.Struct, frozen=True, kw_only=True):
    error: str
    path: str = ""


_ROUTES: tuple[tuple[str, str, type | None, type, str], ...] = (
    ("/pretrade/check", "post", CheckRequest, CheckResponse, "Ask the gate before sending an order"),
    ("/posttrade/log", "post", PostTradeLog, PostTradeAck, "Report what became of an order"),
    ("/posttrade/reset", "post", EdgeReset, EdgeOut, "Forget a strategy x symbol's post-trade evidence"),
    ("/health", "get", None, HealthOut, "Liveness and the trading state"),
)


def openapi(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the gate, its schemas generated from the Structs above."""
    types = [t for _p, _m, req, resp, _s in _ROUTES for t in (req, resp) if t is not None] + [ErrorOut]
    (refs, components) = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    by_type = dict(zip(types, refs, strict=True))
    err = {"description": "invalid body", "content": {"application/json": {"schema": by_type[ErrorOut]}}}
    paths: dict[str, Any] = {}
    for path, method, req, resp, summary in _ROUTES:
        op: dict[str, Any] = {
            "summary": summary,
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": by_type[resp]}}}},
        }
        if req is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": by_type[req]}}}
            op["responses"]["422"] = err
        paths[path] = {method: op}
    paths["/metrics"] = {"get": {"summary": "Prometheus metrics",
                                 "responses": {"200": {"description": "text exposition format"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "hedge pre-trade gate", "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
