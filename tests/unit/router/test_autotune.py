"""Router autotune: its rules, the bounds, the hysteresis, and that nothing is applied with the apply flag off."""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.config import RouterConfig
from hedge.events import RouterAutotune, Side
from hedge.model.clock import EventClock
from hedge.router.autotune import APPLICABLE, Autotune, bounds, evidence, propose, stepped, value
from hedge.router.tca import IntentTca, TcaFill
from hedge.state.journal import Journals


def rec(i: int, *, fallback: bool, maker_t: float | None = None, reprices: int = 0) -> IntentTca:
    fills = [TcaFill(t_s=maker_t, qty=1.0, price=100.0, fee=0.0, maker=True, fallback=False, slippage_bps=0.0)] \
        if maker_t is not None else []
    if fallback:
        fills.append(TcaFill(t_s=5.0, qty=1.0, price=100.0, fee=0.0, maker=False, fallback=True, slippage_bps=0.0))
    return IntentTca(intent_id=f"i{i}", symbol="X", side=Side.BUY, mode="maker_first", qty=2.0, fills=fills,
                     fallback=fallback, reprices=reprices)


def test_rules() -> None:
    rc = RouterConfig(maker_timeout_s=5.0)
    early = [rec(i, fallback=True, maker_t=1.0 if i == 0 else None, reprices=3) for i in range(4)]
    ev = evidence(early)
    assert ev["fallback_rate"] == 1.0 and ev["maker_fill_max_s"] == 1.0 and ev["reprices_per_execution"] == 3.0
    assert propose(ev, rc) == {"maker_timeout_s": -1, "reprice_ticks": +1, "max_reprices": -1}  # share 0.2 > 0.1
    late = [rec(i, fallback=True, maker_t=4.0) for i in range(4)]
    assert propose(evidence(late), rc) == {"maker_timeout_s": +1, "reprice_ticks": -1}
    none = [rec(i, fallback=True) for i in range(4)]
    assert propose(evidence(none), rc)["mode"] == -1  # no maker fill at all: taker is proposed
    good = [rec(i, fallback=False, maker_t=1.0) for i in range(4)]
    assert propose(evidence(good), rc) == {}


def _tuner(tmp_path: Path, apply: bool) -> tuple[Autotune, list[RouterConfig], list[RouterAutotune], Journals]:
    bus = Bus()
    events: list[RouterAutotune] = []
    bus.subscribe(RouterAutotune, events.append)
    configs: list[RouterConfig] = []
    journals = Journals(tmp_path)
    rc = RouterConfig(maker_timeout_s=1.0)
    rc = msgspec.structs.replace(rc, autotune=msgspec.structs.replace(rc.autotune, window=4, confirm=2,
                                                                      timeout_min_s=0.7))
    t = Autotune(rc, apply=apply, bus=bus, clock=EventClock(), journal=journals.writer("router_autotune"),
                 set_config=configs.append)
    return t, configs, events, journals


def test_observe_only_never_applies(tmp_path: Path) -> None:
    t, configs, events, journals = _tuner(tmp_path, apply=False)
    for i in range(12):
        t.observe(rec(i, fallback=True, reprices=1))  # every window: shorter timeout, taker mode
    journals.close()
    assert configs == [] and t.rc.maker_timeout_s == 1.0
    assert [e.windows for e in events] == [1, 2, 3] and all(e.applied == {} for e in events)
    assert events[-1].proposed == {"maker_timeout_s": 0.8, "mode": "taker"} and not events[-1].apply
    lines = [orjson.loads(x) for x in (tmp_path / "router_autotune.jsonl").read_bytes().splitlines()]
    assert [x["kind"] for x in lines] == ["proposal"] * 3 and lines[0]["data"]["evidence"]["fallback_rate"] == 1.0


def test_apply_steps_once_per_confirmed_window_within_bounds(tmp_path: Path) -> None:
    t, configs, events, journals = _tuner(tmp_path, apply=True)
    for i in range(24):
        t.observe(rec(i, fallback=True, reprices=1))
    journals.close()
    # window 1 proposes, window 2 confirms -> 1.0 / 1.25 = 0.8; the streak restarts: window 4 -> 0.7 (the floor)
    assert [e.applied for e in events] == [{}, {"maker_timeout_s": 0.8}, {}, {"maker_timeout_s": 0.7}, {}, {}]
    assert [c.maker_timeout_s for c in configs] == [0.8, 0.7] and t.rc.mode == "maker_first"  # mode: never applied
    assert events[-1].proposed == {"mode": "taker"}  # at the bound: no timeout step left
    kinds = [orjson.loads(x)["kind"] for x in (tmp_path / "router_autotune.jsonl").read_bytes().splitlines()]
    assert kinds.count("applied") == 2


