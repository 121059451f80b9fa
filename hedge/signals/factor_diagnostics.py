"""Factor diagnostics: each factor's IC, IR, hit rate and PnL against the forward return, per symbol.

Owns: sampling the factors (``hedge.signals.factors``) at most every ``sample_every_ms`` of event
time per symbol, resolving each sample's forward mid return at the trade horizon
(``exits.horizon_s``, the calibrator's labelling window: ``hedge.config.geometry``) on the first
tick at or after it, one ``FactorStats`` per (symbol, factor), the realized-PnL attribution (a
closed round trip's return is split equally among the directional factors that agreed with its
side when its last entry intent was screened), driving the adaptive overlay at each completed
block of the first strategy's signal, and the ``FactorReport`` event.

Cost: one comparison per tick until a sample is taken or due (``wake``, read by the stage before it
calls ``on_tick``; ``_Track.next_ms`` inside); the statistics run once per resolved sample.
Event time only (the ticks' ``ts_ms``): a replay gives the same table.

Must never: read a clock, publish on every tick, or change a decision (the overlay changes the hybrid
score's weights only when ``auto_weighting.adaptive`` is on).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from hedge.config.intel import FactorDiagnosticsParams
from hedge.events import FactorReport, FactorRow
from hedge.signals.adaptive_weights import AdaptiveWeights
from hedge.signals.factor_stats import FactorStats
from hedge.signals.factors import MAGNITUDE, factor_names, factor_values
from hedge.signals.features import SymbolFeatures

_INF = float("inf")


class _Track:
    __slots__ = ("entry", "next_ms", "next_sample_ms", "pending", "stats")

    def __init__(self, stats: list[FactorStats]) -> None:
        self.next_ms = 0.0  # the earliest event time at which this symbol has work (a sample or a resolution)
        self.next_sample_ms = 0
        self.pending: deque[tuple[int, float, tuple[float, ...]]] = deque()  # (due ms, mid, values)
        self.stats = stats
        self.entry: tuple[float, tuple[float, ...]] | None = None  # (side, values) of the last entry intent


class FactorDiagnostics:
    def __init__(
        self,
        params: FactorDiagnosticsParams,
        horizon_s: float,
        strategies: Sequence[str],
        overlay: AdaptiveWeights | None = None,
        realized_bps: Callable[[str], float] = lambda symbol: 0.0,
    ) -> None:
        self.p = params
        self.horizon_s = horizon_s
        self._horizon_ms = int(horizon_s * 1000)
        self.names = factor_names(strategies)
        self._magnitude = tuple(n in MAGNITUDE for n in self.names)
        self._signal_k = len(self.names) - len(strategies)  # index of the first strategy's signal
        self.overlay = overlay
        self._realized = realized_bps  # the symbol's realized mean return (the score board's expectancy)
        self._tracks: dict[str, _Track] = {}
        # symbol -> the earliest event time at which it has work (its track's ``next_ms``): the stage
        # calls ``on_tick`` only from then on, so a tick with nothing due costs one dict lookup
        self.wake: dict[str, float] = {}
        self._last_pub_ms = -_INF
        self.samples = 0

    def _track(self, symbol: str) -> _Track:
        p = self.p
        tr = self._tracks[symbol] = _Track([
            FactorStats(p.window_samples, p.block_samples, p.blocks, magnitude=m) for m in self._magnitude
        ])
        return tr

    def on_tick(self, f: SymbolFeatures, scores: Sequence[float]) -> None:
        """A valid tick of ``f.symbol`` with the strategies' ``scores`` of the same tick."""
        tr = self._tracks.get(f.symbol) or self._track(f.symbol)
        ts = f.ts_ms
        if ts < tr.next_ms:
            return
        pend = tr.pending
        mid = f.mid
        while pend and pend[0][0] <= ts:
            _, mid0, values = pend.popleft()
            r = (mid - mid0) / mid0 * 1e4
            for st, x in zip(tr.stats, values, strict=True):
                st.add(x, r)
            self.samples += 1
            if self.overlay is not None and self._signal_k < len(tr.stats):
                sig = tr.stats[self._signal_k]
                if sig.samples % self.p.block_samples == 0:
                    irs = [st.ir for st in tr.stats[self._signal_k:]]
                    self.overlay.update(ts, sum(irs) / len(irs), self._realized(f.symbol))
        if ts >= tr.next_sample_ms:
            pend.append((ts + self._horizon_ms, mid, factor_values(f, scores)))
            tr.next_sample_ms = ts + self.p.sample_every_ms
        tr.next_ms = self.wake[f.symbol] = min(tr.next_sample_ms, pend[0][0]) if pend else tr.next_sample_ms

    def on_entry(self, f: SymbolFeatures, scores: Sequence[float], side: float) -> None:
        """An entry intent was screened on ``f.symbol``: remember the factors for its round trip."""
        tr = self._tracks.get(f.symbol) or self._track(f.symbol)
        tr.entry = (side, factor_values(f, scores))

    def on_round_trip(self, symbol: str, return_bps: float) -> None:
        """Credit a closed round trip's return to the directional factors that agreed with its entry."""
        tr = self._tracks.get(symbol)
        if tr is None or tr.entry is None:
            return
        side, values = tr.entry
        agreed = [st for st, x, m in zip(tr.stats, values, self._magnitude, strict=True) if not m and x * side > 0.0]
        for st in agreed:
            st.attribute(return_bps / len(agreed))

    def due(self, ts_ms: int) -> bool:
        """True (and the publish time advanced) when a report is due at event time ``ts_ms``."""
        if ts_ms - self._last_pub_ms < self.p.publish_every_ms:
            return False
        self._last_pub_ms = ts_ms
        return True

    def rows(self) -> list[FactorRow]:
        return [
            FactorRow(
                symbol=sym, factor=name, samples=st.samples, ic=st.ic, ir=st.ir, blocks=st.blocks,
                hit_rate=st.hit_rate, pnl_bps=st.pnl_bps, mean_pnl_bps=st.mean_pnl_bps,
                attributed_bps=st.attributed_bps, attributed_trips=st.attributed_trips,
            )
            for sym, tr in sorted(self._tracks.items())
            for name, st in zip(self.names, tr.stats, strict=True)
        ]

    def report(self, ts_ms: int, recv_ns: int, weights: tuple[float, float, float]) -> FactorReport:
        ov = self.overlay
        return FactorReport(
            ts_ms=ts_ms, recv_ns=recv_ns, horizon_s=self.horizon_s, window_samples=self.p.window_samples,
            rows=tuple(self.rows()), adaptive=ov is not None, weights=weights,
            weights_history=tuple((t, *w) for t, w in ov.history) if ov is not None else (),
        )
