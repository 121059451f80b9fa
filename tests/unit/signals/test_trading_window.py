from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from hedge.config import TradingWindow
from hedge.signals.trading_window import WindowGate


def ms(y: int, mo: int, d: int, h: int, mi: int) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() * 1000)


def test_full_day_default() -> None:
    g = WindowGate(TradingWindow())
    assert g.open_at(ms(2024, 7, 19, 0, 0)) and g.open_at(ms(2024, 7, 19, 23, 59))


def test_hours_and_days() -> None:
    g = WindowGate(TradingWindow(start="08:00", end="16:30", days=[0, 1, 2, 3, 4]))
    assert g.open_at(ms(2024, 7, 19, 8, 0))  # Friday
    assert g.open_at(ms(2024, 7, 19, 16, 29))
    assert not g.open_at(ms(2024, 7, 19, 16, 30))
    assert not g.open_at(ms(2024, 7, 19, 7, 59))
    assert not g.open_at(ms(2024, 7, 20, 12, 0))  # Saturday


def test_wrapping_window_belongs_to_its_start_day() -> None:
    g = WindowGate(TradingWindow(start="22:00", end="02:00", days=[4]))  # Friday night
    assert g.open_at(ms(2024, 7, 19, 23, 0))  # Friday 23:00
    assert g.open_at(ms(2024, 7, 20, 1, 0))  # Saturday 01:00, Friday's session
    assert not g.open_at(ms(2024, 7, 20, 23, 0))  # Saturday night
    assert not g.open_at(ms(2024, 7, 19, 1, 0))  # Friday 01:00 is Thursday's session
    assert not g.open_at(ms(2024, 7, 19, 12, 0))


def test_empty_window() -> None:
    assert not WindowGate(TradingWindow(start="10:00", end="10:00")).open_at(ms(2024, 7, 19, 10, 0))


_HHMM = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)) | st.just("24:00")


@given(_HHMM, _HHMM, st.sets(st.integers(0, 6)), st.integers(-(10**13), 10**13))
def test_always_means_open_at_every_moment(start: str, end: str, days: set[int], ts_ms: int) -> None:
    """``always`` (the screener then skips ``open_at``) is set only when ``open_at`` says open at any time."""
    g = WindowGate(TradingWindow(start=start, end=end, days=sorted(days)))
    if g.always:
        assert g.open_at(ts_ms)
    assert g.always == (start == "00:00" and end == "24:00" and days == set(range(7)))
