"""The screener: turns a strategy's score on one symbol into an order intent, or into nothing.

Owns: the checks, in this order (cheapest first; each refusal is counted in ``skipped`` by reason):
cooldown per (strategy, symbol), the UTC trading window on event time, the directional bias,
the SPRT switch and the rolling-expectancy gate, a known NAV, conviction sizing (times the feedback
allocator's budget, then the factor and risk-state conviction of ``hedge.signals.conviction``, each
when it is on; then the minimum notional), the
calibrated ``p_win`` and ``e_pi_bps`` of the trade the portfolio will manage (TP/SL
from ``hedge.config.geometry.barriers`` at the tick's realized volatility, carried on the intent;
intents not above ``screen_min_e_pi_bps`` are dropped here; ``risk.check_order`` enforces
``pi_min_bps`` and says ``expected_return`` when it vetoes).

The intent's build (sizing, calibration, the ``OrderIntent``) is ``_build``, pure, apart from the gates
that keep memory (cooldown, skip counts): ``rehearse`` runs it alone for cache warming
(``hedge.daemon.warm``).

Intent ids are deterministic: ``<strategy>-<symbol>-<update id of the triggering book tick>``,
and every timestamp on the intent is the tick's, so that replaying a recording twice yields the
identical sequence of intents.

Must never: approve or veto an order (only risk does), use uuid or the wall clock, or screen exits.
"""

from __future__ import annotations

from collections.abc import Callable

from hedge.config import Config
from hedge.config.geometry import Barriers
from hedge.events import OrderIntent, Side, Signal, Tier, VolRegime
from hedge.signals.allocator import FeedbackAllocator
from hedge.signals.calibrator import Calibrator
from hedge.signals.conviction import Conviction
from hedge.signals.features import SymbolFeatures
from hedge.signals.scores import ScoreBoard
from hedge.signals.sizing import Sizer
from hedge.signals.strategies.base import Strategy
from hedge.signals.trading_window import WindowGate

# Read once, not per intent (docs/signals.md, "Cost per tick"): the default tier, each regime's text and
# the reason's format (``%`` with the same conversions as the f-string it replaced: the same bytes).
_TACTICAL = Tier.TACTICAL
_BUY, _SELL = Side.BUY, Side.SELL
_REGIME_TEXT = {r: r.value for r in VolRegime}
_REASON = "%s score=%+.3f p=%.3f regime=%s"


