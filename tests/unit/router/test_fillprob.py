"""The fill-probability model, the market statistics it reads and the auto router's choice, by hand."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import AutoRouterConfig, FillModel, default_config
from hedge.events import BookUpdate, OrderIntent, Side, Trade
from hedge.router.auto import AutoRouter
from hedge.router.fill_fit import fit_fill_model
from hedge.router.fillprob import FillFeatures, FillSample, at_exponent, design, fill_probability, shift_intercept
from hedge.router.market_stats import MarketStats
from hedge.router.slippage import SlippageModel


def feat(**kw: float) -> FillFeatures:
    base = dict(queue_ahead=3.0, own_qty=1.0, flow_qty_s=0.4, vol_bps_s=0.0, tick_bps=0.5, spread_ticks=1.0,
                horizon_s=5.0)
    return FillFeatures(**(base | kw))


MODEL = FillModel(b0=-1.0, b_dist=-0.5, b_queue=-0.4, b_flow=1.0, b_spread=-0.2, b_vol=0.3, horizon_s=5.0)


def test_probability_by_hand() -> None:
    x = feat(distance_ticks=1.0, vol_bps_s=0.1)
    d = design(x, 5.0)  # vol_ticks = 0.1 x sqrt(5) / 0.5
    assert d == pytest.approx((1.0, math.log1p(4.0), math.log1p(2.0), 0.0, math.log1p(0.1 * math.sqrt(5) / 0.5)))
    z = -1.0 - 0.5 * d[0] - 0.4 * d[1] + 1.0 * d[2] + 0.3 * d[4]
    p0 = 1 / (1 + math.exp(-z))
    assert fill_probability(x, MODEL) == pytest.approx(p0)
    # another horizon: a constant hazard, 1 - (1 - p0) ** (T / T0)
    assert fill_probability(feat(distance_ticks=1.0, vol_bps_s=0.1, horizon_s=10.0), MODEL) == pytest.approx(
        1 - (1 - p0) ** 2)
    # more queue ahead or further behind the touch: less chance; the clip holds
    assert fill_probability(feat(queue_ahead=30.0), MODEL) < fill_probability(feat(), MODEL)
    assert fill_probability(feat(distance_ticks=2.0), MODEL) < fill_probability(feat(), MODEL)
    assert fill_probability(feat(flow_qty_s=1e9), MODEL) == MODEL.p_max


def test_the_online_update_shifts_only_the_intercept_to_its_likeliest_grid_point() -> None:
    x = feat()
    p0 = fill_probability(x, MODEL)
    samples = [FillSample(features=x, filled=i < 9) for i in range(10)]  # 90% filled where the model says p0
    b0 = shift_intercept(samples, MODEL)
    target = math.log(0.9 / 0.1) - (math.log(p0 / (1 - p0)) - MODEL.b0)  # the exact maximum
    assert abs(b0 - target) <= 0.125 and b0 == MODEL.b0 + round((b0 - MODEL.b0) * 4) / 4
    assert shift_intercept([FillSample(features=x, filled=True)] * 5, MODEL) == MODEL.b0  # one outcome: no maximum
    assert shift_intercept([], MODEL) == MODEL.b0


def test_the_offline_fit_recovers_known_coefficients() -> None:
    import random

    rng = random.Random(7)
    samples = []
    for _ in range(6000):
        x = feat(distance_ticks=float(rng.randint(0, 3)), queue_ahead=rng.expovariate(0.5),
                 flow_qty_s=rng.expovariate(2.0), spread_ticks=float(rng.randint(1, 3)), vol_bps_s=rng.random())
        samples.append(FillSample(features=x, filled=rng.random() < fill_probability(x, MODEL)))
    got = fit_fill_model(samples, MODEL).model
    for name in ("b0", "b_dist", "b_queue", "b_flow", "b_spread", "b_vol"):
        assert getattr(got, name) == pytest.approx(getattr(MODEL, name), abs=0.25), name
    assert fit_fill_model(samples, MODEL).converged
    with pytest.raises(ValueError):
        fit_fill_model(samples[:1], MODEL)


def test_market_stats_decay_by_hand() -> None:
    ms = MarketStats(window_s=10.0)
    ms.on_trade(0.0, Trade(symbol="X", trade_id=1, price=1.0, qty=2.0, taker_side=Side.SELL))
    assert ms.flow(0.0, "X", Side.BUY) == pytest.approx(0.2)  # sellers hit a resting buy
    assert ms.flow(10.0, "X", Side.BUY) == pytest.approx(0.2 * math.exp(-1))
    assert ms.flow(0.0, "X", Side.SELL) == 0.0
    book = dict(symbol="X", update_id=1, valid=True, bid_px=99.0, bid_qty=1.0, ask_px=101.0, ask_qty=1.0,
                micro=100.0, imbalance=0.0, spread_bps=200.0)
    ms.on_book(0.0, BookUpdate(mid=100.0, **book))
    ms.on_book(0.5, BookUpdate(mid=100.02, **book))  # within the 1 s sampling step: quote flicker, not counted
    ms.on_book(1.0, BookUpdate(mid=100.01, **book))  # +1 bp: variance rate 1 / 10 per s
    assert ms.vol_bps_s(1.0, "X") == pytest.approx(math.sqrt(0.1), rel=1e-3)


_ARGS = (OrderIntent(intent_id="a", symbol="BTCUSDT", side=Side.BUY, notional=670.0, strategy="s", reason="r"),
         0.01, BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=67000.0, bid_qty=0.5, ask_px=67000.1,
                          ask_qty=0.5, mid=67000.05, micro=67000.05, imbalance=0.0,
                          spread_bps=0.1 / 67000.05 * 1e4), 0.1, 5.0)


def _choice(flow: float, e_pi_bps: float = 0.0, alpha_weight: float = 0.0,  # type: ignore[no-untyped-def]
            horizons: tuple[float, ...] = (1.0,)):
    cfg = default_config()
    model = FillModel(b0=-4.0, b_dist=0.0, b_queue=0.0, b_flow=3.0, b_spread=0.0, b_vol=0.0, horizon_s=5.0,
                      fill_bps=0.3, fallback_bps=0.5, half_spread_bps=0.1)
    ac = AutoRouterConfig(model=model, adverse_bps=0.5, maker_fee_bps=2.0, taker_fee_bps=5.0,
                          default_alpha_bps=2.0, alpha_horizon_s=30.0, alpha_weight=alpha_weight,
                          horizons=list(horizons))
    stats = MarketStats(window_s=10.0)
    if flow:
        stats.on_trade(0.0, Trade(symbol="BTCUSDT", trade_id=1, price=67000.0, qty=flow * 10.0, taker_side=Side.SELL))
    slip = SlippageModel(cfg.symbols, 10.0)
    auto = AutoRouter(ac, slip, stats)
    book = _ARGS[2]
    intent = msgspec.structs.replace(_ARGS[0], e_pi_bps=e_pi_bps)
    c = auto.choose(0.0, intent, *_ARGS[1:])
    if horizons != (1.0,):
        return c, auto
    taker = slip.expected_bps("BTCUSDT", Side.BUY, 0.01, book) + 5.0
    alpha = e_pi_bps or 2.0
    # the pegged path: maker fee + where it fills + adverse; else the fallback: taker + drift (0.5 - 0.1) + alpha
    waiting = 0.4 + alpha_weight * alpha * (1 - math.exp(-5 / 30))
    maker = c.p_fill * (2.0 + 0.3 + 0.5) + (1 - c.p_fill) * (taker + waiting)
    assert c.taker_bps == pytest.approx(taker) and c.maker_bps == pytest.approx(maker)
    return c, auto


def test_auto_rests_only_when_the_maker_leg_is_expected_to_be_cheaper() -> None:
    quiet, _ = _choice(flow=0.0)  # nothing trades at our side: P = sigmoid(-4), the drift outweighs the saving
    assert quiet.p_fill == pytest.approx(1 / (1 + math.exp(4))) and not quiet.rest
    busy, _ = _choice(flow=1.0)  # 1/s: z = -4 + 3 log1p(5): P 0.8, the maker fee beats the taker's
    assert busy.p_fill > 0.75 and busy.rest
    mid_p, _ = _choice(flow=0.3, e_pi_bps=200.0)  # a middling probability: resting pays (alpha weighted 0)
    assert 0.1 < mid_p.p_fill < 0.3 and mid_p.rest
    mid_p, _ = _choice(flow=0.3, e_pi_bps=200.0, alpha_weight=1.0)  # a large alpha decaying while it waits: cross
    assert not mid_p.rest


def test_auto_rests_for_the_horizon_of_least_expected_cost() -> None:
    # P(T) grows at a constant hazard, the drift linearly (0.08 bps/s here): with P(5 s) ~0.2 the longer
    # wait pays (the 3 bps fee saving is worth more than 1.2 bps more drift)
    one, _ = _choice(flow=0.3)
    c, auto = _choice(flow=0.3, horizons=(1.0, 2.0, 4.0))
    assert c.rest and c.features.horizon_s == 20.0 and c.maker_bps < one.maker_bps
    assert c.p_fill == pytest.approx(1 - (1 - one.p_fill) ** 4)
    auto.cfg = msgspec.structs.replace(auto.cfg, drift_prior_n=1e6, model=msgspec.structs.replace(
        auto.cfg.model, fallback_bps=5.1))  # a 1 bps/s drift: 5 s at most, and then only when it is cheaper
    assert auto.choose(0.0, *_ARGS).features.horizon_s == 5.0


def test_the_drift_follows_the_taker_fallbacks_it_observes() -> None:
    from hedge.router.tca import IntentTca, TcaFill

    _, auto = _choice(flow=0.0)
    assert auto.drift_bps_s() == pytest.approx(0.4 / 5)  # the fit's: (fallback 0.5 - half spread 0.1) / 5 s
    fills = [TcaFill(t_s=5.0, qty=0.01, price=1.0, fee=0.0, maker=False, fallback=True, slippage_bps=2.1,
                     markout_bps={}) for _ in range(10)]
    auto.observe(IntentTca(intent_id="a", symbol="X", side=Side.BUY, mode="auto", fills=fills))
    assert auto.drift_bps_s() == pytest.approx((10 * 0.4 + 10 * 2.0) / (10 * 5 + 10 * 5))  # a ratio of sums


def test_reliability_bins_by_hand() -> None:
    from hedge.router.tca import IntentTca, SliceChoice
    from hedge.router.tca_stats import reliability

    def ch(p: float, filled: bool, rest: bool = True) -> SliceChoice:
        return SliceChoice(slice_no=0, rest=rest, p_fill=p, maker_bps=0.0, taker_bps=1.0, features=feat(), filled=filled)

    rec = IntentTca(intent_id="a", symbol="X", side=Side.BUY, mode="auto",
                    choices=[ch(0.1, False), ch(0.15, True), ch(0.9, True), ch(0.95, True), ch(0.5, False, rest=False)])
    bins = reliability([rec])
    assert [(b.lo, b.attempts, b.predicted, b.realised) for b in bins] == [
        (0.0, 2, pytest.approx(0.125), 0.5), (0.8, 2, pytest.approx(0.925), 1.0)]  # the taker choice is no attempt


_ANY = st.floats(allow_nan=True, allow_infinity=True)


@given(_ANY, _ANY, _ANY, _ANY, st.one_of(st.floats(-0.0, 1.0), st.just(math.nan)), _ANY, _ANY,
       st.floats(0.0, 100.0))
def test_design_and_clip_are_the_builtins_max_min_bit_for_bit(queue: float, own: float, flow: float, spread: float,
                                                              p0: float, p_min: float, p_max: float, e: float) -> None:
    """``design`` and ``at_exponent`` compare instead of calling ``max``/``min`` (cost): the same
    values for any input, NaN, infinities and signed zeros included."""
    x = feat(queue_ahead=queue, own_qty=own, flow_qty_s=flow, spread_ticks=spread)
    d = design(x, 5.0)
    ref = (math.log1p(max(0.0, queue + own)), math.log1p(max(0.0, flow) * 5.0), max(0.0, spread - 1.0))
    assert repr(d[1:4]) == repr(ref)
    m = msgspec.structs.replace(FillModel(), p_min=p_min, p_max=p_max)
    p = 1.0 - (1.0 - p0) ** e if p0 < 1.0 else 1.0
    assert repr(at_exponent(p0, e, m)) == repr(min(m.p_max, max(m.p_min, p)))
