"""The pending record's "open" line, put together around the request the orders_sent line encoded,
is byte-equal to ``PendingEntry``'s own encoding and reads back as the same entry."""

from __future__ import annotations

from pathlib import Path

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from hedge.events import OrderRequest, OrderType, Side, TimeInForce
from hedge.router.pending import PendingEntry, PendingOrders
from hedge.state.journal import encode_payload

_text = st.text(max_size=40)  # any text: JSON escapes in the client order id too
_px = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)

requests = st.builds(
    OrderRequest, client_order_id=_text, intent_id=_text, symbol=_text, side=st.sampled_from(Side),
    type=st.sampled_from(OrderType), qty=_px, price=_px, tif=st.sampled_from(TimeInForce), reduce_only=st.booleans(),
    recv_ns=st.integers(min_value=0, max_value=2**63 - 1),
)


@given(requests, st.integers(min_value=0, max_value=10**6))
def test_open_line_is_the_entrys_encoding(req: OrderRequest, slice_no: int) -> None:
    struct = msgspec.json.encode(PendingEntry(op="open", cid=req.client_order_id, request=req, slice_no=slice_no))
    line = PendingOrders.open_line(req, slice_no, encode_payload(req))
    assert line == struct + b"\n"
    assert PendingOrders.open_line(req, slice_no) == line
    assert msgspec.json.decode(line, type=PendingEntry) == PendingEntry(
        op="open", cid=req.client_order_id, request=req, slice_no=slice_no)


def test_added_with_the_encoded_body_is_read_back(tmp_path: Path) -> None:
    pending = PendingOrders(tmp_path / "pending_orders.jsonl")
    req = OrderRequest(client_order_id="h0123456789abcdef-1-0", intent_id="i", symbol="BTCUSDT", side=Side.BUY,
                       type=OrderType.LIMIT, qty=0.002, price=67000.1, tif=TimeInForce.GTX)
    pending.add(req, 1, encode_payload(req))
    pending.close()
    assert PendingOrders(pending.path).read() == [PendingEntry(op="open", cid=req.client_order_id, request=req,
                                                               slice_no=1)]
