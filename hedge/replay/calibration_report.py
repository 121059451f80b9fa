"""The trades a replay made, scored: predicted p(TP first) vs outcome, and the net expectancy per trade.

Owns: ``CalibrationReport`` — a passive bus subscriber that follows each position from the fill
that opens it (from flat) to the fill that closes it, with the ``p_win`` of the intent that opened
it and the reason of the order that closed it (a trade is a win, as the calibrator labels it,
when its take-profit closed it) — and ``TradeCalibration``, what the replay summary reports:
the reliability table of those trades (``hedge.signals.reliability``) and the net result per
trade (realized PnL minus fees, in USDT and in bps of the entry notional) with a 95% Student-t
confidence interval of its mean.

Must never: publish, or take part in a decision (it only listens).
"""

from __future__ import annotations

import math

import msgspec

from hedge.bus import Bus
from hedge.events import Fill, OrderIntent, OrderRequest
from hedge.signals.reliability import Reliability, score

_EPS = 1e-12
# two-sided 95% Student-t quantiles for 1..30 degrees of freedom; beyond: the normal 1.96
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


class MeanCI(msgspec.Struct, frozen=True, kw_only=True):
    mean: float
    low: float  # 95% confidence interval of the mean (equal to it with fewer than 2 values)
    high: float


def mean_ci(values: list[float]) -> MeanCI:
    """Mean with a 95% Student-t interval (``mean +- t * sd / sqrt(n)``)."""
    n = len(values)
    if not n:
        return MeanCI(mean=0.0, low=0.0, high=0.0)
    m = math.fsum(values) / n
    if n < 2:
        return MeanCI(mean=m, low=m, high=m)
    sd = math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))
    half = (_T975[n - 2] if n - 1 <= len(_T975) else 1.96) * sd / math.sqrt(n)
    return MeanCI(mean=m, low=m - half, high=m + half)


class TradeCalibration(msgspec.Struct, frozen=True, kw_only=True):
    trades: int  # closed round trips opened by a strategy's intent
    wins: int  # closed by their take-profit
    reliability: Reliability
    net_usdt: MeanCI  # per trade, fees included
    net_bps: MeanCI  # per trade, of the entry notional


class _Open(msgspec.Struct, kw_only=True):
    qty: float
    p: float
    notional: float
    net: float = 0.0


class CalibrationReport:
    def __init__(self, bus: Bus) -> None:
        self._intents: dict[str, tuple[float, str, bool]] = {}  # intent id -> p_win, reason, reduce_only
        self._orders: dict[str, str] = {}  # client order id -> intent id
        self._open: dict[str, _Open] = {}
        self._p: list[float] = []
        self._y: list[float] = []
        self._net: list[float] = []
        self._bps: list[float] = []
        bus.subscribe(OrderIntent, self.on_intent)
        bus.subscribe(OrderRequest, self.on_request)
        bus.subscribe(Fill, self.on_fill)

    def on_intent(self, i: OrderIntent) -> None:
        self._intents[i.intent_id] = (i.p_win, i.reason, i.reduce_only)

    def on_request(self, r: OrderRequest) -> None:
        self._orders[r.client_order_id] = r.intent_id

    def on_fill(self, f: Fill) -> None:
        p, reason, reduce_only = self._intents.get(self._orders.get(f.client_order_id, ""), (0.0, "", True))
        signed = f.qty * f.side.sign
        pos = self._open.get(f.symbol)
        if pos is None:
            if not reduce_only and p > 0.0:
                self._open[f.symbol] = _Open(qty=signed, p=p, notional=f.qty * f.price, net=-f.fee)
            return
        pos.net += f.realized_pnl - f.fee
        if pos.qty * signed > 0.0:
            pos.notional += f.qty * f.price
        pos.qty += signed
        if abs(pos.qty) <= _EPS or pos.qty * (pos.qty - signed) < 0.0:  # flat (or through zero: closed)
            del self._open[f.symbol]
            self._p.append(pos.p)
            self._y.append(1.0 if reason == "take_profit" else 0.0)
            self._net.append(pos.net)
            self._bps.append(pos.net / pos.notional * 1e4 if pos.notional > 0.0 else 0.0)

    def result(self) -> TradeCalibration:
        return TradeCalibration(
            trades=len(self._p),
            wins=int(sum(self._y)),
            reliability=score(self._p, self._y),
            net_usdt=mean_ci(self._net),
            net_bps=mean_ci(self._bps),
        )
