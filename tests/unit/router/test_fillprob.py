"""The fill-probability model, the market statistics it reads and the auto router's choice, by hand."""

from __future__ import annotations

import math

import pytest

from hedge.config import AutoRouterConfig, default_config
from hedge.events import BookUpdate, OrderIntent, Side, Trade
from hedge.router.auto import AutoRouter
from hedge.router.fillprob import FillFeatures, FillParams, FillSample, fill_probability, fit
from hedge.router.market_stats import MarketStats
from hedge.router.slippage import SlippageModel


def feat(**kw: float) -> FillFeatures:
    base = dict(queue_ahead=3.0, own_qty=1.0, flow_qty_s=0.4, vol_bps_s=0.0, tick_bps=0.5, spread_ticks=1.0,
                horizon_s=5.0)
    return FillFeatures(**(base | kw))


def test_probability_by_hand() -> None:
    # depletion = 0.4 * 5 / (3 + 1) = 0.5; hazard = 1.0 x 0.5
    assert fill_probability(feat(), FillParams(k_flow=1.0, k_vol=0.0)) == pytest.approx(1 - math.exp(-0.5))
    # vol_ticks = 2 x sqrt(4) / 0.5 = 8; hazard = (1 x 0.4 + 0.05 x 8) / 2 spread ticks = 0.4
    x = feat(flow_qty_s=0.4, horizon_s=4.0, vol_bps_s=2.0, spread_ticks=2.0)
    assert x.depletion() == pytest.approx(0.4) and x.vol_ticks() == pytest.approx(8.0)
    assert fill_probability(x, FillParams(k_flow=1.0, k_vol=0.05)) == pytest.approx(1 - math.exp(-0.4))
    # more queue ahead, less chance; nothing trades and nothing moves: the floor
    assert fill_probability(feat(queue_ahead=30.0), FillParams()) < fill_probability(feat(), FillParams())
    assert fill_probability(feat(flow_qty_s=0.0), FillParams(p_min=0.01)) == 0.01
    assert fill_probability(feat(flow_qty_s=1e6), FillParams(p_max=0.99)) == 0.99


def test_fit_finds_the_maximum_likelihood_on_its_grid() -> None:
    # depletion 1 (flow 0.8 x 5 / 4), no volatility: 6 of 10 filled -> 1 - exp(-k) = 0.6, k = ln 2.5 = 0.92;
    # of the grid's neighbours 0.75 (P 0.53) and 1.0 (P 0.63), 1.0 is the likelier
    samples = [FillSample(features=feat(flow_qty_s=0.8), filled=i < 6) for i in range(10)]
    got = fit(samples, FillParams(k_flow=0.1, k_vol=0.0))
    assert got.k_flow == pytest.approx(1.0) and got.k_vol == 0.0
    prior = FillParams(k_flow=0.3)
    assert fit([FillSample(features=feat(), filled=True)] * 5, prior) is prior  # one outcome only: no maximum
    assert fit([], prior) is prior


def test_market_stats_decay_by_hand() -> None:
    ms = MarketStats(window_s=10.0)
    ms.on_trade(0.0, Trade(symbol="X", trade_id=1, price=1.0, qty=2.0, taker_side=Side.SELL))
    assert ms.flow(0.0, "X", Side.BUY) == pytest.approx(0.2)  # sellers hit a resting buy
    assert ms.flow(10.0, "X", Side.BUY) == pytest.approx(0.2 * math.exp(-1))
    assert ms.flow(0.0, "X", Side.SELL) == 0.0
    book = dict(symbol="X", update_id=1, valid=True, bid_px=99.0, bid_qty=1.0, ask_px=101.0, ask_qty=1.0,
                micro=100.0, imbalance=0.0, spread_bps=200.0)
    ms.on_book(0.0, BookUpdate(mid=100.0, **book))
    ms.on_book(0.0, BookUpdate(mid=100.01, **book))  # +1 bp: variance rate 1 / 10 per s
    assert ms.vol_bps_s(0.0, "X") == pytest.approx(math.sqrt(0.1), rel=1e-3)


def _choice(flow: float, e_pi_bps: float = 0.0):  # type: ignore[no-untyped-def]
    cfg = default_config()
    ac = AutoRouterConfig(k_flow=1.0, k_vol=0.0, adverse_bps=0.5, maker_fee_bps=2.0, taker_fee_bps=5.0,
                          default_alpha_bps=2.0, alpha_horizon_s=30.0)
    stats = MarketStats(window_s=10.0)
    if flow:
        stats.on_trade(0.0, Trade(symbol="BTCUSDT", trade_id=1, price=67000.0, qty=flow * 10.0, taker_side=Side.SELL))
    slip = SlippageModel(cfg.symbols, 10.0)
    auto = AutoRouter(ac, slip, stats)
    book = BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=67000.0, bid_qty=0.5, ask_px=67000.1,
                      ask_qty=0.5, mid=67000.05, micro=67000.05, imbalance=0.0, spread_bps=0.1 / 67000.05 * 1e4)
    intent = OrderIntent(intent_id="a", symbol="BTCUSDT", side=Side.BUY, notional=670.0, strategy="s", reason="r",
                         e_pi_bps=e_pi_bps)
    c = auto.choose(0.0, intent, 0.01, book, 0.1, 5.0)
    taker = slip.expected_bps("BTCUSDT", Side.BUY, 0.01, book) + 5.0
    alpha = e_pi_bps or 2.0
    maker = c.p_fill * (-book.spread_bps / 2 + 2.0 + 0.5) + (1 - c.p_fill) * (taker + alpha * (1 - math.exp(-5 / 30)))
    assert c.taker_bps == pytest.approx(taker) and c.maker_bps == pytest.approx(maker)
    return c


def test_auto_rests_only_when_the_maker_leg_is_expected_to_be_cheaper() -> None:
    quiet = _choice(flow=0.0)  # nothing trades at our side: P at the floor, waiting only adds alpha decay
    assert quiet.p_fill == 0.01 and not quiet.rest
    busy = _choice(flow=1.0)  # 1/s through a queue of 0.51 in 5 s: ~P 0.99, the maker fee beats the taker's
    assert busy.p_fill > 0.95 and busy.rest
    # a large alpha (decays while waiting) against a middling probability: cross
    mid_p = _choice(flow=0.02, e_pi_bps=200.0)
    assert 0.1 < mid_p.p_fill < 0.3 and not mid_p.rest


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
