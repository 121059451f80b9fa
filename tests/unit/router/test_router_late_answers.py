"""Unknown outcomes whose query answers arrive late: a "not found" is judged as of when it was asked.

Under load an answer can arrive after the user stream told something newer, or after the
recvWindow + 1 s deadline although it was asked before it. Neither may close or resend an order
that may rest at the exchange (the duplicate-safety trial's orphan: an order left open after its
execution ended).
"""

from __future__ import annotations

from pathlib import Path

from hedge.events import OrderRequest, OrderStatus, TimeInForce
from hedge.router.lifecycle import client_order_id
from hedge.venue.base import OrderUpdate
from hedge.venue.sim import SimVenue

from .rig import T0_NS, make_rig, unknown


async def test_a_not_found_older_than_the_streams_new_does_not_close_the_order(tmp_path: Path) -> None:
    # The placement's answer is lost (the client timed out) while its request is still inside the exchange.
    # The resolver's query is handled first ("not found"); then the late request executes and the user
    # stream reports the order NEW; only then does the query's answer reach the router.
    rig = await make_rig(tmp_path, maker_timeout_s=3.0)
    venue = rig.venue
    sent: list[OrderRequest] = []

    async def keep(req: OrderRequest) -> None:
        sent.append(req)

    venue.on_place = keep
    venue.fail_next("place", unknown(), accept=False)
    cid = client_order_id("i1", 0, 0)

    async def late_query(symbol: str, client_order_id: str) -> OrderUpdate | None:
        venue.calls.append(("query", client_order_id))
        answer = await SimVenue.query(venue, symbol, client_order_id)  # handled now: not there yet
        if client_order_id == cid and answer is None and cid not in venue.accepted:
            (req,) = [r for r in sent if r.client_order_id == cid]
            await SimVenue.place(venue, req)  # the late request executes; the user stream says NEW
            venue.accepted[cid] = req
        return answer  # "not found": older than the stream's NEW

    venue.query = late_query
    rig.decide()
    await rig.advance(0.5)  # the first query after backoff(0) = 0.4 s
    rec = rig.router.lifecycle.orders[cid]
    assert rec.status is OrderStatus.NEW, rec  # not CANCELED "proven absent" while it rests at the exchange
    assert [o.req.client_order_id for o in await venue.live()] == [cid]
    assert [c[0] for c in venue.calls].count("place") == 1  # no second order for the intent meanwhile
    # it is still driven: the maker timeout cancels it, the taker fallback follows; nothing is left open
    await rig.advance(3.0)
    await rig.router.idle()
    assert "i1" not in rig.router.executions
    assert await venue.live() == []
    gtx = next(o for o in await venue.orders() if o.req.client_order_id == cid)
    assert gtx.req.tif is TimeInForce.GTX and gtx.status is OrderStatus.CANCELED
    assert rig.router.task_errors == 0 and rig.router.lifecycle.stats.illegal == 0
    rig.journals.close()


async def test_a_not_found_asked_before_the_deadline_but_answered_after_it_is_no_proof(tmp_path: Path) -> None:
    # recvWindow 5 s: a request older than 6 s can never execute. The first query is asked at 0.4 s and its
    # "not found" arrives at 6.5 s: it says nothing about the exchange after 0.4 s, so nothing is resent
    # until a query asked after the deadline says "not found" too.
    rig = await make_rig(tmp_path, maker_timeout_s=60.0)
    venue = rig.venue
    venue.fail_next("place", unknown(), accept=False)
    cid = client_order_id("i1", 0, 0)
    slow = [True]

    async def slow_query(symbol: str, client_order_id: str) -> OrderUpdate | None:
        venue.calls.append(("query", client_order_id))
        answer = await SimVenue.query(venue, symbol, client_order_id)
        if slow[0]:
            slow[0] = False
            rig.clock.advance_to_ns(T0_NS + 6_500_000_000)  # the answer is handled this late
        return answer

    venue.query = slow_query
    rig.decide()
    await rig.advance(0.5)  # the first query, asked at 0.4 s, answered at 6.5 s
    assert [c[0] for c in venue.calls] == ["place", "query"]
    await rig.advance(0.1)
    assert [c[0] for c in venue.calls] == ["place", "query", "query", "place"]  # asked again, then resent
    rec = rig.router.lifecycle.orders[cid]
    assert rec.resends == 1 and rec.status is OrderStatus.NEW
    await rig.router.idle()
    rig.journals.close()
