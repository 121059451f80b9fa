"""The shadow pipeline's cost per tick, measured on a sample of the live ticks.

Owns: ``ShadowCost`` — every ``SAMPLE_EVERY``-th market event the live bus publishes (outermost; a
tick is any of ``TICKS``, the market data the live engine handles, whether the shadow takes it or
not: the unit of the A/B benchmark's cost per market event, scripts/bench_shadow.py) is timed with
everything it published in turn (the live bus's ``time_cascades``: book sync, the live
pipeline's signals, risk and router decisions, and the shadow's forward of it); inside that cascade
the shadow's own handling is timed too. Per sampled tick: ``shadow`` seconds, and ``live`` = the
cascade minus the shadow's part: the same tick, the same clock, each side's span (docs/intel.md
"Shadow pipeline"). Two histograms, their sums, and ``share`` = shadow / live (the goal of
docs/intel.md: <= 0.30); exported on the daemon's /metrics (``ShadowCostCollector``) and carried by
the ``ShadowReport`` (``shadow_state.json``).

The measuring itself is taken out: each figure contains clock reads (the shadow's span one, the
live span the cascade's own and, per shadow span, the half of its two reads outside it), so
``timer_s`` (one read's cost: the smallest of ``_CALIBRATION`` back-to-back differences, measured at
start) is subtracted once per shadow span from the shadow's figure, and once plus once per shadow
span from the live one. A sampled tick whose cascade took over
``OUTLIER_S`` is not counted (``discarded``): a tick's handling is tens of microseconds, so such a
sample is the process being descheduled (a loaded machine), which would swamp the sums.

Clock: ``time.perf_counter()`` around the shadow's handling of a sampled tick, a duration measurement
that no decision reads (tests/unit/model/test_clock_usage.py).

Not counted: work outside a tick's cascade (the shadow venue's simulated acks and fills, timers),
and the read, decode and stream handling before the live bus (shared by both).

Must never: time an event that is not sampled (a sample costs four clock reads; the others cost a
flag test), or change what either pipeline decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import HistogramMetricFamily, Metric

from hedge.bus import Bus
from hedge.events import BookStatus, BookTicker, BookUpdate, DepthDiff, DepthSnapshot, Event, MarkPrice, Trade
from hedge.state.histogram import Histogram
from hedge.state.prometheus import buckets

TICKS = (DepthDiff, DepthSnapshot, BookUpdate, BookStatus, Trade, BookTicker, MarkPrice)  # the market data
SAMPLE_EVERY = 16  # one tick in 16: ~0.1 us per tick of measuring, on ticks the shadow spends a few us on
OUTLIER_S = 1e-3  # a sampled cascade longer than this was descheduled, not working (see the module docstring)
_CALIBRATION = 200  # back-to-back clock reads at start: the smallest difference is one read's cost
# Seconds: 5 us .. 10 ms (a tick's handling is tens of us; an intent's decision and order, hundreds).
TICK_BUCKETS_S = (5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2)


class ShadowCost:
    """Sampled handling time per tick of the shadow and of the live pipeline (see the module docstring)."""

    def __init__(self, live_bus: Bus, market: tuple[type[Event], ...] = TICKS, every: int = SAMPLE_EVERY) -> None:
        self.live_bus = live_bus
        self.shadow = Histogram(TICK_BUCKETS_S)
        self.live = Histogram(TICK_BUCKETS_S)
        self._inside = 0.0  # the shadow's seconds within the cascade being timed
        self._spans = 0  # and how many timed spans they are (one per event forwarded)
        self.discarded = 0  # sampled ticks not counted (longer than OUTLIER_S)
        self.timer_s = timer_cost()
        live_bus.time_cascades(market, every, self._on_cascade)

    def forward(self, publish: Callable[[Event], None], ev: Event) -> None:
        """``publish(ev)`` (the shadow's handling of a live event), timed when the live bus times this tick."""
        if self.live_bus.timing:
            t0 = time.perf_counter()
            publish(ev)
            self._inside += time.perf_counter() - t0
            self._spans += 1
        else:
            publish(ev)

    def _on_cascade(self, total_s: float) -> None:
        shadow, spans, self._inside, self._spans = self._inside, self._spans, 0.0, 0
        if total_s > OUTLIER_S:
            self.discarded += 1
            return
        c = self.timer_s
        self.shadow.observe(max(0.0, shadow - spans * c))
        self.live.observe(max(0.0, total_s - shadow - (1 + spans) * c))

    @property
    def samples(self) -> int:
        return self.shadow.count

    def mean_us(self, h: Histogram) -> float:
        return h.sum / h.count * 1e6 if h.count else 0.0

    @property
    def share(self) -> float:
        """The shadow's handling time over the live pipeline's, on the sampled ticks (0.0 before a sample)."""
        return self.shadow.sum / self.live.sum if self.live.sum > 0 else 0.0


def timer_cost(reads: int = _CALIBRATION) -> float:
    """Seconds one ``time.perf_counter()`` read adds to a span it bounds: the smallest back-to-back difference."""
    clock = time.perf_counter
    best = float("inf")
    for _ in range(reads):
        t0 = clock()
        best = min(best, clock() - t0)
    return best


class ShadowCostCollector:
    """``hedge_shadow_tick_seconds{pipeline="live"|"shadow"}`` (histograms of the sampled ticks) on /metrics."""

    def __init__(self, cost: ShadowCost) -> None:
        self.cost = cost

    def collect(self) -> Iterator[Metric]:
        fam = HistogramMetricFamily("hedge_shadow_tick_seconds",
                                    "Handling time of a sampled market tick, by pipeline (the shadow's cost)",
                                    labels=["pipeline"])
        for name, h in (("live", self.cost.live), ("shadow", self.cost.shadow)):
            fam.add_metric([name], buckets(h), sum_value=h.sum)
        yield fam
