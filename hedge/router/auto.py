"""The auto router's choice per slice: rest at the touch first, or cross at once, by expected cost.

Owns: ``AutoRouter`` — the features of a maker attempt (from ``MarketStats`` and the book), its
predicted fill probability (``fillprob``, with the model ``hedge calibrate-fills`` fitted from
recordings: ``router.auto.model``), the cost comparison, and the data it updates from: each
finished maker attempt (``attempt_done``) and the maker fills' 5 s markouts from the TCA records
(``observe``). Every ``refit_every`` attempts the model's intercept is re-estimated over the newest
``max_samples`` (the fitted slopes stay); the order of events fixes the result, so a replay is
deterministic.

The comparison, in bps of the arrival mid (``h`` = half the spread, ``T`` = maker timeout), for
the maker leg the router actually runs (pegged to the touch, repriced, then the capped IOC), with
``P`` its chance to fill as maker within ``T`` (the model is fitted on labels of that pegged order):
    taker        = slippage.expected_bps (h + the bucket's slippage) + taker fee
    maker fill   = maker fee + fill price (model.fill_bps: where the pegged order filled vs the start
                   mid, the chase included) + adverse selection (the maker fills' 5 s markouts)
    fallback     = taker + drift x T + alpha_weight * alpha * (1 - exp(-T / alpha_horizon_s))
    drift        = how much worse than h the fallback crosses, per second waited: the fit's
                   ``(fallback_bps - h) / horizon_s`` as ``drift_prior_n`` observations, then each taker
                   fallback's slippage vs arrival - h over its wait (a ratio of sums)
    maker first  = P(T) * maker fill + (1 - P(T)) * fallback
for each ``T`` in ``horizons`` x ``router.maker_timeout_s``: it takes the ``T`` of least cost and
rests for that long when ``maker first + margin_bps < taker`` (the executor's maker timeout for the
slice is ``Choice.features.horizon_s``). On 0718 a pegged order fills 9.9% within 5 s and 35.5%
within 20 s (the constant hazard said 34%), and the fallback's drift grew 0.05 -> 0.26 bps.
The slippage budget caps both legs either way
(``execution.next_order``). The intent's ``e_pi_bps`` is weighted 0 by default: read as alpha
decaying over 30 s it said a 5 s wait costs 2.6-3.7 bps, where maker_first's fallbacks on 0718 paid
0.21 bps more than crossing at once (docs/tca.md).

Must never: send, cancel or time anything (the executor does); read the wall clock.
"""

from __future__ import annotations

import math
from collections import deque

import msgspec

from hedge.config import AutoRouterConfig
from hedge.events import BookUpdate, OrderIntent, Side
from hedge.router.fillprob import (
    FillFeatures,
    FillSample,
    at_exponent,
    fill_probability0,
    horizon_exponent,
    shift_intercept,
)
from hedge.router.market_stats import MarketStats
from hedge.router.slippage import SlippageModel
from hedge.router.tca import IntentTca

_BUY = Side.BUY  # a global read, not an Enum class attribute lookup (~70 ns): ``features`` runs in every auto slice


class Choice(msgspec.Struct, frozen=True, kw_only=True):
    """One slice's decision, as the TCA record keeps it."""

    rest: bool
    p_fill: float
    maker_bps: float  # expected cost of maker first
    taker_bps: float  # expected cost of crossing now
    features: FillFeatures


