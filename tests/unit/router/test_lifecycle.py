"""Order lifecycle: every transition, deterministic client ids, one live order per intent, pending record."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.events import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedge.router.lifecycle import (
    CLIENT_ID_RE,
    LIVE,
    TRANSITIONS,
    Lifecycle,
    LiveOrderExists,
    Outcome,
    client_order_id,
    client_order_id_at,
    order_id_prefix,
)
from hedge.router.pending import PendingOrders

S = OrderStatus


def req(cid: str = "c1", intent: str = "i1") -> OrderRequest:
    return OrderRequest(client_order_id=cid, intent_id=intent, symbol="BTCUSDT", side=Side.BUY,
                        type=OrderType.LIMIT, qty=0.01, price=67000.0, tif=TimeInForce.GTX)


def at(status: OrderStatus, filled: float = 0.0) -> Lifecycle:
    """A lifecycle holding order c1, driven into ``status`` through legal steps."""
    lc = Lifecycle()
    lc.open(req())
    path = {
        S.PENDING: [], S.UNKNOWN: [S.UNKNOWN], S.NEW: [S.NEW], S.PARTIALLY_FILLED: [S.NEW, S.PARTIALLY_FILLED],
        S.FILLED: [S.NEW, S.FILLED], S.CANCELED: [S.NEW, S.CANCELED], S.EXPIRED: [S.NEW, S.EXPIRED],
        S.REJECTED: [S.REJECTED],
    }[status]
    for s in path:
        fq = 0.004 if s is S.PARTIALLY_FILLED else 0.01 if s is S.FILLED else None
        assert lc.apply("c1", s, filled_qty=fq) is Outcome.APPLIED
    assert lc.orders["c1"].status is status
    return lc


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(list(S), list(S))))
def test_every_transition(src: OrderStatus, dst: OrderStatus) -> None:
    lc = at(src)
    rec = lc.orders["c1"]
    before = (rec.status, rec.filled_qty)
    fq = 0.008 if dst is S.PARTIALLY_FILLED else 0.01 if dst is S.FILLED else None
    out = lc.apply("c1", dst, filled_qty=fq)
    if src is dst and dst is not S.PARTIALLY_FILLED:
        assert out in (Outcome.DUPLICATE, Outcome.STALE)
    elif dst in TRANSITIONS[src]:
        assert out is Outcome.APPLIED and rec.status is dst
    else:
        assert out in (Outcome.ILLEGAL, Outcome.STALE)
        assert (rec.status, rec.filled_qty) == before  # refused: nothing changed
    # the live map follows the status
    assert (lc.live_order("i1") is rec) == (rec.status in LIVE)


def test_refusals_are_counted_by_kind() -> None:
    lc = at(S.FILLED)
    assert lc.apply("c1", S.NEW) is Outcome.STALE  # the ack after the stream's FILLED
    assert lc.apply("c1", S.CANCELED) is Outcome.ILLEGAL
    lc2 = at(S.PARTIALLY_FILLED)
    assert lc2.apply("c1", S.PARTIALLY_FILLED, filled_qty=0.002) is Outcome.STALE  # fills never decrease
    assert lc2.apply("c1", S.REJECTED) is Outcome.ILLEGAL
    assert lc2.apply("zz", S.NEW) is Outcome.UNKNOWN_ORDER
    assert (lc.stats.stale, lc.stats.illegal, lc2.stats.stale, lc2.stats.illegal, lc2.stats.unknown_order) == (
        1, 1, 1, 1, 1)


def test_one_live_order_per_intent() -> None:
    lc = Lifecycle()
    lc.open(req("c1"))
    with pytest.raises(LiveOrderExists):
        lc.open(req("c2"))
    lc.apply("c1", S.NEW)
    with pytest.raises(LiveOrderExists):
        lc.open(req("c2"))
    lc.apply("c1", S.CANCELED)
    lc.open(req("c2"))  # the first is final: the next attempt may go
    with pytest.raises(LiveOrderExists):
        lc.open(req("c1", intent="other"))  # a used client id is never reused for a new order


def test_unknown_resend_keeps_the_id_and_is_only_from_unknown() -> None:
    lc = at(S.UNKNOWN)
    rec = lc.resend("c1")
    assert rec.status is S.PENDING and rec.client_order_id == "c1" and rec.resends == 1
    lc.apply("c1", S.NEW)
    with pytest.raises(ValueError):
        lc.resend("c1")


@given(st.text(min_size=0, max_size=200), st.integers(0, 9999), st.integers(0, 99999))
def test_client_ids_are_valid_and_deterministic(intent: str, slice_no: int, attempt: int) -> None:
    cid = client_order_id(intent, slice_no, attempt)
    assert CLIENT_ID_RE.match(cid) and len(cid) <= 36
    assert cid == client_order_id(intent, slice_no, attempt)  # a restart regenerates the same id
    assert cid != client_order_id(intent, slice_no, attempt + 1)
    assert cid != client_order_id(intent + "x", slice_no, attempt)
    assert cid == client_order_id_at(order_id_prefix(intent), slice_no, attempt)  # an execution's ids


def test_client_ids_stay_what_earlier_versions_sent() -> None:
    """A restarted process must regenerate the ids its predecessor sent (the pending record's query)."""
    assert client_order_id("micro_scalper-BTCUSDT-4984028646838", 1, 2) == "had2080a1515bce3f-1-2"


def test_pending_record_survives_a_crash_and_compacts(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pending_orders.jsonl"
    p = PendingOrders(path)
    assert p.load() == []
    p.add(req("c1", "i1"), 0)
    p.add(req("c2", "i2"), 3)
    p.remove("c1")
    # "crash": no close(); a torn last line as if killed mid-write
    with open(path, "ab") as f:
        f.write(b'{"op":"open","cid":"c3","requ')
    p2 = PendingOrders(path)
    left = p2.load()
    assert [(e.cid, e.slice_no) for e in left] == [("c2", 3)]
    assert left[0].request == req("c2", "i2")
    assert p2.torn == 1
    assert path.read_bytes().count(b"\n") == 1  # compacted to the open entries only
    p2.remove("c2")
    p2.close()
    assert PendingOrders(path).load() == []
