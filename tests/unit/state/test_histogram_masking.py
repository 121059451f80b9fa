"""The per-tick histogram counts exactly like sorting would; masking never lets a secret through."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hedge.state.histogram import LATENCY_BUCKETS_S, Histogram
from hedge.state.masking import Masker


@given(st.lists(st.floats(min_value=0.0, max_value=30.0, allow_nan=False), max_size=200))
def test_histogram_matches_a_direct_count(values: list[float]) -> None:
    h = Histogram()
    for v in values:
        h.observe(v)
    for bound, n in h.cumulative()[:-1]:
        assert n == sum(1 for v in values if v <= bound)
    assert h.cumulative()[-1] == (float("inf"), len(values))
    assert h.count == len(values)
    if values:
        q = h.quantile(0.5)
        assert sum(1 for v in values if v <= q) >= len(values) / 2 or q == LATENCY_BUCKETS_S[-1]


def test_histogram_rejects_unsorted_bounds() -> None:
    try:
        Histogram((0.1, 0.01))
    except ValueError:
        return
    raise AssertionError("unsorted bounds accepted")


secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=6, max_size=40)


@given(secrets, st.text(max_size=50), st.text(max_size=50))
def test_mask_removes_every_occurrence(secret: str, before: str, after: str) -> None:
    m = Masker([secret], env={})
    text = f"{before}{secret}{after}{secret}"
    masked = m.mask(text)
    assert secret not in masked
    import msgspec

    encoded = msgspec.json.encode({"text": text})
    assert secret.encode() not in m.mask_bytes(encoded)
    assert msgspec.json.encode(secret)[1:-1] not in m.mask_bytes(encoded)


def test_masker_takes_secret_named_env_vars_only() -> None:
    m = Masker(env={"HEDGE_TELEGRAM_TOKEN": "tok-123456", "BINANCE_API_SECRET": "sec-abcdef",
                    "BINANCE_API_KEY": "key-abcdef", "HOME": "/root/home-dir", "SHORT_TOKEN": "abc"})
    assert m.mask("tok-123456 sec-abcdef key-abcdef /root/home-dir abc") == "*** *** *** /root/home-dir abc"
    assert not Masker(env={})
