"""Property: over random sequences of intents, fills and market states, no approved order ever
breaks a configured limit (judged by the independent checker in limits_checker.py).

100 hypothesis examples x 100 intents = 10,000 intents. Hypothesis draws the limits (caps,
drawdowns, latency/spread limits, window...), the fault rate and the seed of the sequence.
"""

from __future__ import annotations

import random

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedge.config import Config, RuntimeConfig, TradingWindow
from hedge.risk import RiskLimits, check_order
from tests.unit.risk.helpers import NOW_NS, risk_config
from tests.unit.risk.limits_checker import World, violations

INTENTS_PER_SEQUENCE = 100

frac = st.floats(0.01, 0.6)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    cfg = risk_config(
        max_trade_nav_pct=draw(st.floats(0.005, 0.5)),
        tier_caps={"CORE": draw(frac), "SATELLITE": draw(frac), "TACTICAL": draw(frac), "ALT-EXT": draw(frac)},
        symbol_caps=draw(st.sampled_from([{}, {"BTCUSDT": 0.02}, {"SOLUSDT": 0.5}])),
        gross_exposure_max=draw(st.floats(0.05, 3.0)),
        net_exposure_max=draw(st.floats(0.05, 2.0)),
        max_open_orders=draw(st.integers(1, 30)),
        daily_dd_limit=draw(st.floats(0.001, 0.2)),
        portfolio_dd_limit=draw(st.floats(0.001, 0.3)),
        cvar_limit=draw(st.floats(0.001, 0.1)),
        cvar_min_samples=draw(st.integers(1, 40)),
        spread_bps_limit=draw(st.sampled_from([0.0, 10.0, 80.0])),
        latency_ms_limit=draw(st.sampled_from([50.0, 500.0])),
        pi_min_bps=draw(st.floats(-1.0, 5.0)),
        require_user_stream=draw(st.booleans()),
    )
    groups = {"majors": draw(frac), "defi": draw(frac)}
    syms = msgspec.structs.replace(
        cfg.symbols,
        correlation_groups={
            k: msgspec.structs.replace(v, cap=groups[k]) for k, v in cfg.symbols.correlation_groups.items()
        },
    )
    start, end = draw(st.sampled_from([("00:00", "24:00"), ("08:00", "20:00"), ("22:00", "04:00")]))
    window = TradingWindow(start=start, end=end, days=draw(st.sampled_from([[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4]])))
    return msgspec.structs.replace(cfg, symbols=syms, runtime=RuntimeConfig(trading_window=window))


SEEN = {"intents": 0}


def run_sequence(cfg: Config, seed: int, stress: float, n: int) -> dict[str, int]:
    """Drive ``n`` intents through check_order; fail on the first broken limit. Returns tallies."""
    lim = RiskLimits.from_config(cfg)
    rng = random.Random(seed)
    world = World(rng, NOW_NS + rng.randint(0, 7 * 86_400_000) * 1_000_000, stress)
    tally = {"allowed": 0, "reduced": 0, "vetoed": 0}
    for i in range(n):
        intent = world.intent(i)
        ctx = world.context(intent.symbol)
        d = check_order(intent, ctx, lim)
        broken = violations(intent, ctx, cfg, d)
        assert not broken, f"step {i}: {broken}\n{intent}\n{ctx}\n{d}"
        tally["vetoed" if not d.allow else "reduced" if d.reasons else "allowed"] += 1
        for r in d.reasons:
            tally[r] = tally.get(r, 0) + 1
        world.apply(intent, d)
    SEEN["intents"] += n
    return tally


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(), seed=st.integers(0, 2**32 - 1), stress=st.sampled_from([0.0, 0.05, 0.3, 0.8]))
def test_no_approved_order_breaks_a_limit(cfg: Config, seed: int, stress: float) -> None:
    run_sequence(cfg, seed, stress, INTENTS_PER_SEQUENCE)


def test_ten_thousand_intents_were_checked() -> None:
    before = SEEN["intents"]
    test_no_approved_order_breaks_a_limit()
    assert SEEN["intents"] - before == 100 * INTENTS_PER_SEQUENCE


def test_the_property_is_not_vacuous() -> None:
    """With tight exposure caps and some faults, orders are allowed, reduced and vetoed; every gate fires."""
    cfg = risk_config(gross_exposure_max=0.7, net_exposure_max=0.3)
    tally: dict[str, int] = {}
    for seed in range(10):
        for k, v in run_sequence(cfg, seed, 0.1, 200).items():
            tally[k] = tally.get(k, 0) + v
    assert tally["allowed"] > 200 and tally["reduced"] > 100 and tally["vetoed"] > 100
    for reason in (
        "trade_nav_cap",
        "symbol_cap",
        "group_cap",
        "gross_exposure",
        "net_exposure",
        "reduce_only_clip",
        "nav_stale",
        "spread",
        "feed_lag",
        "cooloff",
        "unknown_symbol",
        "max_open_orders",
    ):
        assert tally.get(reason, 0) > 0, (reason, tally)