class AutoRouter:
    """Maker first or taker, per slice (see the module docstring)."""

    def __init__(self, cfg: AutoRouterConfig, slippage: SlippageModel, stats: MarketStats) -> None:
        self.cfg = cfg
        self.slippage = slippage
        self.stats = stats
        self.intercept = cfg.model.b0  # the online update's (starts at the fit's)
        self.samples: deque[FillSample] = deque(maxlen=cfg.max_samples)
        self._new = 0
        self.adverse_bps = cfg.adverse_bps
        self._markout_qty = 0.0
        self._markout_sum = 0.0
        self._drift_s = 0.0  # the taker fallbacks observed: their waits (s) and drift (slippage vs arrival - h)
        self._drift_sum = 0.0
        self._horizon_key: tuple[AutoRouterConfig, float] | None = None  # the config held: its id is never reused
        self._horizon_cache: list[tuple[float, float, float]] = []

    def drift_bps_s(self) -> float:
        """The expected extra cost of crossing after the wait instead of now, per second waited (bps/s, >= 0)."""
        c = self.cfg
        m = c.model
        wait = c.drift_prior_n * m.horizon_s + self._drift_s
        return max(0.0, (c.drift_prior_n * (m.fallback_bps - m.half_spread_bps) + self._drift_sum) / wait) \
            if wait > 0 else 0.0

    def features(self, t: float, intent: OrderIntent, qty: float, book: BookUpdate, tick: float,
                 horizon_s: float) -> FillFeatures:
        buy = intent.side is _BUY
        mid = book.mid
        return FillFeatures(
            queue_ahead=book.bid_qty if buy else book.ask_qty, own_qty=qty,
            flow_qty_s=self.stats.flow(t, intent.symbol, intent.side),
            vol_bps_s=self.stats.vol_bps_s(t, intent.symbol),
            tick_bps=tick / mid * 1e4 if mid > 0 else 0.0,
            spread_ticks=round((book.ask_px - book.bid_px) / tick) if tick > 0 else 1.0,
            horizon_s=horizon_s,
        )

    def choose(self, t: float, intent: OrderIntent, qty: float, book: BookUpdate, tick: float,
               horizon_s: float) -> Choice:
        """The cheapest plan for a slice: rest for one of the horizons (``horizon_s`` x ``horizons``) or cross.

        Cost: the features and P(T0) do not depend on the horizon, so they are computed once and only
        P(T) and the wait's cost per horizon (the alpha decay factors cached per config and maker
        timeout); the ``FillFeatures`` of the chosen horizon is built once (the same values, bit for bit)."""
        c = self.cfg
        m = c.model
        taker = self.slippage.expected_bps(intent.symbol, intent.side, qty, book) + c.taker_fee_bps
        maker_fill = c.maker_fee_bps + m.fill_bps + self.adverse_bps
        alpha = intent.e_pi_bps if intent.e_pi_bps > 0.0 else c.default_alpha_bps
        drift = self.drift_bps_s()
        x = self.features(t, intent, qty, book, tick, horizon_s)
        p0 = fill_probability0(x, m, intercept=self.intercept)
        best_maker, best_p, best_h, first = 0.0, 0.0, horizon_s, True
        weighted_alpha = c.alpha_weight * alpha
        for h, e, decay in self._horizons(horizon_s):
            p = at_exponent(p0, e, m)
            waiting = drift * h + weighted_alpha * decay
            maker = p * maker_fill + (1.0 - p) * (taker + waiting)
            if first or maker < best_maker - 1e-12:
                best_maker, best_p, best_h, first = maker, p, h, False
        if best_h != horizon_s:
            x = msgspec.structs.replace(x, horizon_s=best_h)
        return Choice(rest=best_maker + c.margin_bps < taker, p_fill=best_p, maker_bps=best_maker, taker_bps=taker,
                      features=x)

    def _horizons(self, horizon_s: float) -> list[tuple[float, float, float]]:
        """Each resting horizon ``T`` (``horizon_s`` x ``horizons``), its ``horizon_exponent`` and its alpha
        decay ``1 - exp(-T / alpha_horizon_s)``, computed once per config and maker timeout (autotune may
        change either)."""
        c = self.cfg
        if self._horizon_key is None or self._horizon_key[0] is not c or self._horizon_key[1] != horizon_s:
            hs = [horizon_s * k for k in (c.horizons or [1.0])]
            self._horizon_cache = [(h, horizon_exponent(h, c.model), 1.0 - math.exp(-h / c.alpha_horizon_s))
                                   for h in hs]
            self._horizon_key = (c, horizon_s)
        return self._horizon_cache

    def attempt_done(self, features: FillFeatures, filled: bool) -> None:
        """A maker attempt ended (filled as maker, or not within its time): learn from it."""
        self.samples.append(FillSample(features=features, filled=filled))
        self._new += 1
        if self.cfg.refit_every and self._new >= self.cfg.refit_every:
            self._new = 0
            self.intercept = shift_intercept(list(self.samples), self.cfg.model)

    def observe(self, rec: IntentTca) -> None:
        """A TCA record was written: its maker fills' 5 s markouts update the adverse-selection estimate,
        its taker fallbacks the drift (each fill's slippage vs arrival beyond the half spread it crossed)."""
        h = self.cfg.model.half_spread_bps
        for f in rec.fills:
            if f.fallback and not f.maker:
                self._drift_s += f.t_s
                self._drift_sum += f.slippage_bps - h
            m = f.markout_bps.get("5s")
            if f.maker and m is not None:
                self._markout_qty += f.qty
                self._markout_sum += f.qty * m
        if self._markout_qty > 0:
            self.adverse_bps = max(0.0, -self._markout_sum / self._markout_qty)
