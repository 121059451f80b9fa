"""The local exchange's typed parameter rules (Binance's codes), and the signature check on any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.exchange import auth
from hedge.exchange.errors import Reject
from hedge.exchange.params import Params, decode, parse_decimal, parse_int
from hedge.exchange.symbols import ExchangeInfo

SPECS = ExchangeInfo(["BTCUSDT"]).specs


def code(fn: object, *args: object) -> int:
    with pytest.raises(Reject) as e:
        fn(*args)  # type: ignore[operator]
    return e.value.code


@given(st.text(max_size=25))
def test_parse_int_accepts_exactly_binance_range(text: str) -> None:
    if re.fullmatch(r"[0-9]{1,20}", text, re.ASCII):
        value = int(text)
        if value < 1 << 63:
            assert parse_int("n", text) == value
        else:
            assert code(parse_int, "n", text) == -1130
    else:
        assert code(parse_int, "n", text) == -1100


@given(st.text(max_size=45))
def test_parse_decimal_accepts_exactly_binance_range(text: str) -> None:
    if re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,20})?", text, re.ASCII):
        try:
            assert parse_decimal("q", text, 40) == float(text)
        except Reject as rej:
            pytest.fail(f"{text!r}: {rej}")
    else:
        assert code(parse_decimal, "q", text, 40) == -1100


def test_decimal_precision_and_negative_numbers() -> None:
    assert parse_decimal("q", "0.0010", 3) == 0.001  # trailing zeros do not count
    assert code(parse_decimal, "q", "0.0001", 3) == -1111
    assert code(parse_decimal, "q", "-1", 3) == -1100
    assert code(parse_int, "countdownTime", "-5") == -1100


@given(st.binary(max_size=40))
def test_decode_any_body_is_params_or_a_reject(body: bytes) -> None:
    try:
        params, text = decode("", body)
    except Reject as rej:
        assert rej.code in (-1100, -1101)
    else:
        assert text == body.decode()
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


def test_decode_rejects_non_utf8_duplicates_and_too_many() -> None:
    assert code(decode, "a=%FF", b"") == -1100
    assert code(decode, "", b"a=\xe9") == -1100
    assert code(decode, "a=1", b"a=2") == -1101
    assert code(decode, "&".join(f"p{i}=1" for i in range(100)), b"") == -1101
    assert decode("a=%C3%A9", b"b=2+3") == ({"a": "é", "b": "2 3"}, "b=2+3")


def test_symbol_is_exact_case_and_client_id_is_binance_range() -> None:
    p = Params({"symbol": "btcusdt", "id": "a" * 37, "ok": "A.b:c/d_e-1"})
    assert code(p.symbol, SPECS) == -1121
    assert Params({"symbol": "BTCUSDT"}).symbol(SPECS).symbol == "BTCUSDT"
    assert Params({}).optional_symbol(SPECS) is None
    assert code(p.client_id, "id") == -1100
    assert p.client_id("ok") == "A.b:c/d_e-1" and p.client_id("absent") == ""
    assert code(Params({}).integer, "n") == -1102
    assert Params({"n": ""}).int_or("n", 7) == 7


@given(st.text(max_size=70))
def test_signature_check_refuses_any_text_without_crashing(sig: str) -> None:
    keys = auth.Keys({"k": "secret"})
    good = auth.sign("secret", "a=1")
    if sig.lower() == good:
        keys.verify("k", "a=1", sig)
    else:
        assert code(keys.verify, "k", "a=1", sig) == -1022
