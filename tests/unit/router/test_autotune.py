"""Router autotune: its rules, the bounds, the hysteresis, and that nothing is applied with the apply flag off."""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson

from hedge.bus import Bus
from hedge.config import RouterConfig
from hedge.events import RouterAutotune, Side
from hedge.model.clock import EventClock
from hedge.router.autotune import Autotune, evidence, propose
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
    assert propose(ev, rc) == {"maker_timeout_s": -1, "reprice_ticks": +1}  # maker share 0.2: above 0.1
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
