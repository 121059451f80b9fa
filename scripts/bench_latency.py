"""Benchmark live tick -> order-sent latency: the daemon's engine and its local exchange in one process.

The real daemon wiring (``hedge.daemon.wiring.Daemon``, venue ``local``): the local exchange plays the
bundled BTCUSDT recording, the market feed receives it over loopback websockets, and the decision
chain (book -> features -> strategy -> risk -> router) runs on the bus. For the first order of
every intent we measure from the local receive time of the frame that caused it (``recv_ns`` of
the tick, carried as ``OrderIntent.tick_ns``) to the moment the router hands the request to the
venue call (``BinanceVenue.place`` entered, before ccxt signs and sends it). A livelier strategy
config than the default (lower entry threshold, short cooldown, placeable sizes) makes enough
samples; the market plays at ``--speed``.

Context figures: ``decided_*`` stop at the OrderRequest publish (the synchronous chain);
``decided_hot_*`` time that same span with the same config when the recording is replayed back to
back in this process (``hedge.replay``, simulated venue: every frame follows the last at once), and
``cold_factor`` is the ratio. In a replay the OrderRequest reaches its subscribers after the eager
placement, so ``decided_hot_*`` includes the simulated venue's matching; ``placed_hot_*`` stops
where the live headline does (the venue's ``place`` entered). "Hot" is relative: an intent's path
runs once per ~2,000 frames there too (~15 ms of replay between intents: as cold as live, which is why
``decided_hot_*`` is far from the per-stage benchmarks). A second replay pass makes it truly hot:
right before each frame that placed an order in the first pass, the decision path is rehearsed 20
times back to back (``hedge.daemon.warm``'s rehearsals: intent build, risk check, router decision up
to the request, its encoded lines and record; they keep nothing, so the same frames place the same
orders, which the bench asserts). ``placed_rehearsed_*`` / ``decided_rehearsed_*`` time those frames
as ``placed_hot_*`` / ``decided_hot_*`` do; ``rehearsal_chain_hot_p50_us`` is one rehearsal of the
whole path hot (the 2nd-20th of each burst: the floor of the decision path's pure work, no bus
fan-out, system call, decode, book or features), ``rehearsal_chain_first_p50_us`` the first of each
burst (as cold as the replay leaves it). ``cpu_pct``: the process's CPU time over the live run
(engine and local exchange); ``--warm`` turns ``features.warm_decision_path`` on
(``hedge.daemon.warm``: the decision path rehearsed every 2 ms) to measure what it buys and costs.
``trivial_call_*`` time one dict store hot vs right after 20 ms of
idle. ``floor_*`` is the live floor, measured in the same run (``FloorDesk``): the throughput floor
loop of ``bench_pipeline.py`` (msgspec decode, dict/bisect book, a quote) fed the daemon's own
streams by the same local exchange at the same speed, placing on a depth frame that changed the top
of the book (0.5 s apart): ``floor_p50_us`` is receive -> its ``place`` entered, the least any Python
engine spends on the frames that trigger the daemon's intents (``floor_frame_p50_us``: every depth
frame handled). ``chain_hot_*`` is the whole chain truly hot (``chain_back_to_back``): synthetic
depth frames that flip the book's imbalance, replayed back to back after a prefix of the recording,
so that every frame runs the same path to an order (frame entry -> ``place()``; the router's share).
On this machine (2 shared KVM vCPUs) code that has not run for a few milliseconds runs many
times slower than hot (a 1 us hash + regex call: 2-3 us after 1 ms, 16-41 us after 10 ms, with the
CPU spinning or idle in between): the intent path runs ~10 times a second, between a few thousand other
frames, so live it is cold, while the per-stage benchmarks (bench_signals/bench_risk/bench_router)
run it hot.

The router writes the order's request line to its file right before the venue call and waits
until the answers and fills journaled before it are fdatasynced (docs/state.md), so the span
includes that; ``--no-fsync`` measures it without the fdatasync (the cost of durability is the
difference; ``journal_fsync`` in the JSON says which).

Stages (``stage_<name>_p50_us``, ``Stages``): the same samples split at stamps taken from outside
the engine (a wrapped dispatcher entry, bus subscriptions added last, wrapped ``place_io`` and
``place``); ``durable_waits`` counts placements (all, not only first ones) that had to wait for a
sync. The bench's subscriptions take the bus's urgent lane (hedge/bus.py): the order path (risk,
router) runs ahead of the observers of the events queued before it, so an observer's stamp (or its
record of an intent's tick) would come after the venue call; in the lane a stamp follows the engine's
urgent handlers of its event. ``features`` and ``signal`` then stamp the end of the frame's
BookUpdate dispatch (the signal stage's handler included) and ``intent`` the risk check.

Usage: .venv/bin/python scripts/bench_latency.py [--seconds 30] [--speed 4] [--no-fsync] [--warm]
Last line: one JSON object (p50_us, p99_us, mean_us, max_us, samples, ...).

Owns: this benchmark's scenario, measurements and report.

Must never: change engine code paths to measure them (it wraps the venue call from outside).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from bisect import bisect_left, insort
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import websockets
from bench_pipeline import _Depth, _Frame

from hedge.app import run_async
from hedge.config import Config, load_config
from hedge.daemon.wiring import Daemon
from hedge.events import BookUpdate, Features, OrderIntent, OrderRequest, RiskDecision, Signal
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import endpoints, stream_names, stream_urls
from hedge.feeds.dispatch import FrameDispatcher
from hedge.feeds.recording import RecordedLine, bundled_btcusdt
from hedge.model.clock import LiveClock
from hedge.replay.runner import Replay
from hedge.router.stage import RouterStage
from hedge.venue.base import OrderAck

ROOT = Path(__file__).resolve().parents[1]


def lively(cfg: Config, log_dir: str, speed: float, *, fsync: bool = True, warm: bool = False) -> Config:
    st = cfg.strategy
    entries = [
        msgspec.structs.replace(e, params={**e.params, "entry_threshold": 0.15, "cooldown_s": 0.5})
        if e.name == "micro_scalper" else e
        for e in st.strategies
    ]
    rt = cfg.runtime
    return msgspec.structs.replace(
        cfg,
        strategy=msgspec.structs.replace(st, strategies=entries, per_trade_nav_pct=0.03),
        runtime=msgspec.structs.replace(
            rt, log_dir=log_dir, metrics=msgspec.structs.replace(rt.metrics, port=0),
            local_exchange=msgspec.structs.replace(rt.local_exchange, speed=speed),
            journal=msgspec.structs.replace(rt.journal, fsync=fsync),
            features=msgspec.structs.replace(rt.features, warm_decision_path=warm),
        ),
        # the expected-return gate off: the calibrated default stays out of this market, and a latency
        # bench times the path an order takes, not the strategy's judgement
        risk=msgspec.structs.replace(
            cfg.risk, pi_min_bps=-1e9,
            kill_switch=msgspec.structs.replace(cfg.risk.kill_switch, flag_file=f"{log_dir}/KILL"),
        ),
    )


async def cold_call_us(gap_s: float, n: int = 100) -> float:
    """p50 of one trivial function call made right after the loop slept ``gap_s`` (the machine's
    price of running code that went cold while the process idled; 0 = back to back)."""
    sink: dict[int, int] = {}

    def touch(i: int) -> None:
        sink[i % 7] = i

    out: list[float] = []
    for i in range(n):
        await asyncio.sleep(gap_s)
        t = time.perf_counter_ns()
        touch(i)
        out.append((time.perf_counter_ns() - t) / 1e3)
    return round(pct(out, 0.5), 2)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


STAGES = ("dispatch", "book", "features", "signal", "intent", "decision", "request", "task", "place")


class Stages:
    """Per-stage stamps of the frame being handled, read from outside the engine: the dispatcher's
    entry (wrapped), then each bus event of the chain once it reached every subscriber (the bench
    subscribes last), the router's venue task starting (``task``: ``OrderDesk.place_io`` entered)
    and the venue call (``place``; ``task`` -> ``place`` is the pending record, the journal commit
    and the durability wait). In the engine clock's ns, like ``recv_ns``. Each stage is timed from the stamp before it
    in time; one stamped after ``place`` is left out (with the venue task started eagerly, inside
    the router's decision handler, the RiskDecision and OrderRequest fan-outs end after the call:
    ``intent`` -> ``task`` is then the risk check and the router's decision together)."""

    def __init__(self, now_ns: Any) -> None:
        self.now_ns = now_ns
        self.recv_ns = 0
        self.cur: dict[str, int] = {}  # the frame being handled: stage -> stamp
        self.by_intent: dict[str, dict[str, int]] = {}  # intent -> its frame's stamps (first order only)
        self.deltas: dict[str, list[float]] = {s: [] for s in STAGES}

    def frame(self, recv_ns: int) -> None:
        self.recv_ns, self.cur = recv_ns, {"recv": recv_ns, "dispatch": self.now_ns()}

    def mark(self, stage: str, recv_ns: int) -> None:
        if recv_ns == self.recv_ns and stage not in self.cur:
            self.cur[stage] = self.now_ns()

    def intent(self, i: OrderIntent) -> None:
        if i.tick_ns == self.recv_ns:
            self.mark("intent", i.tick_ns)
            self.by_intent[i.intent_id] = self.cur

    def order(self, intent_id: str, stage: str) -> None:
        st = self.by_intent.get(intent_id)
        if st is not None and stage not in st:
            st[stage] = self.now_ns()
            if stage == "place":
                self._close(st)

    def _close(self, st: dict[str, int]) -> None:
        prev = st["recv"]
        for s in sorted((s for s in STAGES if s in st), key=lambda s: (st[s], STAGES.index(s))):
            self.deltas[s].append((st[s] - prev) / 1e3)
            prev = st[s]
            if s == "place":
                return

    def report(self) -> dict[str, float]:
        return {f"stage_{s}_p50_us": round(pct(v, 0.5), 1) for s, v in self.deltas.items() if v}


async def measure(cfg: Config, seconds: float) -> dict[str, Any]:
    hot, cold = await cold_call_us(0.0), await cold_call_us(0.02)
    stages = Stages(LiveClock().now_ns)
    plain_frame = FrameDispatcher.on_frame

    def timed_frame(self: FrameDispatcher, raw: bytes | str, recv_ns: int) -> None:
        stages.frame(recv_ns)
        plain_frame(self, raw, recv_ns)

    FrameDispatcher.on_frame = timed_frame  # type: ignore[method-assign]
    daemon = Daemon(cfg)
    engine = await daemon.start()
    assert daemon.setup is not None
    venue: Any = daemon.setup.venue
    stages.now_ns = engine.clock.now_ns
    for etype, stage in ((BookUpdate, "book"), (Features, "features"), (Signal, "signal")):
        engine.bus.subscribe(etype, lambda e, stage=stage: stages.mark(stage, e.recv_ns), urgent=True)
    engine.bus.subscribe(OrderIntent, stages.intent, urgent=True)
    engine.bus.subscribe(RiskDecision, lambda d: stages.order(d.intent.intent_id, "decision"), urgent=True)
    assert daemon.pipeline is not None
    desk: Any = daemon.pipeline.router.desk
    plain_place_io = desk.place_io
    group: Any = engine.journals.group
    plain_synced = group.synced
    waits = {"synced": 0, "waited": 0}

    async def timed_place_io(rec: Any, *args: Any) -> None:
        stages.order(rec.intent_id, "task")
        waits["synced"] += 1  # every placement checks its durability barrier (it calls ``synced`` only to wait)
        await plain_place_io(rec, *args)

    async def timed_synced(n: int) -> None:
        waits["waited"] += n > group.synced_seq
        await plain_synced(n)

    desk.place_io, group.synced = timed_place_io, timed_synced
    tick_ns: dict[str, int] = {}
    first: set[str] = set()
    lat_us: list[float] = []
    decided_us: list[float] = []  # tick -> OrderRequest published (the synchronous chain)
    published: set[str] = set()

    intent_us: list[float] = []  # tick -> OrderIntent published (decode, book, features, strategy)

    def on_intent(i: OrderIntent) -> None:
        tick_ns[i.intent_id] = i.tick_ns
        intent_us.append((time.time_ns() - i.tick_ns) / 1e3)

    def on_request(r: OrderRequest) -> None:
        stages.order(r.intent_id, "request")
        t = tick_ns.get(r.intent_id, 0)
        if t and r.intent_id not in published:
            published.add(r.intent_id)
            decided_us.append((time.time_ns() - t) / 1e3)

    engine.bus.subscribe(OrderIntent, on_intent, urgent=True)
    engine.bus.subscribe(OrderRequest, on_request, urgent=True)
    place = venue.place

    async def timed_place(req: OrderRequest) -> OrderAck:
        now = time.time_ns()
        stages.order(req.intent_id, "place")
        t = tick_ns.get(req.intent_id, 0)
        if t and req.intent_id not in first:
            first.add(req.intent_id)
            lat_us.append((now - t) / 1e3)
        ack: OrderAck = await place(req)
        return ack

    venue.place = timed_place
    task = asyncio.get_running_loop().create_task(engine.run(install_signals=False))
    cpu0 = time.process_time()
    try:
        await asyncio.sleep(seconds)
        cpu_s = time.process_time() - cpu0  # the process (engine and local exchange), all threads
    finally:
        engine.request_stop("benchmark done")
        await task
        await daemon.close()
        FrameDispatcher.on_frame = plain_frame  # type: ignore[method-assign]
    return stages.report() | {
        "durable_waits": waits["waited"], "durable_checks": waits["synced"],
        "bench": "latency",
        "what": "frame local receive -> venue.place entered (first order of each intent), live daemon + local exchange",
        "samples": len(lat_us),
        "intents": len(tick_ns),
        "p50_us": round(pct(lat_us, 0.50), 1),
        "p99_us": round(pct(lat_us, 0.99), 1),
        "mean_us": round(statistics.fmean(lat_us), 1) if lat_us else 0.0,
        "intent_p50_us": round(pct(intent_us, 0.50), 1),
        "decided_p50_us": round(pct(decided_us, 0.50), 1),
        "decided_p99_us": round(pct(decided_us, 0.99), 1),
        "max_us": round(max(lat_us), 1) if lat_us else 0.0,
        "trivial_call_hot_us": hot,
        "trivial_call_after_20ms_idle_us": cold,
        "seconds": seconds,
        "cpu_pct": round(100.0 * cpu_s / seconds, 1),
        "speed": cfg.runtime.local_exchange.speed,
    }


class FloorDesk:
    """The live floor: the least a Python engine can do with each frame it receives, the throughput
    floor loop's (``bench_pipeline.floor_loop``: msgspec decode, dict/bisect book, a quote) made live,
    plus an "order" (a tuple handed to ``place``) when the top of the book changed and ``cooldown_s`` passed since
    the last one, so that orders come about as often as the daemon's intents. Timed like the daemon:
    from the frame's local receive (right after ``recv()``) to ``place`` entered."""

    def __init__(self, cooldown_s: float) -> None:
        self.decode = msgspec.json.Decoder(_Frame, strict=False).decode
        self.bq: dict[float, float] = {}
        self.aq: dict[float, float] = {}
        self.bk: list[float] = []  # +price ascending, best last
        self.ak: list[float] = []  # -price ascending, best last
        self.quote = (0.0, 0.0, 0.0, 0.0)  # best bid, its size, best ask, its size
        self.cooldown_ns = int(cooldown_s * 1e9)
        self.last_order_ns = 0
        self.frame_us: list[float] = []  # every depth frame: receive -> handled
        self.order_us: list[float] = []  # frames that placed: receive -> place entered
        self.orders: list[tuple[str, str, float, float]] = []

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        try:
            d = self.decode(raw).data
        except msgspec.DecodeError:  # a stream the floor does not read (aggTrade, markPrice)
            return
        if type(d) is not _Depth:  # the daemon's intents come from depth frames (its BookUpdate); so do these
            return
        self._side(d.b, self.bq, self.bk, 1.0)
        self._side(d.a, self.aq, self.ak, -1.0)
        bid, ask = (self.bk[-1] if self.bk else 0.0), (-self.ak[-1] if self.ak else 0.0)
        quote = (bid, self.bq.get(bid, 0.0), ask, self.aq.get(ask, 0.0))
        if quote != self.quote:
            self.quote = quote
            if recv_ns - self.last_order_ns >= self.cooldown_ns and bid > 0.0:
                self.last_order_ns = recv_ns
                self.place(("BTCUSDT", "BUY", bid, 0.002), recv_ns)
        self.frame_us.append((time.time_ns() - recv_ns) / 1e3)

    @staticmethod
    def _side(levels: list[tuple[float, float]], q: dict[float, float], keys: list[float], sign: float) -> None:
        for p, size in levels:
            k = sign * p
            if size > 0:
                if p not in q:
                    insort(keys, k)
                q[p] = size
            elif q.pop(p, None) is not None:
                del keys[bisect_left(keys, k)]

    def place(self, order: tuple[str, str, float, float], recv_ns: int) -> None:
        self.order_us.append((time.time_ns() - recv_ns) / 1e3)
        self.orders.append(order)


async def floor_live(cfg: Config, seconds: float) -> dict[str, Any]:
    """``FloorDesk`` on the daemon's own streams from a local exchange playing the same recording at
    the same speed, in this process, for ``seconds``: what receiving a frame costs this machine live
    before any engine code (the floor under ``p50_us``)."""
    rt = cfg.runtime
    exchange = LocalExchange.from_config(rt.local_exchange, port=0)
    port = await exchange.start()
    desk = FloorDesk(cooldown_s=0.5)
    base = endpoints("local", rt.feeds, local_port=port).ws_base
    names = stream_names(cfg.strategy.universe, rt.feeds.streams, rt.feeds.depth_speed)

    async def pump(url: str) -> None:
        async with websockets.connect(url, max_size=None) as ws:
            while True:
                raw = await ws.recv(decode=False)
                desk.on_frame(raw, time.time_ns())

    pumps = [asyncio.create_task(pump(url)) for _, url, streams in
             stream_urls(base, names, paths=rt.feeds.stream_paths) if streams]
    try:
        await asyncio.sleep(seconds)
    finally:
        for t in pumps:
            t.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        await exchange.stop()
    return {"floor_p50_us": round(pct(desk.order_us, 0.5), 1), "floor_p99_us": round(pct(desk.order_us, 0.99), 1),
            "floor_samples": len(desk.order_us), "floor_frame_p50_us": round(pct(desk.frame_us, 0.5), 1),
            "floor_frames": len(desk.frame_us)}


REHEARSALS = 20  # rehearsals of the decision path right before a placing frame (``hot_chain``'s second pass)


def hot_chain(cfg: Config, log_dir: str, placing: dict[int, str] | None = None) -> dict[str, Any]:
    """The same synchronous chain, hot: the recording replayed at full speed in this process (the
    simulated venue, same config), timing frame entry -> first OrderRequest of each intent published
    while that frame is handled (the live ``decided_*`` span).

    ``placing`` (frame number -> symbol, the ``placing_frames`` of a first pass): right before each
    of those frames, the decision path is rehearsed ``REHEARSALS`` times back to back (the
    ``hedge.daemon.warm`` rehearsals: intent build, risk check, router decision; each chain timed
    into ``rehearsal_chain_*``), so the frame's own chain runs with that path hot. Rehearsals keep
    nothing, so the same frames place the same orders in both passes."""
    state = {"t0": 0, "in_frame": False, "frame": 0}
    seen: set[str] = set()
    out: list[float] = []
    plain = FrameDispatcher.on_frame
    placing_frames: dict[int, str] = {}
    rehearsed: list[float] = []
    rehearsals: tuple[Any, ...] = ()

    def timed(self: FrameDispatcher, raw: bytes | str, recv_ns: int) -> None:
        state["frame"] += 1
        symbol = placing.get(state["frame"]) if placing else None
        if symbol is not None:
            for _ in range(REHEARSALS):
                t = time.perf_counter_ns()
                for rehearse in rehearsals:
                    rehearse(symbol)
                rehearsed.append((time.perf_counter_ns() - t) / 1e3)
        state["in_frame"], state["t0"] = True, time.perf_counter_ns()
        try:
            plain(self, raw, recv_ns)
        finally:
            state["in_frame"] = False

    def on_request(r: OrderRequest) -> None:
        if state["in_frame"] and r.intent_id not in seen:
            seen.add(r.intent_id)
            out.append((time.perf_counter_ns() - state["t0"]) / 1e3)

    placed: list[float] = []  # frame entry -> the simulated venue's place() entered (the live headline's span)
    placed_ids: set[str] = set()
    FrameDispatcher.on_frame = timed  # type: ignore[method-assign]
    try:
        replay = Replay(cfg, bundled_btcusdt(), log_dir=log_dir)
        pipe: Any = replay.pipeline
        rehearsals = (pipe.signals.rehearse, pipe.risk.rehearse, pipe.router.rehearse)
        replay.engine.bus.subscribe(OrderRequest, on_request, urgent=True)
        venue: Any = replay.venue
        sim_place = venue.place

        def timed_place(req: OrderRequest) -> Any:
            if state["in_frame"] and req.intent_id not in placed_ids:
                placed_ids.add(req.intent_id)
                placed.append((time.perf_counter_ns() - state["t0"]) / 1e3)
                placing_frames[state["frame"]] = req.symbol
            return sim_place(req)

        venue.place = timed_place
        run_async(replay.run())
    finally:
        FrameDispatcher.on_frame = plain  # type: ignore[method-assign]
    if placing is not None:
        assert placing_frames == placing, "rehearsals changed which frames place an order"
        again = [x for i, x in enumerate(rehearsed) if i % REHEARSALS]  # the 2nd-20th of each burst
        return {"placed_rehearsed_p50_us": round(pct(placed, 0.50), 1),
                "decided_rehearsed_p50_us": round(pct(out, 0.50), 1),
                "rehearsal_chain_hot_p50_us": round(pct(again, 0.50), 1),
                "rehearsal_chain_first_p50_us": round(pct(rehearsed[::REHEARSALS], 0.50), 1)}
    return {"decided_hot_p50_us": round(pct(out, 0.50), 1), "decided_hot_p99_us": round(pct(out, 0.99), 1),
            "placed_hot_p50_us": round(pct(placed, 0.50), 1), "placed_hot_p99_us": round(pct(placed, 0.99), 1),
            "hot_samples": len(out), "placing_frames": placing_frames}


CHAIN_PREFIX = 20_000  # recorded lines replayed first (book synced, features and state built)
CHAIN_FRAMES = 400  # then this many synthetic depth frames, back to back


def every_frame_trades(cfg: Config) -> Config:
    """``cfg`` with every depth frame able to place: the scalper without threshold or cooldown, an SPRT that
    never switches it off, no cooloff (a latency bench times the path, not the strategy's judgement)."""
    st, risk = cfg.strategy, cfg.risk
    entries = [
        msgspec.structs.replace(e, params={**e.params, "entry_threshold": 0.0, "cooldown_s": 0.0})
        if e.name == "micro_scalper" else e
        for e in st.strategies
    ]
    scores = msgspec.structs.replace(st.scores, sprt_alpha=1e-9, sprt_beta=1e-9)
    cooloff = msgspec.structs.replace(risk.cooloff, consecutive_losses=10**9, consecutive_rejects=10**9)
    return msgspec.structs.replace(cfg, strategy=msgspec.structs.replace(st, strategies=entries, scores=scores),
                                   risk=msgspec.structs.replace(risk, cooloff=cooloff))


def chain_back_to_back(cfg: Config, log_dir: str) -> dict[str, Any]:
    """The whole chain truly hot: the recording's first ``CHAIN_PREFIX`` lines replayed (simulated venue,
    ``every_frame_trades(cfg)``), then ``CHAIN_FRAMES`` synthetic depth frames back to back, each
    setting the best bid's and the best ask's sizes so that the book's imbalance flips (buy, sell,
    buy...): the same code path on every frame, nothing else in between. Timed like ``hot_chain``:
    frame entry -> the venue's ``place()`` entered (``chain_hot_p50_us``, the live headline's span),
    and the router's share of it (``RouterStage.on_decision`` entered -> ``place()``,
    ``chain_hot_router_p50_us``), for frames that placed an order; the others were refused by the
    screener's or risk's limits (``chain_hot_refused``)."""
    cfg = every_frame_trades(cfg)
    state = {"synthetic": 0, "t0": 0, "router_t0": 0, "in_frame": 0}
    placed: list[float] = []
    router: list[float] = []
    seen: set[str] = set()
    plain_frame, plain_decision = FrameDispatcher.on_frame, RouterStage.on_decision

    def timed_frame(self: FrameDispatcher, raw: bytes | str, recv_ns: int) -> None:
        state["in_frame"], state["t0"] = 1, time.perf_counter_ns()
        try:
            plain_frame(self, raw, recv_ns)
        finally:
            state["in_frame"] = 0

    def timed_decision(self: RouterStage, d: RiskDecision) -> None:
        state["router_t0"] = time.perf_counter_ns()
        plain_decision(self, d)

    FrameDispatcher.on_frame = timed_frame  # type: ignore[method-assign]
    RouterStage.on_decision = timed_decision  # type: ignore[method-assign]
    try:
        replay = Replay(cfg, bundled_btcusdt(), log_dir=log_dir)
        source: Any = replay.source
        recorded = source.records
        symbol = cfg.strategy.universe[0]

        def records() -> Iterator[Any]:
            last = None
            for last in itertools.islice(recorded(), CHAIN_PREFIX):
                yield last
            assert last is not None
            ns, sync = last.recv_ns, source.dispatcher.book(symbol)
            state["synthetic"] = 1
            for i in range(CHAIN_FRAMES):
                bid, ask, u = sync.book.best_bid(), sync.book.best_ask(), sync.last_u
                ns += 100_000_000
                big, small = ("40.000", "0.010") if i % 2 == 0 else ("0.010", "40.000")
                data = {"e": "depthUpdate", "E": ns // 1_000_000, "T": ns // 1_000_000, "s": symbol, "U": u + 1,
                        "u": u + 1, "pu": u, "b": [[repr(bid[0]), big]], "a": [[repr(ask[0]), small]]}
                yield RecordedLine(ns, msgspec.json.encode({"stream": f"{symbol.lower()}@depth@100ms", "data": data}))

        source.records = records
        venue: Any = replay.venue
        sim_place = venue.place

        def timed_place(req: OrderRequest) -> Any:
            if state["synthetic"] and state["in_frame"] and req.intent_id not in seen:
                now = time.perf_counter_ns()
                seen.add(req.intent_id)
                placed.append((now - state["t0"]) / 1e3)
                router.append((now - state["router_t0"]) / 1e3)
            return sim_place(req)

        venue.place = timed_place
        run_async(replay.run())
    finally:
        FrameDispatcher.on_frame = plain_frame  # type: ignore[method-assign]
        RouterStage.on_decision = plain_decision  # type: ignore[method-assign]
    return {"chain_hot_p50_us": round(pct(placed, 0.50), 1), "chain_hot_p99_us": round(pct(placed, 0.99), 1),
            "chain_hot_router_p50_us": round(pct(router, 0.50), 1), "chain_hot_samples": len(placed),
            "chain_hot_refused": CHAIN_FRAMES - len(placed)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--speed", type=float, default=4.0)
    ap.add_argument("--no-fsync", action="store_true", help="journals written without fdatasync")
    ap.add_argument("--warm", action="store_true", help="features.warm_decision_path on (hedge.daemon.warm)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = lively(load_config(ROOT / "configs"), str(Path(tmp) / "logs"), args.speed, fsync=not args.no_fsync,
                     warm=args.warm)
        result = run_async(measure(cfg, args.seconds))
        result |= run_async(floor_live(cfg, args.seconds))
        result |= hot_chain(cfg, str(Path(tmp) / "replay"))
        result |= hot_chain(cfg, str(Path(tmp) / "rehearsed"), result.pop("placing_frames"))
        result |= chain_back_to_back(cfg, str(Path(tmp) / "chain"))
        result["journal_fsync"] = not args.no_fsync
        result["warm_decision_path"] = args.warm
        result["cold_factor"] = round(result["decided_p50_us"] / max(result["decided_hot_p50_us"], 1e-9), 1)
    print(f"tick -> order sent: p50 {result['p50_us']} us, p99 {result['p99_us']} us over {result['samples']} orders")
    print(f"the whole chain truly hot (every frame places, back to back): tick -> place() p50 "
          f"{result['chain_hot_p50_us']} us, of it the router {result['chain_hot_router_p50_us']} us")
    print(f"live floor (decode + dict book + a quote, same frames, same run): p50 {result['floor_p50_us']} us")
    print(f"the same chain (tick -> OrderRequest) live: p50 {result['decided_p50_us']} us; "
          f"hot (replayed back to back): p50 {result['decided_hot_p50_us']} us over {result['hot_samples']} intents")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