class Screener:
    def __init__(self, cfg: Config, calibrator: Calibrator, sizer: Sizer, scores: ScoreBoard) -> None:
        st = cfg.strategy
        self.calibrator = calibrator
        self.sizer = sizer
        self.scores = scores
        self._window = WindowGate(cfg.runtime.trading_window)
        self._bias = {"none": 0, "long": 1, "short": -1}[st.directional_bias]
        self._expectancy_min = st.expectancy_min_bps
        self._e_pi_min = st.screen_min_e_pi_bps
        syms = cfg.symbols
        self._tier = {s: info.tier for s, info in syms.symbols.items()}
        self._slippage = {
            s: syms.liquidity_buckets[info.liquidity].slippage_bps
            for s, info in syms.symbols.items()
            if info.liquidity in syms.liquidity_buckets
        }
        self._default_slippage = st.calibrator.slippage_bps
        self._barriers = Barriers(st.exits)  # the exits' figures read once
        self._last_ms: dict[str, dict[str, int]] = {}
        self.nav = 0.0
        self.conviction: Conviction | None = None  # set by the stage when conviction is on (docs/intel.md)
        self.allocator: FeedbackAllocator | None = None  # the feedback allocator's budgets (feature flag)
        self.now_ms: Callable[[], int] = lambda: 0  # the one clock's time (set with ``allocator``)
        self.skipped: dict[str, int] = {}

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def signal(self, strategy: str, f: SymbolFeatures, score: float) -> Signal:
        """``strategy``'s view of ``f.symbol`` with its calibrated ``p_win`` and ``e_pi_bps``."""
        return self._signal(strategy, f, score, *self._barriers(f.vol_bps))

    def _signal(self, strategy: str, f: SymbolFeatures, score: float, tp_bps: float, sl_bps: float) -> Signal:
        p = self.calibrator.predict_p(score)
        return Signal(
            ts_ms=f.ts_ms,
            recv_ns=f.recv_ns,
            symbol=f.symbol,
            strategy=strategy,
            score=score,
            p_win=p,
            e_pi_bps=self.calibrator.e_pi_bps(
                p, self._slippage.get(f.symbol, self._default_slippage), tp_bps, sl_bps
            ),
            regime=f.regime,
        )

    def screen(self, strategy: Strategy, f: SymbolFeatures, score: float) -> tuple[Signal, OrderIntent] | None:
        """The Signal and OrderIntent for ``score`` (already past the strategy's threshold), or None."""
        name = strategy.name
        ts = f.ts_ms
        last = self._last_ms.get(name)
        if last is None:
            last = self._last_ms[name] = {}
        prev = last.get(f.symbol)
        if prev is not None and ts - prev < strategy.params.cooldown_s * 1000.0:
            self._skip("cooldown")
            return None
        window = self._window
        if not window.always and not window.open_at(ts):
            self._skip("trading_window")
            return None
        side = _BUY if score > 0.0 else _SELL
        if self._bias and side.sign != self._bias:
            self._skip("directional_bias")
            return None
        if not self.scores.passes(f.symbol, name, self._expectancy_min):
            self._skip("expectancy_or_sprt")
            return None
        if self.nav <= 0.0:
            self._skip("no_nav")
            return None
        out = self._build(name, f, score, side)
        if isinstance(out, str):
            self._skip(out)
            return None
        last[f.symbol] = ts
        return out

    def rehearse(self, strategy: Strategy, f: SymbolFeatures, score: float) -> tuple[Signal, OrderIntent] | str:
        """What ``screen`` would build for ``score`` now, past its gates and without their memory (no
        cooldown, no count): cache warming (``hedge.daemon.warm``), the result is dropped."""
        return self._build(strategy.name, f, score, _BUY if score > 0.0 else _SELL)

    def _build(self, name: str, f: SymbolFeatures, score: float, side: Side) -> tuple[Signal, OrderIntent] | str:
        """The sized, calibrated Signal and OrderIntent, or why not (a ``skipped`` reason). Pure."""
        sym, regime = f.symbol, f.regime  # read once (a compiled feature state's fields are C-level)
        tier = self._tier.get(sym, _TACTICAL)
        budget = 1.0 if self.allocator is None else self.allocator.multiplier(sym, name, self.now_ms())
        sizer = self.sizer
        notional = sizer.notional(self.nav, score, regime, tier, budget)
        if self.conviction is not None:
            notional *= self.conviction.multiplier(f, score)
        if notional < sizer.min_notional or notional <= 0.0:
            return "min_notional"
        tp_bps, sl_bps = self._barriers(f.vol_bps)
        signal = self._signal(name, f, score, tp_bps, sl_bps)
        e_pi, p = signal.e_pi_bps, signal.p_win
        if e_pi <= self._e_pi_min:
            return "e_pi"
        recv_ns = f.recv_ns
        intent = OrderIntent(
            ts_ms=f.ts_ms,
            recv_ns=recv_ns,
            intent_id=f"{name}-{sym}-{f.update_id}",
            symbol=sym,
            side=side,
            notional=notional,
            strategy=name,
            reason=_REASON % (name, score, p, _REGIME_TEXT[regime]),
            limit_px=f.mid,
            score=score,
            e_pi_bps=e_pi,
            p_win=p,
            tp_bps=tp_bps,
            sl_bps=sl_bps,
            regime=regime,
            tick_ns=recv_ns,
        )
        return signal, intent
