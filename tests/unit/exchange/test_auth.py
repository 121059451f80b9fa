"""Signing rules of the local exchange: the official test vector, signature placement, timestamps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.exchange import auth
from hedge.exchange.errors import Reject

VECTOR_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
VECTOR_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
)
VECTOR_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def test_official_vector() -> None:
    assert auth.sign(VECTOR_SECRET, VECTOR_PAYLOAD) == VECTOR_SIGNATURE
    keys = auth.Keys({"k": VECTOR_SECRET})
    payload, sig = auth.split_signature("", f"{VECTOR_PAYLOAD}&signature={VECTOR_SIGNATURE}")
    assert payload == VECTOR_PAYLOAD
    keys.verify("k", payload, sig)
    # the same parameters split between query string and body: Binance signs query + body
    q, b = VECTOR_PAYLOAD.split("&timeInForce")
    payload, sig = auth.split_signature(q, "&timeInForce" + b + f"&signature={VECTOR_SIGNATURE}")
    assert payload == VECTOR_PAYLOAD


def test_bad_signature_and_key() -> None:
    keys = auth.Keys({"k": VECTOR_SECRET})
    with pytest.raises(Reject) as e:
        keys.verify("k", VECTOR_PAYLOAD.replace("9000", "9001"), VECTOR_SIGNATURE)
    assert e.value.code == -1022
    with pytest.raises(Reject) as e:
        keys.verify("other", VECTOR_PAYLOAD, VECTOR_SIGNATURE)
    assert e.value.code == -2015 and e.value.status == 401
    with pytest.raises(Reject) as e:
        auth.split_signature("a=1", "b=2")
    assert e.value.code == -1102
    with pytest.raises(Reject) as e:
        auth.split_signature("", f"signature={VECTOR_SIGNATURE}&x=1")
    assert e.value.code == -1022


@given(st.integers(min_value=-100_000, max_value=100_000), st.integers(min_value=1, max_value=60_000))
def test_timestamp_window(offset: int, window: int) -> None:
    server = 1_700_000_000_000
    ts = server + offset
    ok = ts < server + 1000 and server - ts <= window
    if ok:
        auth.check_timestamp(str(ts), str(window), server)
    else:
        with pytest.raises(Reject) as e:
            auth.check_timestamp(str(ts), str(window), server)
        assert e.value.code == -1021


def test_recv_window_bounds_and_missing_timestamp() -> None:
    with pytest.raises(Reject) as e:
        auth.check_timestamp(None, None, 0)
    assert e.value.code == -1102
    with pytest.raises(Reject):
        auth.check_timestamp("1", "60001", 1)
    auth.check_timestamp("1000", None, 5999)  # default recvWindow 5000
    with pytest.raises(Reject):
        auth.check_timestamp("1000", None, 6001)