def costed(i: int, *, cost_bps: float = 0.0, opportunity_bps: float = 0.0, markout_5s: float | None = None,
           fallback: bool = False, reprices: int = 0) -> IntentTca:
    """A closed record (buy 2 at an arrival mid of 100): one maker fill of 1 costing ``cost_bps`` (with a
    5 s markout when given), the unfilled 1 marked where ``opportunity_bps`` of the wanted 2 puts it."""
    fill = TcaFill(t_s=1.0, qty=1.0, price=100.0 * (1 + cost_bps / 1e4), fee=0.0, maker=True, fallback=False,
                   slippage_bps=cost_bps, markout_bps={} if markout_5s is None else {"5s": markout_5s})
    r = IntentTca(intent_id=f"c{i}", symbol="X", side=Side.BUY, mode="maker_first", qty=2.0, arrival_mid=100.0,
                  end_mid=100.0 * (1 + 2 * opportunity_bps / 1e4), fills=[fill], fallback=fallback, reprices=reprices)
    r.close()
    return r


def with_(rc: RouterConfig, **kw: object) -> RouterConfig:
    return msgspec.structs.replace(rc, **kw)


def test_reprice_limit_rule() -> None:
    rc = RouterConfig()
    chasing = evidence([rec(i, fallback=True, reprices=3) for i in range(4)])
    assert propose(chasing, rc)["max_reprices"] == -1
    assert stepped(rc, "max_reprices", -1) == 8  # no limit (0) -> the loosest limit, reprices_max
    assert stepped(with_(rc, max_reprices=3), "max_reprices", -1) == 2
    assert stepped(with_(rc, max_reprices=1), "max_reprices", -1) is None  # reprices_min
    assert stepped(rc, "max_reprices", +1) is None  # no limit is already the loosest
    binding = evidence([rec(i, fallback=True, reprices=2) for i in range(4)])  # 2 per execution, limit 2
    assert propose(binding, with_(rc, max_reprices=2))["max_reprices"] == +1
    assert stepped(with_(rc, max_reprices=2), "max_reprices", +1) == 3
    assert "max_reprices" not in propose(binding, rc)  # no limit: nothing binds


def test_offset_rule() -> None:
    rc = RouterConfig()
    run_over = evidence([costed(i, markout_5s=-2.0) for i in range(4)])
    assert run_over["maker_markout_5s_bps"] == -2.0 and run_over["fallback_rate"] == 0.0
    assert propose(run_over, rc) == {"maker_offset_ticks": +1}  # -2 < -adverse_markout_bps (1.0)
    assert stepped(rc, "maker_offset_ticks", +1) == 1
    assert stepped(with_(rc, maker_offset_ticks=3), "maker_offset_ticks", +1) is None  # offset_max_ticks
    assert propose(evidence([costed(i, markout_5s=-0.5) for i in range(4)]), rc) == {}  # mild: stays
    no_fill = evidence([rec(i, fallback=True, reprices=1) for i in range(4)])
    assert propose(no_fill, with_(rc, maker_offset_ticks=2))["maker_offset_ticks"] == -1
    assert "maker_offset_ticks" not in propose(no_fill, rc)  # already at the touch
    assert stepped(with_(rc, maker_offset_ticks=2), "maker_offset_ticks", -1) == 1


