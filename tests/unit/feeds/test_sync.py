"""BookSync (Binance's local-book procedure) and the rate-limited SnapshotScheduler.

The hypothesis test drives random diff chains with drops, duplicates and swaps, serving
snapshots late, and checks the safety property: every BookUpdate published as valid equals a
naive reference book at that update id, and a book that ends VALID equals the reference.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.events import BookState, BookStatus, BookUpdate, DepthDiff, DepthSnapshot
from hedge.feeds.sync import BookSync, SnapshotScheduler
from hedge.model.clock import EventClock

S = "BTCUSDT"


def diff(U: int, u: int, pu: int, bids: list[tuple[float, float]] = (), asks: list[tuple[float, float]] = ()) -> DepthDiff:  # type: ignore[assignment]
    return DepthDiff(symbol=S, first_id=U, final_id=u, prev_final_id=pu, bids=list(bids), asks=list(asks))


def snap(last_id: int, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> DepthSnapshot:
    return DepthSnapshot(symbol=S, last_update_id=last_id, bids=bids, asks=asks)


class Rig:
    def __init__(self) -> None:
        self.bus = Bus()
        self.updates: list[BookUpdate] = []
        self.status: list[BookStatus] = []
        self.requests: list[str] = []
        self.bus.subscribe(BookUpdate, self.updates.append)
        self.bus.subscribe(BookStatus, self.status.append)
        self.sync = BookSync(S, self.bus, request_snapshot=self.requests.append)


def test_binance_procedure_buffer_snapshot_drop_bridge_chain() -> None:
    r = Rig()
    r.sync.on_diff(diff(90, 95, 80, [(99.0, 9.0)]))
    r.sync.on_diff(diff(96, 105, 95, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.requests == [S]  # asked once, on the first buffered diff
    assert r.updates == [] and r.sync.state is BookState.SYNCING
    r.sync.on_snapshot(snap(100, [(100.0, 5.0), (99.0, 1.0)], [(101.0, 2.0)]))
    # 90..95 dropped (u < 100); 96..105 bridges (U <= 100 <= u) and is applied.
    assert r.sync.state is BookState.VALID and r.sync.last_u == 105
    assert [s.state for s in r.status] == [BookState.VALID]
    assert len(r.updates) == 1
    up = r.updates[0]
    assert (up.valid, up.update_id, up.bid_px, up.bid_qty, up.ask_px, up.ask_qty) == (True, 105, 100.0, 1.0, 101.0, 1.0)
    assert up.mid == 100.5 and up.spread_bps == pytest.approx(1.0 / 100.5 * 1e4)
    assert up.micro == pytest.approx((100.0 * 1.0 + 101.0 * 1.0) / 2.0)
    assert up.imbalance == pytest.approx((2.0 - 1.0) / 3.0)  # bids 1 + 1 (99.0 kept), asks 1
    r.sync.on_diff(diff(106, 110, 105, [], [(101.0, 0.0), (101.5, 3.0)]))
    assert r.updates[-1].ask_px == 101.5 and r.sync.stats.diffs_applied == 2


def test_gap_invalidates_at_once_and_resyncs() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0, [(100.0, 1.0)], [(101.0, 1.0)]))
    r.sync.on_snapshot(snap(5, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.VALID
    r.sync.on_diff(diff(21, 30, 20, [(100.0, 2.0)]))  # pu 20 != 10: gap
    assert r.sync.state is BookState.INVALID and r.sync.stats.gaps == 1
    assert r.updates[-1].valid is False  # latest-value consumers stop pricing at once
    assert r.status[-1].state is BookState.INVALID and "gap" in r.status[-1].reason
    assert r.requests == [S, S]
    n = len(r.updates)
    r.sync.on_diff(diff(31, 40, 30, [(100.0, 3.0)]))
    assert len(r.updates) == n  # nothing published while invalid
    r.sync.on_snapshot(snap(35, [(100.0, 2.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.VALID and r.updates[-1].valid and r.updates[-1].bid_qty == 3.0
    assert r.sync.stats.resyncs == 1


def test_duplicate_and_late_diffs_are_stale_not_gaps() -> None:
    r = Rig()
    d1 = diff(1, 10, 0, [(100.0, 1.0)], [(101.0, 1.0)])
    d2 = diff(11, 20, 10, [(100.0, 2.0)])
    r.sync.on_diff(d1)
    r.sync.on_snapshot(snap(5, [], []))
    r.sync.on_diff(d2)
    r.sync.on_diff(d2)
    r.sync.on_diff(d1)
    assert r.sync.state is BookState.VALID and r.sync.stats.stale_diffs == 2 and r.sync.stats.gaps == 0
    assert r.sync.book.best_bid() == (100.0, 2.0)


def test_snapshot_older_than_buffer_is_refused_and_asked_again() -> None:
    r = Rig()
    r.sync.on_diff(diff(50, 60, 40, [(100.0, 1.0)], [(101.0, 1.0)]))
    r.sync.on_snapshot(snap(30, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.INVALID and r.sync.stats.snapshots_stale == 1
    assert r.requests == [S, S] and not any(u.valid for u in r.updates)
    r.sync.on_snapshot(snap(55, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.VALID


def test_snapshot_newer_than_buffer_waits_for_bridging_diff() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0))
    r.sync.on_snapshot(snap(15, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.SYNCING
    r.sync.on_diff(diff(11, 20, 10, [(100.0, 4.0)]))
    assert r.sync.state is BookState.VALID and r.updates[-1].bid_qty == 4.0


def test_crossed_snapshot_rejected_and_crossed_diff_invalidates() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0))
    r.sync.on_snapshot(snap(5, [(102.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.INVALID and r.sync.stats.snapshots_rejected == 1
    assert r.sync.book.depth() == (0, 0) and r.requests == [S, S]
    r.sync.on_snapshot(snap(5, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.VALID
    r.sync.on_diff(diff(11, 20, 10, [(101.0, 1.0)]))  # bid reaches the ask
    assert r.sync.state is BookState.INVALID and r.sync.stats.crossed == 1
    assert not r.updates[-1].valid and not any(u.valid and u.update_id == 20 for u in r.updates)


def test_snapshot_ignored_while_valid_and_external_invalidate() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0, [(100.0, 1.0)], [(101.0, 1.0)]))
    r.sync.on_snapshot(snap(5, [], []))
    r.sync.on_snapshot(snap(7, [(1.0, 1.0)], [(2.0, 1.0)]))
    assert r.sync.stats.snapshots_ignored == 1 and r.sync.book.best_bid() == (100.0, 1.0)
    r.sync.invalidate("disconnected", 1)
    assert r.sync.state is BookState.INVALID and r.status[-1].reason == "disconnected" and not r.updates[-1].valid
    r.sync.invalidate("disconnected", 1)
    assert r.sync.stats.resyncs == 1  # already invalid: no second transition


def test_one_sided_book_is_never_valid() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0, [(100.0, 1.0)]))
    r.sync.on_snapshot(snap(5, [], []))
    assert r.sync.state is BookState.VALID and r.updates[-1].valid is False and r.updates[-1].mid == 0.0


# --------------------------------------------------------------------------- property


def _chain(rng: random.Random, n: int) -> list[DepthDiff]:
    out, u = [], 100
    for _ in range(n):
        U = u + 1 + rng.randrange(3)
        nu = U + rng.randrange(4)
        bids = [(float(rng.randrange(90, 100)), rng.choice([0.0, 1.0, 2.5])) for _ in range(rng.randrange(4))]
        asks = [(float(rng.randrange(101, 111)), rng.choice([0.0, 1.0, 2.5])) for _ in range(rng.randrange(4))]
        out.append(diff(U, nu, u, bids, asks))
        u = nu
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), faults=st.lists(st.sampled_from("....dDsl"), min_size=30, max_size=30))
def test_valid_updates_always_equal_reference(seed: int, faults: list[str]) -> None:
    rng = random.Random(seed)
    clean = _chain(rng, 30)
    base_b = [(float(p), 1.0) for p in range(90, 100)]
    base_a = [(float(p), 1.0) for p in range(101, 111)]
    # Reference states after each clean diff, from a naive dict book.
    states: list[tuple[dict[float, float], dict[float, float]]] = []
    rb, ra = dict(base_b), dict(base_a)
    for d in clean:
        for side, lv in ((rb, d.bids), (ra, d.asks)):
            for px, q in lv:
                if q > 0:
                    side[px] = q
                else:
                    side.pop(px, None)
        states.append((dict(rb), dict(ra)))
    by_u = {d.final_id: i for i, d in enumerate(clean)}
    # The faulty stream: d = drop, D = duplicate, s = swap with next, l = deliver the snapshot late.
    stream: list[int] = []
    i = 0
    while i < len(clean):
        f = faults[i]
        if f == "d":
            pass
        elif f == "D":
            stream += [i, i]
        elif f == "s" and i + 1 < len(clean):
            stream += [i + 1, i]
            i += 1
        else:
            stream.append(i)
        i += 1
    r = Rig()
    reached = -1
    pending = -1
    for k, idx in enumerate(stream):
        if r.requests and pending < 0:
            r.requests.clear()
            pending = k + (2 if faults[min(idx, 29)] == "l" else 0)
        if pending >= 0 and k >= pending and reached + 1 < len(clean):
            j = reached  # the exchange's state now: after clean diff j; its id sits inside diff j+1
            bids, asks = states[j] if j >= 0 else (dict(base_b), dict(base_a))
            pending = -1
            r.sync.on_snapshot(snap(clean[j + 1].first_id, list(bids.items()), list(asks.items())))
        reached = max(reached, idx)
        r.sync.on_diff(clean[idx])
    for up in r.updates:
        if up.valid:
            bids, asks = states[by_u[up.update_id]]
            assert (up.bid_px, up.bid_qty) == max(bids.items())
            assert (up.ask_px, up.ask_qty) == min(asks.items())
            assert up.bid_px < up.ask_px
    if r.sync.state is BookState.VALID:
        bids, asks = states[by_u[r.sync.last_u]]
        assert r.sync.book.bids(100) == sorted(bids.items(), reverse=True)
        assert r.sync.book.asks(100) == sorted(asks.items())
    if "d" not in faults and "s" not in faults:
        assert r.sync.stats.gaps == 0


# --------------------------------------------------------------------------- scheduler


class FakeTime:
    """An event clock that moves only by the scheduler's (skipped) sleeps."""

    def __init__(self) -> None:
        self.clock = EventClock(1000 * 1_000_000_000)
        self.sleeps: list[float] = []

    @property
    def now(self) -> float:
        return self.clock.now_s()

    async def sleep(self, s: float) -> None:
        self.sleeps.append(round(s, 6))
        self.clock.advance_s(s)
        await asyncio.sleep(0)