def test_twap_rules() -> None:
    rc = RouterConfig()
    ran_away = evidence([costed(i, opportunity_bps=10.0) for i in range(4)])
    assert ran_away["opportunity_bps"] == pytest.approx(10.0)
    assert propose(ran_away, rc) == {"twap.min_notional_usd": +1, "twap.slices": -1}  # slice less
    assert stepped(rc, "twap.min_notional_usd", +1) == 7500.0 and stepped(rc, "twap.slices", -1) == 4
    costly = evidence([costed(i, cost_bps=9.0) for i in range(4)])
    assert costly["cost_bps"] == pytest.approx(9.0)
    assert propose(costly, rc) == {"twap.min_notional_usd": -1, "twap.slices": +1}  # slice more
    assert stepped(rc, "twap.min_notional_usd", -1) == pytest.approx(3333.333333)
    assert stepped(rc, "twap.slices", +1) == 6
    top = with_(rc, twap=with_(rc.twap, slices=10, min_notional_usd=1200.0))  # twap_slices_max; near the floor
    assert stepped(top, "twap.slices", +1) is None and stepped(top, "twap.min_notional_usd", -1) == 1000.0
    assert propose(evidence([costed(i, cost_bps=7.0) for i in range(4)]), rc) == {}  # under cost_high_bps


def test_auto_margin_rule() -> None:
    rc = RouterConfig(mode="auto")
    fell_back = evidence([rec(i, fallback=True, maker_t=1.0, reprices=1) for i in range(4)])
    assert propose(fell_back, rc)["auto.margin_bps"] == +1
    assert stepped(rc, "auto.margin_bps", +1) == 0.5
    resting_works = evidence([costed(i) for i in range(4)])  # no fallback, maker share 1
    assert propose(resting_works, rc) == {"auto.margin_bps": -1}
    assert stepped(rc, "auto.margin_bps", -1) is None  # already 0
    assert stepped(with_(rc, auto=with_(rc.auto, margin_bps=1.0)), "auto.margin_bps", -1) == 0.5
    assert "auto.margin_bps" not in propose(fell_back, RouterConfig())  # maker_first: no auto threshold


def test_apply_one_parameter_per_window_in_priority_order(tmp_path: Path) -> None:
    t, configs, events, journals = _tuner(tmp_path, apply=True)
    t.rc = with_(t.rc, autotune=with_(t.rc.autotune, confirm=1))
    for i in range(8):  # two windows: opportunity cost -> twap.slices and twap.min_notional_usd both proposed
        t.observe(costed(i, opportunity_bps=10.0))
    journals.close()
    assert [e.applied for e in events] == [{"twap.slices": 4}, {"twap.slices": 3}]  # slices first, one per window
    assert events[-1].proposed == {"twap.slices": 3, "twap.min_notional_usd": 7500.0}  # the step it applied
    assert [(c.twap.slices, c.twap.min_notional_usd) for c in configs] == [(4, 5000.0), (3, 5000.0)]
    assert events[-1].params["twap.slices"] == 3 and events[-1].evidence["opportunity_bps"] == pytest.approx(10.0)


def _window(draw: st.DrawFn) -> list[IntentTca]:
    n = 4
    return [costed(i, cost_bps=draw(st.floats(-5, 20)), opportunity_bps=draw(st.floats(-5, 20)),
                   markout_5s=draw(st.one_of(st.none(), st.floats(-5, 5))), fallback=draw(st.booleans()),
                   reprices=draw(st.integers(0, 5))) for i in range(n)]


windows = st.composite(_window)


def in_bounds(rc: RouterConfig) -> bool:
    for name in APPLICABLE:
        lo, hi = bounds(rc.autotune, name)
        v = float(value(rc, name))
        if not (lo <= v <= hi or (name == "max_reprices" and v == 0)):
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(seq=st.lists(windows(), min_size=1, max_size=12), mode=st.sampled_from(["maker_first", "auto"]),
       confirm=st.integers(1, 2))
def test_any_sequence_of_windows_stays_in_bounds_one_change_per_window(seq: list[list[IntentTca]], mode: str,
                                                                       confirm: int) -> None:
    rc = RouterConfig(mode=mode)  # type: ignore[arg-type]
    rc = with_(rc, autotune=with_(rc.autotune, window=4, confirm=confirm))
    configs: list[RouterConfig] = []
    t = Autotune(rc, apply=True, bus=Bus(), clock=EventClock(), journal=None, set_config=configs.append)
    before = rc
    for w in seq:
        for r in w:
            t.observe(r)
        changed = [n for n in (*APPLICABLE, "mode") if value(t.rc, n) != value(before, n)]
        assert len(changed) <= 1 and in_bounds(t.rc) and t.rc.mode == mode
        if changed:
            assert configs[-1] is t.rc  # applied through the executor's set_config
        before = t.rc