async def test_scheduler_rate_limits_coalesces_and_retries() -> None:
    t = FakeTime()
    got: list[DepthSnapshot] = []
    calls: list[tuple[str, float]] = []
    fail = {"n": 1}

    async def fetch(symbol: str) -> DepthSnapshot:
        calls.append((symbol, t.now))
        if symbol == "ETHUSDT" and fail["n"]:
            fail["n"] -= 1
            raise OSError("connection reset")
        return snap(len(calls), [], [])

    sched = SnapshotScheduler(fetch, got.append, min_interval_s=2.0, clock=t.clock, sleep=t.sleep)
    sched.request(S)
    sched.request(S)  # coalesced with the one in flight
    sched.request("ETHUSDT")
    for _ in range(10):
        await asyncio.sleep(0)
    assert calls[:2] == [(S, 1000.0), ("ETHUSDT", 1000.0)]
    sched.request(S)  # right after the first: must wait out the 2 s interval
    for _ in range(20):
        await asyncio.sleep(0)
    assert [c for c in calls if c[0] == S] == [(S, 1000.0), (S, 1002.0)]
    assert [c for c in calls if c[0] == "ETHUSDT"] == [("ETHUSDT", 1000.0), ("ETHUSDT", 1002.0)]  # retried after 2 s
    assert sched.failures == 1 and sched.fetched == 3 and len(got) == 3
    await sched.close()


def test_bridging_diff_that_crosses_never_reports_valid() -> None:
    r = Rig()
    r.sync.on_diff(diff(1, 10, 0, [(101.5, 1.0)]))  # crosses the snapshot's ask
    r.sync.on_snapshot(snap(5, [(100.0, 1.0)], [(101.0, 1.0)]))
    assert r.sync.state is BookState.INVALID and r.sync.stats.crossed == 1
    assert [s.state for s in r.status] == [BookState.INVALID]
    assert not any(u.valid for u in r.updates)
